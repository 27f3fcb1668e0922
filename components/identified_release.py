"""A Helm release in its own namespace, running as a service account with its own IRSA role.

Why shared: the App Mesh controller and the trace collector both need exactly this, in this order
(namespace → role → annotated service account → release), so the release's pods start with AWS
credentials instead of crash-looping until the service account is annotated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials.render.kubernetes_workloads import IRSA_ROLE_ANNOTATION, PART_OF
from components.irsa import IrsaRole, IrsaRoleArgs


@dataclass(frozen=True)
class Chart:
    release_name: str
    chart: str
    version: str
    repository: str
    timeout_seconds: int = 900


@dataclass
class IdentifiedRelease:
    namespace: k8s.core.v1.Namespace
    irsa: IrsaRole
    service_account: k8s.core.v1.ServiceAccount
    release: k8s.helm.v3.Release


@dataclass(frozen=True)
class Identity:
    """Who the release's pods are in AWS: the cluster's OIDC provider and the role's permissions."""

    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    policy: pulumi.Input[dict[str, Any]]
    description: str


def identified_release(name: str, owner: pulumi.Resource, *, k8s_provider: k8s.Provider,
                       namespace: str, service_account: str, identity: Identity, chart: Chart,
                       values: dict[str, Any], nodes: Sequence[pulumi.Resource] = ()) -> IdentifiedRelease:
    """Children of `owner`, named `<name>-namespace|irsa|service-account|release`; the release
    (awaited: its pods must run) waits for `nodes`, the rest only for the cluster."""
    irsa = IrsaRoleArgs(
        oidc_provider_arn=identity.oidc_provider_arn, oidc_provider_url=identity.oidc_provider_url,
        namespace=namespace, service_account=service_account, policy=identity.policy,
        description=identity.description)
    k8s_opts = pulumi.ResourceOptions(parent=owner, provider=k8s_provider)
    ns = k8s.core.v1.Namespace(
        f"{name}-namespace", metadata={"name": namespace, "labels": dict(PART_OF)}, opts=k8s_opts)
    role = IrsaRole(f"{name}-irsa", irsa, opts=pulumi.ResourceOptions(parent=owner))
    sa = k8s.core.v1.ServiceAccount(
        f"{name}-service-account",
        metadata={"name": service_account, "namespace": ns.metadata["name"],
                  "labels": dict(PART_OF), "annotations": {IRSA_ROLE_ANNOTATION: role.role_arn}},
        opts=k8s_opts)
    release = k8s.helm.v3.Release(
        f"{name}-release",
        k8s.helm.v3.ReleaseArgs(
            name=chart.release_name, chart=chart.chart, version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace=ns.metadata["name"], create_namespace=False, values=values,
            skip_await=False, timeout=chart.timeout_seconds, cleanup_on_fail=True),
        opts=pulumi.ResourceOptions(parent=owner, provider=k8s_provider, depends_on=[sa, *nodes]))
    return IdentifiedRelease(namespace=ns, irsa=role, service_account=sa, release=release)
