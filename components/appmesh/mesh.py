"""One mesh of the topology model on App Mesh: its labelled namespace, the mTLS Secrets it mounts
(if any workload uses TLS), the App Mesh objects, the workloads and the ingress gateway, with a
`Canary` child for each weighted split.

Why the namespace first and on its own: the Secrets need it, and the workloads need the Secrets
(and a digest of them, so pods roll when certificates are reissued); everything is then rendered
once, with those values in place, and applied in the order the manifests declare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pulumi
import pulumi_kubernetes as k8s

from celestials.render.appmesh import (ACTIVE_CONDITIONS, APPMESH_KINDS, AppMeshInputs, canary_keys,
                                       render_app_mesh, render_namespace)
from celestials.render.network_policies import Destination
from celestials.settings import Settings
from celestials.topology.model import Mesh
from components.canary import apply_with_canaries
from components.kubernetes_apply import Registry, apply_manifests, wait_for_condition
from components.mesh_backend import gateway_hostname
from components.mesh_tls import issue_mesh_tls


@dataclass
class AppMeshMeshArgs:
    """Opaque inputs are placed as they are: `images` (image key → reference), `proxy_role_arn`
    (the namespace's `envoy-proxies` role), `workload_roles` (workload → its own role),
    `dynamodb_table` (product table name)."""

    mesh: Mesh
    settings: Settings
    k8s_provider: k8s.Provider
    controller_release: pulumi.Resource
    images: Mapping[str, pulumi.Input[str]]
    proxy_role_arn: pulumi.Input[str]
    workload_roles: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    otlp_endpoint: str | None = None
    otlp_port: int | None = None
    dynamodb_table: pulumi.Input[str] | None = None
    #: the trace collector as a NetworkPolicy destination (None: tracing off)
    collector: Destination | None = None


class AppMeshMesh(pulumi.ComponentResource):
    """Outputs: `mesh_name`, `namespace`, `canaries` (router → Canary), `objects` (key →
    resource) and, with a gateway, `ingress_hostname` (the NLB's DNS name)."""

    ingress_hostname: pulumi.Output[str] | None

    def __init__(self, name: str, args: AppMeshMeshArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:appmesh:Mesh", name, None, opts)
        mesh, provider = args.mesh, args.k8s_provider
        self.objects: Registry = {}
        ns_manifest = render_namespace(mesh)
        namespace = apply_manifests(name, [ns_manifest], self.objects, parent=self, provider=provider)[ns_manifest.key]
        assert isinstance(namespace, k8s.core.v1.Namespace)  # kubernetes_apply creates v1 Namespaces as typed resources

        tls = issue_mesh_tls(name, mesh, args.settings, namespace, provider, self, self.objects)
        self.certificates = tls.certificates

        inputs = AppMeshInputs(
            images=args.images, envoy_role_arn=args.proxy_role_arn, workload_roles=dict(args.workload_roles),
            otlp_endpoint=args.otlp_endpoint, otlp_port=args.otlp_port, dynamodb_table=args.dynamodb_table,
            pod_annotations=tls.pod_annotations, collector=args.collector)
        manifests = [m for m in render_app_mesh(mesh, args.settings, inputs) if m.key != ns_manifest.key]
        # `pulumi up` waits until the App Mesh API reports each object active, so a red up means
        # the mesh really is not there.
        self.canaries = apply_with_canaries(name, mesh, manifests, self.objects, canary_keys=canary_keys,
                                            split_kind="VirtualRouter", parent=self, provider=provider,
                                            depends_on_by_kind={kind: [args.controller_release] for kind in APPMESH_KINDS},
                                            await_annotations=wait_for_condition(ACTIVE_CONDITIONS))
        self.mesh_name = mesh.name
        self.namespace = namespace.metadata["name"]
        self.ingress_hostname = gateway_hostname(self.objects, mesh)
        self.register_outputs({"mesh_name": self.mesh_name, "namespace": self.namespace,
                               "ingress_hostname": self.ingress_hostname})

