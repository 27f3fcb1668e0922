"""Graviton: the capacity table per architecture, the nodeArchitecture setting, and what it selects
(AMI type, image platform and tag); an instance type of the other architecture is refused."""

from __future__ import annotations

import pytest

from celestials import capacity as cap
from celestials.settings import SettingsError, parse_settings
from celestials.topology import build_topology
from synth.diff import synth_here

#: max pods from awslabs/amazon-eks-ami eni-max-pods.txt (ENIs × (IPv4 per ENI − 1) + 2)
ENI_MAX_PODS = {
    "t3.medium": 17, "t3.large": 35, "t3.xlarge": 58, "m5.large": 29, "m6i.xlarge": 58, "c6i.large": 29,
    "t4g.medium": 17, "t4g.large": 35, "t4g.xlarge": 58, "t4g.2xlarge": 58,
    "m7g.large": 29, "m7g.xlarge": 58, "m8g.large": 29, "c7g.large": 29, "c7g.xlarge": 58, "r7g.large": 29,
}


def test_graviton_families_are_arm64_and_the_others_amd64():
    for name, it in cap.INSTANCE_TYPES.items():
        family = name.split(".")[0]
        graviton = family[-1] == "g" or family.endswith("gd")
        assert it.architecture == ("arm64" if graviton else "amd64"), name
    assert {it.architecture for it in cap.INSTANCE_TYPES.values()} == {"amd64", "arm64"}


@pytest.mark.parametrize("name", sorted(ENI_MAX_PODS))
def test_max_pods_agree_with_the_eks_ami_table(name):
    assert cap.INSTANCE_TYPES[name].max_pods == ENI_MAX_PODS[name]


def _dev(**raw):
    return parse_settings({"meshBackend": "istio", **raw}, "dev")


def _overhead(s):
    from components import mesh_backends, trace_collector

    return mesh_backends.select(s).capacity_overhead(s), trace_collector.pod_demands(s)


@pytest.mark.parametrize("architecture", ["amd64", "arm64"])
def test_the_capacity_check_per_architecture_uses_the_table(architecture):
    """Every type of the architecture is checked against its own allocatable from the table; a
    type of the other architecture is refused, naming both keys."""
    for name, it in cap.INSTANCE_TYPES.items():
        s = _dev(instanceType=name, nodeArchitecture=architecture, nodeCount=3, nodeMaxCount=3)
        overhead, extra = _overhead(s)
        if it.architecture != architecture:
            with pytest.raises(cap.CapacityError, match=rf"instanceType = '{name}' is an {it.architecture} "
                                                        rf"type but celestials:nodeArchitecture = '{architecture}'"):
                cap.check_capacity(s, build_topology(s), overhead, extra=extra)
            continue
        try:
            report = cap.check_capacity(s, build_topology(s), overhead, extra=extra)
        except cap.CapacityError:
            report = cap.plan_capacity(name, 3, cap.stack_demands(build_topology(s), overhead, extra), architecture)
            assert not report.fits
        assert report.instance is it
        assert report.allocatable == cap.NodeAllocatable.of(it)


def test_node_architecture_is_validated():
    with pytest.raises(SettingsError, match=r"celestials:nodeArchitecture = 'aarch64': one of amd64, arm64"):
        _dev(nodeArchitecture="aarch64")
    assert _dev().node_architecture == "amd64"


@pytest.mark.parametrize("architecture, ami, platform", [
    ("arm64", "AL2023_ARM_64_STANDARD", "linux/arm64"),
    ("amd64", "AL2023_x86_64_STANDARD", "linux/amd64"),
])
def test_the_architecture_selects_the_ami_type_and_the_image_platform(architecture, ami, platform):
    overrides = {"nodeArchitecture": architecture,
                 "instanceType": "t4g.medium" if architecture == "arm64" else "t3.medium"}
    records = synth_here("dev", overrides)
    (group,) = [r for r in records if r["type"] == "eks:index:ManagedNodeGroup"]
    assert group["inputs"]["amiType"] == ami
    images = [r for r in records if r["type"] == "docker-build:index:Image"]
    assert images and all(r["inputs"]["platforms"] == [platform] for r in images)
    tags = [t for r in images for t in r["inputs"]["tags"]]
    # ECR tags are immutable: the arm64 build of the same content has its own tag
    assert all(t.endswith("-arm64") == (architecture == "arm64") for t in tags)


def test_a_stack_of_the_other_architecture_fails_before_any_resource():
    with pytest.raises(cap.CapacityError, match="nodeArchitecture") as err:
        synth_here("dev", {"nodeArchitecture": "amd64"})  # dev's t4g.medium is arm64
    assert err.value.synth_registrations == []
