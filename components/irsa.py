"""IAM roles for Kubernetes service accounts (IRSA): a role only one service account can assume.

Why the two conditions: `sub` pins the role to `system:serviceaccount:<namespace>:<name>`, and
`aud` to tokens minted for STS. Without `sub` any pod in the cluster could assume the role; without
`aud` a token meant for another audience would do. Both are `StringEquals` (no wildcards).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

STS_AUDIENCE = "sts.amazonaws.com"
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def issuer_host(oidc_provider_url: str) -> str:
    """The issuer as IAM condition keys spell it: no scheme, no trailing slash."""
    return re.sub(r"^https://", "", oidc_provider_url).rstrip("/")


def trust_policy(oidc_provider_arn: str, oidc_provider_url: str, namespace: str, service_account: str) -> str:
    host = issuer_host(oidc_provider_url)
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{host}:aud": STS_AUDIENCE,
            }},
        }],
    }, sort_keys=True)


@dataclass
class IrsaRoleArgs:
    """`policy` is an IAM policy document (dict or Output of one) attached inline; `managed_policy_arns`
    are attached as they are. The OIDC values come from the Cluster component."""

    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    namespace: str
    service_account: str
    policy: pulumi.Input[dict[str, Any]] | None = None
    managed_policy_arns: tuple[pulumi.Input[str], ...] = ()
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for label, value in (("namespace", self.namespace), ("service account", self.service_account)):
            if not isinstance(value, str) or not _K8S_NAME.match(value) or len(value) > 63:
                raise ValueError(f"IRSA role: {label} {value!r} is not a Kubernetes name")
        if self.policy is None and not self.managed_policy_arns:
            raise ValueError(f"IRSA role for {self.namespace}/{self.service_account}: give it a policy "
                             f"or managed policy ARNs (a role with no permissions is a mistake)")


class IrsaRole(pulumi.ComponentResource):
    """An IAM role trusted only by one namespace/service account, with its permissions."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:irsa:IrsaRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        assume = pulumi.Output.all(args.oidc_provider_arn, args.oidc_provider_url).apply(
            lambda v: trust_policy(v[0], v[1], args.namespace, args.service_account))
        self.role = aws.iam.Role(
            f"{name}-role", assume_role_policy=assume,
            description=args.description or f"IRSA: {args.namespace}/{args.service_account}",
            tags={"celestials/service-account": f"{args.namespace}.{args.service_account}", **args.tags},
            opts=child)
        grants: list[pulumi.Output[str]] = []
        if args.policy is not None:
            grants.append(aws.iam.RolePolicy(
                f"{name}-policy", role=self.role.id,
                policy=pulumi.Output.from_input(args.policy).apply(lambda doc: json.dumps(doc, sort_keys=True)),
                opts=child).id)
        for i, arn in enumerate(args.managed_policy_arns):
            grants.append(aws.iam.RolePolicyAttachment(
                f"{name}-managed-{i}", role=self.role.name, policy_arn=arn, opts=child).id)
        # The ARN is handed out only once the permissions are attached, so a ServiceAccount (and
        # its pods) annotated with it never start with a role that cannot do anything yet.
        self.role_arn = pulumi.Output.all(self.role.arn, *grants).apply(lambda v: v[0])
        self.role_name = self.role.name
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})
