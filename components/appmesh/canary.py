"""A weighted canary: the VirtualRouter whose route splits traffic between a stable and a new
version, plus the new version's virtual node, Deployment and Service.

Why its own component: the split is the one thing operators change day to day. The weights come
from one setting (`celestials:canaryWeight`) through the model into this router's spec and nowhere
else, so `pulumi config set celestials:canaryWeight 90 && pulumi up` previews exactly one change:
this router. The canary's workload does not depend on the weight, so shifting traffic never
restarts a pod.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials.render.appmesh import CanaryPlan
from celestials.render.kubernetes_workloads import Manifest, ObjectKey
from celestials.topology.model import Mesh

from .apply import Registry, apply_manifests


@dataclass
class CanaryRouterArgs:
    """`manifests`: the canary's own objects (`celestials.render.appmesh.canary_keys`);
    `registry`: the mesh's objects created so far, which the canary's objects come after."""

    mesh: Mesh
    plan: CanaryPlan
    manifests: Sequence[Manifest]
    registry: Registry
    k8s_provider: k8s.Provider
    depends_on_by_kind: Mapping[str, Sequence[pulumi.Resource]]


def route_weights(mesh: Mesh, router: str) -> dict[str, dict[str, int]]:
    """route name → workload → weight, as the model (and so the router) has them."""
    return {r.name: {t.workload: t.weight for t in r.targets} for r in mesh.router(router).routes}


class CanaryRouter(pulumi.ComponentResource):
    """Outputs: `router` (the VirtualRouter resource), `weights` (route → workload → weight)."""

    def __init__(self, name: str, args: CanaryRouterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:appmesh:CanaryRouter", name, None, opts)
        keys = {m.key for m in args.manifests}
        router_key = ObjectKey("VirtualRouter", args.mesh.namespace, args.plan.router)
        if router_key not in keys:
            raise ValueError(f"canary {args.plan.router}: its VirtualRouter is not among the manifests given")
        created = apply_manifests(name, args.manifests, args.registry, parent=self, provider=args.k8s_provider,
                                  depends_on_by_kind=args.depends_on_by_kind)
        self.router = created[router_key]
        self.weights = route_weights(args.mesh, args.plan.router)
        self.register_outputs({"weights": self.weights, "workloads": list(args.plan.workloads)})
