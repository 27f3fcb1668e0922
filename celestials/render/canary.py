"""Which part of a mesh a weighted canary owns, read from the model alone (every backend derives
its canary's objects from the same plan)."""

from __future__ import annotations

from dataclasses import dataclass

from ..topology.model import Mesh


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
