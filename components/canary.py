"""A weighted canary: the object that splits traffic between a stable and a new version, plus the
new version's own objects, applied as one component.

Why its own component: the split is the one thing operators change day to day. The weights come
from one setting (`celestials:canaryWeight`) through the model into the split object's spec and
nowhere else, so `pulumi config set celestials:canaryWeight 90 && pulumi up` previews exactly one
change: that object. The canary's workload does not depend on the weight, so shifting traffic
never restarts a pod. Backend-neutral: each backend says which rendered objects a canary owns
(an App Mesh VirtualRouter, an Istio HTTPRoute) and which of them carries the split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials.render.kubernetes_workloads import Manifest, ObjectKey, partition
from celestials.topology.canary import CanaryPlan, canary_plans, route_weights
from celestials.topology.model import Mesh

from .kubernetes_apply import AwaitAnnotations, Registry, apply_manifests


@dataclass
class CanaryArgs:
    """`manifests`: the canary's own objects; `split`: the key of the one that carries the
    weights; `registry`: the mesh's objects created so far, which the canary's objects come after."""

    mesh: Mesh
    plan: CanaryPlan
    manifests: Sequence[Manifest]
    split: ObjectKey
    registry: Registry
    k8s_provider: k8s.Provider
    depends_on_by_kind: Mapping[str, Sequence[pulumi.Resource]]
    await_annotations: AwaitAnnotations | None = None


class Canary(pulumi.ComponentResource):
    """Outputs: `split` (the resource carrying the weights), `weights` (route → workload → weight)."""

    def __init__(self, name: str, args: CanaryArgs, opts: pulumi.ResourceOptions | None = None):
        # Was the App Mesh backend's own CanaryRouter: an existing stack keeps its objects.
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="celestials:appmesh:CanaryRouter")])
        super().__init__("celestials:mesh:Canary", name, None, pulumi.ResourceOptions.merge(opts, moved))
        if args.split not in {m.key for m in args.manifests}:
            raise ValueError(f"canary {args.plan.router}: its split object {args.split} is not among the manifests given")
        created = apply_manifests(name, args.manifests, args.registry, parent=self, provider=args.k8s_provider,
                                  depends_on_by_kind=args.depends_on_by_kind, await_annotations=args.await_annotations)
        self.split = created[args.split]
        self.weights = route_weights(args.mesh, args.plan.router)
        self.register_outputs({"weights": self.weights, "workloads": list(args.plan.workloads)})


def apply_with_canaries(name: str, mesh: Mesh, manifests: Iterable[Manifest], registry: Registry, *,
                        canary_keys: Callable[[Mesh, CanaryPlan], frozenset[ObjectKey]], split_kind: str,
                        parent: pulumi.Resource, provider: k8s.Provider,
                        depends_on_by_kind: Mapping[str, Sequence[pulumi.Resource]],
                        await_annotations: AwaitAnnotations | None = None) -> dict[str, Canary]:
    """Apply a mesh's rendered objects: each weighted canary's own objects (which the backend's
    `canary_keys` names; the one of kind `split_kind` named after the router carries the weights)
    in a `Canary` child, everything else directly under `parent`. Returns router → Canary."""
    plans = canary_plans(mesh)
    owned = frozenset().union(*(canary_keys(mesh, p) for p in plans)) if plans else frozenset()
    main, canary = partition(manifests, owned)
    apply_manifests(name, main, registry, parent=parent, provider=provider, depends_on_by_kind=depends_on_by_kind,
                    await_annotations=await_annotations)
    canaries = {}
    for plan in plans:
        keys = canary_keys(mesh, plan)
        canaries[plan.router] = Canary(
            f"{name}-canary-{plan.router}",
            CanaryArgs(mesh=mesh, plan=plan, manifests=[m for m in canary if m.key in keys],
                       split=ObjectKey(split_kind, mesh.namespace, plan.router), registry=registry,
                       k8s_provider=provider, depends_on_by_kind=depends_on_by_kind,
                       await_annotations=await_annotations),
            opts=pulumi.ResourceOptions(parent=parent))
    return canaries
