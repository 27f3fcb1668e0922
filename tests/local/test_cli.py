"""The rehearsal's command line: clean one-line errors, Ctrl-C without a traceback, restarting a
stopped process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from celestials.local.__main__ import main
from celestials.local.supervisor import Running, probe, started

ROOT = Path(__file__).resolve().parents[2]

# The rehearsal's start-up, made slow enough to be interrupted, then the real command line.
_SLOW_START = """
import sys, time
from celestials.local import __main__ as cli
from celestials.local.rehearsal import Rehearsal

def slow_check(self, rendered):
    print("starting", flush=True)
    time.sleep(60)

Rehearsal.check_installed = slow_check
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", ["run", "up"])
def test_ctrl_c_during_start_up_prints_one_line_and_no_traceback(tmp_path, command):
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_START, command, "--root", str(tmp_path / "local"),
                             "--net", "201"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "starting"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip() == "[local] interrupted; `make local-status` shows what is still running"
    assert proc.returncode == 130


def test_a_set_without_a_value_is_a_one_line_error(capsys):
    assert main(["status", "--set", "canaryWeight"]) == 1
    assert capsys.readouterr().err.strip() == \
        "[local] error: override 'canaryWeight': expected key=value, e.g. canaryWeight=100"


def _state_with_a_dead_process(root: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    root.mkdir(parents=True)
    (root / "state.json").write_text(json.dumps({
        "stack": "dev", "overrides": {}, "settings": {}, "net": 202, "mode": "detached",
        "processes": {"prodcatalog": {"pid": dead.pid, "started": 1, "fingerprint": "x", "kind": "app"},
                      "prodcatalog-envoy": {"pid": os.getpid(), "started": started(os.getpid()),
                                            "fingerprint": "y", "kind": "sidecar"}}}))


def test_status_says_how_to_restart_a_stopped_process(tmp_path, capsys):
    _state_with_a_dead_process(tmp_path / "local")
    assert main(["status", "--root", str(tmp_path / "local")]) == 0
    out = capsys.readouterr().out
    assert "prodcatalog              pid" in out and "STOPPED" in out
    assert "restart one with `make local-restart NAME=prodcatalog`, every stopped one (and the restarter) with `make local-restart`" in out
    assert "restarter: not running, so an exited process stays STOPPED" in out


def test_status_and_down_answer_on_a_fresh_clone(tmp_path, capsys):
    """Never started (no build/local): an answer with the next step, not a failure."""
    root = tmp_path / "never-started"
    assert main(["status", "--root", str(root)]) == 0
    assert capsys.readouterr().out.strip() == "[local] not running; start it with `make local-up`"
    assert main(["down", "--root", str(root)]) == 0
    assert capsys.readouterr().out.strip() == "[local] nothing was running"


def test_restart_refuses_an_unknown_name_or_a_rehearsal_that_is_not_running(tmp_path, capsys):
    assert main(["restart", "nope", "--root", str(tmp_path / "nothing")]) == 1
    assert capsys.readouterr().err.strip() == \
        "[local] error: the rehearsal is not running; start it with `make local-up`"
    _state_with_a_dead_process(tmp_path / "local")
    assert main(["restart", "prodcatalg", "--root", str(tmp_path / "local")]) == 1
    assert capsys.readouterr().err.strip() == \
        "[local] error: no process named 'prodcatalg'; processes: prodcatalog, prodcatalog-envoy"


def _record(rehearsal, name: str) -> Running:
    return Running.from_dict(name, rehearsal.read_state()["processes"][name])


def _restarts(rehearsal, name: str) -> int:
    return (rehearsal.read_state().get("restarts") or {}).get(name, {}).get("count", 0)


def _until(check, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout:.0f}s: {what}"
        time.sleep(0.3)
    return result


def test_a_killed_process_is_restarted_and_counted_as_a_kubelet_would(rehearsal, capsys):
    """Kill proddetail-v2 (its whole group, as an OOM kill would): the restarter starts it again
    at once, from the same spec; `make local-status` counts the restart; a `make local-restart` of
    it is a new process and counts from 0, like a new pod."""
    victim = _record(rehearsal, "proddetail-v2")
    os.killpg(victim.pid, signal.SIGKILL)
    _until(lambda: _restarts(rehearsal, "proddetail-v2") == 1, "the restarter restarting proddetail-v2")
    restarted = _record(rehearsal, "proddetail-v2")
    assert restarted.pid != victim.pid and restarted.fingerprint == victim.fingerprint
    health = rehearsal.render().spec("proddetail-v2").health_url
    _until(lambda: probe(health), f"proddetail-v2 answering {health} again")
    args = ["--root", str(rehearsal.root), "--net", str(rehearsal.net)]
    assert main(["status", *args]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if "proddetail-v2 " in line)
    assert "running" in line and line.rstrip().endswith("restarts 1")
    assert main(["restart", "proddetail-v2", *args]) == 0
    assert capsys.readouterr().out.strip() == "[local] restarted: proddetail-v2"
    assert _restarts(rehearsal, "proddetail-v2") == 0 and _record(rehearsal, "proddetail-v2").alive()
