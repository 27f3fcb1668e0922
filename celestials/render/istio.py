"""Istio (sidecar mode) rendering of a mesh of the topology model: the injection-labelled
namespace, one ServiceAccount per workload, the backend-neutral Deployments and Services, the
file-based TLS policies (istio_tls), and the Gateway API routing (istio_routes). The mesh-wide
pieces (tracing Telemetry, istiod's OpenTelemetry provider) are in istio_tracing.

Pure: model, settings and opaque inputs in, `Manifest`s out; Istio's CRDs, istiod and the
Gateway API CRDs are installed (and waited for) by the component that applies these.

Identity: every workload runs as its own ServiceAccount, so each has its own SPIFFE identity
(`spiffe://cluster.local/ns/<ns>/sa/<workload>`) for per-caller authorization policies, and the
workloads with AWS needs carry their IRSA role on it.

Traffic rules (istio_authz, network_policies): the model's edges as NetworkPolicies (L3/L4) and
AuthorizationPolicies (L7), rendered before every Deployment, which waits for all of them.

Ordering declared on the manifests: everything in a namespace after the namespace; a Deployment
after its ServiceAccount, its TLS Secret (created by the mTLS component) and its own TLS
policies (so its first pod already talks the demo's TLS; the injector itself only needs the
namespace label, which the namespace carries from birth); routes after the objects they send
traffic to (see istio_routes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..settings import Settings
from ..topology.model import Mesh
from ..topology.canary import CanaryPlan
from . import injected_containers
from .istio_authz import render_authorization_policies
from .istio_gateway import gateway_selector
from .istio_routes import GATEWAY_CLASS, render_routes, route_key
from .istio_tls import TLS_DIR, render_tls_policies, tls_ingress_port, tls_pod_annotations, with_tls_target_ports
from .istio_tracing import ISTIO_NAMESPACE, render_mesh_wide, tracing_extension_provider
from .load_balancer import PUBLIC_HTTP_PORT
from .network_policies import (Destination, TrafficRulesInputs, cloud_storage_egress, namespace_pods,
                               render_network_policies)
from .kubernetes_workloads import (PART_OF, Manifest, ObjectKey, WorkloadInputs, autoscalers, check_workload_roles,
                                   disruption_budgets, render_deployment, render_service_account, render_services)
from .tls_volume import tls_secret_keys

__all__ = ["GATEWAY_CLASS", "INJECTION_ENABLED", "INJECTION_LABEL", "ISTIOD_LABELS", "ISTIOD_XDS_PORT",
           "PROXY_CONTAINER_NAMES", "TLS_DIR", "IstioInputs", "inbound_ports", "istio_canary_keys",
           "render_istio_mesh", "render_mesh_wide", "render_namespace", "render_traffic_rules",
           "tracing_extension_provider", "traffic_rules_inputs", "workload_inputs"]

#: Namespace label that makes Istio's injector add a sidecar to every new pod in the namespace.
INJECTION_LABEL = "istio-injection"
INJECTION_ENABLED = "enabled"
#: Containers Istio's injector adds: an app container must not be named like one of them.
PROXY_CONTAINER_NAMES = injected_containers.ISTIO
#: What every sidecar and gateway proxy calls in the control plane: istiod's xDS and certificate
#: port (TLS). istiod's webhook port (15017) is called by the API server, not by pods.
ISTIOD_LABELS = {"app": "istiod"}
ISTIOD_XDS_PORT = 15012


@dataclass(frozen=True)
class IstioInputs:
    """Opaque values the Istio rendering places, never reads: image references (`images`:
    Workload.image → ref), IAM roles of workloads with AWS needs (`workload_roles`: workload →
    role ARN, put on its ServiceAccount), the apps' OTLP/HTTP base URL (None: tracing off), the
    product table's name, and extra pod annotations per workload (e.g. a TLS digest that rolls
    the pods when their certificates change)."""

    images: Mapping[str, Any]
    workload_roles: Mapping[str, Any] = field(default_factory=dict)
    otlp_endpoint: str | None = None
    dynamodb_table: Any = None
    pod_annotations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: the trace collector's pods and OTLP ports (apps: HTTP, proxies: gRPC); None: tracing off
    collector: Destination | None = None


def render_namespace(mesh: Mesh) -> Manifest:
    return Manifest({"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": mesh.namespace,
                                  "labels": {INJECTION_LABEL: INJECTION_ENABLED, **PART_OF}}})


def workload_inputs(mesh: Mesh, inputs: IstioInputs) -> WorkloadInputs:
    annotations = {w.name: {**tls_pod_annotations(w), **inputs.pod_annotations.get(w.name, {})}
                   for w in mesh.workloads}
    return WorkloadInputs(
        images=inputs.images,
        # Never used: every workload has its own account below.
        default_service_account="default",
        service_accounts={w.name: w.name for w in mesh.workloads},
        otlp_endpoint=inputs.otlp_endpoint, dynamodb_table=inputs.dynamodb_table,
        pod_annotations={k: v for k, v in annotations.items() if v},
        reserved_container_names=PROXY_CONTAINER_NAMES)


def inbound_ports(mesh: Mesh) -> dict[str, tuple[int, ...]]:
    """Workload → the pod port its callers' sidecars connect to: the demo's TLS port for a
    server-TLS workload (its Services target it), the app port otherwise."""
    return {w.name: (tls_ingress_port(w),) if w.server_tls else (w.port,) for w in mesh.workloads}


def traffic_rules_inputs(mesh: Mesh, settings: Settings, inputs: IstioInputs) -> TrafficRulesInputs:
    """Istio's facts for the neutral NetworkPolicies: sidecar-to-sidecar traffic goes to the
    callee pod's target port (Envoy connects to endpoints directly); every pod's proxy reaches
    istiod on 15012 and, with tracing, the collector (apps over OTLP/HTTP, proxies over gRPC);
    a workload storing in the cloud reaches the cloud API. The gateway's pods listen on the
    public port themselves."""
    shared: list[Destination] = [namespace_pods(ISTIO_NAMESPACE, (ISTIOD_XDS_PORT,), "istiod (xDS, certificates)",
                                                ISTIOD_LABELS)]
    if inputs.collector is not None:
        shared.append(inputs.collector)
    return TrafficRulesInputs(
        inbound_ports=inbound_ports(mesh),
        gateway_labels=gateway_selector(mesh.gateway) if mesh.gateway else None,
        gateway_ports=(PUBLIC_HTTP_PORT,) if mesh.gateway else (),
        shared_egress=tuple(shared), workload_egress=cloud_storage_egress(mesh, settings.vpc_cidr))


def render_traffic_rules(mesh: Mesh, settings: Settings, inputs: IstioInputs) -> tuple[Manifest, ...]:
    """NetworkPolicies (L3/L4) and AuthorizationPolicies (L7) of the mesh, both from its edges."""
    demo_tls = {w.name: (tls_ingress_port(w),) for w in mesh.workloads if w.server_tls}
    mtls = {name: ports for name, ports in inbound_ports(mesh).items() if name not in demo_tls}
    authz = render_authorization_policies(
        mesh, inbound_ports={**mtls, **{name: () for name in demo_tls}}, unauthenticated_ports=demo_tls,
        gateway_labels=gateway_selector(mesh.gateway) if mesh.gateway else None,
        gateway_ports=(PUBLIC_HTTP_PORT,) if mesh.gateway else ())
    return (*render_network_policies(mesh, traffic_rules_inputs(mesh, settings, inputs)), *authz)


def render_istio_mesh(mesh: Mesh, settings: Settings, inputs: IstioInputs) -> tuple[Manifest, ...]:
    """Every object of one mesh, in an order that is also a valid creation order."""
    check_workload_roles(mesh, inputs.workload_roles, "IstioInputs.workload_roles")
    out: list[Manifest] = [render_namespace(mesh)]
    out += [render_service_account(mesh.namespace, w.name, inputs.workload_roles.get(w.name))
            for w in mesh.workloads]
    out += with_tls_target_ports(mesh, render_services(mesh))
    rules = render_traffic_rules(mesh, settings, inputs)
    out += rules
    w_inputs = workload_inputs(mesh, inputs)
    for w in mesh.workloads:
        policies = render_tls_policies(mesh, w)
        out += policies
        deployment = render_deployment(mesh, w, settings, w_inputs).after(*(p.key for p in policies),
                                                                         *(r.key for r in rules),
                                                                         *tls_secret_keys(mesh, w))
        out.append(deployment)
    # The gateway's Deployment, like every other, starts under its traffic rules.
    out += [m.after(*(r.key for r in rules)) if m.key.kind == "Deployment" else m for m in render_routes(mesh)]
    out += autoscalers(mesh, out)
    out += disruption_budgets(out)
    return tuple(out)


def istio_canary_keys(mesh: Mesh, plan: CanaryPlan) -> frozenset[ObjectKey]:
    """The objects a weighted canary owns on Istio: its router's HTTPRoute, and its workloads'
    Deployments (with their autoscalers), host Services and ServiceAccounts."""
    ns = mesh.namespace
    keys = {route_key(mesh, plan.router)}
    for name in plan.workloads:
        w = mesh.workload(name)
        if w.autoscaling:
            keys.add(ObjectKey("HorizontalPodAutoscaler", ns, name))
        keys |= {ObjectKey("Deployment", ns, name), ObjectKey("Service", ns, w.host),
                 ObjectKey("ServiceAccount", ns, name)}
    return frozenset(keys)
