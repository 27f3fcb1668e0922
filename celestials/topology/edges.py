"""Who may call whom, derived once from the topology model: the single source of truth every
traffic rule is rendered from (Kubernetes NetworkPolicies, Istio AuthorizationPolicies) and every
boundary test checks against (the backends' synth, the local rehearsal).

An edge joins a caller (a workload, or the mesh's ingress gateway) to a callee workload, resolved
through what the model declares: a workload's `backends` are services; a service is served by
one workload or by a router, whose route targets are the workloads that answer. The gateway calls
the workloads behind the services its routes name. Internal workloads (not reached from the
gateway) call their backends like any other. Nothing else is an edge: no workload calls itself
or another workload it does not declare, and nothing calls the gateway from inside the mesh (its
only callers are the public ones, `public_entrances`).

Pure: model in, frozen sets out.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Mesh


@dataclass(frozen=True, order=True)
class Edge:
    """`caller` may call `callee` (workload names; the caller may be the gateway's name)."""

    caller: str
    callee: str


def mesh_edges(mesh: Mesh) -> frozenset[Edge]:
    """Every declared call of the mesh, caller → callee workload."""
    edges: set[Edge] = set()
    for w in mesh.workloads:
        for service in w.backends:
            edges |= {Edge(w.name, callee) for callee in mesh.service_workloads(service)}
    if mesh.gateway:
        for route in mesh.gateway.routes:
            edges |= {Edge(mesh.gateway.name, callee) for callee in mesh.service_workloads(route.service)}
    return frozenset(edges)


def callers_of(mesh: Mesh, callee: str) -> tuple[str, ...]:
    """The callers of a workload, sorted."""
    return tuple(sorted(e.caller for e in mesh_edges(mesh) if e.callee == callee))


def callees_of(mesh: Mesh, caller: str) -> tuple[str, ...]:
    """The workloads a caller (workload or gateway) may call, sorted."""
    return tuple(sorted(e.callee for e in mesh_edges(mesh) if e.caller == caller))


def public_entrances(mesh: Mesh) -> tuple[str, ...]:
    """What may be called from anywhere (the internet-facing load balancer): the gateway, if any."""
    return (mesh.gateway.name,) if mesh.gateway else ()
