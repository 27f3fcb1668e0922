"""Which mesh backend turns the topology model into a running mesh: the one seam, selected by the
stack setting `celestials:meshBackend`.

Why a convention instead of imports in __main__.py: a backend is the package
`components/<meshBackend>/` whose `backend` module provides

    check(settings)                               refuse a stack before anything is registered
    capacity_overhead(settings)                   (Sidecars, extra PodDemands) for the capacity check
    create_identity(name, MeshIdentityArgs, opts)  the proxies' cloud identity (-> MeshIdentity)
    create(name, MeshBackendArgs, opts)            the mesh itself (-> MeshBackend)

so a second backend is a new package (and its name in `celestials.settings.MESH_BACKENDS`); the
apps, the other components and __main__.py do not change. The identity is a separate step because
a workload with its own IAM role (prodcatalog and its table) must also carry what its sidecar
needs, and that role is created between the two steps.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Mapping, Protocol, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials import capacity
from celestials.capacity import CapacityReport
from celestials.settings import MESH_BACKENDS, Settings
from celestials.topology.model import Topology


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
    as `components.images.Images.refs`). `workload_roles`: namespace →
    workload → IRSA role ARN, for workloads with an identity of their own (their service account
    is named after the workload). `dynamodb_table`: the product table's name (prodcatalog, when
    `prodcatalogStorage` is dynamodb)."""

    settings: Settings
    topology: Topology
    k8s_provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    image_refs: Mapping[str, pulumi.Input[str]] | pulumi.Output
    identity: MeshIdentity
    workload_roles: Mapping[str, Mapping[str, pulumi.Input[str]]] = field(default_factory=dict)
    dynamodb_table: pulumi.Input[str] | None = None


class MeshBackend(Protocol):
    mesh_names: Sequence[str]
    ingress_hostname: pulumi.Output[str]
    ingress_url: pulumi.Output[str]


class MeshBackendError(ValueError):
    """A backend that is not known or not installed."""


def backend_module(settings: Settings) -> ModuleType:
    name = settings.mesh_backend
    if name not in MESH_BACKENDS:
        raise MeshBackendError(f"mesh backend {name!r} is not one of {', '.join(MESH_BACKENDS)}")
    try:
        module = importlib.import_module(f"components.{name}.backend")
    except ModuleNotFoundError as err:
        raise MeshBackendError(f"mesh backend {name!r} has no package components/{name}/backend.py ({err})") from None
    for attr in ("check", "capacity_overhead", "create_identity", "create"):
        if not callable(getattr(module, attr, None)):
            raise MeshBackendError(f"mesh backend {name!r}: components/{name}/backend.py lacks {attr}()")
    return module


def check_backend(settings: Settings) -> None:
    """Call before registering any resource: a refused backend fails `pulumi preview` right away."""
    backend_module(settings).check(settings)


def check_capacity(settings: Settings, topology: Topology) -> CapacityReport:
    """Fail preview, before any resource, when the stack's pods (with the backend's sidecars and
    its own pods) cannot fit on the node group."""
    sidecars, extra = backend_module(settings).capacity_overhead(settings)
    return capacity.check_capacity(settings, topology, extra=extra, sidecars=sidecars)


def create_mesh_identity(name: str, args: MeshIdentityArgs,
                         opts: pulumi.ResourceOptions | None = None) -> MeshIdentity:
    return backend_module(args.settings).create_identity(name, args, opts)


def create_mesh_backend(name: str, args: MeshBackendArgs, opts: pulumi.ResourceOptions | None = None) -> MeshBackend:
    return backend_module(args.settings).create(name, args, opts)
