"""The proddetail canary: weights from the one setting, and a weight change that touches nothing
but the router."""

from __future__ import annotations

import pytest

from tests.appmesh.mesh_checks import of_kind
from tests.appmesh.program import evaluate_backend

CANARY_TYPE = "celestials:mesh:Canary"


def _weights(manifests) -> dict[str, int]:
    [router] = [r for r in of_kind(manifests, "VirtualRouter", "prodcatalog-ns")
                if r["metadata"]["name"] == "proddetail-router"]
    [route] = router["spec"]["routes"]
    return {t["virtualNodeRef"]["name"]: t["weight"] for t in route["httpRoute"]["action"]["weightedTargets"]}


@pytest.fixture(scope="module")
def by_weight():
    return {w: evaluate_backend(canaryWeight=w) for w in (0, 10, 50, 90, 100)}


@pytest.mark.parametrize("weight", [0, 10, 50, 90, 100])
def test_router_weights_equal_the_setting(by_weight, weight):
    assert _weights(by_weight[weight].manifests) == {"proddetail-v1": 100 - weight, "proddetail-v2": weight}


def test_default_split_is_fifty_fifty(backend):
    assert _weights(backend.manifests) == {"proddetail-v1": 50, "proddetail-v2": 50}


@pytest.mark.parametrize("before,after", [(10, 90), (50, 0), (0, 100)])
def test_a_weight_change_changes_only_the_router(by_weight, before, after):
    old = {r["urn"]: r for r in by_weight[before].result.resources}
    new = {r["urn"]: r for r in by_weight[after].result.resources}
    assert old.keys() == new.keys()
    changed = sorted(urn for urn in old if old[urn]["inputs"] != new[urn]["inputs"]
                     or old[urn]["dependencies"] != new[urn]["dependencies"])
    assert [urn.rsplit("::", 1)[1] for urn in changed] == [
        "mesh-prodcatalog-ns-canary-proddetail-router-virtualrouter-prodcatalog-ns-proddetail-router"]


def test_the_canary_component_owns_the_router_and_the_new_version(backend):
    result = backend.result
    [canary] = result.by_type(CANARY_TYPE)
    owned = sorted((r["inputs"]["kind"], r["inputs"]["metadata"]["name"]) for r in result.resources
                   if r["parent"] == canary["urn"])
    assert owned == [("Deployment", "proddetail-v2"), ("Service", "proddetail-v2"),
                     ("VirtualNode", "proddetail-v2"), ("VirtualRouter", "proddetail-router")]


def test_the_stable_version_stays_outside_the_canary(backend):
    result = backend.result
    [canary] = result.by_type(CANARY_TYPE)
    v1 = [r for r in result.resources if r["custom"] and (r["inputs"].get("metadata") or {}).get("name") == "proddetail-v1"]
    assert v1 and all(r["parent"] != canary["urn"] for r in v1)
