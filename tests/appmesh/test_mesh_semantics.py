"""What the App Mesh controller and its webhook need of the objects, beyond their schema: labelled
namespaces, pod selection, references between objects, and DNS names that match Services."""

from __future__ import annotations

import pytest

from celestials.render.appmesh import (ENVOY_SERVICE_ACCOUNT, GATEWAY_LABEL, INJECTOR_LABEL, MESH_LABEL,
                                       NLB_ANNOTATIONS, AppMeshInputs, render_app_mesh)
from celestials.topology import productcatalog
from tests.appmesh.mesh_checks import (all_semantic_problems, broken, dns_problems, namespace_problems, of_kind,
                                       reference_problems, selection_problems)
from tests.appmesh.program import evaluate_backend


def test_backend_objects_hold_every_semantic_check(backend):
    assert all_semantic_problems(backend.manifests) == []


@pytest.mark.parametrize("config", [{"mtlsTrust": "ca1+ca2"}, {"tracing": False},
                                    {"prodcatalogStorage": "sqlite", "prodcatalogReplicas": 1}])
def test_semantic_checks_hold_for_other_settings(config):
    assert all_semantic_problems(evaluate_backend(**config).manifests) == []


def test_meshed_namespaces_carry_the_labels(backend):
    namespaces = {o["metadata"]["name"]: o["metadata"]["labels"] for o in of_kind(backend.manifests, "Namespace")}
    assert namespaces["prodcatalog-ns"][MESH_LABEL] == "prodcatalog-mesh"
    assert namespaces["prodcatalog-ns"][GATEWAY_LABEL] == "ingress-gw"
    assert namespaces["mtls"][MESH_LABEL] == "mtls-mesh"
    assert GATEWAY_LABEL not in namespaces["mtls"]
    assert {namespaces[n][INJECTOR_LABEL] for n in ("prodcatalog-ns", "mtls")} == {"enabled"}
    # The collector's and controller's namespaces are outside every mesh (no injector label).
    assert INJECTOR_LABEL not in namespaces["observability"] and INJECTOR_LABEL not in namespaces["appmesh-system"]


def test_ingress_gateway_objects(backend):
    ns = productcatalog.NAMESPACE
    [vg] = of_kind(backend.manifests, "VirtualGateway", ns)
    [deployment] = [d for d in of_kind(backend.manifests, "Deployment", ns) if d["metadata"]["name"] == "ingress-gw"]
    [service] = [s for s in of_kind(backend.manifests, "Service", ns) if s["metadata"]["name"] == "ingress-gw"]
    [route] = of_kind(backend.manifests, "GatewayRoute", ns)
    assert vg["spec"]["listeners"][0]["portMapping"] == {"port": 8088, "protocol": "http"}
    assert [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]] == ["envoy"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == ENVOY_SERVICE_ACCOUNT
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == NLB_ANNOTATIONS
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8088, "protocol": "TCP"}]
    assert route["spec"]["httpRoute"] == {
        "match": {"prefix": "/"},
        "action": {"target": {"virtualService": {"virtualServiceRef": {"name": "frontend-node"}}}}}


def test_virtual_services_use_service_dns_names(backend):
    names = {o["metadata"]["name"]: o["spec"]["awsName"] for o in of_kind(backend.manifests, "VirtualService")}
    assert names == {"frontend-node": "frontend-node.prodcatalog-ns.svc.cluster.local",
                     "prodcatalog": "prodcatalog.prodcatalog-ns.svc.cluster.local",
                     "proddetail": "proddetail.prodcatalog-ns.svc.cluster.local",
                     "front": "front.mtls.svc.cluster.local",
                     "color": "color.mtls.svc.cluster.local"}


def test_virtual_nodes_have_the_models_listeners_backends_logs_and_dns(backend, topology):
    nodes = {(o["metadata"]["namespace"], o["metadata"]["name"]): o["spec"] for o in of_kind(backend.manifests, "VirtualNode")}
    for mesh in topology.meshes:
        for w in mesh.workloads:
            spec = nodes[(mesh.namespace, w.name)]
            [listener] = spec["listeners"]
            assert listener["portMapping"] == {"port": w.port, "protocol": "http"}
            assert listener["healthCheck"] == {
                "protocol": "http", "path": w.health.path, "port": w.health.port,
                "healthyThreshold": w.health.healthy_threshold, "unhealthyThreshold": w.health.unhealthy_threshold,
                "timeoutMillis": w.health.timeout_ms, "intervalMillis": w.health.interval_ms}
            assert [b["virtualService"]["virtualServiceRef"]["name"] for b in spec.get("backends", [])] == list(w.backends)
            assert spec["serviceDiscovery"] == {"dns": {"hostname": mesh.dns(w.host)}}
            assert spec["logging"] == {"accessLog": {"file": {"path": "/dev/stdout"}}}
            assert spec["awsName"] == f"{w.name}_{mesh.namespace}"


def test_header_routes_of_the_color_router(backend):
    [router] = of_kind(backend.manifests, "VirtualRouter", "mtls")
    routes = {r["name"]: r["httpRoute"] for r in router["spec"]["routes"]}
    for color in ("blue", "green", "red"):
        route = routes[f"color-route-{color}"]
        assert route["match"] == {"prefix": "/", "headers": [{"name": "color_header", "match": {"exact": color}}]}
        assert route["action"]["weightedTargets"] == [{"virtualNodeRef": {"name": color}, "weight": 100}]


def test_retry_policy_and_timeouts_of_the_product_routes(backend):
    routers = {o["metadata"]["name"]: o for o in of_kind(backend.manifests, "VirtualRouter", "prodcatalog-ns")}
    http = routers["proddetail-router"]["spec"]["routes"][0]["httpRoute"]
    assert http["timeout"] == {"perRequest": {"unit": "ms", "value": 5000}}
    assert http["retryPolicy"] == {"maxRetries": 2, "perRetryTimeout": {"unit": "ms", "value": 2000},
                                   "httpRetryEvents": ["server-error", "gateway-error"],
                                   "tcpRetryEvents": ["connection-error"]}


# --- each check can fail -------------------------------------------------------------------------
def _relabel(o):
    o["spec"]["template"]["metadata"]["labels"] = {"app": "stray"}


@pytest.mark.parametrize("check,kind,name,mutate,expected", [
    (namespace_problems, "Namespace", "mtls", lambda o: o["metadata"]["labels"].pop(MESH_LABEL),
     "expected exactly one"),
    (namespace_problems, "Namespace", "prodcatalog-ns", lambda o: o["metadata"]["labels"].pop(INJECTOR_LABEL),
     INJECTOR_LABEL),
    (namespace_problems, "Namespace", "prodcatalog-ns", lambda o: o["metadata"]["labels"].pop(GATEWAY_LABEL),
     "VirtualGateway"),
    (selection_problems, "Deployment", "red", _relabel, "Deployment mtls/red"),
    (selection_problems, "VirtualNode", "prodcatalog", lambda o: o["spec"]["podSelector"].update(matchLabels={"app": "x"}),
     "expected exactly one workload"),
    (selection_problems, "VirtualNode", "proddetail-v1",
     lambda o: o["spec"]["podSelector"].update(matchLabels={"app": "proddetail"}), "expected exactly one"),
    (reference_problems, "VirtualNode", "frontend-node",
     lambda o: o["spec"]["backends"][0]["virtualService"]["virtualServiceRef"].update(name="catalog"),
     "not a declared VirtualService"),
    (reference_problems, "GatewayRoute", "gateway-route-frontend",
     lambda o: o["spec"]["httpRoute"]["action"]["target"]["virtualService"]["virtualServiceRef"].update(name="web"),
     "not a declared VirtualService"),
    (dns_problems, "VirtualService", "proddetail",
     lambda o: o["spec"].update(awsName="proddetail.prodcatalog-ns.svc.cluster"), "awsName"),
    (dns_problems, "VirtualNode", "blue",
     lambda o: o["spec"]["serviceDiscovery"]["dns"].update(hostname="blue.mtls.svc.cluster.local"), "DNS hostname"),
    (dns_problems, "Service", "proddetail-v2", lambda o: o["spec"].update(selector={"app": "proddetail", "version": "v1"}),
     "does not select its pods"),
])
def test_each_check_catches_its_defect(backend, check, kind, name, mutate, expected):
    problems = check(broken(backend.manifests, kind, name, mutate))
    assert any(expected in p for p in problems), problems


def test_renderer_refuses_a_dynamodb_prodcatalog_without_its_own_role(settings, topology):
    mesh = topology.mesh_in(productcatalog.NAMESPACE)
    with pytest.raises(ValueError, match="prodcatalog: stores data in dynamodb but has no IAM role"):
        render_app_mesh(mesh, settings, AppMeshInputs(images={}, dynamodb_table="t"))
