"""Rules on Kubernetes objects: Secrets, containers, Services — and the Helm releases, whose
rendered objects neither Pulumi's policy engine nor the offline synth can see (a release's inputs
are its chart and values), so for them the rules read the values where each chart takes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from celestials.guardrails.resource import SECRET, Resource, as_list, get
from celestials.render import injected_containers as injected
from celestials.render.load_balancer import INGRESS_GATEWAY_LABELS

SECRET_TYPE = "kubernetes:core/v1:Secret"
SERVICE_TYPE = "kubernetes:core/v1:Service"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
#: workload type → where its pod spec is
POD_SPECS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}

#: Containers a mesh injects next to ours, by name (celestials/render/injected_containers.py), and
#: why they are not held to these rules: the mesh renders them at admission from its own settings
#: (Istio: istiod's injection template and the mesh's proxy resources; App Mesh: the controller's
#: sidecar settings), so they are not in what we send; and the init containers must run as root
#: with NET_ADMIN to install the traffic redirection.
INJECTED_CONTAINERS: dict[str, str] = {
    **{name: "injected by Istio from istiod's template and global.proxy settings" for name in injected.ISTIO},
    **{name: "injected by the App Mesh controller from its sidecar settings" for name in injected.APP_MESH},
}
#: Not required: CPU limits. Requests reserve CPU; a limit only adds CFS throttling to
#: latency-sensitive proxies and servers on shared nodes. Memory limits are required.
REQUIRED_RESOURCES = (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))


@dataclass(frozen=True)
class ChartContainers:
    """Where a chart takes its containers' settings from its values (None: not from values)."""

    resources: tuple[str, ...] | None
    security_context: tuple[str, ...] | None
    #: why a None above is acceptable (the chart's template sets it, or there is no container)
    reason: str = ""


#: chart name → where its values set the containers; a chart not listed here is a violation.
HELM_CHARTS: dict[str, ChartContainers] = {
    "base": ChartContainers(None, None, "Istio's CRDs and cluster roles: no containers"),
    "istiod": ChartContainers(("resources",), None,
                              "istiod's template fixes the discovery container's security context "
                              "(non-root 1337, capabilities dropped); values cannot change it"),
    "opentelemetry-collector": ChartContainers(("resources",), ("securityContext",)),
    "appmesh-controller": ChartContainers(("resources",), None,
                                          "the chart's template sets the controller's security context"),
}


def secret_from_secret_value(r: Resource) -> Iterator[str]:
    for key in ("data", "stringData"):
        value = r.props.get(key)
        if value is None or value == SECRET:
            continue
        plain = sorted(k for k, v in value.items() if v != SECRET) if isinstance(value, Mapping) else [key]
        if plain:
            yield (f"{r.label}: {key} {', '.join(plain)} built from a value that is not a Pulumi secret; "
                   "wrap it (pulumi.Output.secret) so it never appears in plain state or logs")


def _effective(container: Mapping[str, Any], pod: Mapping[str, Any], key: str) -> Any:
    own = get(container, "securityContext", key)
    return own if own is not None else get(pod, "securityContext", key)


def _container_faults(container: Mapping[str, Any], pod: Mapping[str, Any]) -> Iterator[str]:
    yield from _security_faults(container, pod)
    yield from _resource_faults(container.get("resources"))


def _security_faults(container: Mapping[str, Any], pod: Mapping[str, Any]) -> Iterator[str]:
    if _effective(container, pod, "runAsNonRoot") is not True:
        yield "may run as root (securityContext.runAsNonRoot: true)"
    if get(container, "securityContext", "readOnlyRootFilesystem") is not True:
        yield "has a writable root filesystem (securityContext.readOnlyRootFilesystem: true)"
    if get(container, "securityContext", "allowPrivilegeEscalation") is not False:
        yield "allows privilege escalation (securityContext.allowPrivilegeEscalation: false)"


def _resource_faults(resources: Any) -> Iterator[str]:
    missing = [".".join(path) for path in REQUIRED_RESOURCES if not get(resources, *path)]
    if missing:
        yield f"has no {', '.join(missing)} (resources)"


def containers_hardened(r: Resource) -> Iterator[str]:
    if r.type == HELM_RELEASE:
        yield from _release_faults(r)
        return
    pod = get(r.props, *POD_SPECS[r.type], default={})
    for kind in ("initContainers", "containers"):
        for container in as_list(get(pod, kind)):
            name = get(container, "name", default="?")
            if name in INJECTED_CONTAINERS:
                continue
            for fault in _container_faults(container, pod):
                yield f"{r.label}: container {name} {fault}"


def chart_name(release: Resource) -> str:
    """A Helm release's chart, without a repository prefix (`repo/istiod` → `istiod`)."""
    return str(release.props.get("chart", "")).rsplit("/", 1)[-1]


def _release_faults(r: Resource) -> Iterator[str]:
    chart = chart_name(r)
    if chart not in HELM_CHARTS:
        yield (f"{r.label}: chart {chart} is not in the guardrails' chart table (HELM_CHARTS): say where "
               "its values set the containers' resources and security context")
        return
    where, values = HELM_CHARTS[chart], r.props.get("values") or {}
    if where.resources is not None:
        for fault in _resource_faults(get(values, *where.resources)):
            yield f"{r.label}: values.{'.'.join(where.resources)}: the chart's container {fault}"
    if where.security_context is not None:
        context = {"securityContext": get(values, *where.security_context, default={})}
        for fault in _security_faults(context, {}):
            yield f"{r.label}: values.{'.'.join(where.security_context)}: the chart's container {fault}"


def load_balancer_only_for_ingress_gateway(r: Resource) -> Iterator[str]:
    if get(r.props, "spec", "type") != "LoadBalancer":
        return
    labels = get(r.props, "metadata", "labels", default={})
    if any(labels.get(k) != v for k, v in INGRESS_GATEWAY_LABELS.items()):
        marker = ", ".join(f"{k}: {v}" for k, v in INGRESS_GATEWAY_LABELS.items())
        yield (f"{r.label}: a LoadBalancer Service (an internet-facing load balancer) that is not the "
               f"ingress gateway's ({marker}); use ClusterIP behind the gateway")
