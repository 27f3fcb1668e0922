"""Every offline `make` command README.md shows runs as shown, in a fresh copy of the project.

The copy is what a user's clone holds: the working tree's files that git tracks or would track
(no build/, no node_modules, no ../shared beside it), committed in a new repository whose `main`
is that commit; only the venv is borrowed (a symlink, never reinstalled: `-o .venv/.installed`).
Each command runs once, two at a time; the module costs about 90 s of CPU, 3–4 minutes of wall
time on a 2-core machine shared with other jobs (measured, not asserted).

A command's target must be classified below: run here, or not run with the reason. A README
command with a target in neither table fails the test, so a new one cannot go unchecked.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from synth.harness import REFERENCE_UPSTREAM_DIR

from .conftest import ROOT

README = ROOT / "README.md"

#: targets run here: offline, seconds each
OFFLINE = {"synth", "synth-diff", "cost", "cost-diff", "cost-tutorial", "guardrails", "docs-pins", "docs-settings", "help",
           "install-python", "local-status", "local-down"}
#: targets not run here, and why
NOT_RUN = {
    "up": "deploys (Pulumi CLI, AWS); its checks and refusals: tests/tooling/test_pulumi_targets.py, test_preflight.py",
    "preview": "needs the Pulumi CLI and AWS credentials; tests/tooling/test_pulumi_targets.py with fake tools",
    "destroy": "deletes a deployed stack; tests/tooling/test_pulumi_targets.py with fake tools",
    "test": "this module is part of it",
    "lint": "make test runs it before pytest", "lint-security": "part of make lint",
    "lint-checkov": "part of make lint", "lint-zizmor": "part of make lint",
    "install": "npm and PyPI downloads; make test runs it first",
    "policy-venv": "a venv of its own, from PyPI",
    "bench": "measurements (minutes), not checks", "bench-synth": "a measurement (minutes), not a check",
    "local-up": "starts the rehearsal: tests/local run it", "local-reconfigure": "needs a running rehearsal (tests/local)",
    "local-restart": "needs a running rehearsal (tests/local/test_cli.py)",
    "local-traces": "reads a running rehearsal's spans (tests/local/test_servicemap.py)",
    "reference": "downloads from GitHub; its checks with a fake fetch: tests/tooling/test_reference.py",
    "docs-figures": "four synths; the same figures are checked for freshness by tests/tooling/test_docs_figures.py",
}
#: commands README shows that are refused by design, with what the refusal says
REFUSED = {
    "make cost-diff": "nothing to compare: give overrides",
    "make synth-diff": "nothing to compare: give overrides",
}
_PLACEHOLDER = re.compile(r"<[^>]+>|\.\.\.")


def readme_commands(text: str) -> list[str]:
    """`make ...` lines of the fenced shell blocks and `make ...` code spans, in order, once each."""
    found: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            if line.lstrip().startswith("make "):
                found.append(shlex.join(shlex.split(line, comments=True)))
            continue
        found += [shlex.join(shlex.split(span)) for span in re.findall(r"`(make [^`]+)`", line)]
    return list(dict.fromkeys(found))


def targets_of(command: str) -> list[str]:
    return [w for w in shlex.split(command)[1:] if not w.startswith("-") and "=" not in w]


COMMANDS = readme_commands(README.read_text())
RUN = [c for c in COMMANDS if not _PLACEHOLDER.search(c) and set(targets_of(c)) <= OFFLINE]


def test_every_readme_command_is_classified():
    unknown = {t: c for c in COMMANDS for t in targets_of(c) if t not in OFFLINE and t not in NOT_RUN}
    assert unknown == {}, "README commands with a target neither run nor excused here"
    assert len(RUN) >= 10 and "make synth STACK=dev" in RUN


def test_the_reader_sees_fences_and_spans():
    text = "run `make cost STACK=dev` then\n```sh\nmake synth SET=\"a=1 b=2\"   # note\n```\n`make up`\n"
    assert readme_commands(text) == ["make cost STACK=dev", "make synth 'SET=a=1 b=2'", "make up"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The working tree as a user's fresh clone has it."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the fresh copy is made from git's list of files")
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    dest = tmp_path_factory.mktemp("fresh") / "celestials"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to((ROOT / ".venv").resolve())
    git = ["git", "-C", str(dest), "-c", "user.name=readme", "-c", "user.email=readme@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    (dest / ".git" / "info" / "exclude").write_text(".venv\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "working tree"], check=True)
    return dest


def _environment() -> dict[str, str]:
    # nothing of the caller's make or shell may change a command: its arguments are the README's
    drop = {"STACK", "SET", "BASE", "BASE_TREE", "BACKEND", "RUNS", "YES", "MAKEFLAGS", "MFLAGS", "MAKELEVEL",
            "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if REFERENCE_UPSTREAM_DIR.is_dir():
        # The pinned Gateway API files the program reads (else: the user's cache or the network, as
        # celestials/upstream_files.py says); the copy itself has no ../shared beside it.
        env["CELESTIALS_UPSTREAM_DIR"] = str(REFERENCE_UPSTREAM_DIR)
    return env


def _argv(command: str) -> list[str]:
    argv = shlex.split(command)
    return [argv[0], "--no-print-directory", "-o", ".venv/.installed", *argv[1:]]


@pytest.fixture(scope="module")
def results(clone) -> dict[str, subprocess.CompletedProcess]:
    """Each command's outcome. Commands whose plans (`make -n`) are the same command lines
    (`make synth` and `make synth STACK=dev`) run once; two run at a time."""
    env = _environment()
    plans: dict[str, str] = {}
    for command in RUN:
        dry = subprocess.run([*_argv(command), "-n"], cwd=clone, env=env, capture_output=True, text=True, timeout=60)
        plans[command] = dry.stdout if dry.returncode == 0 else f"refused: {command}"
    first = {plan: command for command, plan in reversed(plans.items())}
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip(first.values(), pool.map(
            lambda c: subprocess.run(_argv(c), cwd=clone, env=env, capture_output=True, text=True, timeout=900),
            first.values()), strict=True))
    return {command: done[first[plans[command]]] for command in RUN}


@pytest.mark.parametrize("command", RUN)
def test_the_command_runs_as_shown(results, command):
    result = results[command]
    assert "Traceback" not in result.stderr, result.stderr
    if command in REFUSED:
        assert result.returncode != 0
        assert REFUSED[command] in result.stderr, result.stderr
    else:
        assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"


def test_the_commands_leave_the_tree_as_it_was(results, clone):
    """Nothing the README shows (docs-pins included) edits a tracked file of a fresh clone."""
    status = subprocess.run(["git", "-C", str(clone), "status", "--porcelain"], capture_output=True, text=True,
                            check=True).stdout
    assert status == ""
