"""`make synth-diff` tells a replace from an update: the providers' force-new inputs
(synth/replacements.py, each with its source), followed through what a replaced resource's
identity reaches, and "replacement not known" where the list has no facts."""

from __future__ import annotations

import json

import pytest
import yaml

from components.log_group_provider import LogGroupProvider
from synth.diff import Pending, StackDiff, compare, diff_resources, main, render_text, synth_here
from synth.replacements import (
    COMPONENT,
    LOG_GROUP,
    NO_IMMUTABLE_FIELDS,
    RULES,
    Rule,
    Unknown,
    judge,
    rule_for,
)
from tools.reference import REFERENCE, SKIP_HINT

VARIANTS = {"istio": {}, "appmesh": {"meshBackend": "appmesh", "appMeshEndOfSupportAcknowledged": "true"}}


@pytest.fixture(scope="module")
def dev():
    return synth_here("dev", {})


def _ops(changes):
    return {(c.type, c.name): c for c in changes}


# --- the real program --------------------------------------------------------------------
def test_a_new_vpc_cidr_replaces_the_network_and_the_node_group(dev):
    changes = _ops(diff_resources(dev, synth_here("dev", {"vpcCidr": "10.1.0.0/16"})))
    network = ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable",
               "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/natGateway:NatGateway",
               "aws:ec2/vpcEndpoint:VpcEndpoint", "eks:index:ManagedNodeGroup")
    expected = {(r["type"], r["name"]) for r in dev if r["type"] in network}
    assert {k for k, c in changes.items() if c.op == "replace"} == expected
    assert len([t for t, _ in expected if t == "aws:ec2/subnet:Subnet"]) == 4

    (vpc,) = [c for (t, _), c in changes.items() if t == "aws:ec2/vpc:Vpc"]
    assert vpc.reasons == ("cidrBlock changes (tf-aws ec2/vpc_.go: cidr_block ForceNew)",)
    subnet = changes[("aws:ec2/subnet:Subnet", "network-private-0")]
    assert subnet.reasons == (
        "cidrBlock changes (tf-aws ec2/vpc_subnet.go: cidr_block ForceNew)",
        "vpcId carries the identity of network-vpc, which is replaced (tf-aws ec2/vpc_subnet.go: vpc_id ForceNew)")
    (group,) = [c for (t, _), c in changes.items() if t == "eks:index:ManagedNodeGroup"]
    assert group.reasons == (
        "subnetIds carries the identity of network-private-0 and network-private-1, which are replaced "
        "(pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: subnet_ids ForceNew)",)

    # an updatable input that carries a replaced id: an update with a value known only afterwards
    igw = changes[("aws:ec2/internetGateway:InternetGateway", "network-igw")]
    assert igw.op == "update" and [(c.path, c.new) for c in igw.inputs] == [("vpcId", Pending("network-vpc"))]
    # the EKS provider plans the cluster's new subnets as an update; that the API refuses it is said
    (cluster,) = [c for (t, _), c in changes.items() if t == "eks:index:Cluster"]
    assert cluster.op == "update" and {c.path for c in cluster.inputs} == {"privateSubnetIds", "publicSubnetIds",
                                                                           "vpcId"}
    assert len(cluster.caveats) == 1 and "only in the cluster's VPC" in cluster.caveats[0]
    assert not any(c.unknown for c in changes.values())


def test_the_text_shows_replacements_and_their_reasons(capsys, dev):
    ops = [c.op for c in diff_resources(dev, synth_here("dev", {"vpcCidr": "10.1.0.0/16"}))]
    assert main(["--set", "vpcCidr=10.1.0.0/16"]) == 0
    out = capsys.readouterr().out
    assert "  +- aws:ec2/vpc:Vpc  network-vpc\n      ~ cidrBlock: \"10.0.0.0/16\" → \"10.1.0.0/16\"\n" \
           "      +- replaced: cidrBlock changes (tf-aws ec2/vpc_.go: cidr_block ForceNew)\n" in out
    assert "      ~ vpcId: \"vpc-" in out and "→ (known after network-vpc is replaced)" in out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith(f"Resources: + 0 to create, ~ {ops.count('update')} to update, "
                              f"+- {ops.count('replace')} to replace, - 0 to delete, ")
    assert ops.count("replace") > ops.count("update") > 0
    assert "~ 6 to update" not in out


def test_a_new_node_architecture_replaces_the_node_group_only(dev):
    changes = diff_resources(dev, synth_here("dev", {"nodeArchitecture": "amd64", "instanceType": "t3.medium"}))
    replaced = [c for c in changes if c.op == "replace"]
    assert [(c.type, c.reasons) for c in replaced] == [("eks:index:ManagedNodeGroup", (
        "amiType changes (pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: ami_type ForceNew)",
        "instanceTypes[0] changes (pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: instance_types ForceNew)"))]
    images = [c for c in changes if c.type == "docker-build:index:Image"]
    assert images and all(c.op == "update" and not c.unknown for c in images)
    assert {c.op for c in changes} == {"update", "replace"} and not any(c.unknown for c in changes)


def test_a_canary_weight_is_an_update_and_nothing_more(dev):
    (change,) = diff_resources(dev, synth_here("dev", {"canaryWeight": "90"}))
    assert (change.op, change.reasons, change.unknown, change.caveats) == ("update", (), "", ())


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("backend", sorted(VARIANTS))
def test_every_type_the_program_registers_has_replacement_facts(stack, backend):
    records = synth_here(stack, VARIANTS[backend])
    assert [r["type"] for r in records if rule_for(r) is None] == []
    # a type the list lacks is caught, not passed as a plain update
    stray = {**records[0], "type": "aws:s3/bucket:Bucket", "custom": True}
    assert rule_for(stray) is None


def test_a_type_without_facts_says_replacement_not_known():
    base = [_r("b", "aws:s3/bucket:Bucket", {"bucket": "a"})]
    head = [_r("b", "aws:s3/bucket:Bucket", {"bucket": "b"})]
    (change,) = diff_resources(base, head)
    assert change.op == "update"
    assert change.unknown == ("replacement not known for aws:s3/bucket:Bucket: it has no entry in "
                              "synth/replacements.py")
    text = render_text(compare("dev", base, head, "a", "b"))
    assert "      ? replacement not known for aws:s3/bucket:Bucket" in text
    assert text.endswith("; replacement not known for 1 (marked ?)")


def test_every_fact_names_its_source():
    prefixes = ("tf-aws ", "pulumi-eks", "pulumi-k8s ", "pulumi-kubernetes ", "components/", "Kubernetes ")
    for typ, rule in RULES.items():
        if isinstance(rule, Unknown):
            assert rule.reason, typ
            continue
        assert rule.fields or rule.about, typ
        for f in rule.fields:
            assert f.source.startswith(prefixes), (typ, f.path, f.source)
    assert COMPONENT.fields == ()


# --- propagation, on records made for it ------------------------------------------------
def _r(name, typ, inputs, deps=(), provider=None, custom=True):
    return {"urn": f"urn:pulumi:dev::celestials::{typ}::{name}", "type": typ, "name": name, "custom": custom,
            "inputs": inputs, "dependencies": [f"urn:pulumi:dev::celestials::{d}" for d in deps], "provider": provider}


def test_a_replacement_reaches_what_carries_its_identity_and_no_further():
    vpc = _r("vpc", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.1.0.0/16"})
    subnet = _r("sn", "aws:ec2/subnet:Subnet", {"vpcId": "vpc-1", "cidrBlock": "10.0.0.0/19"},
                deps=["aws:ec2/vpc:Vpc::vpc"])
    role = _r("role", "aws:iam/role:Role", {"assumeRolePolicy": "{}"})
    group = _r("ng", "eks:index:ManagedNodeGroup",
               {"subnetIds": ["subnet-1"], "nodeRole": {"$resource": role["urn"]}},
               deps=["aws:ec2/subnet:Subnet::sn", "aws:iam/role:Role::role"], custom=False)
    bucket = _r("b", "aws:s3/bucket:Bucket", {"x": 1}, deps=["aws:ec2/subnet:Subnet::sn"])
    ordered = _r("t", "aws:dynamodb/table:Table", {"hashKey": "id"}, deps=["aws:ec2/subnet:Subnet::sn"])
    verdicts = judge([vpc, subnet, role, group, bucket, ordered], {vpc["urn"]: ["cidrBlock"]})
    assert {urn.split("::")[-1]: v.replace for urn, v in verdicts.items()} == {
        "vpc": True, "sn": True, "ng": True, "b": False}
    assert verdicts[bucket["urn"]].unknown.endswith("; it depends on sn, which is replaced")
    # the role is not replaced, so the group's nodeRole stays; a dependency alone carries nothing
    assert verdicts[group["urn"]].reasons == [
        "subnetIds carries the identity of sn, which is replaced (pulumi-eks → aws_eks_node_group; "
        "tf-aws eks/node_group.go: subnet_ids ForceNew)"]
    assert ordered["urn"] not in verdicts


def test_a_replaced_resource_reference_is_followed_exactly():
    role = _r("role", "aws:iam/role:Role", {"name": "new"})
    group = _r("ng", "eks:index:ManagedNodeGroup", {"nodeRole": {"$resource": role["urn"]}}, custom=False)
    verdicts = judge([role, group], {role["urn"]: ["name"]})
    assert verdicts[group["urn"]].reasons == [
        "nodeRole carries the identity of role, which is replaced (pulumi-eks → aws_eks_node_group; "
        "tf-aws eks/node_group.go: node_role_arn ForceNew)"]


def test_a_replaced_provider_replaces_every_resource_it_manages():
    provider = _r("k8s", "pulumi:providers:kubernetes", {"clusterIdentifier": "other"})
    ns = _r("ns", "kubernetes:core/v1:Namespace", {"metadata": {"name": "a"}}, provider=provider["urn"])
    verdicts = judge([provider, ns], {provider["urn"]: ["clusterIdentifier"]})
    assert verdicts[ns["urn"]].replace
    assert verdicts[ns["urn"]].reasons == ["its provider k8s is replaced, and with it every resource it manages"]


@pytest.mark.parametrize("path,replace", [
    ("metadata.name", True), ("metadata.namespace", True), ("spec.selector.matchLabels.app", True),
    ("spec.template.spec.containers[0].image", False), ("metadata.labels.app", False)])
def test_kubernetes_paths(path, replace):
    d = _r("d", "kubernetes:apps/v1:Deployment", {})
    assert judge([d], {d["urn"]: [path]})[d["urn"]].replace is replace


def test_the_log_group_facts_are_its_providers_diff():
    rule = RULES[LOG_GROUP]
    assert isinstance(rule, Rule)
    olds = {"name": "/aws/eks/a/cluster", "region": "us-west-2", "retention_days": 30, "tags": {}}
    provider = LogGroupProvider()
    for key, value in {"name": "/aws/eks/b/cluster", "region": "eu-west-1", "retention_days": 7,
                       "tags": {"a": "b"}}.items():
        replaces = provider.diff("id", olds, {**olds, key: value}).replaces or []
        assert (key in replaces) is any(f.path == key and f.force_new for f in rule.fields), key


def test_the_custom_resources_said_to_have_no_immutable_field_have_none():
    crd_files = [REFERENCE / "gateway-api-v1.6.1" / "standard-crds.yaml", REFERENCE / "istio-1.31" / "crd-all.gen.yaml"]
    if not all(f.exists() for f in crd_files):
        pytest.skip(f"reference CRDs absent under {REFERENCE} ({SKIP_HINT})")
    crds = {(d["spec"]["group"], d["spec"]["names"]["kind"]): d
            for f in crd_files for d in yaml.safe_load_all(f.read_text())
            if d and d.get("kind") == "CustomResourceDefinition"}
    kinds = {(typ.split(":")[1].split("/")[0], typ.split(":")[2]) for typ in RULES
             if typ.startswith("kubernetes:") and typ.split(":")[1].split("/")[0] in NO_IMMUTABLE_FIELDS}
    assert len(kinds) == 8
    for group, kind in sorted(kinds):
        assert "oldSelf" not in json.dumps(crds[(group, kind)]), (group, kind)
    # the check can fail: GatewayClass declares an immutable controllerName
    assert "oldSelf" in json.dumps(crds[("gateway.networking.k8s.io", "GatewayClass")])


def test_the_json_names_replacements():
    base = [_r("vpc", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"}),
            _r("igw", "aws:ec2/internetGateway:InternetGateway", {"vpcId": "vpc-1"}, deps=["aws:ec2/vpc:Vpc::vpc"])]
    head = [_r("vpc", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.1.0.0/16"}), base[1]]
    diff: StackDiff = compare("dev", base, head, "a", "b")
    assert diff.unchanged == 0
    data = json.loads(json.dumps(diff.as_dict()))
    assert [(c["name"], c["op"]) for c in data["changes"]] == [("igw", "update"), ("vpc", "replace")]
    assert data["changes"][0]["inputs"] == [{"path": "vpcId", "old": "vpc-1", "new": {"$knownAfterReplaceOf": "vpc"}}]
