"""`make help`: every documented target, descriptions in one column whatever the names' length."""

from __future__ import annotations

import re
import subprocess

from .conftest import ROOT


def _help() -> list[str]:
    out = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), "help"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def test_descriptions_line_up_in_one_column():
    lines = _help()
    columns = {re.match(r"^  (\S+)( +)", line).end() for line in lines}
    assert len(columns) == 1, lines
    longest = max(len(line.split()[0]) for line in lines)
    assert longest > 16  # the case that misaligned: names longer than the old fixed width


def test_local_restart_is_listed():
    assert any(line.split()[0] == "local-restart" and "NAME=" in line for line in _help())
