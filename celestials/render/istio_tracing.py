"""Tracing on Istio: which OpenTelemetry provider istiod gives the proxies, and the mesh-wide
`Telemetry` that turns it on for every sidecar and gateway.

Split in two because they live in different places: the provider is istiod configuration
(`meshConfig.extensionProviders`, set through the istiod chart values by the component that
installs Istio), the Telemetry is a custom resource in Istio's root namespace. The apps' own
spans go to the collector over OTLP/HTTP from their SDKs (kubernetes_workloads); the proxies
export OTLP/gRPC; both join one trace through W3C `traceparent`.
"""

from __future__ import annotations

from typing import Any

from .kubernetes_workloads import PART_OF, Manifest

TELEMETRY_API_VERSION = "telemetry.istio.io/v1"
#: Istio's root namespace: a Telemetry there without a selector applies to the whole mesh.
ISTIO_NAMESPACE = "istio-system"
TRACING_PROVIDER = "otel-tracing"
MESH_TELEMETRY_NAME = "mesh-default"
#: Every request is traced: a demo whose point is to show the whole path in X-Ray.
SAMPLING_PERCENT = 100


def tracing_extension_provider(service_host: str, port: int, name: str = TRACING_PROVIDER) -> dict[str, Any]:
    """The `meshConfig.extensionProviders` entry: OTLP over gRPC (no `http` block) to the collector
    at `service_host:port` (a fully qualified Service name, e.g. `otel-collector.observability.svc.cluster.local`)."""
    return {"name": name, "opentelemetry": {"service": service_host, "port": port}}


def render_mesh_wide(tracing: bool, provider_name: str = TRACING_PROVIDER) -> tuple[Manifest, ...]:
    """The mesh-wide Telemetry selecting the provider with 100 % sampling; nothing without tracing."""
    if not tracing:
        return ()
    obj = {"apiVersion": TELEMETRY_API_VERSION, "kind": "Telemetry",
           "metadata": {"name": MESH_TELEMETRY_NAME, "namespace": ISTIO_NAMESPACE, "labels": dict(PART_OF)},
           "spec": {"tracing": [{"providers": [{"name": provider_name}],
                                 "randomSamplingPercentage": SAMPLING_PERCENT}]}}
    return (Manifest(obj),)
