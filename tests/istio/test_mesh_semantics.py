"""What Istio and the Gateway API need of the objects beyond their schema: routes that name
rendered Services on ports they have, the canary weights from the one setting, ingress that
reaches only the front end, injection everywhere a Deployment runs, one identity per workload."""

from __future__ import annotations

import pytest

from celestials.render.istio import GATEWAY_CLASS, INJECTION_LABEL, PROXY_CONTAINER_NAMES
from celestials.render.kubernetes_workloads import IRSA_ROLE_ANNOTATION, PART_OF
from celestials.render.load_balancer import NLB_ANNOTATIONS, PUBLIC_HTTP_PORT
from celestials.topology import colorapp, productcatalog

from tests.appmesh.mesh_checks import broken, name, of_kind
from tests.istio.istio_checks import (injection_problems, route_reference_problems, service_selection_problems)
from tests.istio.rendering import ROLES, objects, render_all, settings_for

PC = productcatalog.NAMESPACE


def _route(objs, namespace, route_name):
    [route] = [r for r in of_kind(objs, "HTTPRoute", namespace) if name(r) == route_name]
    return route


def _weights(objs) -> dict[str, int]:
    [rule] = _route(objs, PC, "proddetail-router")["spec"]["rules"]
    return {b["name"]: b["weight"] for b in rule["backendRefs"]}


def test_routes_name_rendered_services_on_their_ports(rendered):
    assert route_reference_problems(rendered) == []
    assert service_selection_problems(rendered) == []


@pytest.mark.parametrize("config", [{"mtlsTrust": "ca1+ca2"}, {"canaryWeight": 0}, {"tracing": False},
                                    {"prodcatalogStorage": "sqlite", "prodcatalogReplicas": 1}])
def test_semantic_checks_hold_for_other_settings(config):
    objs = objects(render_all(**config))
    assert route_reference_problems(objs) + service_selection_problems(objs) + injection_problems(objs) == []


@pytest.mark.parametrize("weight", [0, 10, 50, 90, 100])
def test_canary_weights_equal_the_setting(weight):
    # weight 0 (and 100) keep both backends declared, the idle one at weight 0
    assert _weights(objects(render_all(canaryWeight=weight))) == {"proddetail-v1": 100 - weight,
                                                                  "proddetail-v2": weight}


def test_mesh_routes_attach_to_the_routed_services(rendered):
    parents = {name(r): r["spec"]["parentRefs"] for r in of_kind(rendered, "HTTPRoute")}
    assert parents["proddetail-router"] == [{"group": "", "kind": "Service", "name": "proddetail", "port": 3000}]
    assert parents["prodcatalog-router"] == [{"group": "", "kind": "Service", "name": "prodcatalog", "port": 5000}]
    assert parents["color-router"] == [{"group": "", "kind": "Service", "name": "color", "port": 8080}]


def test_route_timeouts_and_header_matches_follow_the_model(rendered):
    [rule] = _route(rendered, PC, "proddetail-router")["spec"]["rules"]
    assert rule["timeouts"] == {"request": "5s"}
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    rules = {r["name"]: r for r in _route(rendered, colorapp.NAMESPACE, "color-router")["spec"]["rules"]}
    for color in colorapp.COLORS:
        rule = rules[f"color-route-{color}"]
        assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"},
                                    "headers": [{"type": "Exact", "name": "color_header", "value": color}]}]
        assert rule["backendRefs"] == [{"group": "", "kind": "Service", "name": f"color-{color}", "port": 8080,
                                        "weight": 100}]
        assert "retry" not in rule  # not in the standard channel (see istio_routes)


def test_ingress_reaches_the_front_end_only(rendered):
    [gateway] = of_kind(rendered, "Gateway")
    assert (gateway["metadata"]["namespace"], name(gateway)) == (PC, productcatalog.GATEWAY_NAME)
    assert gateway["spec"] == {
        "gatewayClassName": GATEWAY_CLASS,
        "addresses": [{"type": "Hostname", "value": f"{productcatalog.GATEWAY_NAME}.{PC}.svc.cluster.local"}],
        "listeners": [{"name": "http", "port": PUBLIC_HTTP_PORT, "protocol": "HTTP",
                       "allowedRoutes": {"namespaces": {"from": "Same"}}}]}
    on_gateway = [r for r in of_kind(rendered, "HTTPRoute")
                  if any(p.get("kind") == "Gateway" for p in r["spec"]["parentRefs"])]
    assert [name(r) for r in on_gateway] == [productcatalog.GATEWAY_NAME]
    backends = {(b["name"], b["port"]) for rule in on_gateway[0]["spec"]["rules"] for b in rule["backendRefs"]}
    assert backends == {("frontend-node", 9000)}


def test_the_gateway_address_is_our_internet_facing_nlb_service_in_front_of_injected_gateway_pods(rendered):
    """Manual deployment (istio_gateway): the Service the Gateway binds to is ours, so `pulumi
    destroy` awaits its NLB; its pods are gateway proxies the injector fills in."""
    [gateway] = of_kind(rendered, "Gateway")
    host = gateway["spec"]["addresses"][0]["value"]
    [service] = [s for s in of_kind(rendered, "Service", PC) if f"{name(s)}.{PC}.svc.cluster.local" == host]
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == NLB_ANNOTATIONS
    assert [p["port"] for p in service["spec"]["ports"]] == [PUBLIC_HTTP_PORT]
    [deployment] = [d for d in of_kind(rendered, "Deployment", PC) if name(d) == productcatalog.GATEWAY_NAME]
    pod = deployment["spec"]["template"]
    assert all(pod["metadata"]["labels"].get(k) == v for k, v in service["spec"]["selector"].items())
    assert pod["metadata"]["labels"]["gateway.networking.k8s.io/gateway-name"] == name(gateway)
    assert pod["metadata"]["labels"]["sidecar.istio.io/inject"] == "true"
    assert pod["metadata"]["annotations"]["inject.istio.io/templates"] == "gateway"
    [proxy] = pod["spec"]["containers"]
    assert (proxy["name"], proxy["image"]) == ("istio-proxy", "auto")
    g = productcatalog.product_catalog_mesh(settings_for()).gateway
    assert proxy["resources"]["requests"] == {"cpu": f"{g.resources.cpu_request_m}m",
                                              "memory": f"{g.resources.memory_request_mi}Mi"}
    assert deployment["spec"]["replicas"] == g.replicas


def test_every_deployment_is_in_an_injection_labelled_namespace(rendered):
    assert injection_problems(rendered) == []
    labels = {name(n): n["metadata"]["labels"] for n in of_kind(rendered, "Namespace")}
    assert labels == {ns: {INJECTION_LABEL: "enabled", **PART_OF} for ns in (PC, colorapp.NAMESPACE)}


def test_each_workload_runs_as_its_own_service_account_with_its_role(rendered):
    accounts = {(a["metadata"]["namespace"], name(a)): a for a in of_kind(rendered, "ServiceAccount")}
    for d in of_kind(rendered, "Deployment"):
        if name(d) == productcatalog.GATEWAY_NAME:
            continue  # its only container is the injected gateway proxy (test above)
        sa = d["spec"]["template"]["spec"]["serviceAccountName"]
        assert sa == name(d) and (d["metadata"]["namespace"], sa) in accounts
        annotations = accounts[(d["metadata"]["namespace"], sa)]["metadata"].get("annotations", {})
        assert annotations == ({IRSA_ROLE_ANNOTATION: ROLES[sa]} if sa in ROLES else {})
        containers = [c["name"] for c in d["spec"]["template"]["spec"]["containers"]]
        assert not set(containers) & set(PROXY_CONTAINER_NAMES)


def test_no_app_mesh_vocabulary_leaks(rendered):
    text = repr(rendered)
    assert "appmesh" not in text and "/certs/" not in text


@pytest.mark.parametrize("check,kind,obj,mutate,expected", [
    (route_reference_problems, "HTTPRoute", "proddetail-router",
     lambda o: o["spec"]["rules"][0]["backendRefs"][1].update(name="proddetail-v3"), "not rendered"),
    (route_reference_problems, "HTTPRoute", "color-router",
     lambda o: o["spec"]["parentRefs"][0].update(port=80), "has no port 80"),
    (route_reference_problems, "HTTPRoute", "ingress-gw",
     lambda o: o["spec"]["parentRefs"][0].update(name="other-gw"), "parent Gateway"),
    (service_selection_problems, "Service", "proddetail-v2",
     lambda o: o["spec"].update(selector={"app": "nothing"}), "selects no pods"),
    (injection_problems, "Namespace", "mtls", lambda o: o["metadata"]["labels"].pop(INJECTION_LABEL),
     "Deployment mtls/front"),
])
def test_each_check_catches_a_broken_object(rendered, check, kind, obj, mutate, expected):
    problems = check(broken(rendered, kind, obj, mutate))
    assert problems and any(expected in p for p in problems), problems
