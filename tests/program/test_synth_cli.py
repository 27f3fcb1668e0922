"""`python -m synth`: clean one-line errors, and the summary says which overrides it applied."""

from __future__ import annotations

import json
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


def test_the_summary_groups_resources_by_their_nearest_component(tmp_path, capsys):
    assert main(["--stack", "dev", "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    resources = json.loads((tmp_path / "out" / "resources.json").read_text())["resources"]
    urns = {r["urn"]: r for r in resources}

    def nearest_component(r: dict) -> str:
        parent = r["parent"]
        while parent in urns and urns[parent]["custom"]:
            parent = urns[parent]["parent"]
        return f"{urns[parent]['type']}  {urns[parent]['name']}" if parent in urns else "dev (stack)"

    expected: dict[str, dict[str, int]] = {}
    for r in resources:
        group = expected.setdefault(nearest_component(r), {})
        group[r["type"]] = group.get(r["type"], 0) + 1
    tree = text.split("offline (Pulumi mock runtime, no cloud):\n\n", 1)[1].split("\n\nResources:", 1)[0]
    printed: dict[str, dict[str, int]] = {}
    label = ""
    for line in tree.splitlines():
        entry = line.strip()
        if entry.startswith("+ "):
            n, typ = entry[2:].split()
            printed[label][typ] = int(n)
        else:
            label = entry.split(": ", 1)[0]
            printed[label] = {}
    held = {label: types for label, types in printed.items() if types}
    assert held == expected
    assert sum(n for types in held.values() for n in types.values()) == len(resources)
    # what a reader looks for: the canary's route under its component, the VPC under the network's,
    # and the stack holding only the top components
    assert printed["celestials:mesh:Canary  mesh-prodcatalog-ns-canary-proddetail-router"][
        "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"] == 1
    assert printed["celestials:network:Network  network"]["aws:ec2/vpc:Vpc"] == 1
    assert all(typ.startswith("celestials:") for typ in printed["dev (stack)"])
    assert f"dev (stack): {len(printed['dev (stack)'])} resources, {len(resources)} with its components" in tree
    assert "eks:index:Cluster  cluster-eks: a multi-language component: its plugin registers its children" in tree


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
