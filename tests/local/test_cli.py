"""The rehearsal's command line: clean one-line errors, Ctrl-C without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from celestials.local.__main__ import main

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
