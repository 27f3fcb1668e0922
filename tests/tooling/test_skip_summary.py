"""A green run says what it did not run: skipped tests grouped by reason, with counts, even with -q."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import ROOT

_TESTS = '''
import pytest

needs_tool = pytest.mark.skipif(True, reason="the tool is not installed (apt-get install tool)")

@needs_tool
def test_one(): pass

@needs_tool
def test_two(): pass

def test_data():
    pytest.skip("the data folder is absent: make data")

def test_runs(): pass
'''


def _run(tmp_path, text: str) -> str:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "test_x.py").write_text(text)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tools.skip_summary",
                             str(tmp_path)], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_skips_are_listed_by_reason_with_counts_under_q(tmp_path):
    out = _run(tmp_path, _TESTS)
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if "not run: 3 skipped, 2 reason(s)" in line)
    assert lines[head + 1:head + 3] == [
        "    2 × the tool is not installed (apt-get install tool)  [sub]",
        "    1 × the data folder is absent: make data  [sub]",
    ]


def test_a_run_without_skips_adds_nothing(tmp_path):
    assert "not run" not in _run(tmp_path, "def test_runs(): pass\n")
