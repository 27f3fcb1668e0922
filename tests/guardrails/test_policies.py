"""Each policy of the pack on passing and failing resource inputs, called as the policy engine
calls it (tests/guardrails/pack.py), without the policy server. A failing case must be reported
against the resource, with a message naming it."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest
from pulumi_policy.policy import _NotApplicableError

from celestials import eks_versions as ev
from celestials.guardrails import ADVISORY_RULES, RESOURCE_RULES, SECRET, STACK_RULES, Resource
from celestials.guardrails import iam_exceptions
from celestials.guardrails.kubernetes_rules import secret_from_secret_value
from policy.guardrail_policies import POLICIES, policies
from tests.guardrails.pack import VPC, tagged, urn, validate, validate_stack

ECR = "aws:ecr/repository:Repository"
EKS_COMPONENT, EKS = "eks:index:Cluster", "aws:eks/cluster:Cluster"
LT, NODE_GROUP = "aws:ec2/launchTemplate:LaunchTemplate", "eks:index:ManagedNodeGroup"
ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
DEPLOYMENT, SERVICE, RELEASE = "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:helm.sh/v3:Release"
HPA, PDB = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:policy/v1:PodDisruptionBudget"


def test_the_pack_has_one_mandatory_policy_per_rule():
    assert [p.name for p in POLICIES] == [r.name for r in (*RESOURCE_RULES, *STACK_RULES)]
    assert {p.enforcement_level.value for p in POLICIES} == {"mandatory"}


def test_the_pack_as_of_a_day_adds_one_advisory_policy_per_advisory_rule():
    pack = policies(date(2027, 6, 1))
    assert pack[:len(POLICIES)] == POLICIES
    advisory = pack[len(POLICIES):]
    assert [p.name for p in advisory] == [r.name for r in ADVISORY_RULES] == ["eks-version-support"]
    assert {p.enforcement_level.value for p in advisory} == {"advisory"}


def _reported(found, name):
    assert found, "expected a violation"
    for message, at in found:
        assert at and at.endswith(f"::{name}") and name in message, (message, at)
    return " ".join(m for m, _ in found)


# ECR
GOOD_ECR = {"imageScanningConfiguration": {"scanOnPush": True}, "imageTagMutability": "IMMUTABLE"}


def test_ecr_passes_with_scan_on_push_and_immutable_tags():
    assert validate("ecr-scan-on-push-immutable-tags", ECR, GOOD_ECR) == []


@pytest.mark.parametrize("change, expected", [
    ({"imageScanningConfiguration": {"scanOnPush": False}}, "scanOnPush"),
    ({"imageTagMutability": "MUTABLE"}, "mutable"),
    ({"imageTagMutability": None}, "mutable"),
])
def test_ecr_fails_without_scanning_or_with_mutable_tags(change, expected):
    props = {k: v for k, v in {**GOOD_ECR, **change}.items() if v is not None}
    assert expected in _reported(validate("ecr-scan-on-push-immutable-tags", ECR, props, name="repo"), "repo")


# EKS endpoint (production only) and Secrets encryption
@pytest.mark.parametrize("resource_type, props", [
    (EKS_COMPONENT, {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}),
    (EKS_COMPONENT, {}),  # AWS's default: public, from anywhere
    (EKS, {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["10.0.0.0/8", "::/0"]}}),
])
@pytest.mark.parametrize("stack", ["prod", "production", "prod-eu", "dev"])
def test_a_production_endpoint_open_to_the_internet_fails_whatever_the_stack_is_called(resource_type, props, stack):
    rule = "eks-endpoint-not-open-in-prod"
    found = validate(rule, resource_type, tagged(True, stack, **props), name="eks", stack=stack)
    assert "public" in _reported(found, "eks")
    assert validate(rule, resource_type, tagged(False, stack, **props), stack=stack) == []
    assert validate(rule, resource_type, props, stack=stack) == []  # untagged: stack-states-production's to refuse


@pytest.mark.parametrize("resource_type, props", [
    (EKS_COMPONENT, {"endpointPublicAccess": False}),
    (EKS_COMPONENT, {"endpointPublicAccess": True, "publicAccessCidrs": ["198.51.100.7/32"]}),
    (EKS, {"vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True}}),
])
def test_a_private_or_fenced_prod_endpoint_passes(resource_type, props):
    assert validate("eks-endpoint-not-open-in-prod", resource_type, tagged(True, **props), stack="prod") == []


@pytest.mark.parametrize("resource_type, good, bad", [
    (EKS_COMPONENT, {"encryptionConfigKeyArn": "arn:aws:kms:us-west-2:1:key/k"}, {}),
    (EKS, {"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:us-west-2:1:key/k"}}},
     {"encryptionConfig": {"resources": [], "provider": {"keyArn": "arn:aws:kms:us-west-2:1:key/k"}}}),
])
def test_secrets_must_be_envelope_encrypted(resource_type, good, bad):
    assert validate("eks-secrets-encrypted-with-kms", resource_type, good) == []
    assert "KMS" in _reported(validate("eks-secrets-encrypted-with-kms", resource_type, bad, name="eks"), "eks")


# IMDSv2
def test_nodes_require_imdsv2():
    rule = "nodes-require-imdsv2"
    assert validate(rule, LT, {"metadataOptions": {"httpTokens": "required"}}) == []
    assert "IMDSv1" in _reported(validate(rule, LT, {"metadataOptions": {"httpTokens": "optional"}}, name="lt"), "lt")
    assert "IMDSv1" in _reported(validate(rule, LT, {}, name="lt"), "lt")
    assert validate(rule, NODE_GROUP, {"launchTemplate": {"id": "lt-1", "version": "1"}}) == []
    assert "launch template" in _reported(validate(rule, NODE_GROUP, {"instanceTypes": ["m6i.large"]}, name="ng"), "ng")


# IAM
def _doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {"Effect": "Allow", "Action": ["dynamodb:GetItem", "*"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"},
    {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
])
def test_a_wildcard_action_fails(statement):
    found = validate("iam-no-wildcard-actions", ROLE_POLICY, {"policy": _doc(statement)}, name="pol")
    assert "wildcard" in _reported(found, "pol")
    inline = {"assumeRolePolicy": _doc(), "inlinePolicies": [{"name": "x", "policy": _doc(statement)}]}
    _reported(validate("iam-no-wildcard-actions", ROLE, inline, name="role"), "role")


def test_named_actions_and_denies_pass_and_an_exception_is_named_in_one_place(monkeypatch):
    rule = "iam-no-wildcard-actions"
    assert validate(rule, ROLE_POLICY, {"policy": _doc(
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"})}) == []
    wildcard = {"policy": _doc({"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"})}
    assert validate(rule, ROLE_POLICY, wildcard)
    monkeypatch.setitem(iam_exceptions.WILDCARD_ACTIONS, "ec2:Describe*", "a reason")
    assert validate(rule, ROLE_POLICY, wildcard) == []


def test_aws_managed_policies_pass_only_when_named_with_their_reason():
    rule = "iam-no-wildcard-actions"
    assert all(reason.strip() for reason in iam_exceptions.AWS_MANAGED_POLICIES.values())
    assert validate(rule, ATTACHMENT, {"policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}) == []
    assert validate(rule, ATTACHMENT, {"policyArn": "arn:aws:iam::123456789012:policy/own"}) == []
    found = validate(rule, ATTACHMENT, {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, name="att")
    assert "AdministratorAccess" in _reported(found, "att")


ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/ABC"


def _trust(condition):
    return {"assumeRolePolicy": _doc({
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": f"arn:aws:iam::1:oidc-provider/{ISSUER}"}, "Condition": condition})}


def test_irsa_trust_pins_sub_and_aud():
    rule = "irsa-trust-pins-sub-and-aud"
    both = {"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:ns:sa", f"{ISSUER}:aud": "sts.amazonaws.com"}}
    assert validate(rule, ROLE, _trust(both)) == []
    assert validate(rule, ROLE, {"assumeRolePolicy": _doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}})}) == []
    no_aud = {"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:ns:sa"}}
    assert "aud" in _reported(validate(rule, ROLE, _trust(no_aud), name="role"), "role")
    like = {"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:ns:*"},
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}}
    assert "sub" in _reported(validate(rule, ROLE, _trust(like), name="role"), "role")


# Kubernetes Secrets: the pack cannot see secretness; the rule itself runs offline
def test_the_secret_rule_is_not_applicable_in_the_pack_and_says_why():
    with pytest.raises(_NotApplicableError) as raised:
        validate("secret-from-secret-value", "kubernetes:core/v1:Secret", {"data": {"k": "v"}})
    assert "offline" in (raised.value.reason or "")


def test_a_secret_built_from_a_plain_value_fails_offline():
    def r(data):
        return Resource(urn("kubernetes:core/v1:Secret", "s"), "kubernetes:core/v1:Secret", "s",
                        {"kind": "Secret", "metadata": {"name": "tls", "namespace": "mtls"}, **data})
    assert list(secret_from_secret_value(r({"data": SECRET}))) == []
    assert list(secret_from_secret_value(r({"data": {"tls.key": SECRET}}))) == []
    assert list(secret_from_secret_value(r({}))) == []
    faults = list(secret_from_secret_value(r({"data": {"tls.key": SECRET, "tls.crt": "LS0t"}})))
    assert len(faults) == 1 and "tls.crt" in faults[0] and "mtls/tls" in faults[0]


# Containers
HARDENED = {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}
RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}


def _deployment(container=None, init=None, pod_context=None, **spec):
    container = container or {"name": "app", "image": "x", "securityContext": dict(HARDENED), "resources": RESOURCES}
    pod = {"containers": [container], **({"initContainers": [init]} if init else {}),
           **({"securityContext": pod_context} if pod_context else {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod}, **spec}}


def test_a_hardened_container_passes():
    assert validate("containers-hardened", DEPLOYMENT, _deployment()) == []
    pod_level = {"name": "app", "securityContext": {**HARDENED, "runAsNonRoot": None}, "resources": RESOURCES}
    assert validate("containers-hardened", DEPLOYMENT, _deployment(pod_level, pod_context={"runAsNonRoot": True})) == []


@pytest.mark.parametrize("change, expected", [
    ({"securityContext": {**HARDENED, "runAsNonRoot": False}}, "root"),
    ({"securityContext": {**HARDENED, "readOnlyRootFilesystem": False}}, "read"),
    ({"securityContext": {k: v for k, v in HARDENED.items() if k != "allowPrivilegeEscalation"}}, "escalation"),
    ({"resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}}, "limits.memory"),
    ({"resources": {"limits": {"memory": "64Mi"}}}, "requests.cpu"),
])
def test_each_missing_hardening_fails(change, expected):
    container = {"name": "app", "securityContext": dict(HARDENED), "resources": RESOURCES, **change}
    found = validate("containers-hardened", DEPLOYMENT, _deployment(container), name="web")
    assert expected in _reported(found, "web") and "container app" in found[0][0]


def test_init_containers_are_checked_and_injected_ones_are_excepted_by_name():
    root_init = {"name": "migrate", "image": "x", "resources": RESOURCES}
    assert "container migrate" in validate("containers-hardened", DEPLOYMENT, _deployment(init=root_init))[0][0]
    injected = {"name": "istio-init", "image": "auto"}
    assert validate("containers-hardened", DEPLOYMENT, _deployment(init=injected)) == []


def test_helm_releases_are_checked_where_their_chart_takes_the_settings():
    rule = "containers-hardened"
    collector = {"chart": "opentelemetry-collector", "values": {"resources": RESOURCES, "securityContext": HARDENED}}
    assert validate(rule, RELEASE, collector) == []
    weak = copy.deepcopy(collector)
    weak["values"]["securityContext"]["readOnlyRootFilesystem"] = False
    assert "values.securityContext" in _reported(validate(rule, RELEASE, weak, name="rel"), "rel")
    istiod = {"chart": "istiod", "values": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}}
    assert "limits.memory" in _reported(validate(rule, RELEASE, istiod, name="rel"), "rel")
    assert "chart table" in _reported(validate(rule, RELEASE, {"chart": "mystery", "values": {}}, name="rel"), "rel")


# LoadBalancer Services
def test_only_the_ingress_gateway_gets_a_load_balancer():
    rule = "load-balancer-only-for-ingress-gateway"
    meta = {"name": "gw", "namespace": "apps"}
    assert validate(rule, SERVICE, {"kind": "Service", "metadata": meta, "spec": {"type": "ClusterIP"}}) == []
    gateway = {"kind": "Service", "metadata": {**meta, "labels": {"app.kubernetes.io/component": "ingress-gateway"}},
               "spec": {"type": "LoadBalancer"}}
    assert validate(rule, SERVICE, gateway) == []
    other = {"kind": "Service", "metadata": meta, "spec": {"type": "LoadBalancer"}}
    assert "LoadBalancer" in _reported(validate(rule, SERVICE, other, name="svc"), "svc")


# Prod survives losing a node
ZONE_SPREAD = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "web"}}}]


def _highly_available(**without):
    deployment = _deployment()
    deployment["spec"]["template"]["spec"]["topologySpreadConstraints"] = ZONE_SPREAD
    resources = {
        "deploy": (DEPLOYMENT, deployment),
        "hpa": (HPA, {"metadata": {"name": "web", "namespace": "apps"},
                      "spec": {"minReplicas": 2, "maxReplicas": 4,
                               "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
        "pdb": (PDB, {"metadata": {"name": "web", "namespace": "apps"},
                      "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
    }
    for key in without:
        resources.pop(key)
    return [(t, n, p) for n, (t, p) in resources.items()]


def test_a_highly_available_prod_deployment_passes():
    assert validate_stack("prod-survives-node-loss", _highly_available()) == []


@pytest.mark.parametrize("without, expected", [
    ({"hpa": 1}, "1 replica"), ({"pdb": 1}, "PodDisruptionBudget")])
def test_a_prod_deployment_without_autoscaler_or_budget_fails(without, expected):
    found = validate_stack("prod-survives-node-loss", _highly_available(**without))
    assert expected in _reported(found, "deploy")


def test_a_prod_deployment_without_zone_spread_or_autoscaler_fails():
    resources = _highly_available()
    resources[0][2]["spec"]["template"]["spec"].pop("topologySpreadConstraints")
    assert "zones" in _reported(validate_stack("prod-survives-node-loss", resources), "deploy")
    resources = _highly_available(hpa=1)
    resources[0][2]["spec"]["replicas"] = 3
    assert "HorizontalPodAutoscaler" in _reported(validate_stack("prod-survives-node-loss", resources), "deploy")


@pytest.mark.parametrize("stack", ["prod", "production", "prod-eu"])
def test_one_replica_is_refused_in_a_production_stack_whatever_its_name(stack):
    single = [(DEPLOYMENT, "deploy", _deployment(replicas=1))]
    found = validate_stack("prod-survives-node-loss", single, stack=stack, production=True)
    assert "in production runs 1 replica" in _reported(found, "deploy")


def test_one_replica_is_fine_when_it_says_why_and_outside_production():
    single = _deployment(replicas=1)
    for stack in ("dev", "prod"):  # a stack called prod that says production=false is held to dev's rules
        assert validate_stack("prod-survives-node-loss", [(DEPLOYMENT, "deploy", single)], stack=stack,
                              production=False) == []
    assert "1 replica" in _reported(validate_stack("prod-survives-node-loss", [(DEPLOYMENT, "deploy", single)]), "deploy")
    single["metadata"]["annotations"] = {"celestials.io/single-replica-reason": "a demo, not on the request path"}
    assert validate_stack("prod-survives-node-loss", [(DEPLOYMENT, "deploy", single)]) == []


def test_the_prod_control_plane_runs_highly_available():
    spread = {"topologySpreadConstraints": ZONE_SPREAD}
    good = {"chart": "istiod", "values": {"autoscaleEnabled": True, "autoscaleMin": 2, **spread}}
    assert validate_stack("prod-survives-node-loss", [(RELEASE, "istiod", good)]) == []
    for bad, expected in (({"autoscaleEnabled": False, "replicaCount": 1, **spread}, "1 replica"),
                          ({"autoscaleMin": 2}, "zones"),
                          ({"autoscaleMin": 2, **spread, "global": {"defaultPodDisruptionBudget": {"enabled": False}}},
                           "PodDisruptionBudget")):
        found = validate_stack("prod-survives-node-loss", [(RELEASE, "istiod", {"chart": "istiod", "values": bad})])
        assert expected in _reported(found, "istiod")


# EKS version support (advisory, as of the day the pack is built)
V135 = ev.release("1.35")
EXTENDED_POLICY = {"version": "1.35", "upgradePolicy": {"supportType": "EXTENDED"}}


@pytest.mark.parametrize("resource_type", [EKS_COMPONENT, EKS])
def test_the_eks_version_is_flagged_ahead_of_and_in_extended_support_only(resource_type):
    rule, std = "eks-version-support", V135.standard_support_ends
    window = timedelta(days=ev.STANDARD_END_WARNING_DAYS)
    assert validate(rule, resource_type, EXTENDED_POLICY, today=std - window) == []
    ahead = _reported(validate(rule, resource_type, EXTENDED_POLICY, name="eks", today=std - window + timedelta(days=1)), "eks")
    assert f"standard support ends on {std}" in ahead and "extended support" in ahead
    extended = _reported(validate(rule, resource_type, EXTENDED_POLICY, name="eks", today=std + timedelta(days=1)), "eks")
    assert "1.35 is in extended support" in extended and "celestials/cost/prices.yaml" in extended
    standard = {"version": "1.35", "upgradePolicy": {"supportType": "STANDARD"}}
    assert "AWS upgrades this control plane" in _reported(
        validate(rule, resource_type, standard, name="eks", today=std + timedelta(days=1)), "eks")
    ended = V135.extended_support_ends + timedelta(days=1)
    assert "no longer offers 1.35" in _reported(validate(rule, resource_type, EXTENDED_POLICY, name="eks", today=ended), "eks")


def test_an_unstated_policy_is_read_as_the_api_default_and_said_so():
    found = validate("eks-version-support", EKS, {"version": "1.35"}, name="eks",
                     today=V135.standard_support_ends + timedelta(days=1))
    assert "no upgradePolicy.supportType: EKS's default, EXTENDED, applies" in _reported(found, "eks")
    assert "is in extended support" in found[0][0]


def test_an_unknown_version_is_flagged_and_an_unstated_one_is_not():
    today = date(2027, 6, 1)
    assert "not in celestials/eks_versions.py" in _reported(
        validate("eks-version-support", EKS, {"version": "1.29"}, name="eks", today=today), "eks")
    assert validate("eks-version-support", EKS, {}, today=today) == []


# The stack says whether it is production
STATES = "stack-states-production"


def test_a_stack_whose_resources_say_production_with_one_voice_passes():
    for production in (True, False):
        resources = [(VPC, "vpc", tagged(production)), (ECR, "repo", tagged(production, **GOOD_ECR)),
                     (DEPLOYMENT, "deploy", _deployment())]  # Kubernetes objects carry no AWS tags
        assert validate_stack(STATES, resources, production=None) == []


def test_a_stack_where_no_tagged_resource_says_it_fails():
    found = validate_stack(STATES, [(VPC, "vpc", {"tags": {"project": "celestials", "stack": "prod"}}),
                                    (DEPLOYMENT, "deploy", _deployment())], production=None)
    assert "no resource of this stack carries the production tag" in _reported(found, "vpc")


def test_resources_that_disagree_fail_on_the_one_that_says_false():
    found = validate_stack(STATES, [(VPC, "vpc", tagged(True)), (ECR, "repo", tagged(False, **GOOD_ECR))],
                           production=None)
    assert "production=false in a stack whose other resources say true" in _reported(found, "repo")


def test_a_production_tag_that_is_neither_true_nor_false_fails():
    found = validate_stack(STATES, [(VPC, "vpc", {"tags": {"production": "yes"}})], production=None)
    assert "tag production = 'yes'" in _reported(found, "vpc")
