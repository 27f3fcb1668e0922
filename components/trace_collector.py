"""The in-cluster trace collector: an OpenTelemetry Collector (contrib distribution, pinned Helm
release) that receives OTLP spans and exports them to AWS X-Ray with an IRSA role.

Why a collector and not the X-Ray daemon: the apps speak OpenTelemetry only (the X-Ray SDKs are
in maintenance mode); the collector's `awsxray` exporter turns their spans into X-Ray segments.
Backend-neutral: the apps send OTLP/HTTP (4318); a mesh whose proxies speak OTLP too (Istio's
OpenTelemetry tracer, gRPC on 4317) sends there, so proxy and app spans meet in one X-Ray trace.
It lives in its own, unmeshed namespace (the App Mesh webhook rejects unselected pods in meshed
ones) and is created by the program, not by a backend, so every backend uses the same one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials.artifacts import OTEL_COLLECTOR_CHART, OTEL_COLLECTOR_IMAGE
from celestials.capacity import PodDemand
from celestials.render.iam import collector_policy
from celestials.render.single_replica import SINGLE_REPLICA_ANNOTATION
from celestials.render.network_policies import Destination, namespace_pods
from celestials.render.node_placement import node_selector
from celestials.settings import Settings

from .identified_release import Chart, Identity, identified_release

NAMESPACE = "observability"
SERVICE_ACCOUNT = "otel-collector"
RELEASE_NAME = "otel-collector"
CHART = OTEL_COLLECTOR_CHART.chart
CHART_VERSION = OTEL_COLLECTOR_CHART.version
CHART_REPOSITORY = OTEL_COLLECTOR_CHART.repository
IMAGE_REPOSITORY = OTEL_COLLECTOR_IMAGE.repository
IMAGE_TAG = OTEL_COLLECTOR_IMAGE.tag
OTLP_HTTP_PORT = 4318
OTLP_GRPC_PORT = 4317
SERVICE_HOST = f"{RELEASE_NAME}.{NAMESPACE}.svc.cluster.local"
OTLP_ENDPOINT = f"http://{SERVICE_HOST}:{OTLP_HTTP_PORT}"
RELEASE_TIMEOUT_SECONDS = 600


#: Spans are batched and sent on; while the one collector pod restarts, the apps' and proxies'
#: exporters retry and then drop spans, and no request fails: tracing is off the request path.
SINGLE_REPLICA_REASON = "trace collector, not on the request path (a restart loses spans, not requests)"


def chart_values(region: str, node_architecture: str) -> dict[str, Any]:
    """Values for the pinned opentelemetry-collector chart: one Deployment, traces only, OTLP in,
    X-Ray out, on nodes of `node_architecture`. `None` removes a chart default (Helm releases keep
    null values, pulumi-kubernetes passes them through)."""
    return {
        "mode": "deployment",
        "fullnameOverride": RELEASE_NAME,
        "image": {"repository": IMAGE_REPOSITORY, "tag": IMAGE_TAG},
        "command": {"name": "otelcol-contrib"},
        "replicaCount": 1,
        # on the Deployment (the chart's `annotations`): one replica is deliberate, see below
        "annotations": {SINGLE_REPLICA_ANNOTATION: SINGLE_REPLICA_REASON},
        "serviceAccount": {"create": False, "name": SERVICE_ACCOUNT},
        "ports": {name: {"enabled": False} for name in ("jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin")},
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
        "podSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "nodeSelector": node_selector(node_architecture),
        "config": {
            "receivers": {"jaeger": None, "zipkin": None, "prometheus": None},
            "exporters": {"awsxray": {"region": region}},
            "service": {"pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"],
                           "exporters": ["awsxray"]},
                "metrics": None, "logs": None,
            }},
        },
    }


def _moved() -> pulumi.ResourceOptions:
    """The collector used to be the App Mesh backend's child `mesh-tracing`: a stack deployed
    then keeps its collector (and the collector's IAM role) instead of replacing them."""
    old_parent = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::celestials:appmesh:Backend::mesh"
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(
        name="mesh-tracing", type_="celestials:appmesh:TracingCollector", parent=old_parent)])


def network_destination(proxies_export: bool) -> Destination:
    """The collector as a NetworkPolicy destination: the apps export OTLP/HTTP; with
    `proxies_export`, the mesh's proxies export OTLP/gRPC too (Istio's; App Mesh's trace to X-Ray)."""
    if proxies_export:
        return namespace_pods(NAMESPACE, (OTLP_HTTP_PORT, OTLP_GRPC_PORT),
                              "the trace collector (OTLP/HTTP from apps, OTLP/gRPC from proxies)")
    return namespace_pods(NAMESPACE, (OTLP_HTTP_PORT,), "the trace collector (OTLP/HTTP from apps)")


def pod_demands(settings: Settings) -> tuple[PodDemand, ...]:
    """The collector's pods for the capacity check (none with tracing off)."""
    if not settings.tracing:
        return ()
    values = chart_values(settings.region, settings.node_architecture)
    return (PodDemand.of(f"{NAMESPACE}/{RELEASE_NAME}", values["resources"]["requests"],
                         replicas=values["replicaCount"]),)


@dataclass
class TracingCollectorArgs:
    k8s_provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    region: str
    #: the node group's architecture (the stack's nodeArchitecture): where the collector runs
    node_architecture: str
    #: what the collector's pods wait for (the node group)
    nodes: Sequence[pulumi.Resource] = ()


class TracingCollector(pulumi.ComponentResource):
    """Outputs: `otlp_endpoint` (base URL for the apps' OTEL_EXPORTER_OTLP_ENDPOINT, OTLP/HTTP),
    `otlp_port` (that port), `service_host` and `otlp_grpc_port` (for proxies speaking OTLP/gRPC),
    `release` (what a mesh that sends spans here may wait for)."""

    otlp_endpoint: str
    otlp_port: int
    service_host: str
    otlp_grpc_port: int
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: TracingCollectorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:tracing:Collector", name, None, pulumi.ResourceOptions.merge(opts, _moved()))
        parts = identified_release(
            name, self, k8s_provider=args.k8s_provider, namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            identity=Identity(args.oidc_provider_arn, args.oidc_provider_url, collector_policy(),
                              "OpenTelemetry Collector: writes the apps' spans to X-Ray"),
            chart=Chart(RELEASE_NAME, CHART, CHART_VERSION, CHART_REPOSITORY, RELEASE_TIMEOUT_SECONDS),
            values=chart_values(args.region, args.node_architecture), nodes=args.nodes)
        self.namespace, self.irsa = parts.namespace, parts.irsa
        self.service_account, self.release = parts.service_account, parts.release
        self.otlp_endpoint = OTLP_ENDPOINT
        self.otlp_port = OTLP_HTTP_PORT
        self.service_host = SERVICE_HOST
        self.otlp_grpc_port = OTLP_GRPC_PORT
        self.register_outputs({"otlp_endpoint": self.otlp_endpoint, "release": self.release.status})
