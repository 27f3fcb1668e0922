"""The supervisor knows its processes by pid and start time, whatever the wall clock does."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from celestials.local import supervisor
from celestials.local.supervisor import Running, started
from celestials.render.local_processes import ProcessSpec

#: what a stepped clock looked like here: psutil's create_time of every running process moved by 11 s
STEP_SECONDS = 11.0


@pytest.fixture
def sleeper(tmp_path):
    """A process started by the supervisor: (its record, its Popen); killed at the end whatever happened."""
    spec = ProcessSpec(name="sleeper", kind="app", argv=(sys.executable, "-c", "import time; time.sleep(60)"),
                       cwd=str(tmp_path), env=(), listens=(), health_url="http://127.0.0.1:1/")
    running, popen = supervisor.start(spec, str(tmp_path / "sleeper.log"), "fingerprint")
    yield running, popen
    popen.kill()
    popen.wait()


@pytest.fixture
def step_the_clock(monkeypatch):
    """Call it to make psutil answer as after the wall clock was stepped forward: boot time and create times move."""
    def step():
        create_time, boot_time = psutil.Process.create_time, psutil.boot_time
        monkeypatch.setattr(psutil.Process, "create_time", lambda self: create_time(self) + STEP_SECONDS)
        monkeypatch.setattr(psutil, "boot_time", lambda: boot_time() + STEP_SECONDS)
    return step


def test_a_process_stays_ours_and_is_stopped_after_the_clock_is_stepped(sleeper, step_the_clock):
    running, popen = sleeper
    step_the_clock()  # between the start (recorded) and everything after it
    assert running.alive()
    assert supervisor.stop([running], timeout=5) == []  # stopped by SIGTERM, not left running
    assert popen.wait(timeout=5) == -15
    assert not running.alive()


def test_a_recycled_pid_is_not_ours(sleeper):
    running, popen = sleeper
    stranger = Running("sleeper", running.pid, running.started - 1, "fingerprint")  # same pid, earlier process
    assert not stranger.alive()
    assert supervisor.stop([stranger], timeout=1) == []
    assert popen.poll() is None  # never signalled


def test_the_state_file_keeps_the_start_time_and_reads_one_written_before_it(sleeper):
    running, _ = sleeper
    assert Running.from_dict("sleeper", running.to_dict()) == running
    assert running.to_dict()["started"] == started(running.pid)
    legacy = {"pid": running.pid, "create_time": psutil.Process(running.pid).create_time(),
              "fingerprint": "fingerprint", "kind": "app"}  # what a running rehearsal's state file says
    assert Running.from_dict("sleeper", legacy) == running and Running.from_dict("sleeper", legacy).alive()


def test_started_is_the_kernels_start_time_and_names_a_missing_process():
    ticks = os.sysconf("SC_CLK_TCK")
    assert abs(started(os.getpid()) / ticks + psutil.boot_time() - psutil.Process().create_time()) < 0.02
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with pytest.raises(psutil.NoSuchProcess):
        started(dead.pid)
