"""The Istio mesh backend (`celestials:meshBackend: istio`, the default): the `MeshBackendPlugin`
of `components.mesh_backend` for Istio in sidecar mode, with the Kubernetes Gateway API for the
ingress and the canary.

`IstioBackend` joins one graph: the control plane (Gateway API CRDs → `base` → `istiod`), the
mesh-wide tracing `Telemetry`, and an `IstioMesh` per mesh of the model. The proxies need no cloud
identity (`IstioIdentity`): only the trace collector and prodcatalog call AWS, each with its own
role.
"""

from __future__ import annotations

import pulumi

from celestials.capacity import MeshOverhead
from celestials.render.istio import IstioInputs, render_istio_mesh, render_mesh_wide, tracing_extension_provider
from celestials.render.kubernetes_workloads import needs_own_identity
from celestials.settings import Settings
from celestials.topology import build_topology
from components.image_refs import image_refs_by_key
from components.kubernetes_apply import Registry, apply_manifests
from components import trace_collector
from components.mesh_backend import MeshBackendArgs, MeshIdentityArgs, ingress_url, the_ingress
from components.trace_collector import OTLP_ENDPOINT

from .gateway_api_crds import GatewayApiObjects, load_gateway_api
from .control_plane import IstioControlPlane, IstioControlPlaneArgs, istiod_pod, sidecars
from .mesh import GATEWAY_API_KINDS, ISTIO_KINDS, IstioMesh, IstioMeshArgs


class IstioIdentity:
    """Istio's proxies call no AWS API: no role, and nothing a workload's own role must add."""

    def sidecar_policy_arns(self, namespace: str) -> tuple[pulumi.Output[str], ...]:
        return ()


class IstioBackendPlugin:
    #: the Gateway API bundle, read and verified by `check` (before any resource)
    gateway_api: GatewayApiObjects | None = None

    def check(self, settings: Settings) -> None:
        """Refuse what the renderer would refuse for these settings, before any resource: every
        mesh rendered once with placeholders for the values only a deployment produces; and read
        the pinned Gateway API files, refusing any whose bytes are not the pinned ones."""
        self.gateway_api = load_gateway_api()
        for mesh in build_topology(settings).meshes:
            render_istio_mesh(mesh, settings, IstioInputs(
                images={w.image: "placeholder-image" for w in mesh.workloads},
                workload_roles={w.name: "placeholder-role" for w in mesh.workloads if needs_own_identity(w)},
                otlp_endpoint=OTLP_ENDPOINT if settings.tracing else None, dynamodb_table="placeholder-table",
                collector=trace_collector.network_destination(proxies_export=True) if settings.tracing else None))

    def capacity_overhead(self, settings: Settings) -> MeshOverhead:
        return MeshOverhead(sidecars=sidecars(), system=(istiod_pod(settings.request_path_replicas,
                                                                              settings.autoscale_max),))

    def create_identity(self, name: str, args: MeshIdentityArgs,
                        opts: pulumi.ResourceOptions | None = None) -> IstioIdentity:
        return IstioIdentity()

    def create(self, name: str, args: MeshBackendArgs, opts: pulumi.ResourceOptions | None = None) -> "IstioBackend":
        return IstioBackend(name, args, self.gateway_api or load_gateway_api(), opts)


class IstioBackend(pulumi.ComponentResource):
    """Outputs: `mesh_names`, `ingress_hostname` / `ingress_url` (the mesh with a gateway),
    `meshes` (mesh name → IstioMesh), `control_plane`."""

    def __init__(self, name: str, args: MeshBackendArgs, gateway_api: GatewayApiObjects,
                 opts: pulumi.ResourceOptions | None = None):
        args.check_workload_roles()
        super().__init__("celestials:istio:Backend", name, None, opts)
        settings, provider, collector = args.settings, args.k8s_provider, args.collector
        tracing = tracing_extension_provider(collector.service_host, collector.otlp_grpc_port) if collector else None
        self.control_plane = IstioControlPlane(f"{name}-control-plane", IstioControlPlaneArgs(
            k8s_provider=provider, node_architecture=settings.node_architecture,
            tracing_provider=tracing, replicas=settings.request_path_replicas,
            autoscale_max=settings.autoscale_max, gateway_api=gateway_api, nodes=args.nodes),
            pulumi.ResourceOptions(parent=self))
        cp = self.control_plane
        after_kind: dict[str, list[pulumi.Resource]]
        after_kind = {**{kind: [cp.base, cp.istiod] for kind in ISTIO_KINDS},
                      **{kind: [*cp.gateway_api_crds, cp.istiod] for kind in GATEWAY_API_KINDS},
                      # injected at creation: a pod needs istiod's webhook (and so the nodes)
                      "Deployment": [cp.istiod]}
        self.objects: Registry = {}
        apply_manifests(f"{name}-mesh-wide", render_mesh_wide(collector is not None), self.objects,
                        parent=self, provider=provider, depends_on_by_kind=after_kind)

        images = image_refs_by_key(args.image_refs, {w.image for m in args.topology.meshes for w in m.workloads})
        self.meshes: dict[str, IstioMesh] = {}
        for mesh in args.topology.meshes:
            self.meshes[mesh.name] = IstioMesh(f"{name}-{mesh.namespace}", IstioMeshArgs(
                mesh=mesh, settings=settings, k8s_provider=provider, istiod=cp.istiod, images=images,
                after_kind=after_kind, workload_roles=dict(args.workload_roles.get(mesh.namespace, {})),
                otlp_endpoint=collector.otlp_endpoint if collector else None,
                dynamodb_table=args.dynamodb_table,
                collector=trace_collector.network_destination(proxies_export=True) if collector else None),
                pulumi.ResourceOptions(parent=self))
        self.mesh_names = [m.name for m in args.topology.meshes]
        self.ingress_hostname = the_ingress([m.ingress_hostname for m in self.meshes.values()])
        self.ingress_url = ingress_url(self.ingress_hostname)
        self.register_outputs({"mesh_names": self.mesh_names, "ingress_hostname": self.ingress_hostname,
                               "ingress_url": self.ingress_url})
