"""Weighted canaries in the model: which router splits traffic by weight, and which workloads
exist only for that split.

Why in the model: every backend renders the split (an App Mesh VirtualRouter, an Istio HTTPRoute,
a local Envoy route) and keeps the canary's own objects together, so that a weight change is one
object's diff; deciding what belongs to a canary once keeps the backends from disagreeing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Mesh


@dataclass(frozen=True)
class CanaryPlan:
    """A router that splits traffic by weight, and the workloads that exist for the split."""

    router: str
    workloads: tuple[str, ...]


def canary_plans(mesh: Mesh) -> tuple[CanaryPlan, ...]:
    """Routers with a weighted split. The split's first target is the stable version; the other
    targets that no route sends traffic to first are the canary's own workloads."""
    plans = []
    for router in mesh.routers:
        split = [r for r in router.routes if len(r.targets) > 1]
        if not split:
            continue
        primary = {r.targets[0].workload for r in router.routes}
        canary = dict.fromkeys(t.workload for r in split for t in r.targets[1:] if t.workload not in primary)
        plans.append(CanaryPlan(router.name, tuple(canary)))
    return tuple(plans)


def route_weights(mesh: Mesh, router: str) -> dict[str, dict[str, int]]:
    """route name → workload → weight, as the model has them."""
    return {r.name: {t.workload: t.weight for t in r.targets} for r in mesh.router(router).routes}
