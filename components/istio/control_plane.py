"""Istio's control plane, in the order a fresh cluster needs it: the Gateway API standard CRDs
(`gateway_api_crds`: the pinned bundle, verified by digest), then the `base` chart (Istio's CRDs
and cluster roles), then `istiod` (sidecar injector, xDS, the Gateway API controller), each a Helm
release from Istio's own chart repository at one pinned patch (celestials/artifacts.py).

Why these settings, and only these (istiod's defaults hold otherwise):
- `ENABLE_TLS_ON_SIDECAR_INGRESS`: the two-CA mTLS demo terminates the demo's own TLS in blue's
  and green's sidecars (`Sidecar.ingress[].tls`), which istiod ignores without it.
- `meshConfig.extensionProviders`: the OpenTelemetry tracer the mesh-wide `Telemetry` selects,
  sending every proxy's spans to the program's trace collector (OTLP/gRPC).
- `meshConfig.accessLogFile`: proxies log each request to stdout, as the App Mesh backend's do.
- the proxies' and istiod's resource requests are set here, explicitly, because the capacity
  check counts exactly these numbers (`sidecars()`, `istiod_pod()`).
- istiod's replicas follow the request path's: with autoscalers (prod), the chart's own HPA runs
  from `autoscaleMin` = requestPathReplicas to `autoscaleMax` = the stack's autoscaler max (the
  capacity check counts istiod at that max), and its Deployment then carries no `replicas` (the
  chart leaves it out itself when `autoscaleEnabled`); without autoscalers, `replicaCount`. The
  chart renders its PodDisruptionBudget (`minAvailable: 1`) only when that minimum is above
  1, so prod gets one and a single dev istiod is never made undrainable; with 2+ replicas the
  pods are also spread across zones like the apps' (`topologySpreadConstraints`).
- images pinned to the chart's release (`global.hub`/`global.tag`), so a chart re-render never
  changes what runs.

No IAM: istiod and the proxies never call AWS. No extra security-group rules: the node group runs
with the EKS cluster security group (no launch-template security groups, `components.cluster`),
which admits all traffic from the control plane, so the API server reaches the injector webhook
(15017) and the proxies reach istiod (15012) without any rule of ours (docs/istio.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials.artifacts import ISTIO
from celestials.capacity import PodDemand, Sidecars, requests_of
from celestials.render.istio_tracing import ISTIO_NAMESPACE
from celestials.render.istio import ISTIOD_LABELS
from celestials.render.kubernetes_workloads import PART_OF, spread_constraints
from celestials.render.node_placement import node_selector

from .gateway_api_crds import GatewayApiObjects, apply_gateway_api

ISTIO_VERSION = ISTIO.version
CHART_REPOSITORY = ISTIO.chart_repository
IMAGE_HUB = ISTIO.image_hub
#: Istio's root namespace: where the renderer puts mesh-wide objects and the charts install istiod.
NAMESPACE = ISTIO_NAMESPACE
RELEASE_TIMEOUT_SECONDS = 600
#: Requests of every injected `istio-proxy` (and of `istio-init`, which the injector gives the
#: same resources): what an idle-to-light-traffic sidecar uses (Istio's own demo profile asks
#: for 10m/40Mi), while the limits let a busy one burst without starving its node. istiod's
#: defaults (500m/2Gi) are sized for large meshes; this one has a dozen pods.
PROXY_RESOURCES = {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"cpu": "1000m", "memory": "512Mi"}}
#: istiod's memory limit bounds a leak to its own pod (its working set here is far below it); like
#: every container of ours, no CPU limit (guardrails: containers-hardened).
ISTIOD_RESOURCES = {"requests": {"cpu": "100m", "memory": "384Mi"}, "limits": {"memory": "1Gi"}}


def sidecars() -> Sidecars:
    """What Istio's injector adds: `istio-proxy` beside every app and the `istio-init` init
    container at the same requests; nothing beside the gateway, whose only container is its
    proxy, run at the model gateway's resources."""
    proxy = requests_of(PROXY_RESOURCES["requests"])
    return Sidecars(containers=(proxy,), init=(proxy,), gateway=())


def istiod_pod(replicas: int, autoscale_max: int | None = None) -> PodDemand:
    """istiod's pods for the capacity check: as many as the request path has replicas (prod: 2,
    so losing a node or a zone leaves the proxies a control plane; the chart adds its PDB), and
    with autoscalers up to `autoscale_max`."""
    return PodDemand.of(f"{NAMESPACE}/istiod", ISTIOD_RESOURCES["requests"], replicas=replicas,
                        max_replicas=autoscale_max or 0)


def base_values() -> dict[str, Any]:
    return {"global": {"istioNamespace": NAMESPACE}}


def istiod_values(tracing_provider: dict[str, Any] | None, replicas: int = 1,
                  autoscale_max: int | None = None, *, node_architecture: str) -> dict[str, Any]:
    """Values for the `istiod` chart at ISTIO_VERSION (keys as in its values.yaml, set at the top
    level). `tracing_provider`: the meshConfig extension provider for the collector, or None;
    `autoscale_max`: the max of istiod's HPA (None: no HPA, `replicas` fixed); istiod's pods run
    on nodes of `node_architecture`, like every other pod of the stack."""
    mesh_config: dict[str, Any] = {"accessLogFile": "/dev/stdout"}
    if tracing_provider is not None:
        mesh_config["extensionProviders"] = [tracing_provider]
    return {
        "global": {"hub": IMAGE_HUB, "tag": ISTIO_VERSION, "istioNamespace": NAMESPACE,
                   "proxy": {"resources": PROXY_RESOURCES}},
        "autoscaleEnabled": autoscale_max is not None,
        **({"autoscaleMin": replicas, "autoscaleMax": autoscale_max} if autoscale_max is not None else {}),
        "replicaCount": replicas,
        **({"topologySpreadConstraints": spread_constraints(ISTIOD_LABELS)} if replicas > 1 else {}),
        "resources": ISTIOD_RESOURCES,
        "nodeSelector": node_selector(node_architecture),
        "env": {"ENABLE_TLS_ON_SIDECAR_INGRESS": "true"},
        "meshConfig": mesh_config,
    }


@dataclass
class IstioControlPlaneArgs:
    k8s_provider: k8s.Provider
    #: the Gateway API bundle's objects, read and verified before any resource (`load_gateway_api`)
    gateway_api: GatewayApiObjects
    #: the node group's architecture (the stack's nodeArchitecture): where istiod's pods run
    node_architecture: str
    #: istiod meshConfig extension provider for the trace collector (None: tracing off)
    tracing_provider: dict[str, Any] | None = None
    #: istiod replicas (the stack's requestPathReplicas), the minimum with an autoscaler
    replicas: int = 1
    #: istiod's autoscaler max (the stack's `autoscale_max`); None: no autoscaler
    autoscale_max: int | None = None
    #: what istiod's pods wait for (the node group); `base` runs no pods and does not wait
    nodes: Sequence[pulumi.Resource] = ()


class IstioControlPlane(pulumi.ComponentResource):
    """Outputs: `gateway_api_crds`, `base` and `istiod` (the releases later objects wait for)."""

    def __init__(self, name: str, args: IstioControlPlaneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:istio:ControlPlane", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        self.gateway_api_crds = apply_gateway_api(f"{name}-gateway-api-crds", args.gateway_api, k8s_opts, self)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata={"name": NAMESPACE, "labels": dict(PART_OF)}, opts=k8s_opts)
        self.base = self._release(name, "base", base_values(), args, [self.namespace, *self.gateway_api_crds])
        self.istiod = self._release(name, "istiod", istiod_values(args.tracing_provider, args.replicas, args.autoscale_max,
                                                                 node_architecture=args.node_architecture), args,
                                    [self.base, *args.nodes])
        self.register_outputs({"base": self.base.status, "istiod": self.istiod.status})

    def _release(self, name: str, chart: str, values: dict[str, Any], args: IstioControlPlaneArgs,
                 after: list[pulumi.Resource]) -> k8s.helm.v3.Release:
        """An awaited release: what depends on it starts once its CRDs, webhook and pods are up."""
        return k8s.helm.v3.Release(
            f"{name}-{chart}",
            k8s.helm.v3.ReleaseArgs(
                name=f"istio-{chart}" if chart == "base" else chart, chart=chart, version=ISTIO_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
                namespace=self.namespace.metadata["name"], create_namespace=False, values=values,
                skip_await=False, timeout=RELEASE_TIMEOUT_SECONDS, cleanup_on_fail=True),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=after))
