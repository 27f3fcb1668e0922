"""The model's edges are exactly the calls issue 10 lists, whatever the canary weight."""

from __future__ import annotations

import pytest

from celestials.settings import parse_settings
from celestials.topology import build_topology
from celestials.topology.edges import Edge, callees_of, callers_of, mesh_edges, public_entrances
from celestials.topology.model import BackendEnv, HealthCheck, Mesh, Service, Workload


def _topology(**config):
    return build_topology(parse_settings({"appMeshEndOfSupportAcknowledged": True, **config}, "dev"))


@pytest.mark.parametrize("weight", [0, 50, 100])
def test_product_catalog_edges(weight):
    mesh = _topology(canaryWeight=weight).mesh("prodcatalog-mesh")
    assert mesh_edges(mesh) == {Edge("ingress-gw", "frontend-node"), Edge("frontend-node", "prodcatalog"),
                                Edge("prodcatalog", "proddetail-v1"), Edge("prodcatalog", "proddetail-v2")}
    assert public_entrances(mesh) == ("ingress-gw",)
    assert callers_of(mesh, "proddetail-v2") == ("prodcatalog",)
    assert callees_of(mesh, "prodcatalog") == ("proddetail-v1", "proddetail-v2")


def test_colorapp_edges():
    mesh = _topology().mesh("mtls-mesh")
    assert mesh_edges(mesh) == {Edge("front", c) for c in ("blue", "green", "red")}
    assert public_entrances(mesh) == ()
    assert callers_of(mesh, "front") == ()


def test_an_added_backend_is_an_added_edge():
    hc = HealthCheck("/ping", 80)
    a = Workload("a", "a", "a", 80, hc, "a", "A", backends=("b",), backend_env=(BackendEnv("B", "b"),), internal=True)
    b = Workload("b", "b", "b", 80, hc, "b", "B")
    mesh = Mesh("m", "ns", (a, b), (Service("b", 80, workload="b"),)).validate()
    assert mesh_edges(mesh) == {Edge("a", "b")}
