"""`python -m synth`: clean one-line errors, and the summary says which overrides it applied."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import synth.__main__ as cli
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


def test_several_stacks_in_one_run_each_written_to_its_own_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "ROOT", tmp_path)
    assert main(["--stack", "dev", "--stack", "prod", "--set", "canaryWeight=90"]) == 0
    out = capsys.readouterr().out
    assert out.count("Overrides (--set) on top of Pulumi.") == 2
    assert "Previewing stack dev" in out and "Previewing stack prod" in out
    for stack in ("dev", "prod"):
        assert '"stack": "%s"' % stack in (tmp_path / "build" / "synth" / stack / "resources.json").read_text()


def test_one_out_folder_for_several_stacks_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--stack", "dev", "--stack", "prod", "--out", "x"])
    assert stop.value.code == 2
    assert "--out names one directory: give it with one --stack" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["synth", "synth.diff", "synth.cost", "synth.guardrails"])
def test_without_the_pinned_files_a_fresh_clone_gets_the_fix_not_a_traceback(tmp_path, module):
    """No ../shared, no cache, no network: the CLIs say what is missing and how to get it."""
    args = ["--stack", "dev", *(["--set", "canaryWeight=90"] if module == "synth.diff" else [])]
    result = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "CELESTIALS_UPSTREAM_DIR": str(tmp_path)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "pinned upstream file(s) could not be read" in result.stderr and "Fix: connect once" in result.stderr
    assert "`make reference` fetches them" in result.stderr
