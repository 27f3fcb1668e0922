"""A first `pulumi up` waits only where it must: read the dependency graph as the engine walks it
(a resource starts once everything it depends on, and its provider, exists) and hold the longest
chain of slow creations to the ones that must be serial: the EKS control plane, the nodes, istiod,
the injected pods. The ingress NLB starts as soon as the cluster exists.

The durations are orders of magnitude for a first create in one region (minutes), only to weigh
the chains: EKS documents ~10 minutes for a control plane; a managed node group, a NAT gateway and
an awaited Helm release with pods take a few; a Deployment rolls out in about one.
"""

from __future__ import annotations

from functools import lru_cache

import pytest

from synth.harness import SynthResult
from tests.support.backend_synth import synth

MINUTES = {
    "eks:index:Cluster": 10.0,
    "eks:index:ManagedNodeGroup": 3.0,
    "aws:ec2/natGateway:NatGateway": 2.0,
    "aws:eks/addon:Addon": 1.0,
    "docker-build:index:Image": 3.0,
    "kubernetes:helm.sh/v3:Release": 1.0,
    "kubernetes:apps/v1:Deployment": 1.0,
}
#: Anything else is an API call or two.
QUICK = 0.05


def _weight(r: dict) -> float:
    if r["type"] == "kubernetes:helm.sh/v3:Release" and r["inputs"].get("chart") == "base":
        return QUICK  # CRDs and roles, no pods
    if r["type"] in MINUTES:  # pulumi-eks's Cluster and node group are components that take the time
        return MINUTES[r["type"]]
    return QUICK if r["custom"] else 0.0


def _references(value: object) -> list[str]:
    """Resource references among inputs (the synth records them as URNs): a remote component, such
    as pulumi-eks's node group given `cluster=`, waits for what it references."""
    if isinstance(value, dict):
        return [u for v in value.values() for u in _references(v)]
    if isinstance(value, list):
        return [u for v in value for u in _references(v)]
    return [value] if isinstance(value, str) and value.startswith("urn:pulumi:") else []


def _waits_for(result: SynthResult) -> dict[str, list[str]]:
    urns = result.urns
    return {urn: [d for d in (*r["dependencies"], r["provider"], *_references(r["inputs"])) if d in urns and d != urn]
            for urn, r in urns.items()}


def longest_chain(result: SynthResult, end: str | None = None) -> tuple[float, list[dict]]:
    """The slowest chain of creations (to `end`, or to anything), as (minutes, resources in order)."""
    urns, edges = result.urns, _waits_for(result)

    @lru_cache(maxsize=None)
    def finish(urn: str) -> tuple[float, tuple[str, ...]]:
        best: tuple[float, tuple[str, ...]] = (0.0, ())
        for dep in edges[urn]:
            best = max(best, finish(dep))
        return best[0] + _weight(urns[urn]), (*best[1], urn)

    if end is not None:
        total, chain = finish(end)
    else:
        total, chain = max(finish(u) for u in urns)
    return total, [urns[u] for u in chain]


def _slow(chain: list[dict]) -> list[str]:
    return [f"{r['type'].rsplit(':', 1)[-1]} {r['name']}" for r in chain if _weight(r) >= 1.0]


def _ingress_service(result: SynthResult) -> dict:
    [service] = [r for r in result.by_type("kubernetes:core/v1:Service")
                 if (r["inputs"].get("spec") or {}).get("type") == "LoadBalancer"]
    return service


@pytest.mark.parametrize("backend", ["istio", "appmesh"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_ingress_nlb_starts_as_soon_as_the_cluster_exists(backend, stack):
    result = synth(backend, stack)
    minutes, chain = longest_chain(result, _ingress_service(result)["urn"])
    assert _slow(chain) == ["Cluster cluster-eks"], [r["name"] for r in chain]
    assert minutes < MINUTES["eks:index:Cluster"] + 1


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_longest_chain_is_control_plane_nodes_istiod_and_the_pods(stack):
    result = synth("istio", stack)
    minutes, chain = longest_chain(result)
    slow = _slow(chain)
    assert slow[:3] == ["Cluster cluster-eks", "ManagedNodeGroup cluster-nodes", "Release mesh-control-plane-istiod"], slow
    assert [s.split()[0] for s in slow[3:]] == ["Deployment"] * len(slow[3:]) and len(slow[3:]) <= 1, slow
    assert minutes <= MINUTES["eks:index:Cluster"] + MINUTES["eks:index:ManagedNodeGroup"] + 2 + 1  # + API calls


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_nothing_in_the_mesh_waits_for_the_tracing_backend(stack):
    result = synth("istio", stack)
    [collector] = [r["urn"] for r in result.by_type("kubernetes:helm.sh/v3:Release")
                   if r["inputs"]["chart"] == "opentelemetry-collector"]
    waiting = [r["name"] for r in result.resources if r["urn"] != collector and result.depends_on(r["urn"], collector)]
    assert waiting == []


def test_the_chain_reading_sees_a_wait_that_is_added():
    """The longest-chain reading is not blind: make the ingress Service wait for istiod and it says so."""
    result = synth("istio", "dev")
    service = _ingress_service(result)
    [istiod] = [r["urn"] for r in result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "istiod"]
    changed = SynthResult(result.stack, [{**r, "dependencies": [*r["dependencies"], istiod]}
                                         if r["urn"] == service["urn"] else r for r in result.resources],
                          result.outputs)
    _, chain = longest_chain(changed, service["urn"])
    assert "Release mesh-control-plane-istiod" in _slow(chain)
