"""`make synth` needs only the Python environment; `make bench` times it."""

from __future__ import annotations

import subprocess

from .conftest import ROOT


def _dry_run(*args: str) -> str:
    # -W: pretend every Node package's manifest just changed, so any npm step synth depends on
    # would show up in the dry run.
    touched = [flag for pkg in ("node-common", "proddetail", "frontend-node")
               for flag in ("-W", f"apps/{pkg}/package.json")]
    result = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed",
                             *touched, *args], capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def test_synth_runs_no_npm_step():
    plan = _dry_run("synth", "STACK=prod")
    assert "-m synth --stack prod" in plan
    assert "npm" not in plan


def test_the_dry_run_would_see_an_npm_step():
    """The check above can fail: the same dry run of install-node does show npm ci."""
    assert "npm ci" in _dry_run("install-node")


def test_make_bench_includes_the_synth_benchmark():
    plan = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed", "bench"],
                          capture_output=True, text=True, timeout=60).stdout
    assert "-m synth.bench" in plan


def test_synth_diff_passes_stacks_base_and_overrides():
    plan = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed", "synth-diff",
                           "STACK=dev prod", "BASE=main", "SET=canaryWeight=90 mtlsTrust=ca1+ca2"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    command = " ".join(next(line for line in plan.splitlines() if "-m synth.diff" in line).split())
    assert command.endswith("-m synth.diff --stack dev --stack prod --base main --set canaryWeight=90 "
                            "--set mtlsTrust=ca1+ca2")
    assert "npm" not in plan


def test_the_pr_workflow_uses_the_same_diff_tool():
    text = (ROOT / ".github" / "workflows" / "synth-diff.yml").read_text()
    assert 'make -C head -s synth-diff BASE_TREE="$GITHUB_WORKSPACE/base" STACK="dev prod"' in text
