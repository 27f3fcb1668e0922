"""The local renderer, pure: model + plan → Envoy bootstraps and the process list."""

from __future__ import annotations

from dataclasses import replace

import pytest

from celestials import pki
from celestials.render.local_envoy import render_envoy_configs, sidecar_bootstrap
from celestials.render.local_plan import plan_local
from celestials.render.local_processes import Tools, render_processes
from celestials.settings import parse_settings
from celestials.topology import build_topology
from celestials.topology.model import Topology, TopologyError

ROOT = "/rehearsal"
TOOLS = Tools(python="/venv/bin/python", node="/usr/bin/node", envoy="/venv/bin/envoy")


def _render(net: int = 0, tracing: bool = True, **settings):
    topology = build_topology(parse_settings(settings, "dev"))
    plan = plan_local(topology, ROOT, net)
    return topology, plan, render_envoy_configs(topology, plan, tracing=tracing)


def _listener(config: dict, name: str) -> dict:
    (listener,) = [x for x in config["static_resources"]["listeners"] if x["name"] == name]
    return listener


def _hcm(listener: dict, chain: int = 0) -> dict:
    return listener["filter_chains"][chain]["filters"][0]["typed_config"]


def _cluster(config: dict, name: str) -> dict:
    (cluster,) = [c for c in config["static_resources"]["clusters"] if c["name"] == name]
    return cluster


def _types(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["@type"]} if "@type" in node else set()
        return found.union(*(_types(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_types(v) for v in node))
    return set()


def test_one_envoy_per_workload_and_gateway():
    topology, _, configs = _render()
    expected = {f"{w.name}-envoy" for m in topology.meshes for w in m.workloads}
    expected |= {m.gateway.name for m in topology.meshes if m.gateway}
    assert set(configs) == expected


def test_a_sidecar_has_outbound_listeners_for_its_declared_backends_only():
    _, _, configs = _render()
    frontend = configs["frontend-node-envoy"]
    assert [x["name"] for x in frontend["static_resources"]["listeners"]] == ["inbound", "outbound-prodcatalog"]
    assert {c["name"] for c in frontend["static_resources"]["clusters"]} == {"local-app", "prodcatalog", "trace-sink"}
    leaf = configs["proddetail-v1-envoy"]
    assert [x["name"] for x in leaf["static_resources"]["listeners"]] == ["inbound"]


@pytest.mark.parametrize("weight", [0, 37, 100])
def test_the_canary_is_a_weighted_route_in_the_callers_sidecar(weight):
    _, plan, configs = _render(canaryWeight=weight)
    route_config = _hcm(_listener(configs["prodcatalog-envoy"], "outbound-proddetail"))["route_config"]
    (route,) = route_config["virtual_hosts"][0]["routes"]
    assert route["match"] == {"prefix": "/"}
    action = route["route"]
    assert action["weighted_clusters"]["clusters"] == [
        {"name": "proddetail-v1", "weight": 100 - weight}, {"name": "proddetail-v2", "weight": weight}]
    assert action["timeout"] == "5.000s"
    assert action["retry_policy"] == {"retry_on": "5xx,gateway-error,connect-failure,reset", "num_retries": 2,
                                      "per_try_timeout": "2.000s"}
    assert action["host_rewrite_literal"] == "proddetail.prodcatalog-ns.svc.cluster.local:3000"


def test_weighted_targets_are_the_versions_sidecars():
    topology, plan, configs = _render()
    mesh = topology.mesh("prodcatalog-mesh")
    cluster = _cluster(configs["prodcatalog-envoy"], "proddetail-v2")
    address = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
    inbound = plan.inbound(mesh, mesh.workload("proddetail-v2"))
    assert (address["address"], address["port_value"]) == (inbound.host, inbound.port)


def test_header_routes_pick_the_colour_by_exact_match():
    _, _, configs = _render()
    routes = _hcm(_listener(configs["front-envoy"], "outbound-color"))["route_config"]["virtual_hosts"][0]["routes"]
    picked = {r["match"]["headers"][0]["string_match"]["exact"]: r["route"]["weighted_clusters"]["clusters"]
              for r in routes}
    assert picked == {c: [{"name": c, "weight": 100}] for c in ("blue", "green", "red")}
    assert all(r["match"]["headers"][0]["name"] == "color_header" for r in routes)


def test_strict_inbound_tls_requires_a_ca1_client_certificate_with_fronts_san():
    _, plan, configs = _render()
    blue = _listener(configs["blue-envoy"], "inbound")
    (chain,) = blue["filter_chains"]
    tls = chain["transport_socket"]["typed_config"]
    assert tls["require_client_certificate"] is True
    validation = tls["common_tls_context"]["validation_context"]
    assert validation["trusted_ca"]["filename"] == f"{ROOT}/pki/{pki.trust_file(['ca1'])}"
    assert validation["match_typed_subject_alt_names"] == [
        {"san_type": "DNS", "matcher": {"exact": "front.mtls.svc.cluster.local"}}]
    chain_file, key_file = plan.leaf_files("colorapp-blue")
    assert tls["common_tls_context"]["tls_certificates"] == [
        {"certificate_chain": {"filename": chain_file}, "private_key": {"filename": key_file}}]
    assert "transport_socket" not in _listener(configs["red-envoy"], "inbound")["filter_chains"][0]


@pytest.mark.parametrize("trust, trust_file", [("ca1", "ca1_cert.pem"), ("ca1+ca2", "ca1_ca2_bundle.pem")])
def test_outbound_tls_presents_fronts_certificate_and_trusts_the_configured_cas(trust, trust_file):
    _, plan, configs = _render(mtlsTrust=trust)
    for colour in ("blue", "green", "red"):
        tls = _cluster(configs["front-envoy"], colour)["transport_socket"]["typed_config"]
        assert tls["sni"] == f"color-{colour}.mtls.svc.cluster.local"
        context = tls["common_tls_context"]
        assert context["tls_certificates"][0]["certificate_chain"]["filename"] == plan.leaf_files("front")[0]
        assert context["validation_context"]["trusted_ca"]["filename"] == f"{ROOT}/pki/{trust_file}"
        assert {m["matcher"]["exact"] for m in context["validation_context"]["match_typed_subject_alt_names"]} == {
            "color-blue.mtls.svc.cluster.local", "color-green.mtls.svc.cluster.local"}


def test_permissive_inbound_accepts_tls_and_plaintext_and_unknown_modes_fail():
    topology, plan, _ = _render()
    mesh = topology.mesh("mtls-mesh")
    blue = mesh.workload("blue")
    permissive = sidecar_bootstrap(mesh, replace(blue, server_tls=replace(blue.server_tls, mode="PERMISSIVE")),
                                   plan, True)
    inbound = _listener(permissive, "inbound")
    assert inbound["listener_filters"][0]["name"] == "envoy.filters.listener.tls_inspector"
    assert [c.get("filter_chain_match") for c in inbound["filter_chains"]] == [{"transport_protocol": "tls"}, None]
    with pytest.raises(TopologyError, match="server TLS mode 'OPTIONAL' is not STRICT, PERMISSIVE or DISABLED"):
        sidecar_bootstrap(mesh, replace(blue, server_tls=replace(blue.server_tls, mode="OPTIONAL")), plan, True)


def test_the_gateway_routes_to_the_frontend_sidecar_with_the_service_host():
    topology, plan, configs = _render()
    gw = configs["ingress-gw"]
    assert _listener(gw, "ingress")["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 8088}
    (route,) = _hcm(_listener(gw, "ingress"))["route_config"]["virtual_hosts"][0]["routes"]
    assert route == {"match": {"prefix": "/"}, "route": {
        "cluster": "frontend-node", "host_rewrite_literal": "frontend-node.prodcatalog-ns.svc.cluster.local:9000"}}


def test_tracing_names_each_envoy_and_can_be_switched_off():
    _, plan, configs = _render()
    for name, config in configs.items():
        for listener in config["static_resources"]["listeners"]:
            tracer = _hcm(listener)["tracing"]["provider"]["typed_config"]
            assert tracer["service_name"] == name
            assert tracer["http_service"]["http_uri"]["uri"] == plan.sink.url + "/v1/traces"
    _, _, untraced = _render(tracing=False)
    for config in untraced.values():
        assert "trace-sink" not in {c["name"] for c in config["static_resources"]["clusters"]}
        assert all("tracing" not in _hcm(x) for x in config["static_resources"]["listeners"])


def test_every_typed_config_is_an_envoy_v3_type_and_every_listener_logs_access():
    _, _, configs = _render()
    types = set().union(*(_types(c) for c in configs.values()))
    assert types and all(t.startswith("type.googleapis.com/envoy.") and ".v3." in t for t in types), types
    for name, config in configs.items():
        for listener in config["static_resources"]["listeners"]:
            log = _hcm(listener)["access_log"][0]["typed_config"]
            assert log["path"] == f"{ROOT}/logs/{name}.access.log"


def test_rendering_is_deterministic_and_every_bound_address_is_unique():
    topology, plan, configs = _render(net=77)
    assert _render(net=77)[2] == configs
    processes = render_processes(topology, plan, TOOLS, "/src")
    bound = [str(listen.endpoint) for p in processes for listen in p.listens]
    assert len(bound) == len(set(bound)), sorted(bound)
    assert all(b.startswith("127.77.") for b in bound)


def test_apps_reach_their_backends_through_their_own_sidecar():
    topology, plan, _ = _render()
    mesh = topology.mesh("prodcatalog-mesh")
    env = {p.name: dict(p.env) for p in render_processes(topology, plan, TOOLS, "/src")}
    frontend = mesh.workload("frontend-node")
    assert env["frontend-node"]["BASE_URL"] == plan.outbound(mesh, frontend, "prodcatalog").url + "/products/"
    assert env["prodcatalog"]["AGG_APP_URL"] == (
        plan.outbound(mesh, mesh.workload("prodcatalog"), "proddetail").url + "/catalogDetail")
    assert env["prodcatalog"]["STORAGE_BACKEND"] == "sqlite"
    assert env["proddetail-v2"]["APP_VERSION"] == "2"
    assert env["front"]["COLOR_HOST"].startswith("http://127.0.3.")
    assert env["blue"]["COLOR"] == "blue"
    assert {n: env[n]["COLOR_ROLE"] for n in ("front", "blue", "green", "red")} == {
        "front": "front", "blue": "teller", "green": "teller", "red": "teller"}
    assert {env[n]["OTEL_SERVICE_NAME"] for n in ("frontend-node", "prodcatalog")} == {"Frontend-Node", "Product-Catalog"}
    assert env["frontend-node"]["HOST"] == plan.app(mesh, frontend).host


def test_an_app_without_a_launcher_is_refused_by_name():
    topology, plan, _ = _render()
    mesh = topology.mesh("prodcatalog-mesh")
    odd = replace(mesh, workloads=tuple(replace(w, app="cobol") if w.name == "prodcatalog" else w
                                        for w in mesh.workloads))
    with pytest.raises(TopologyError, match="workload prodcatalog: no local launcher for app 'cobol'"):
        render_processes(Topology((odd,)), plan_local(Topology((odd,)), ROOT), TOOLS, "/src")


def test_process_names_must_not_collide_across_meshes():
    topology, _, _ = _render()
    mesh = topology.mesh("prodcatalog-mesh")
    twin = replace(mesh, name="other-mesh", namespace="other")
    with pytest.raises(TopologyError, match="'frontend-node' is used in mesh prodcatalog-mesh and mesh other-mesh"):
        plan_local(Topology((mesh, twin)), ROOT)


def test_the_plan_refuses_a_relative_root_and_a_bad_net():
    topology, _, _ = _render()
    with pytest.raises(ValueError, match="must be an absolute path"):
        plan_local(topology, "build/local")
    with pytest.raises(ValueError, match="must be 0-255"):
        plan_local(topology, ROOT, 256)
