"""Istio (sidecar mode) rendering of a mesh of the topology model: the injection-labelled
namespace, one ServiceAccount per workload, the backend-neutral Deployments and Services, the
file-based TLS policies (istio_tls), and the Gateway API routing (istio_routes). The mesh-wide
pieces (tracing Telemetry, istiod's OpenTelemetry provider) are in istio_tracing.

Pure: model, settings and opaque inputs in, `Manifest`s out; Istio's CRDs, istiod and the
Gateway API CRDs are installed (and waited for) by the component that applies these.

Identity: every workload runs as its own ServiceAccount, so each has its own SPIFFE identity
(`spiffe://cluster.local/ns/<ns>/sa/<workload>`) for per-caller authorization policies, and the
workloads with AWS needs carry their IRSA role on it.

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
from .istio_routes import GATEWAY_CLASS, render_routes, route_key
from .istio_tls import TLS_DIR, render_tls_policies, secret_key, tls_pod_annotations, with_tls_target_ports
from .istio_tracing import render_mesh_wide, tracing_extension_provider
from .kubernetes_workloads import (PART_OF, Manifest, ObjectKey, WorkloadInputs, check_workload_roles,
                                   render_deployment, render_service_account, render_services)

__all__ = ["GATEWAY_CLASS", "INJECTION_ENABLED", "INJECTION_LABEL", "PROXY_CONTAINER_NAMES", "TLS_DIR",
           "IstioInputs", "istio_canary_keys", "render_istio_mesh", "render_mesh_wide",
           "render_namespace", "tracing_extension_provider", "workload_inputs"]

#: Namespace label that makes Istio's injector add a sidecar to every new pod in the namespace.
INJECTION_LABEL = "istio-injection"
INJECTION_ENABLED = "enabled"
#: Containers Istio's injector adds (sidecar, traffic-redirection init, CNI validation): an app
#: container must not be named like one of them.
PROXY_CONTAINER_NAMES = ("istio-proxy", "istio-init", "istio-validation")


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


def render_istio_mesh(mesh: Mesh, settings: Settings, inputs: IstioInputs) -> tuple[Manifest, ...]:
    """Every object of one mesh, in an order that is also a valid creation order."""
    check_workload_roles(mesh, inputs.workload_roles, "IstioInputs.workload_roles")
    out: list[Manifest] = [render_namespace(mesh)]
    out += [render_service_account(mesh.namespace, w.name, inputs.workload_roles.get(w.name))
            for w in mesh.workloads]
    out += with_tls_target_ports(mesh, render_services(mesh))
    w_inputs = workload_inputs(mesh, inputs)
    for w in mesh.workloads:
        policies = render_tls_policies(mesh, w)
        out += policies
        deployment = render_deployment(mesh, w, settings, w_inputs).after(*(p.key for p in policies))
        secret = secret_key(mesh, w)
        if secret:
            deployment = deployment.after(secret)
        out.append(deployment)
    out += render_routes(mesh)
    return tuple(out)


def istio_canary_keys(mesh: Mesh, plan: CanaryPlan) -> frozenset[ObjectKey]:
    """The objects a weighted canary owns on Istio: its router's HTTPRoute, and its workloads'
    Deployments, host Services and ServiceAccounts."""
    ns = mesh.namespace
    keys = {route_key(mesh, plan.router)}
    for name in plan.workloads:
        w = mesh.workload(name)
        keys |= {ObjectKey("Deployment", ns, name), ObjectKey("Service", ns, w.host),
                 ObjectKey("ServiceAccount", ns, name)}
    return frozenset(keys)
