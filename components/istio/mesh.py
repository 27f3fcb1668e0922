"""One mesh of the topology model on Istio: its injection-labelled namespace, the mTLS Secrets it
mounts (if any workload uses TLS), then everything `render_istio_mesh` renders, with a `Canary`
child for each weighted split.

Ordering on top of what the manifests declare: only pods need istiod, so the namespace, its
Services (the ingress NLB) and ServiceAccounts start as soon as the cluster exists, and the
Deployments wait for istiod (every pod is injected from its first start, no `rollout restart`);
Istio's kinds wait for the `base` release (their CRDs) and istiod (its validating webhook);
Gateway API kinds for their CRDs and istiod (the controller that programs them). The traffic rules (NetworkPolicies, AuthorizationPolicies) come
before every Deployment and the namespace-wide denies after the allows (as the manifests declare):
no pod starts without its rules, and a running namespace is never denied before its allows exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pulumi
import pulumi_kubernetes as k8s

from celestials.render.istio import IstioInputs, istio_canary_keys, render_istio_mesh, render_namespace
from celestials.render.network_policies import Destination
from celestials.settings import Settings
from celestials.topology.model import Mesh
from components.canary import apply_with_canaries
from components.kubernetes_apply import Registry, apply_manifests
from components.mesh_backend import gateway_hostname
from components.mesh_tls import issue_mesh_tls

ISTIO_KINDS = ("DestinationRule", "Sidecar", "EnvoyFilter", "PeerAuthentication", "AuthorizationPolicy", "Telemetry")
GATEWAY_API_KINDS = ("Gateway", "HTTPRoute")


@dataclass
class IstioMeshArgs:
    """Opaque inputs are placed as they are: `images` (image key → reference), `workload_roles`
    (workload → its own IAM role), `dynamodb_table`. `after_kind`: kind → what objects of that
    kind wait for (the control plane's releases, the Gateway API CRDs)."""

    mesh: Mesh
    settings: Settings
    k8s_provider: k8s.Provider
    istiod: pulumi.Resource
    images: Mapping[str, pulumi.Input[str]]
    after_kind: Mapping[str, list[pulumi.Resource]] = field(default_factory=dict)
    workload_roles: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    otlp_endpoint: str | None = None
    dynamodb_table: pulumi.Input[str] | None = None
    #: the trace collector as a NetworkPolicy destination (None: tracing off)
    collector: Destination | None = None


class IstioMesh(pulumi.ComponentResource):
    """Outputs: `mesh_name`, `namespace`, `canaries` (router → Canary), `objects` (key →
    resource) and, with a gateway, `ingress_hostname` (the NLB's DNS name)."""

    ingress_hostname: pulumi.Output[str] | None

    def __init__(self, name: str, args: IstioMeshArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:istio:Mesh", name, None, opts)
        mesh, provider = args.mesh, args.k8s_provider
        self.objects: Registry = {}
        ns_manifest = render_namespace(mesh)
        namespace = apply_manifests(name, [ns_manifest], self.objects, parent=self,
                                    provider=provider)[ns_manifest.key]
        assert isinstance(namespace, k8s.core.v1.Namespace)  # kubernetes_apply creates v1 Namespaces as typed resources
        tls = issue_mesh_tls(name, mesh, args.settings, namespace, provider, self, self.objects)
        self.certificates = tls.certificates

        inputs = IstioInputs(images=args.images, workload_roles=dict(args.workload_roles),
                             otlp_endpoint=args.otlp_endpoint, dynamodb_table=args.dynamodb_table,
                             pod_annotations=tls.pod_annotations, collector=args.collector)
        manifests = [m for m in render_istio_mesh(mesh, args.settings, inputs) if m.key != ns_manifest.key]
        self.canaries = apply_with_canaries(name, mesh, manifests, self.objects, canary_keys=istio_canary_keys,
                                            split_kind="HTTPRoute", parent=self, provider=provider,
                                            depends_on_by_kind=args.after_kind)
        self.mesh_name = mesh.name
        self.namespace = namespace.metadata["name"]
        self.ingress_hostname = gateway_hostname(self.objects, mesh)
        self.register_outputs({"mesh_name": self.mesh_name, "namespace": self.namespace,
                               "ingress_hostname": self.ingress_hostname})

