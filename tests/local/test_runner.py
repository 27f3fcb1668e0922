"""The runner as people use it: `make local-up` twice, a taken port, `make local-down` cleaning up."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import psutil
import pytest

from celestials.local.rehearsal import PROJECT_ROOT, AlreadyRunning, Rehearsal
from celestials.local.testing import claim_block, release_block


def _cli(*args: str, root) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "celestials.local", *args, "--root", str(root)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})


def test_a_second_up_says_a_rehearsal_is_running(rehearsal):
    with pytest.raises(AlreadyRunning, match="is already running .* Stop it first with `make local-down`"):
        Rehearsal(root=rehearsal.root, net=rehearsal.net).up()
    result = _cli("up", "--net", str(rehearsal.net), root=rehearsal.root)
    assert result.returncode == 3
    assert "already running" in result.stderr and "Traceback" not in result.stderr
    assert rehearsal.is_running()  # and the running one is untouched


@pytest.fixture
def block():
    """A loopback block of our own for a second rehearsal: (net, root)."""
    net, root = claim_block()
    yield net, root
    release_block(net)


def test_a_taken_port_is_reported_by_name_and_nothing_starts(block):
    net, root = block
    started = time.time()
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((f"127.{net}.0.1", 8088))
        squatter.listen()
        result = _cli("up", "--net", str(net), root=root)
    assert result.returncode == 1
    assert f"127.{net}.0.1:8088 (ingress-gw listener)" in result.stderr
    assert f"held by pid {os.getpid()}" in result.stderr
    assert not (root / "state.json").exists()
    assert not [log for log in root.glob("logs/*.log") if log.stat().st_mtime >= started]


def _group_members(pgids: set[int]) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) in pgids and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (psutil.Error, OSError):
            continue
    return members


def test_down_leaves_no_process_behind(block):
    """The detached path of `make local-up` / `make local-down`, in a block of its own."""
    net, root = block
    up = _cli("up", "--net", str(net), root=root)
    assert up.returncode == 0, up.stderr
    assert "is up" in up.stdout and f"http://127.{net}.0.1:8088/" in up.stdout
    state = json.loads((root / "state.json").read_text())
    endpoints = json.loads((root / "endpoints.json").read_text())
    assert {"gateway", "colorFront", "traces"} <= set(endpoints)
    pgids = {raw["pid"] for raw in state["processes"].values()}
    keeper = state["restarter"]["pid"]  # the process that restarts crashed ones
    assert keeper not in pgids and psutil.pid_exists(keeper)
    started = _group_members(pgids | {keeper})
    assert len(started) > len(pgids)  # gunicorn workers included: whole groups are tracked
    down = _cli("down", root=root)
    assert down.returncode == 0 and f"stopped {len(pgids)} processes" in down.stdout
    assert _group_members(pgids | {keeper}) == []
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in started)
    assert not (root / "state.json").exists()
    assert _cli("down", root=root).stdout.strip() == "[local] nothing was running"
