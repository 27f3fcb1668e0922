"""The backend-neutral NetworkPolicy renderer on its own: refusals, ordering, neutrality. (What
the rendered rules allow, on the whole program for each backend: tests/meshes/test_traffic_rules.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from celestials.render import network_policies as np
from celestials.render.kubernetes_workloads import RenderError
from celestials.settings import parse_settings
from celestials.topology import build_topology


def _mesh(name: str):
    return build_topology(parse_settings({"appMeshEndOfSupportAcknowledged": True}, "dev")).mesh(name)


GATEWAY = dict(gateway_labels={"app": "ingress-gw"}, gateway_ports=(80,))


def test_default_deny_comes_after_every_allow():
    rendered = np.render_network_policies(_mesh("prodcatalog-mesh"), np.TrafficRulesInputs(**GATEWAY))
    *allows, deny = rendered
    assert deny.key.name == np.DEFAULT_DENY
    assert {a.key for a in allows} <= set(deny.depends_on)
    assert [a.key.name for a in allows] == ["mesh-baseline", "allow-frontend-node", "allow-prodcatalog",
                                            "allow-proddetail-v1", "allow-proddetail-v2", "allow-ingress-gw"]


def test_a_mesh_with_a_gateway_needs_its_labels_and_ports():
    with pytest.raises(RenderError, match="gateway ingress-gw but no gateway labels"):
        np.render_network_policies(_mesh("prodcatalog-mesh"), np.TrafficRulesInputs())


@pytest.mark.parametrize("inputs,message", [
    (dict(inbound_ports={"nobody": (80,)}), "inbound ports given for workloads it does not have"),
    (dict(workload_egress={"nobody": ()}), "egress given for workloads it does not have"),
    (dict(inbound_ports={"front": ()}), "front: no inbound port"),
])
def test_inputs_naming_unknown_workloads_or_no_port_are_refused(inputs, message):
    with pytest.raises(RenderError, match=message):
        np.render_network_policies(_mesh("mtls-mesh"), np.TrafficRulesInputs(**inputs))


def test_a_destination_is_a_namespace_or_a_cidr_and_names_its_ports():
    with pytest.raises(RenderError, match="exactly one of a namespace or a CIDR"):
        np.Destination("x", (np.PortSpec(1),), namespace="a", cidr="0.0.0.0/0")
    with pytest.raises(RenderError, match="names no port"):
        np.Destination("x", (), namespace="a")


def test_the_cloud_api_rule_never_reaches_the_vpc():
    assert np.cloud_api("10.1.0.0/16", "why").rule() == {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.1.0.0/16"]}}], "ports": [{"protocol": "TCP", "port": 443}]}


def test_the_renderer_speaks_no_backend_vocabulary():
    """Backends pass their specifics in; the neutral renderer imports no backend module."""
    tree = ast.parse(Path(np.__file__).read_text())
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if "istio" in m or "appmesh" in m or m.startswith("components")}
