"""tools/stack_runner.py: each stack's image platform and CI runner, read from its stack file by the
program's own settings parser, and the refusals of a stack nobody (or no CI runner) can deploy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from celestials.local.stack import read_stack_config
from celestials.settings import NODE_ARCHITECTURES
from celestials.stack_config import settings_from_config
from tools.stack_runner import (HOSTED_RUNNERS, IMAGE_PLATFORMS, RUNNER_ARCHS, labels_variable, main, plan,
                                way_in)

ROOT = Path(__file__).resolve().parents[2]
PEERED = "172.31.0.0/16"
OFFICE = "52.95.110.0/24"
LABELS = '["self-hosted", "celestials-prod"]'


def _stack(stack: str, **overrides):
    """The committed stack file with some keys changed, parsed as the program parses it."""
    config = {**read_stack_config(ROOT, stack), **{f"celestials:{k}": v for k, v in overrides.items()}}
    return settings_from_config(config, stack)


def _project(tmp_path: Path, stack: str, **overrides) -> Path:
    """A project root holding a copy of the committed stack file with some keys changed."""
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    doc["config"].update({f"celestials:{k}": v for k, v in overrides.items()})
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def test_every_node_architecture_has_a_platform_a_runner_and_a_runner_arch():
    assert set(IMAGE_PLATFORMS) == set(HOSTED_RUNNERS) == set(RUNNER_ARCHS) == set(NODE_ARCHITECTURES)


def test_the_platforms_are_the_ones_the_images_are_built_for():
    from components.images import PLATFORMS

    assert {arch: str(p.value) for arch, p in PLATFORMS.items()} == IMAGE_PLATFORMS


@pytest.mark.parametrize("arch, instance, runner, runner_arch", [
    ("arm64", "t4g.medium", "ubuntu-24.04-arm", "ARM64"),
    ("amd64", "t3.large", "ubuntu-24.04", "X64"),
])
def test_the_runner_and_platform_follow_the_stack_files_node_architecture(tmp_path, arch, instance, runner, runner_arch):
    root = _project(tmp_path, "dev", nodeArchitecture=arch, instanceType=instance)
    out = tmp_path / "github-output"
    assert main(["--root", str(root), "github", "--output", str(out), "dev"], env={}) == 0
    key, _, value = out.read_text().strip().partition("=")
    assert key == "stacks"
    assert json.loads(value) == {"dev": {"runs_on": [runner], "runner_arch": runner_arch,
                                         "platform": f"linux/{arch}", "refusal": ""}}


def test_platform_prints_the_docker_platform(tmp_path, capsys):
    assert main(["--root", str(_project(tmp_path, "dev", nodeArchitecture="amd64", instanceType="t3.large")),
                 "platform", "dev"]) == 0
    assert capsys.readouterr().out == "linux/amd64\n"
    assert main(["platform", "dev"]) == 0
    assert capsys.readouterr().out == f"linux/{_stack('dev').node_architecture}\n"


def test_an_invalid_stack_file_stops_the_tool_naming_the_key(tmp_path, capsys):
    assert main(["--root", str(_project(tmp_path, "dev", nodeArchitecture="riscv64")), "platform", "dev"]) == 2
    assert "celestials:nodeArchitecture = 'riscv64'" in capsys.readouterr().err


def test_dev_is_reachable_from_hosted_runners():
    p = plan(_stack("dev"))
    assert p.refusal == "" and p.runs_on == [HOSTED_RUNNERS[_stack("dev").node_architecture]]


def test_an_endpoint_nobody_outside_the_nodes_can_reach_is_refused_even_with_a_runner(tmp_path, capsys):
    settings = _stack("prod")  # committed: endpointPublicAccess false, no private CIDRs
    assert way_in(settings) is None
    for labels in ("", LABELS):
        refusal = plan(settings, labels).refusal
        assert "private-only and open to no network outside its VPC" in refusal
        assert "celestials:endpointPrivateAccessCidrs" in refusal and "Reaching the API endpoint" in refusal
    assert main(["way-in", "prod"]) == 3
    assert "private-only" in capsys.readouterr().err
    assert main(["way-in", "dev"]) == 0


@pytest.mark.parametrize("overrides, reachable_from", [
    ({"endpointPrivateAccessCidrs": [PEERED]}, f"networks routed to the VPC ({PEERED})"),
    ({"endpointPublicAccess": True, "endpointPublicAccessCidrs": [OFFICE]}, f"the public endpoint from {OFFICE}"),
])
def test_an_endpoint_hosted_runners_cannot_reach_needs_the_stacks_own_runner(overrides, reachable_from):
    settings = _stack("prod", **overrides)
    assert way_in(settings) == reachable_from
    refused = plan(settings)
    assert reachable_from in refused.refusal and labels_variable("prod") == "PROD_RUNNER_LABELS"
    assert "PROD_RUNNER_LABELS" in refused.refusal and "amd64 runner" in refused.refusal
    assert refused.runs_on == ["ubuntu-24.04"]
    own = plan(settings, LABELS)
    assert own.refusal == "" and own.runs_on == ["self-hosted", "celestials-prod"] and own.runner_arch == "X64"
    assert plan(settings, '"celestials-prod"').runs_on == ["celestials-prod"]


@pytest.mark.parametrize("labels", ["self-hosted", "[]", '[""]', '{"group": "x"}', "[1]"])
def test_runner_labels_that_are_not_a_list_of_labels_are_refused_naming_the_variable(labels):
    refusal = plan(_stack("prod", endpointPrivateAccessCidrs=[PEERED]), labels).refusal
    assert f"PROD_RUNNER_LABELS = {labels!r} is not runner labels as JSON" in refusal


def test_a_refusal_of_one_stack_leaves_the_others_planned(tmp_path):
    out = tmp_path / "github-output"
    assert main(["github", "--output", str(out), "dev", "prod"], env={"PROD_RUNNER_LABELS": "bad"}) == 0
    planned = json.loads(out.read_text().partition("=")[2])
    assert planned["dev"]["refusal"] == "" and planned["prod"]["refusal"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_elastic_ips_counted_are_the_ones_the_stack_creates_tagged_as_its_own(stack):
    """The preflight's count and its way of telling the stack's own addresses from others' hold
    only if the program creates exactly that many addresses, each with the stack's tags."""
    from celestials.stacks import identity_tags
    from synth.harness import quiet, synth_stack
    from tools.stack_runner import elastic_ips

    with quiet():
        eips = synth_stack(stack).by_type("aws:ec2/eip:Eip")
    assert len(eips) == elastic_ips(_stack(stack))
    for eip in eips:
        assert identity_tags(stack).items() <= eip["inputs"]["tags"].items()


def test_a_shortfall_names_the_numbers_and_both_fixes():
    from tools.stack_runner import eip_shortfall

    prod = _stack("prod")
    theirs = [{"Tags": [{"Key": "Name", "Value": "bastion"}]}] * 3
    ours = [{"Tags": [{"Key": "project", "Value": "celestials"}, {"Key": "stack", "Value": "prod"}]}] * 3
    assert eip_shortfall(prod, 5, theirs[:2]) == ""
    assert eip_shortfall(prod, 6, theirs) == ""
    assert eip_shortfall(prod, 6, [*theirs, *ours]) == ""          # a second `up`: its own are held
    message = eip_shortfall(prod, 5, theirs)
    assert "3 + 3 > 5" in message and "--desired-value 6" in message and "celestials:natGateways 2" in message
