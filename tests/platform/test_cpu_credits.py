"""Burstable nodes run on the credit specification the stack states, never on EC2's default
(unlimited for T3/T3a/T4g) or the account's; other types get none."""

from __future__ import annotations

from pathlib import Path

import pytest

from celestials.local.stack import load_settings
from celestials.settings import BURSTABLE_FAMILIES
from components.cluster import ClusterArgs
from synth.harness import quiet, synth_stack

ROOT = Path(__file__).resolve().parents[2]
LT = ("aws:ec2/launchTemplate:LaunchTemplate", "cluster-nodes")


def _template(stack: str, overrides=None) -> dict:
    with quiet():
        return synth_stack(stack, overrides).get(*LT)["inputs"]


def test_devs_burstable_nodes_are_standard():
    assert load_settings(ROOT, "dev").instance_type.split(".")[0] in BURSTABLE_FAMILIES  # t4g
    assert _template("dev")["creditSpecification"] == {"cpuCredits": "standard"}


def test_unlimited_is_a_stated_choice():
    assert _template("dev", {"burstableCpuCredits": "unlimited"})["creditSpecification"] == {"cpuCredits": "unlimited"}


@pytest.mark.parametrize("stack,overrides", [
    ("prod", None),                                                   # m6i.xlarge
    ("dev", {"nodeArchitecture": "amd64", "instanceType": "m6i.xlarge", "burstableCpuCredits": "unlimited"}),
])
def test_a_type_without_credits_gets_no_specification(stack, overrides):
    template = _template(stack, overrides)
    assert "creditSpecification" not in template
    assert template["metadataOptions"]["httpTokens"] == "required"  # the rest of the template is there


BASE = dict(cluster_name="c", region="us-west-2", version="1.35", vpc_id="v", private_subnet_ids=[],
            public_subnet_ids=[], node_count=1, node_max_count=1, support_type="STANDARD")


@pytest.mark.parametrize("instance_type,credits,why", [
    ("m6i.xlarge", "standard", "only for a burstable type .* not m6i.xlarge"),
    ("t4g.medium", "boundless", "cpu_credits 'boundless': one of standard, unlimited"),
])
def test_cluster_args_refuse_credits_the_instance_cannot_take(instance_type, credits, why):
    with pytest.raises(ValueError, match=why):
        ClusterArgs(**BASE, instance_type=instance_type, cpu_credits=credits)
