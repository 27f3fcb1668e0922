"""The original tutorial's footprint as resource records, so the same model prices it.

The tutorial (aws-samples' EKS App Mesh polyglot demo) creates its cluster with `eksctl` and its
defaults: a managed node group of two m5.large nodes with eksctl's default root volume (80 GiB
gp3), one NAT gateway (eksctl's `Single` NAT default) with its Elastic IP, and the ingress NLB,
here in two public subnets. Records are hand-built in the synth's shape (urn, type, name,
dependencies, inputs); only the fields the model reads are set.
"""

from __future__ import annotations

from typing import Any

_URN = "urn:pulumi:tutorial::eksctl::"


def _record(typ: str, name: str, inputs: dict[str, Any], dependencies: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"urn": f"{_URN}{typ}::{name}", "type": typ, "name": name, "parent": None,
            "dependencies": list(dependencies), "inputs": inputs}


def tutorial_records() -> list[dict[str, Any]]:
    template = _record("aws:ec2/launchTemplate:LaunchTemplate", "eksctl-nodes", {
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 80, "volumeType": "gp3"}}]})
    return [
        _record("eks:index:Cluster", "eksctl-cluster", {}),
        template,
        _record("eks:index:ManagedNodeGroup", "eksctl-nodes", {
            "instanceTypes": ["m5.large"], "capacityType": "ON_DEMAND",
            "scalingConfig": {"desiredSize": 2, "minSize": 2, "maxSize": 2}}, (template["urn"],)),
        _record("aws:ec2/eip:Eip", "eksctl-nat", {"domain": "vpc"}),
        _record("aws:ec2/natGateway:NatGateway", "eksctl-nat", {"connectivityType": "public"}),
        *(_record("aws:ec2/subnet:Subnet", f"eksctl-public-{i}", {"tags": {"kubernetes.io/role/elb": "1"}})
          for i in range(2)),
        _record("kubernetes:core/v1:Service", "ingress-gw", {
            "metadata": {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}},
            "spec": {"type": "LoadBalancer"}}),
    ]
