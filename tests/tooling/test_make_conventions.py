"""STACK and SET mean the same on every make target, and every target that runs the venv's Python
installs it first (a fresh clone has none).

Dry runs (`make -n`) of every target `make help` lists: a target either passes what it was given
to the command it runs, or refuses it, naming what to do instead; none ignores it.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from .conftest import ROOT

_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}


def _make(*args: str, installed: bool = True) -> subprocess.CompletedProcess:
    # installed: pretend the venvs are up to date, so a plan shows only the target's own steps
    keep = ["-o", ".venv/.installed", "-o", "policy/venv/.installed", "-o", ".venv-security/.installed"] if installed else []
    return subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), *keep, *args],
                          env=_ENV, capture_output=True, text=True, timeout=60)


def _list(name: str) -> list[str]:
    out = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT),
                          "--eval", f"print-list: ; @echo $({name})", "print-list"],
                         env=_ENV, capture_output=True, text=True, timeout=60, check=True).stdout
    return out.split()


def _documented() -> list[str]:
    out = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), "help"],
                         env=_ENV, capture_output=True, text=True, timeout=60, check=True).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.strip() and line.split()[0] != "help")


TARGETS = _documented()
MULTI, ONE, SET = _list("MULTI_STACK_TARGETS"), _list("ONE_STACK_TARGETS"), _list("SET_TARGETS")


def _commands(plan: str) -> list[str]:
    """The plan's commands, continuation lines joined, without the venv's own installation."""
    joined = re.sub(r"\\\n\s*", " ", plan)
    return [" ".join(line.split()) for line in joined.splitlines() if line.strip() and "pip install" not in line]


def test_the_lists_name_real_targets_and_the_readers_are_documented():
    for target in {*MULTI, *ONE, *SET}:
        result = _make(target, "STACK=dev")
        assert "No rule to make target" not in result.stderr, target
    assert {"synth", "synth-diff", "cost", "cost-diff", "guardrails"} <= set(MULTI)
    assert {"up", "preview", "destroy", "local-up"} <= set(ONE)
    assert {"synth", "synth-diff", "cost", "cost-diff", "guardrails", "local-up"} <= set(SET)


@pytest.mark.parametrize("target", TARGETS)
def test_two_stacks_are_passed_on_or_refused(target):
    result = _make(target, "STACK=dev prod")
    if target in MULTI:
        assert result.returncode == 0, result.stderr
        runs = [c for c in _commands(result.stdout) if "prod" in c and "dev" in c]
        assert runs, f"make {target} STACK='dev prod' does not pass both stacks on:\n{result.stdout}"
    elif target in ONE:
        assert result.returncode != 0
        assert f"make {target} acts on one stack" in result.stderr
        assert f"run it once per stack: make {target} STACK=dev" in result.stderr
    else:
        assert result.returncode != 0
        assert f"make {target} does not read STACK" in result.stderr and "drop STACK=dev prod" in result.stderr


@pytest.mark.parametrize("target", sorted(set(TARGETS) & {*MULTI, *ONE}))
def test_a_stack_reader_acts_on_the_stack_given(target):
    result = _make(target, "STACK=prod")
    assert result.returncode == 0, result.stderr
    assert any(re.search(r"(--stacks? |select (--create )?|preflight\.sh \w+ )prod\b", c)
               for c in _commands(result.stdout)), result.stdout


@pytest.mark.parametrize("target", TARGETS)
def test_set_is_passed_on_or_refused_with_the_way_to_change_a_stack(target):
    result = _make(target, "SET=canaryWeight=90 mtlsTrust=ca1+ca2")
    if target in SET:
        assert result.returncode == 0, result.stderr
        assert any("--set canaryWeight=90 --set mtlsTrust=ca1+ca2" in c or
                   ("--set canaryWeight=90" in c and "--set mtlsTrust=ca1+ca2" in c)
                   for c in _commands(result.stdout)), result.stdout
    else:
        assert result.returncode != 0
        assert f"make {target} does not read SET" in result.stderr
        assert "pulumi config set celestials:<key> <value>" in result.stderr


def test_the_refusal_can_fail():
    """The checks above see a refusal only where make prints one: a reader's plain run has none."""
    result = _make("synth")
    assert result.returncode == 0 and "does not read" not in result.stderr


_RUNS_THE_VENV = re.compile(r"(^|[;&|(]\s*|\bexec\s+)[^\s=]*/\.venv/bin/\S+")


def _uses_the_venv_before_installing_it(plan: str) -> str | None:
    """The first command of a dry run that calls the venv before the venv is installed, if any."""
    lines = [" ".join(line.split()) for line in plan.splitlines()]
    install = next((i for i, line in enumerate(lines) if "pip install --quiet -r requirements.txt" in line), None)
    # the venv as the command run (not a path handed to a script that checks it, as preflight.sh does)
    uses = [i for i, line in enumerate(lines) if _RUNS_THE_VENV.search(line) and "pip install" not in line]
    return lines[uses[0]] if uses and (install is None or install > uses[0]) else None


@pytest.mark.parametrize("target", TARGETS)
def test_a_target_that_runs_the_venv_installs_it_first(target):
    """On a fresh clone (no .venv), nothing may call .venv/bin/python before `install-python`
    (-W requirements.txt: the venv is out of date, as a fresh clone's is missing)."""
    result = _make(target, "-W", "requirements.txt", installed=False)
    assert result.returncode == 0, result.stderr
    assert _uses_the_venv_before_installing_it(result.stdout) is None, f"make {target} runs the venv uninstalled"


def test_the_install_check_can_fail():
    """A target written without the prerequisite is caught by the same reading of its plan."""
    result = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), "-W", "requirements.txt",
                             "--eval", "bare-probe: ; $(PY) -m celestials.local status", "bare-probe"],
                            env=_ENV, capture_output=True, text=True, timeout=60, check=True)
    assert _uses_the_venv_before_installing_it(result.stdout).endswith(".venv/bin/python -m celestials.local status")
