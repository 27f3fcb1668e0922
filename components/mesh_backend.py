"""The contract between the program and a mesh backend: what a backend implements
(`MeshBackendPlugin`) and what it is handed (`MeshIdentityArgs`, `MeshBackendArgs`).

Why a typed Protocol: __main__.py wires every backend the same way, so a backend is a class that
refuses what it cannot deploy (`check`, before any resource), says what it adds to the node group
(`capacity_overhead`), gives its proxies a cloud identity (`create_identity`) and renders the
topology onto the cluster (`create`). The identity is a separate step because a workload with its
own IAM role (prodcatalog and its table) must also carry what its sidecar needs, and that role is
created between the two steps. Which backends exist is `components.mesh_backends.BACKENDS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Protocol, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials.capacity import MeshOverhead
from celestials.render.kubernetes_workloads import ObjectKey
from celestials.settings import Settings
from celestials.topology.model import Mesh, Topology

if TYPE_CHECKING:
    from components.trace_collector import TracingCollector


@dataclass
class MeshIdentityArgs:
    settings: Settings
    topology: Topology
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]


class MeshIdentity(Protocol):
    def sidecar_policy_arns(self, namespace: str) -> tuple[pulumi.Output[str], ...]:
        """IAM policies a workload's own role must carry so its sidecars work (may be empty)."""


@dataclass
class MeshBackendArgs:
    """`image_refs`: image key (Workload.image) → image reference (or one Output of that mapping,
    as `components.images.Images.refs`). `workload_roles`: namespace → workload → IRSA role ARN,
    for workloads with an identity of their own (their service account is named after the
    workload). `dynamodb_table`: the table of workloads whose model storage is DynamoDB.
    `collector`: the trace collector every proxy and app sends spans to (None: tracing off)."""

    settings: Settings
    topology: Topology
    k8s_provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    image_refs: Mapping[str, pulumi.Input[str]] | pulumi.Output[Mapping[str, str]]
    identity: MeshIdentity
    workload_roles: Mapping[str, Mapping[str, pulumi.Input[str]]] = field(default_factory=dict)
    dynamodb_table: pulumi.Input[str] | None = None
    collector: "TracingCollector | None" = None
    #: what objects that run pods wait for (the node group); nothing else waits for nodes
    nodes: Sequence[pulumi.Resource] = ()

    def check_workload_roles(self) -> None:
        unknown = sorted(set(self.workload_roles) - {m.namespace for m in self.topology.meshes})
        if unknown:
            raise ValueError(f"workload roles given for namespaces without a mesh: {', '.join(unknown)}")


class MeshBackend(Protocol):
    """What the program exports from a backend: the meshes' names and the ingress address
    (read-only here, so a backend may hold them in any attribute type that fits)."""

    @property
    def mesh_names(self) -> Sequence[str]: ...

    @property
    def ingress_hostname(self) -> pulumi.Output[str]: ...

    @property
    def ingress_url(self) -> pulumi.Output[str]: ...


class MeshBackendPlugin(Protocol):
    """A mesh backend. `check` runs once, before any resource is registered (so `pulumi preview`
    fails on it with its message); the other methods may assume it passed."""

    def check(self, settings: Settings) -> None: ...

    def capacity_overhead(self, settings: Settings) -> MeshOverhead: ...

    def create_identity(self, name: str, args: MeshIdentityArgs,
                        opts: pulumi.ResourceOptions | None = None) -> MeshIdentity: ...

    def create(self, name: str, args: MeshBackendArgs, opts: pulumi.ResourceOptions | None = None) -> MeshBackend: ...


def load_balancer_hostname(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
    """The DNS name (or address) AWS gave a LoadBalancer Service, from its status."""
    ingress = status.load_balancer.ingress if status and status.load_balancer else None
    address = (ingress[0].hostname or ingress[0].ip) if ingress else None
    if not address:
        raise ValueError("the ingress Service has no load balancer address yet")
    return address


def gateway_hostname(objects: Mapping[ObjectKey, pulumi.Resource], mesh: Mesh) -> pulumi.Output[str] | None:
    """The NLB hostname of the mesh's gateway Service (None for a mesh without a gateway); both
    backends render that Service themselves, named after the model's gateway."""
    if not mesh.gateway:
        return None
    service = objects[ObjectKey("Service", mesh.namespace, mesh.gateway.name)]
    assert isinstance(service, k8s.core.v1.Service)  # kubernetes_apply creates v1 Services as typed resources
    return service.status.apply(load_balancer_hostname)


def the_ingress(hostnames: Sequence[pulumi.Output[str] | None]) -> pulumi.Output[str]:
    """The one ingress hostname among a backend's meshes (the model has exactly one gateway)."""
    found = [h for h in hostnames if h is not None]
    if len(found) != 1:
        raise ValueError(f"expected exactly one mesh with an ingress gateway, found {len(found)}")
    return found[0]


def ingress_url(hostname: pulumi.Output[str]) -> pulumi.Output[str]:
    """The `ingressUrl` output every backend exports, from its load balancer's hostname."""
    return hostname.apply(lambda host: f"http://{host}/")
