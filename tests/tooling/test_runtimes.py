"""The tests run on the runtimes the apps' images ship (celestials/artifacts.py NODE, PYTHON): the
running tests themselves, the Node `make install` puts in tools/node and `make` puts first on
PATH, the npm lock file that pins it, the Python every venv is made from, the workflows'
setup-python, the type checker's and the linter's target."""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from celestials import artifacts
from celestials.artifacts import NODE, PYTHON
from celestials.local.rehearsal import NODE_BIN_DIR, node_executable

ROOT = Path(__file__).resolve().parents[2]
NODE_RUNTIME = ROOT / "tools" / "node"


def runtime_mismatches(python: tuple[int, int], node_version: str) -> list[str]:
    """What differs between the runtimes these tests run on and the images'."""
    found = []
    if f"{python[0]}.{python[1]}" != PYTHON.minor:
        found.append(f"the tests run Python {python[0]}.{python[1]}, the images {PYTHON.minor}")
    if node_version.strip().removeprefix("v").split(".")[0] != str(NODE.major):
        found.append(f"the tests run Node {node_version.strip()}, the images Node {NODE.major} ({NODE.version})")
    return found


def _make_eval(*lines: str, **variables: str) -> str:
    """Evaluate make code in the project's Makefile (nothing is built), with its PATH."""
    rule = "print-for-test: ; " + " ; ".join(lines)
    args = [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), "--eval", rule, *args,
                           "print-for-test"], capture_output=True, text=True, timeout=60, check=True).stdout


def test_these_tests_run_on_the_images_python_and_node():
    node = subprocess.run([node_executable(), "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert runtime_mismatches(sys.version_info[:2], node.stdout) == []
    assert node.stdout.strip() == f"v{NODE.version}"  # installed from the lock file, so exactly


def test_the_check_names_a_runtime_that_differs():
    """The check above can fail: Python 3.11 and Node 20 (the machine's own) are named."""
    minor = tuple(int(p) for p in PYTHON.minor.split("."))
    assert runtime_mismatches((3, 11), f"v{NODE.version}") == [
        f"the tests run Python 3.11, the images {PYTHON.minor}"]
    assert runtime_mismatches((minor[0], minor[1]), "v20.20.2\n") == [
        f"the tests run Node v20.20.2, the images Node {NODE.major} ({NODE.version})"]


def test_make_runs_the_images_node_and_its_npm_not_the_machine_s():
    found = _make_eval("command -v node", "command -v npm", "node --version", "npm --version").split()
    assert found == [str(NODE_BIN_DIR / "node"), str(NODE_BIN_DIR / "npm"), f"v{NODE.version}", artifacts.NPM]


def test_the_node_lock_file_pins_the_catalogue_s_node_and_npm_by_integrity():
    manifest = json.loads((NODE_RUNTIME / "package.json").read_text())
    assert manifest["optionalDependencies"] == {p: NODE.version for p in artifacts.NODE_BINARY_PACKAGES}
    assert manifest["dependencies"] == {"npm": artifacts.NPM}
    packages = json.loads((NODE_RUNTIME / "package-lock.json").read_text())["packages"]
    assert packages[""]["optionalDependencies"] == manifest["optionalDependencies"]
    assert packages[""]["dependencies"] == manifest["dependencies"]
    pinned = {**manifest["optionalDependencies"], **manifest["dependencies"]}
    for name, version in pinned.items():
        entry = packages[f"node_modules/{name}"]
        assert entry["version"] == version, name
        assert entry["integrity"].startswith("sha512-"), name
    for name in artifacts.NODE_BINARY_PACKAGES:  # npm installs only the one of this machine
        assert {"os", "cpu"} <= packages[f"node_modules/{name}"].keys(), name


def test_the_installed_node_is_the_lock_file_s():
    installed = json.loads((NODE_RUNTIME / "node_modules" / ".package-lock.json").read_text())["packages"]
    binary = os.path.realpath(NODE_BIN_DIR / "node")
    (package,) = [name for name in installed if binary.startswith(str(NODE_RUNTIME / name) + os.sep)]
    assert installed[package]["version"] == NODE.version


def test_the_makefile_reads_the_catalogue_s_python():
    assert _make_eval("echo $(PYTHON_MINOR)").strip() == PYTHON.minor


def test_make_finds_a_python_of_that_minor_for_the_venvs():
    found = _make_eval("echo $(VENV_PYTHON)").strip()
    if not found:
        pytest.skip(f"no Python {PYTHON.minor} on this machine (make install says how to get one)")
    version = subprocess.run([found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert version == PYTHON.minor


@pytest.mark.parametrize(("cfg_version", "stale"), [(f"{PYTHON.minor}.0", False), ("3.11.7", True),
                                                    (f"{PYTHON.minor}1.0", True)])
def test_a_venv_of_another_python_is_made_again(tmp_path, cfg_version, stale):
    (tmp_path / "pyvenv.cfg").write_text(f"home = /x/bin\nversion = {cfg_version}\n")
    assert _make_eval(f"echo '[$(call venv-stale,{tmp_path})]'").strip() == ("[FORCE]" if stale else "[]")


def test_without_that_python_make_install_says_how_to_get_one(tmp_path):
    venv = os.path.relpath(tmp_path / "venv", ROOT)
    run = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), "install-python", f"VENV={venv}",
                          "VENV_PYTHON="], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert f"Python {PYTHON.minor} is not installed" in run.stderr
    assert f"pyenv install {PYTHON.minor}" in run.stderr
    assert f"VENV_PYTHON=/path/to/python{PYTHON.minor}" in run.stderr
    assert not (tmp_path / "venv").exists()


def _python_versions(text: str) -> list[str]:
    return re.findall(r"python-version:\s*[\"']?([^\"'\s]+)", text)


def test_every_workflow_sets_up_the_catalogue_s_python():
    """`pulumi up` runs the program on the Python the workflows set up: the one the tests run on."""
    found = {p.name: _python_versions(p.read_text()) for p in sorted((ROOT / ".github" / "workflows").glob("*.yml"))}
    assert any(found.values())
    assert {name: v for name, v in found.items() if set(v) - {PYTHON.minor}} == {}


def test_the_workflow_check_reads_a_version_that_differs():
    assert _python_versions('      - uses: x\n        with:\n          python-version: "3.11"\n') == ["3.11"]


def test_the_type_checker_and_the_linter_target_that_python():
    mypy = configparser.ConfigParser()
    mypy.read(ROOT / "mypy.ini")
    assert mypy["mypy"]["python_version"] == PYTHON.minor
    ruff = (ROOT / "ruff.toml").read_text()
    assert re.search(r'^target-version = "py(\d)(\d+)"$', ruff, re.M).groups() == tuple(PYTHON.minor.split("."))


def test_the_dockerfiles_run_the_catalogue_s_runtimes():
    """Every app's FROM lines name NODE's or PYTHON's image, by the language of the app."""
    for dockerfile in sorted(ROOT.glob("apps/*/Dockerfile")):
        bases = set(re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.M))
        runtime = NODE if (dockerfile.parent / "package.json").exists() else PYTHON
        assert bases == {runtime.image.ref}, dockerfile
