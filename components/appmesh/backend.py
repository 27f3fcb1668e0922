"""The App Mesh mesh backend (`celestials:meshBackend: appmesh`), as `components.mesh_backend`
expects it: `check`, `create_identity`, `create`.

`AppMeshBackend` joins everything into the one graph `pulumi up` diffs: the controller release,
the trace collector (when tracing is on) and, for each mesh of the model, an `AppMeshMesh`.
"""

from __future__ import annotations

import pulumi

from celestials.settings import Settings
from components.mesh_backend import MeshBackendArgs, MeshIdentityArgs

from .collector import TracingCollector, TracingCollectorArgs
from .controller import AppMeshController, AppMeshControllerArgs
from .data_plane_iam import DataPlaneIam, DataPlaneIamArgs
from .end_of_support import check_end_of_support
from .mesh import AppMeshMesh, AppMeshMeshArgs


def check(settings: Settings) -> None:
    check_end_of_support(settings)


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
        self.meshes: dict[str, AppMeshMesh] = {}
        for mesh in args.topology.meshes:
            self.meshes[mesh.name] = AppMeshMesh(f"{name}-{mesh.namespace}", AppMeshMeshArgs(
                mesh=mesh, settings=settings, k8s_provider=args.k8s_provider,
                controller_release=self.controller.release, images=args.image_refs,
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
