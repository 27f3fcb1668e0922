"""The App Mesh controller: its namespace, an IRSA role for its service account, and the
`appmesh-controller` Helm release (the chart ships the CRDs and the sidecar-injecting webhook).

Why `helm.v3.Release` and not a v4 Chart: the chart generates its webhook certificate at install
time; a v4 Chart re-renders it on every run (a diff each time) and cannot preview before the
cluster exists. The release is awaited (`skip_await=False`), so every mesh object, which depends on
it, is created only once the CRDs, the controller and the webhook are up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials.artifacts import APPMESH_CONTROLLER_CHART
from celestials.render.appmesh_iam import controller_policy
from celestials.render.node_placement import node_selector
from components.identified_release import Chart, Identity, identified_release

NAMESPACE = "appmesh-system"
SERVICE_ACCOUNT = "appmesh-controller"
RELEASE_NAME = "appmesh-controller"
CHART = APPMESH_CONTROLLER_CHART.chart
CHART_VERSION = APPMESH_CONTROLLER_CHART.version
CHART_REPOSITORY = APPMESH_CONTROLLER_CHART.repository
RELEASE_TIMEOUT_SECONDS = 900
#: Envoy sidecar resources the injector gives every meshed pod (the capacity model counts them).
SIDECAR_REQUESTS = {"cpu": "10m", "memory": "32Mi"}
SIDECAR_LIMITS = {"cpu": "", "memory": "256Mi"}
#: The controller's own container: the chart's default requests and memory limit, stated here so
#: the capacity check and the guardrails read what is deployed.
CONTROLLER_RESOURCES = {"requests": {"cpu": "100m", "memory": "200Mi"}, "limits": {"memory": "1Gi"}}
#: The chart's selector labels of the controller's pods.
CONTROLLER_POD_LABELS = {"app.kubernetes.io/name": CHART, "app.kubernetes.io/instance": RELEASE_NAME}


def high_availability(replicas: int) -> dict[str, Any]:
    """With several replicas (prod), the webhook that injects every meshed pod survives a node or a
    zone: a disruption budget and one replica per zone (chart 1.13.3 takes `affinity`, not
    topology spread constraints). The controller elects a leader; every replica serves the webhook."""
    if replicas < 2:
        return {}
    return {
        "podDisruptionBudget": {"maxUnavailable": 1},
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": dict(CONTROLLER_POD_LABELS)},
             "topologyKey": "topology.kubernetes.io/zone"}]}},
    }


def chart_values(region: str, tracing: bool, replicas: int = 1, *, node_architecture: str) -> dict[str, Any]:
    """Values for appmesh-controller 1.13.3 (keys as in the chart's values.yaml); the controller's
    pods run on nodes of `node_architecture`."""
    return {
        "replicaCount": replicas,
        "resources": {k: dict(v) for k, v in CONTROLLER_RESOURCES.items()},
        "nodeSelector": node_selector(node_architecture),
        **high_availability(replicas),
        "region": region,
        # Created here, annotated with the IRSA role, so the role exists before the controller.
        "serviceAccount": {"create": False, "name": SERVICE_ACCOUNT},
        # X-Ray daemon sidecars next to every Envoy; Envoy sends its spans there.
        "tracing": {"enabled": tracing, "provider": "x-ray"},
        # File-based mTLS (certificates mounted from Secrets): no SPIRE/SDS.
        "sds": {"enabled": False},
        "sidecar": {"resources": {"requests": dict(SIDECAR_REQUESTS), "limits": dict(SIDECAR_LIMITS)}},
    }


@dataclass
class AppMeshControllerArgs:
    k8s_provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    region: str
    #: the node group's architecture (the stack's nodeArchitecture): where the controller runs
    node_architecture: str
    tracing: bool = True
    #: the stack's requestPathReplicas: the webhook is on the path of every meshed pod's creation
    replicas: int = 1
    #: what the controller's pods wait for (the node group)
    nodes: Sequence[pulumi.Resource] = ()


class AppMeshController(pulumi.ComponentResource):
    """Outputs: `release` (what mesh objects depend on), `role_arn`."""

    release: k8s.helm.v3.Release
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AppMeshControllerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:appmesh:Controller", name, None, opts)
        parts = identified_release(
            name, self, k8s_provider=args.k8s_provider, namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            identity=Identity(args.oidc_provider_arn, args.oidc_provider_url, controller_policy(),
                              "App Mesh controller: manages the mesh objects in the App Mesh API"),
            chart=Chart(RELEASE_NAME, CHART, CHART_VERSION, CHART_REPOSITORY, RELEASE_TIMEOUT_SECONDS),
            values=chart_values(args.region, args.tracing, args.replicas, node_architecture=args.node_architecture),
            nodes=args.nodes)
        self.namespace, self.irsa = parts.namespace, parts.irsa
        self.service_account, self.release = parts.service_account, parts.release
        self.role_arn = self.irsa.role_arn
        self.register_outputs({"release": self.release.status, "role_arn": self.role_arn})
