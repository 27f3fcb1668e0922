"""Production survives losing a node or a zone: a rule over the whole stack, because it relates
objects to each other (a Deployment, the autoscaler that sizes it, the disruption budget that guards it).

Every Deployment of a production stack either runs at least two replicas spread across zones,
guarded by a PodDisruptionBudget and sized by a HorizontalPodAutoscaler, or says why one replica is
enough (`celestials.io/single-replica-reason`, visible in every diff that adds it). The mesh control
plane is a Helm release; its chart's values say the same.

Which stacks are production is read from the resources' production tag (celestials.stacks), so
the stack must say it, once, without contradiction (`stack_states_production`): a stack whose tags
were dropped must not slip past the production rules by saying nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

from celestials.guardrails.kubernetes_rules import HELM_RELEASE, chart_name
from celestials.guardrails.resource import Resource, as_list, get, stack_is_production
from celestials.stacks import PRODUCTION_TAG, PRODUCTION_TAG_VALUES
from celestials.render.single_replica import SINGLE_REPLICA_ANNOTATION

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
AUTOSCALER = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
DISRUPTION_BUDGET = "kubernetes:policy/v1:PodDisruptionBudget"
ZONE = "topology.kubernetes.io/zone"
MIN_REPLICAS = 2


def spreads_over_zones(pod: Any) -> bool:
    """A required spread: a topology constraint that will not schedule a skewed pod, or a required
    anti-affinity, on the zone key."""
    spread = any(get(c, "topologyKey") == ZONE and get(c, "whenUnsatisfiable") == "DoNotSchedule"
                 for c in as_list(get(pod, "topologySpreadConstraints")))
    anti = any(get(t, "topologyKey") == ZONE for t in as_list(
        get(pod, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution")))
    return spread or anti


@dataclass(frozen=True)
class ControlPlaneChart:
    """How a control plane chart's values say replicas, disruption budget and zone spread
    (defaults as in the chart's values.yaml)."""

    replicas: Callable[[Mapping[str, Any]], int]
    disruption_budget: Callable[[Mapping[str, Any]], bool]
    zone_spread: Callable[[Mapping[str, Any]], bool]


def _istiod_replicas(values: Mapping[str, Any]) -> int:
    if get(values, "autoscaleEnabled", default=True):
        return int(get(values, "autoscaleMin", default=1))
    return int(get(values, "replicaCount", default=1))


CONTROL_PLANE_CHARTS: dict[str, ControlPlaneChart] = {
    "istiod": ControlPlaneChart(
        replicas=_istiod_replicas,
        disruption_budget=lambda v: get(v, "global", "defaultPodDisruptionBudget", "enabled", default=True) is True,
        zone_spread=lambda v: spreads_over_zones({"topologySpreadConstraints": get(v, "topologySpreadConstraints")})),
    "appmesh-controller": ControlPlaneChart(
        replicas=lambda v: int(get(v, "replicaCount", default=1)),
        disruption_budget=lambda v: bool(get(v, "podDisruptionBudget")),
        zone_spread=lambda v: spreads_over_zones({"affinity": get(v, "affinity")})),
}


def _namespace(r: Resource) -> str:
    return str(get(r.props, "metadata", "namespace", default="default"))


def _selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    match = get(selector, "matchLabels", default={})
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def _deployment_faults(d: Resource, autoscalers: list[Resource], budgets: list[Resource]) -> Iterator[str]:
    if get(d.props, "metadata", "annotations", SINGLE_REPLICA_ANNOTATION):
        return
    name, namespace = get(d.props, "metadata", "name"), _namespace(d)
    pod_labels = get(d.props, "spec", "template", "metadata", "labels", default={})
    scaler = next((a for a in autoscalers if _namespace(a) == namespace
                   and get(a.props, "spec", "scaleTargetRef", "kind") == "Deployment"
                   and get(a.props, "spec", "scaleTargetRef", "name") == name), None)
    replicas = get(d.props, "spec", "replicas")
    least = int(get(scaler.props, "spec", "minReplicas", default=1)) if scaler else int(replicas or 1)
    if replicas is not None:
        least = min(least, int(replicas))
    if least < MIN_REPLICAS:
        yield f"runs {least} replica(s), fewer than {MIN_REPLICAS}"
        return
    if scaler is None:
        yield "no HorizontalPodAutoscaler sizes it"
    if not any(_namespace(b) == namespace and _selects(get(b.props, "spec", "selector"), pod_labels)
               for b in budgets):
        yield "no PodDisruptionBudget selects its pods"
    if not spreads_over_zones(get(d.props, "spec", "template", "spec")):
        yield f"its pods are not required to spread over zones ({ZONE}, DoNotSchedule)"


def _control_plane_faults(release: Resource) -> Iterator[str]:
    chart = CONTROL_PLANE_CHARTS.get(chart_name(release))
    if chart is None:
        return
    values = release.props.get("values") or {}
    replicas = chart.replicas(values)
    if replicas < MIN_REPLICAS:
        yield f"the control plane runs {replicas} replica(s), fewer than {MIN_REPLICAS}"
    if not chart.disruption_budget(values):
        yield "the control plane has no PodDisruptionBudget"
    if not chart.zone_spread(values):
        yield "the control plane's pods are not required to spread over zones"


def prod_survives_node_loss(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    if not stack_is_production(resources):
        return
    autoscalers = [r for r in resources if r.type == AUTOSCALER]
    budgets = [r for r in resources if r.type == DISRUPTION_BUDGET]
    for r in resources:
        if r.type == DEPLOYMENT:
            for fault in _deployment_faults(r, autoscalers, budgets):
                yield r, (f"{r.label}: in production {fault}; run it highly available or say why not "
                          f"({SINGLE_REPLICA_ANNOTATION})")
        elif r.type == HELM_RELEASE:
            for fault in _control_plane_faults(r):
                yield r, f"{r.label}: in production {fault}"


_STATES = " or ".join(f"{PRODUCTION_TAG}={v}" for v in PRODUCTION_TAG_VALUES.values())


def stack_states_production(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str]]:
    """The stack's tagged resources say whether it is production, with one voice: a value other
    than true/false, resources that disagree, or tagged resources none of which says it, are faults."""
    tagged = [r for r in resources if isinstance(r.props.get("tags"), Mapping)]
    for r in tagged:
        value = get(r.props, "tags", PRODUCTION_TAG)
        if value is not None and r.production is None:
            yield r, f"{r.label}: tag {PRODUCTION_TAG} = {value!r}; it is {_STATES}"
    said = [r for r in tagged if r.production is not None]
    if any(r.production for r in said):
        for r in said:
            if r.production is False:
                yield r, (f"{r.label}: tagged {PRODUCTION_TAG}=false in a stack whose other resources say true; "
                          "one stack, one answer (celestials:production)")
    elif tagged and not said:
        yield tagged[0], (f"{tagged[0].label}: no resource of this stack carries the {PRODUCTION_TAG} tag "
                          f"({_STATES}), so the production rules cannot tell whether they apply; every AWS "
                          "resource gets it from celestials:production (celestials.stacks.resource_tags)")
