"""IAM for the App Mesh data plane: for every meshed namespace, a managed policy with exactly what
its Envoys (stream their own node's configuration) and X-Ray daemons (write segments) need, and an
IRSA role carrying it for the namespace's `envoy-proxies` service account.

Why a managed policy and a separate component: a workload with its own IAM needs (prodcatalog
and its DynamoDB table) runs with its own role, and its sidecars share that role, so the same
policy is attached there too (`sidecar_policy_arns(namespace)`). The policy is scoped to the mesh's
virtual nodes and gateways of that namespace; the account and partition come from the cluster's
OIDC provider ARN, so no extra AWS lookup is needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from celestials.render.appmesh import ENVOY_SERVICE_ACCOUNT
from celestials.render.appmesh_iam import arn_account, envoy_policy
from celestials.topology.model import Topology
from components.irsa import IrsaRole, IrsaRoleArgs


@dataclass
class DataPlaneIamArgs:
    topology: Topology
    region: str
    tracing: bool
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]


def policy_document(oidc_provider_arn: str, region: str, mesh: str, namespace: str, tracing: bool) -> str:
    partition, account = arn_account(oidc_provider_arn)
    return json.dumps(envoy_policy(partition, region, account, mesh, namespace, tracing), sort_keys=True)


class DataPlaneIam(pulumi.ComponentResource):
    """Outputs per meshed namespace: `proxy_policy_arns[ns]`, `proxy_role_arns[ns]`."""

    def __init__(self, name: str, args: DataPlaneIamArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:appmesh:DataPlaneIam", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.proxy_policy_arns: dict[str, pulumi.Output[str]] = {}
        self.proxy_role_arns: dict[str, pulumi.Output[str]] = {}
        for mesh in args.topology.meshes:
            ns = mesh.namespace
            policy = aws.iam.Policy(
                f"{name}-{ns}-proxies",
                description=f"App Mesh proxies of {ns}: stream {mesh.name} configuration"
                            + (", write X-Ray segments" if args.tracing else ""),
                policy=pulumi.Output.from_input(args.oidc_provider_arn).apply(
                    lambda arn, m=mesh.name, n=ns: policy_document(arn, args.region, m, n, args.tracing)),  # type: ignore[misc]  # python/mypy#15459: a lambda with a default argument
                opts=child)
            role = IrsaRole(f"{name}-{ns}", IrsaRoleArgs(
                oidc_provider_arn=args.oidc_provider_arn, oidc_provider_url=args.oidc_provider_url,
                namespace=ns, service_account=ENVOY_SERVICE_ACCOUNT, managed_policy_arns=(policy.arn,),
                description=f"App Mesh proxies of {ns} ({mesh.name})"), opts=child)
            self.proxy_policy_arns[ns] = policy.arn
            self.proxy_role_arns[ns] = role.role_arn
        self.register_outputs({"proxy_policy_arns": self.proxy_policy_arns,
                               "proxy_role_arns": self.proxy_role_arns})

    def sidecar_policy_arns(self, namespace: str) -> tuple[pulumi.Output[str], ...]:
        """What a workload's own role in `namespace` must also carry: its sidecars' policy."""
        if namespace not in self.proxy_policy_arns:
            raise KeyError(f"no meshed namespace {namespace!r} (have: {', '.join(sorted(self.proxy_policy_arns))})")
        return (self.proxy_policy_arns[namespace],)
