"""The App Mesh mesh backend (`celestials:meshBackend: appmesh`), as `components.mesh_backend`
expects it: `check`, `create_identity`, `create`.

`AppMeshBackend` joins everything into the one graph `pulumi up` diffs: the controller release,
the trace collector (when tracing is on) and, for each mesh of the model, an `AppMeshMesh`.
"""

from __future__ import annotations

from typing import Mapping

import pulumi

from celestials.capacity import PodDemand, Sidecars
from celestials.render.appmesh import AppMeshInputs, render_app_mesh
from celestials.render.kubernetes_workloads import uses_dynamodb
from celestials.settings import Settings
from celestials.topology import build_topology
from components.mesh_backend import MeshBackendArgs, MeshIdentityArgs

from .collector import NAMESPACE as COLLECTOR_NAMESPACE
from .collector import OTLP_ENDPOINT, OTLP_HTTP_PORT, TracingCollector, TracingCollectorArgs
from .collector import RELEASE_NAME as COLLECTOR_RELEASE
from .collector import chart_values as collector_chart_values
from .controller import SIDECAR_REQUESTS, AppMeshController, AppMeshControllerArgs
from .data_plane_iam import DataPlaneIam, DataPlaneIamArgs
from .end_of_support import check_end_of_support
from .mesh import AppMeshMesh, AppMeshMeshArgs


def image_refs_by_key(refs: Mapping[str, pulumi.Input[str]] | pulumi.Output,
                      keys: set[str]) -> dict[str, pulumi.Input[str]]:
    """Image key → reference, from a mapping or from one Output of the whole mapping (as
    `components.images.Images.refs` is). Per-key values are better: a rebuilt image then leaves the
    other workloads' references known in a preview."""
    if isinstance(refs, pulumi.Output):
        return {key: refs.apply(lambda all_refs, k=key: _lookup(all_refs, k)) for key in sorted(keys)}
    missing = sorted(keys - set(refs))
    if missing:
        raise ValueError(f"no image reference for {', '.join(missing)} (given: {', '.join(sorted(refs))})")
    return dict(refs)


def _lookup(refs: Mapping[str, str], key: str) -> str:
    if key not in refs:
        raise ValueError(f"no image reference for {key} (given: {', '.join(sorted(refs))})")
    return refs[key]


def check(settings: Settings) -> None:
    """Refuse the stack before any resource exists: App Mesh's end of support, then anything the
    renderers would refuse for these settings (e.g. sqlite storage with several replicas), found by
    rendering every mesh once with placeholders for the values only a deployment produces."""
    check_end_of_support(settings)
    for mesh in build_topology(settings).meshes:
        own_roles = {w.name: "placeholder-role" for w in mesh.workloads if uses_dynamodb(w, settings)}
        render_app_mesh(mesh, settings, AppMeshInputs(
            images={w.image: "placeholder-image" for w in mesh.workloads}, envoy_role_arn="placeholder-role",
            workload_roles=own_roles, dynamodb_table="placeholder-table",
            otlp_endpoint=OTLP_ENDPOINT if settings.tracing else None,
            otlp_port=OTLP_HTTP_PORT if settings.tracing else None))


def capacity_overhead(settings: Settings) -> tuple[Sidecars, list[PodDemand]]:
    """What App Mesh adds to the node group's load: injected sidecars per meshed pod, and the
    trace collector's pods (the controller itself is counted by `celestials.capacity`)."""
    extra = []
    if settings.tracing:
        values = collector_chart_values(settings.region)
        extra.append(PodDemand.of(f"{COLLECTOR_NAMESPACE}/{COLLECTOR_RELEASE}",
                                  values["resources"]["requests"], replicas=values["replicaCount"]))
    return Sidecars.from_requests(SIDECAR_REQUESTS, settings.tracing), extra


def create_identity(name: str, args: MeshIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> DataPlaneIam:
    check(args.settings)
    return DataPlaneIam(name, DataPlaneIamArgs(
        topology=args.topology, region=args.settings.region, tracing=args.settings.tracing,
        oidc_provider_arn=args.oidc_provider_arn, oidc_provider_url=args.oidc_provider_url), opts)


def create(name: str, args: MeshBackendArgs, opts: pulumi.ResourceOptions | None = None) -> "AppMeshBackend":
    return AppMeshBackend(name, args, opts)


class AppMeshBackend(pulumi.ComponentResource):
    """Outputs: `mesh_names`, `ingress_hostname` / `ingress_url` (the mesh with a gateway),
    `meshes` (mesh name → AppMeshMesh), `controller`, `collector` (None without tracing)."""

    def __init__(self, name: str, args: MeshBackendArgs, opts: pulumi.ResourceOptions | None = None):
        check(args.settings)  # before registering anything, even when used without mesh_backend
        super().__init__("celestials:appmesh:Backend", name, None, opts)
        settings, child = args.settings, pulumi.ResourceOptions(parent=self)
        unknown = sorted(set(args.workload_roles) - {m.namespace for m in args.topology.meshes})
        if unknown:
            raise ValueError(f"workload roles given for namespaces without a mesh: {', '.join(unknown)}")
        if not isinstance(args.identity, DataPlaneIam):
            raise TypeError("the App Mesh backend needs the identity made by its create_identity()")
        self.controller = AppMeshController(f"{name}-controller", AppMeshControllerArgs(
            k8s_provider=args.k8s_provider, oidc_provider_arn=args.oidc_provider_arn,
            oidc_provider_url=args.oidc_provider_url, region=settings.region, tracing=settings.tracing), child)
        self.collector = None
        if settings.tracing:
            self.collector = TracingCollector(f"{name}-tracing", TracingCollectorArgs(
                k8s_provider=args.k8s_provider, oidc_provider_arn=args.oidc_provider_arn,
                oidc_provider_url=args.oidc_provider_url, region=settings.region), child)
        images = image_refs_by_key(args.image_refs, {w.image for m in args.topology.meshes for w in m.workloads})
        self.meshes: dict[str, AppMeshMesh] = {}
        for mesh in args.topology.meshes:
            self.meshes[mesh.name] = AppMeshMesh(f"{name}-{mesh.namespace}", AppMeshMeshArgs(
                mesh=mesh, settings=settings, k8s_provider=args.k8s_provider,
                controller_release=self.controller.release, images=images,
                proxy_role_arn=args.identity.proxy_role_arns[mesh.namespace],
                workload_roles=dict(args.workload_roles.get(mesh.namespace, {})),
                otlp_endpoint=self.collector.otlp_endpoint if self.collector else None,
                otlp_port=self.collector.otlp_port if self.collector else None,
                dynamodb_table=args.dynamodb_table), child)
        self.mesh_names = [m.name for m in args.topology.meshes]
        gateways = [m for m in self.meshes.values() if m.ingress_hostname is not None]
        if len(gateways) != 1:
            raise ValueError(f"expected exactly one mesh with an ingress gateway, found {len(gateways)}")
        self.ingress_hostname = gateways[0].ingress_hostname
        self.ingress_url = self.ingress_hostname.apply(lambda host: f"http://{host}/")
        self.register_outputs({"mesh_names": self.mesh_names, "ingress_hostname": self.ingress_hostname,
                               "ingress_url": self.ingress_url})
