"""Rules on AWS resources: image registries, the EKS control plane, nodes and IAM.

The program creates the EKS cluster and node group through pulumi-eks components; a real preview
also shows the AWS resources those components create, the offline synth only the components'
inputs. Each rule reads whichever of the two it is given, so one implementation serves both.
"""

from __future__ import annotations

from typing import Any, Iterator

from celestials.guardrails.iam_exceptions import AWS_MANAGED_POLICIES, WILDCARD_ACTIONS
from celestials.guardrails.resource import Resource, as_list, get, json_document, statements

ECR_REPOSITORY = "aws:ecr/repository:Repository"
EKS_CLUSTER_COMPONENT = "eks:index:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
NODE_GROUP_COMPONENT = "eks:index:ManagedNodeGroup"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
IAM_ROLE = "aws:iam/role:Role"
#: resource type → the input holding its policy document
IAM_DOCUMENTS = {"aws:iam/policy:Policy": "policy", "aws:iam/rolePolicy:RolePolicy": "policy",
                 "aws:iam/userPolicy:UserPolicy": "policy", "aws:iam/groupPolicy:GroupPolicy": "policy"}
IAM_ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                   "aws:iam/policyAttachment:PolicyAttachment")
AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"
OPEN_CIDRS = {"0.0.0.0/0", "::/0"}
STS_AUDIENCE = "sts.amazonaws.com"


def ecr_scan_on_push_and_immutable_tags(r: Resource) -> Iterator[str]:
    if get(r.props, "imageScanningConfiguration", "scanOnPush") is not True:
        yield f"{r.label}: scanOnPush is not enabled (imageScanningConfiguration.scanOnPush: true)"
    if r.props.get("imageTagMutability") != "IMMUTABLE":
        yield (f"{r.label}: image tags are mutable (imageTagMutability: "
               f"{r.props.get('imageTagMutability', 'MUTABLE by default')}); set IMMUTABLE")


def _endpoint(r: Resource) -> tuple[bool, list[str]]:
    """(public access on?, allowed CIDRs) with the AWS defaults: public, from anywhere."""
    if r.type == EKS_CLUSTER_COMPONENT:
        public, cidrs = r.props.get("endpointPublicAccess", True), r.props.get("publicAccessCidrs")
    else:
        public = get(r.props, "vpcConfig", "endpointPublicAccess", default=True)
        cidrs = get(r.props, "vpcConfig", "publicAccessCidrs")
    return public is not False, [str(c) for c in as_list(cidrs)] or ["0.0.0.0/0"]


def eks_endpoint_not_open_in_prod(r: Resource) -> Iterator[str]:
    if not r.is_prod:
        return
    public, cidrs = _endpoint(r)
    if public and OPEN_CIDRS & set(cidrs):
        yield (f"{r.label}: the production API endpoint is public to {', '.join(sorted(OPEN_CIDRS & set(cidrs)))}; "
               "turn public access off or list the operators' CIDRs")


def eks_secrets_encrypted(r: Resource) -> Iterator[str]:
    if r.type == EKS_CLUSTER_COMPONENT:
        encrypted = bool(r.props.get("encryptionConfigKeyArn"))
    else:
        configs = as_list(r.props.get("encryptionConfig"))
        encrypted = any("secrets" in as_list(get(c, "resources")) and get(c, "provider", "keyArn")
                        for c in configs)
    if not encrypted:
        yield f"{r.label}: Kubernetes Secrets are not envelope-encrypted with a KMS key"


def nodes_require_imdsv2(r: Resource) -> Iterator[str]:
    if r.type in (NODE_GROUP_COMPONENT, NODE_GROUP):
        if not get(r.props, "launchTemplate"):
            yield (f"{r.label}: no launch template, so nothing requires IMDSv2 on its nodes; "
                   "give it one with metadataOptions.httpTokens: required")
        return
    tokens = get(r.props, "metadataOptions", "httpTokens")
    if tokens != "required":
        yield f"{r.label}: IMDSv1 is allowed (metadataOptions.httpTokens: {tokens or 'optional by default'})"


def _wildcards(document: Any) -> Iterator[str]:
    for statement in statements(json_document(document)):
        if statement.get("Effect", "Allow") != "Allow":
            continue
        if "NotAction" in statement:
            yield f"NotAction {as_list(statement['NotAction'])} (allows everything else)"
        for action in as_list(statement.get("Action")):
            if "*" in str(action) and str(action) not in WILDCARD_ACTIONS:
                yield f"action {action}"


def iam_no_wildcard_actions(r: Resource) -> Iterator[str]:
    if r.type in IAM_ATTACHMENTS:
        arn = str(r.props.get("policyArn", ""))
        if arn.startswith(AWS_MANAGED_PREFIX) and arn.removeprefix(AWS_MANAGED_PREFIX) not in AWS_MANAGED_POLICIES:
            yield (f"{r.label}: attaches the AWS managed policy {arn}, which the guardrails cannot read; "
                   "write the actions out, or name it with its reason in celestials/guardrails/iam_exceptions.py")
        return
    documents = ([r.props.get(IAM_DOCUMENTS[r.type])] if r.type in IAM_DOCUMENTS
                 else [get(p, "policy") for p in as_list(r.props.get("inlinePolicies"))])
    for document in documents:
        for found in _wildcards(document):
            yield (f"{r.label}: grants the wildcard {found}; list the actions, or name the pattern with "
                   "its reason in celestials/guardrails/iam_exceptions.py")


def _web_identity(statement: Any) -> bool:
    actions = [str(a) for a in as_list(statement.get("Action"))]
    return "sts:AssumeRoleWithWebIdentity" in actions or bool(get(statement, "Principal", "Federated"))


def irsa_trust_pins_sub_and_aud(r: Resource) -> Iterator[str]:
    for statement in statements(json_document(r.props.get("assumeRolePolicy"))):
        if not _web_identity(statement):
            continue
        equals = get(statement, "Condition", "StringEquals", default={})
        keys = {str(k).rsplit(":", 1)[-1]: v for k, v in equals.items()}
        if not isinstance(keys.get("sub"), str) or "*" in keys["sub"]:
            yield f"{r.label}: the web-identity trust does not pin one service account (StringEquals <issuer>:sub)"
        if keys.get("aud") != STS_AUDIENCE:
            yield f"{r.label}: the web-identity trust does not pin the audience (StringEquals <issuer>:aud = {STS_AUDIENCE})"
