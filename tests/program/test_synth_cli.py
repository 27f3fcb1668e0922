"""`python -m synth`: clean one-line errors, and the summary says which overrides it applied."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from synth.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_a_set_without_a_value_is_a_one_line_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "synth", "--set", "canaryWeight", "--out", str(tmp_path)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: override 'canaryWeight': expected key=value, e.g. canaryWeight=100"
    assert not list(tmp_path.iterdir())


def test_the_summary_names_the_overrides_applied(tmp_path, capsys):
    assert main(["--stack", "dev", "--set", "canaryWeight=90", "--set", "mtlsTrust=ca1+ca2",
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Overrides (--set) on top of Pulumi.dev.yaml: celestials:canaryWeight=90, celestials:mtlsTrust=ca1+ca2" in out
    assert main(["--stack", "dev", "--out", str(tmp_path / "plain")]) == 0
    assert "Overrides" not in capsys.readouterr().out
