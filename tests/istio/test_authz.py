"""The Istio AuthorizationPolicy renderer on its own: identities, ordering, refusals. (What the
policies allow on the whole program: tests/meshes/test_traffic_rules.py.)"""

from __future__ import annotations

import pytest

from celestials.render.istio_authz import ALLOW_NOTHING, principal, render_authorization_policies
from celestials.render.kubernetes_workloads import RenderError
from celestials.topology import build_topology
from tests.istio.rendering import settings_for


def _mesh(name: str):
    return build_topology(settings_for()).mesh(name)


def test_principals_are_the_callers_service_accounts():
    mesh = _mesh("prodcatalog-mesh")
    [policy] = [m for m in render_authorization_policies(
        mesh, inbound_ports={}, unauthenticated_ports={}, gateway_labels={"app": "ingress-gw"}, gateway_ports=(80,))
        if m.key.name == "allow-frontend-node"]
    assert policy.obj["spec"]["rules"] == [
        {"from": [{"source": {"principals": ["cluster.local/ns/prodcatalog-ns/sa/ingress-gw"]}}],
         "to": [{"operation": {"ports": ["9000"]}}]}]
    assert principal("ns", "sa") == "cluster.local/ns/ns/sa/sa"


def test_allow_nothing_is_last_and_waits_for_every_allow():
    rendered = render_authorization_policies(_mesh("mtls-mesh"), inbound_ports={}, unauthenticated_ports={})
    *allows, deny = rendered
    assert deny.key.name == ALLOW_NOTHING and deny.obj["spec"] == {}
    assert [a.key.name for a in allows] == ["allow-blue", "allow-green", "allow-red"]  # front: nobody calls it
    assert {a.key for a in allows} <= set(deny.depends_on)


def test_a_mesh_with_a_gateway_needs_its_labels_and_ports():
    with pytest.raises(RenderError, match="gateway ingress-gw but no gateway labels"):
        render_authorization_policies(_mesh("prodcatalog-mesh"), inbound_ports={}, unauthenticated_ports={})
