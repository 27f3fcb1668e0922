"""The App Mesh mesh backend (`celestials:meshBackend: appmesh`): the `MeshBackendPlugin` of
`components.mesh_backend` for AWS App Mesh, the project's original design.

`AppMeshBackend` joins everything into the one graph `pulumi up` diffs: the controller release
and, for each mesh of the model, an `AppMeshMesh`. The trace collector is the program's (shared
with every backend); App Mesh's X-Ray daemon sidecars send Envoy's segments to X-Ray directly.
"""

from __future__ import annotations

import pulumi

from celestials.capacity import MeshOverhead, PodDemand, Sidecars, requests_of
from celestials.render.appmesh import AppMeshInputs, render_app_mesh
from celestials.render.kubernetes_workloads import needs_own_identity
from celestials.settings import Settings
from celestials.topology import build_topology
from components.image_refs import image_refs_by_key
from components import trace_collector
from components.mesh_backend import MeshBackendArgs, MeshIdentityArgs, ingress_url, the_ingress
from components.trace_collector import OTLP_ENDPOINT, OTLP_HTTP_PORT

from .controller import (NAMESPACE, RELEASE_NAME, SIDECAR_REQUESTS, AppMeshController, AppMeshControllerArgs,
                         chart_values)
from .data_plane_iam import DataPlaneIam, DataPlaneIamArgs
from .end_of_support import check_end_of_support
from .mesh import AppMeshMesh, AppMeshMeshArgs

def controller_pod(settings: Settings) -> PodDemand:
    """The controller's pods for the capacity check, read from the values its release gets (as
    many as the request path has replicas)."""
    values = chart_values(settings.region, settings.tracing, settings.request_path_replicas,
                          node_architecture=settings.node_architecture)
    return PodDemand.of(f"{NAMESPACE}/{RELEASE_NAME}", values["resources"]["requests"],
                        replicas=values["replicaCount"])


def sidecars(tracing: bool) -> Sidecars:
    """What the App Mesh injector adds, all at the controller's `sidecar.resources.requests`
    (pkg/inject: the X-Ray daemon and the `proxyinit` init container read the same settings):
    Envoy and, with tracing, the X-Ray daemon beside every app; the X-Ray daemon beside the
    gateway's Envoy (which is the gateway's own container)."""
    proxy = requests_of(SIDECAR_REQUESTS)
    xray = (proxy,) if tracing else ()
    return Sidecars(containers=(proxy, *xray), init=(proxy,), gateway=xray)


class AppMeshBackendPlugin:
    """App Mesh, behind its end-of-support acknowledgement."""

    def check(self, settings: Settings) -> None:
        """Refuse the stack before any resource exists: App Mesh's end of support, then anything
        the renderers would refuse for these settings, found by rendering every mesh once with
        placeholders for the values only a deployment produces."""
        check_end_of_support(settings)
        for mesh in build_topology(settings).meshes:
            own_roles = {w.name: "placeholder-role" for w in mesh.workloads if needs_own_identity(w)}
            render_app_mesh(mesh, settings, AppMeshInputs(
                images={w.image: "placeholder-image" for w in mesh.workloads}, envoy_role_arn="placeholder-role",
                workload_roles=own_roles, dynamodb_table="placeholder-table",
                otlp_endpoint=OTLP_ENDPOINT if settings.tracing else None,
                otlp_port=OTLP_HTTP_PORT if settings.tracing else None,
                collector=trace_collector.network_destination(proxies_export=False) if settings.tracing else None))

    def capacity_overhead(self, settings: Settings) -> MeshOverhead:
        return MeshOverhead(sidecars=sidecars(settings.tracing), system=(controller_pod(settings),))

    def create_identity(self, name: str, args: MeshIdentityArgs,
                        opts: pulumi.ResourceOptions | None = None) -> DataPlaneIam:
        return DataPlaneIam(name, DataPlaneIamArgs(
            topology=args.topology, region=args.settings.region, tracing=args.settings.tracing,
            oidc_provider_arn=args.oidc_provider_arn, oidc_provider_url=args.oidc_provider_url), opts)

    def create(self, name: str, args: MeshBackendArgs, opts: pulumi.ResourceOptions | None = None) -> "AppMeshBackend":
        return AppMeshBackend(name, args, opts)


class AppMeshBackend(pulumi.ComponentResource):
    """Outputs: `mesh_names`, `ingress_hostname` / `ingress_url` (the mesh with a gateway),
    `meshes` (mesh name → AppMeshMesh), `controller`."""

    def __init__(self, name: str, args: MeshBackendArgs, opts: pulumi.ResourceOptions | None = None):
        args.check_workload_roles()
        if not isinstance(args.identity, DataPlaneIam):
            raise TypeError("the App Mesh backend needs the identity made by its create_identity()")
        super().__init__("celestials:appmesh:Backend", name, None, opts)
        settings, child = args.settings, pulumi.ResourceOptions(parent=self)
        self.controller = AppMeshController(f"{name}-controller", AppMeshControllerArgs(
            k8s_provider=args.k8s_provider, oidc_provider_arn=args.oidc_provider_arn,
            oidc_provider_url=args.oidc_provider_url, region=settings.region,
            node_architecture=settings.node_architecture, tracing=settings.tracing,
            replicas=settings.request_path_replicas, nodes=args.nodes), child)
        images = image_refs_by_key(args.image_refs, {w.image for m in args.topology.meshes for w in m.workloads})
        collector = args.collector
        self.meshes: dict[str, AppMeshMesh] = {}
        for mesh in args.topology.meshes:
            self.meshes[mesh.name] = AppMeshMesh(f"{name}-{mesh.namespace}", AppMeshMeshArgs(
                mesh=mesh, settings=settings, k8s_provider=args.k8s_provider,
                controller_release=self.controller.release, images=images,
                proxy_role_arn=args.identity.proxy_role_arns[mesh.namespace],
                workload_roles=dict(args.workload_roles.get(mesh.namespace, {})),
                otlp_endpoint=collector.otlp_endpoint if collector else None,
                otlp_port=collector.otlp_port if collector else None,
                dynamodb_table=args.dynamodb_table,
                collector=trace_collector.network_destination(proxies_export=False) if collector else None), child)
        self.mesh_names = [m.name for m in args.topology.meshes]
        self.ingress_hostname = the_ingress([m.ingress_hostname for m in self.meshes.values()])
        self.ingress_url = ingress_url(self.ingress_hostname)
        self.register_outputs({"mesh_names": self.mesh_names, "ingress_hostname": self.ingress_hostname,
                               "ingress_url": self.ingress_url})
