"""Real-account readiness (issue 13), checked on the real program's offline synth: what the
committed stacks would ask AWS for."""

from __future__ import annotations

import pytest

from synth.harness import quiet, synth_stack


def _synth(stack: str, overrides=None):
    with quiet():
        return synth_stack(stack, overrides)


@pytest.fixture(scope="module")
def dev():
    return _synth("dev")


@pytest.fixture(scope="module")
def prod():
    return _synth("prod")


# --- 13.11: dev costs ---------------------------------------------------------------------------
def test_dev_logs_api_and_authenticator_only_and_prod_all_five(dev, prod):
    assert dev.get("eks:index:Cluster", "cluster-eks")["inputs"]["enabledClusterLogTypes"] == ["api", "authenticator"]
    assert prod.get("eks:index:Cluster", "cluster-eks")["inputs"]["enabledClusterLogTypes"] == [
        "api", "audit", "authenticator", "controllerManager", "scheduler"]


def test_image_layers_bypass_nat_through_the_free_s3_gateway_endpoint(dev):
    (s3,) = [r for r in dev.by_type("aws:ec2/vpcEndpoint:VpcEndpoint") if r["name"] == "network-s3"]
    assert s3["inputs"]["serviceName"] == "com.amazonaws.us-west-2.s3"
    assert s3["inputs"]["vpcEndpointType"] == "Gateway"
    private_rts = {r["urn"] for r in dev.by_type("aws:ec2/routeTable:RouteTable") if "-private-" in r["name"]}
    assert len(private_rts) == 2 and private_rts <= set(s3["dependencies"])
    # the gateway endpoints (S3, DynamoDB) only: ECR interface endpoints are opt-in
    assert {e["name"] for e in dev.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")} == {"network-s3", "network-dynamodb"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_catalog_reaches_dynamodb_from_every_zone_without_nat(stack, dev, prod):
    """A gateway endpoint on every private route table: the table's calls never take the NAT route."""
    import json

    from synth.mocks import ACCOUNT_ID

    r = {"dev": dev, "prod": prod}[stack]
    (ddb,) = [e for e in r.by_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e["name"] == "network-dynamodb"]
    assert (ddb["inputs"]["serviceName"], ddb["inputs"]["vpcEndpointType"]) == ("com.amazonaws.us-west-2.dynamodb",
                                                                                 "Gateway")
    from celestials.local.stack import load_settings
    from synth.harness import ROOT

    private_rts = [t for t in r.by_type("aws:ec2/routeTable:RouteTable") if "-private-" in t["name"]]
    assert len(private_rts) == load_settings(ROOT, stack).availability_zones
    assert {t["urn"] for t in private_rts} <= set(ddb["dependencies"])
    assert len(ddb["inputs"]["routeTableIds"]) == len(private_rts)
    [statement] = json.loads(ddb["inputs"]["policy"])["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*" and statement["Action"] == "dynamodb:*"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT_ID}}


def test_ecr_interface_endpoints_when_asked():
    r = _synth("dev", {"ecrEndpoints": "true"})
    endpoints = {e["inputs"]["serviceName"]: e["inputs"] for e in r.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    for service in ("ecr.api", "ecr.dkr"):
        e = endpoints[f"com.amazonaws.us-west-2.{service}"]
        assert e["vpcEndpointType"] == "Interface" and e["privateDnsEnabled"] is True
        assert len(e["subnetIds"]) == 2
    (sg,) = [s for s in r.by_type("aws:ec2/securityGroup:SecurityGroup") if s["name"] == "network-endpoints"]
    assert sg["inputs"]["ingress"][0]["fromPort"] == 443


# --- 13.7: the log group EKS recreates after a destroy ------------------------------------------
def test_the_cluster_waits_for_a_log_group_that_is_adopted_not_blindly_created(dev):
    assert not dev.by_type("aws:cloudwatch/logGroup:LogGroup"), "a plain LogGroup collides after a destroy"
    (group,) = dev.by_type("pulumi-python:dynamic/celestials:ControlPlaneLogGroup")
    assert group["inputs"]["name"] == "/aws/eks/celestials-dev/cluster"
    assert group["inputs"]["retention_days"] == 30
    assert dev.depends_on(dev.get("eks:index:Cluster", "cluster-eks")["urn"], group["urn"])


# --- 13.2: the preview and deploy roles reach the cluster ---------------------------------------
def test_stack_settings_become_access_entries():
    viewer, deploy = "arn:aws:iam::123456789012:role/gh-preview", "arn:aws:iam::123456789012:role/gh-deploy"
    r = _synth("dev", {"clusterViewers": f'["{viewer}"]', "ciDeployRoles": f'["{deploy}"]'})
    entries = r.get("eks:index:Cluster", "cluster-eks")["inputs"]["accessEntries"]
    by_principal = {e["principalArn"]: e["accessPolicies"] for e in entries.values()}
    assert by_principal[viewer]["view"]["policyArn"].endswith("/AmazonEKSAdminViewPolicy")
    assert by_principal[deploy]["admin"]["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")


# --- 13.6: upgrades that happen -----------------------------------------------------------------
def test_nodes_and_add_ons_follow_the_eks_version(dev):
    from celestials.eks_versions import addon_version
    ng = dev.get("eks:index:ManagedNodeGroup", "cluster-nodes")["inputs"]
    assert ng["version"] == "1.35" and "launchTemplate" in ng  # a template without an AMI: version applies
    lt = dev.get("aws:ec2/launchTemplate:LaunchTemplate", "cluster-nodes")["inputs"]
    assert "imageId" not in lt
    eks = dev.get("eks:index:Cluster", "cluster-eks")["inputs"]
    assert eks["vpcCniOptions"]["addonVersion"] == addon_version("1.35", "vpc-cni")
    assert eks["kubeProxyAddonOptions"]["version"] == addon_version("1.35", "kube-proxy")
    assert eks["corednsAddonOptions"]["enabled"] is False
    (coredns,) = dev.by_type("aws:eks/addon:Addon")
    assert coredns["inputs"]["addonName"] == "coredns"
    assert coredns["inputs"]["addonVersion"] == addon_version("1.35", "coredns")
    assert coredns["inputs"]["resolveConflictsOnCreate"] == "OVERWRITE"
    assert dev.depends_on(coredns["urn"], dev.get("eks:index:ManagedNodeGroup", "cluster-nodes")["urn"])


def test_changing_eks_version_moves_everything_together():
    from celestials.eks_versions import addon_version
    r = _synth("dev", {"eksVersion": "1.36"})
    assert r.get("eks:index:Cluster", "cluster-eks")["inputs"]["version"] == "1.36"
    assert r.get("eks:index:ManagedNodeGroup", "cluster-nodes")["inputs"]["version"] == "1.36"
    assert r.get("eks:index:Cluster", "cluster-eks")["inputs"]["kubeProxyAddonOptions"]["version"] == \
        addon_version("1.36", "kube-proxy")
    (coredns,) = r.by_type("aws:eks/addon:Addon")
    assert coredns["inputs"]["addonVersion"] == addon_version("1.36", "coredns")


# --- 13.3: the prod stack is reachable as documented --------------------------------------------
def test_committed_prod_stack_is_private_and_deployable(prod):
    eks = prod.get("eks:index:Cluster", "cluster-eks")["inputs"]
    assert eks["endpointPublicAccess"] is False and eks["endpointPrivateAccess"] is True
    assert "publicAccessCidrs" not in eks


def test_prod_with_a_public_endpoint_wants_real_cidrs():
    from celestials.settings import SettingsError
    with pytest.raises(SettingsError) as err:
        _synth("prod", {"endpointPublicAccess": "true"})
    assert err.value.key == "endpointPublicAccessCidrs" and "Reaching the API endpoint" in str(err.value)
    assert err.value.synth_registrations == []
    with pytest.raises(SettingsError, match="203.0.113.0/24 is documentation"):
        _synth("prod", {"endpointPublicAccess": "true", "endpointPublicAccessCidrs": '["203.0.113.0/24"]'})
    ok = _synth("prod", {"endpointPublicAccess": "true", "endpointPublicAccessCidrs": '["52.95.110.0/24"]'})
    assert ok.get("eks:index:Cluster", "cluster-eks")["inputs"]["publicAccessCidrs"] == ["52.95.110.0/24"]


def test_a_runner_network_reaches_the_private_endpoint():
    r = _synth("prod", {"endpointPrivateAccessCidrs": '["172.31.0.0/16"]'})
    (rule,) = r.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule["inputs"]["cidrIpv4"] == "172.31.0.0/16" and rule["inputs"]["fromPort"] == 443
    assert rule["inputs"]["securityGroupId"].startswith("sg-")


# --- issue 10.4: the resource metrics API the autoscalers read ------------------------------------
def test_prod_gets_the_metrics_server_add_on_pinned_after_the_nodes_and_dev_none(dev, prod):
    from celestials.eks_versions import addon_version
    addons = {a["inputs"]["addonName"]: a for a in prod.by_type("aws:eks/addon:Addon")}
    metrics = addons["metrics-server"]
    assert metrics["inputs"]["addonVersion"] == addon_version("1.35", "metrics-server")
    assert metrics["inputs"]["resolveConflictsOnCreate"] == "OVERWRITE"
    assert prod.depends_on(metrics["urn"], prod.get("eks:index:ManagedNodeGroup", "cluster-nodes")["urn"])
    # dev has no autoscalers, so no metrics-server (and the capacity check does not count one)
    assert {a["inputs"]["addonName"] for a in dev.by_type("aws:eks/addon:Addon")} == {"coredns"}
    r = _synth("dev", {"autoscaleMaxReplicas": "2", "eksVersion": "1.36", "instanceType": "t4g.xlarge"})
    assert {a["inputs"]["addonName"]: a["inputs"]["addonVersion"] for a in r.by_type("aws:eks/addon:Addon")} == {
        "coredns": addon_version("1.36", "coredns"), "metrics-server": addon_version("1.36", "metrics-server")}
