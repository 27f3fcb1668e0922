"""The model's invariants: a table of broken meshes, each refused with a message naming the fault."""

from __future__ import annotations

from dataclasses import replace

import pytest

from celestials.settings import parse_settings
from celestials.topology import build_topology
from celestials.topology.model import (BackendEnv, ClientTls, Gateway, GatewayRoute, HealthCheck, Mesh, Route,
                                       Router, ServerTls, Service, TopologyError, WeightedTarget, Workload)

NS = "shop"


def _w(name: str, port: int = 8080, **kw) -> Workload:
    return Workload(name=name, app=name, image=name, port=port, host=name,
                    health=HealthCheck(path="/ping", port=port), tracing_name=name, **kw)


def _mesh(**changes) -> Mesh:
    """web → api (router: api-v1 / api-v2 by weight, api-v2 also for header beta=1), behind gw."""
    web = _w("web", backends=("api",), backend_env=(BackendEnv("API_URL", "api", "/items"),),
             client_tls=ClientTls(certificate="web", trust=("ca1",), sans=(f"api-v1.{NS}.svc.cluster.local",)))
    v1 = _w("api-v1", server_tls=ServerTls(certificate="api", client_trust=("ca1",),
                                          client_sans=(f"web.{NS}.svc.cluster.local",)))
    v1 = replace(v1, health=replace(v1.health, probe_port=8081))  # 8080 requires client certificates
    v2 = _w("api-v2")
    router = Router("api-router", 8080, (
        Route("beta", (WeightedTarget("api-v2", 100),), headers=(), prefix="/beta"),
        Route("split", (WeightedTarget("api-v1", 70), WeightedTarget("api-v2", 30))),
    ))
    base = dict(name="shop-mesh", namespace=NS, workloads=(web, v1, v2),
                services=(Service("web", 8080, workload="web"), Service("api", 8080, router="api-router")),
                routers=(router,), gateway=Gateway("gw", 8088, (GatewayRoute("all", "/", "web"),)))
    base.update(changes)
    return Mesh(**base)


def _route(**changes) -> Router:
    split = Route("split", (WeightedTarget("api-v1", 70), WeightedTarget("api-v2", 30)))
    return Router("api-router", 8080, (replace(split, **changes),))


def _web(**changes) -> Workload:
    return replace(_mesh().workload("web"), **changes)


def _with_workload(workload: Workload) -> tuple[Workload, ...]:
    return tuple(workload if w.name == workload.name else w for w in _mesh().workloads)


BROKEN = {
    "weights-sum-below-100": (
        dict(routers=(_route(targets=(WeightedTarget("api-v1", 70), WeightedTarget("api-v2", 20))),)),
        r"route split: weights sum to 90, not 100"),
    "weights-sum-above-100": (
        dict(routers=(_route(targets=(WeightedTarget("api-v1", 70), WeightedTarget("api-v2", 40))),)),
        r"route split: weights sum to 110, not 100"),
    "weight-not-an-integer": (
        dict(routers=(_route(targets=(WeightedTarget("api-v1", 70.0), WeightedTarget("api-v2", 30))),)),
        r"route split: weight 70\.0 of api-v1 is not an integer 0-100"),
    "weight-a-boolean": (
        dict(routers=(_route(targets=(WeightedTarget("api-v1", True), WeightedTarget("api-v2", 99))),)),
        r"weight True of api-v1 is not an integer 0-100"),
    "weight-negative": (
        dict(routers=(_route(targets=(WeightedTarget("api-v2", -10), WeightedTarget("api-v1", 110))),)),
        r"weight -10 of api-v2 is not an integer 0-100"),
    "weight-above-100": (
        dict(routers=(_route(targets=(WeightedTarget("api-v1", 110), WeightedTarget("api-v2", -10))),)),
        r"weight 110 of api-v1 is not an integer 0-100"),
    "route-without-targets": (dict(routers=(_route(targets=()),)), r"route split: has no targets"),
    "route-target-missing": (
        dict(routers=(_route(targets=(WeightedTarget("api-v3", 100),)),)),
        r"route split: target 'api-v3' does not exist"),
    "route-target-wrong-port": (
        dict(routers=(Router("api-router", 9090, (Route("split", (WeightedTarget("api-v1", 100),)),)),)),
        r"route split: target api-v1 does not listen on 9090"),
    "route-prefix-without-slash": (dict(routers=(_route(prefix="items"),)), r"prefix 'items' must start with /"),
    "router-without-routes": (dict(routers=(Router("api-router", 8080, ()),)), r"router api-router: has no routes"),
    "service-workload-missing": (
        dict(services=(Service("web", 8080, workload="web"), Service("api", 8080, workload="api-v9"))),
        r"service api: workload 'api-v9' does not exist"),
    "service-router-missing": (
        dict(services=(Service("web", 8080, workload="web"), Service("api", 8080, router="nope"))),
        r"service api: router 'nope' does not exist"),
    "service-both-workload-and-router": (
        dict(services=(Service("web", 8080, workload="web"),
                       Service("api", 8080, workload="api-v1", router="api-router"))),
        r"service api: needs exactly one of workload or router"),
    "service-port-differs-from-workload": (
        dict(services=(Service("web", 9999, workload="web"), Service("api", 8080, router="api-router"))),
        r"service web: port 9999 differs from its workload's"),
    "backend-not-a-service": (
        dict(workloads=_with_workload(_web(backends=("api", "search")))),
        r"workload web: backend 'search' is not a declared service"),
    "backend-env-not-a-backend": (
        dict(workloads=_with_workload(_web(backend_env=(BackendEnv("WEB_URL", "web"),)))),
        r"workload web: env WEB_URL points at 'web', which is not one of its backends"),
    "gateway-route-to-missing-service": (
        dict(gateway=Gateway("gw", 8088, (GatewayRoute("all", "/", "shop"),))),
        r"gateway route all: service 'shop' does not exist"),
    "server-san-of-another-namespace": (
        dict(workloads=_with_workload(replace(_mesh().workload("api-v1"), server_tls=ServerTls(
            certificate="api", client_trust=("ca1",), client_sans=("web.other.svc.cluster.local",))))),
        r"workload api-v1: server_tls SAN 'web\.other\.svc\.cluster\.local' is not the DNS name of a service "
        r"in namespace shop"),
    "client-san-not-a-service": (
        dict(workloads=_with_workload(_web(client_tls=ClientTls(
            certificate="web", trust=("ca1",), sans=(f"payments.{NS}.svc.cluster.local",))))),
        r"workload web: client_tls SAN 'payments\.shop\.svc\.cluster\.local' is not the DNS name"),
    "workload-unreachable-from-gateway": (
        dict(workloads=(*_mesh().workloads, _w("batch"))),
        r"workload batch: unreachable from the gateway \(declare it internal if that is intended\)"),
    "no-gateway-and-nothing-internal": (dict(gateway=None), r"workload web: unreachable from the gateway"),
    "two-workloads-same-name": (
        dict(workloads=(*_mesh().workloads, _w("api-v2"))), r"shop-mesh: two workloads named 'api-v2'"),
    "health-check-on-another-port": (
        dict(workloads=_with_workload(_web(health=HealthCheck(path="/ping", port=9000)))),
        r"workload web: health check port 9000 is not its port 8080"),
    "host-not-a-dns-label": (
        dict(workloads=_with_workload(_web(host="Web_1"))), r"'Web_1' is not a DNS label"),
    "no-replicas": (dict(workloads=_with_workload(_web(replicas=0))), r"workload web: replicas must be at least 1"),
}


@pytest.mark.parametrize("changes, message", BROKEN.values(), ids=BROKEN.keys())
def test_broken_mesh_is_refused_with_a_clear_message(changes, message):
    with pytest.raises(TopologyError, match=message):
        _mesh(**changes).validate()


def test_the_base_mesh_of_the_table_is_valid():
    """Each broken case differs from a valid mesh by exactly the fault it names."""
    assert _mesh().validate().name == "shop-mesh"


def test_a_workload_declared_internal_needs_no_gateway_route():
    batch = _w("batch", internal=True, backends=("api",))
    assert _mesh(workloads=(*_mesh().workloads, batch)).validate()


def test_a_workload_reached_only_through_an_internal_caller_is_reachable():
    mesh = _mesh(gateway=None, workloads=_with_workload(_web(internal=True)))
    assert mesh.validate()


@pytest.mark.parametrize("weight", [0, 1, 50, 99, 100])
def test_the_real_topology_is_valid_for_every_canary_weight(weight):
    topology = build_topology(parse_settings({"canaryWeight": weight}, "dev"))
    route = topology.mesh("prodcatalog-mesh").router("proddetail-router").routes[0]
    assert {t.workload: t.weight for t in route.targets} == {"proddetail-v1": 100 - weight, "proddetail-v2": weight}


def test_every_san_in_the_real_topology_is_a_service_dns_name_of_its_mesh():
    topology = build_topology(parse_settings({}, "dev"))
    checked = 0
    for mesh in topology.meshes:
        names = {mesh.dns(h) for h in mesh.hosts()}
        for w in mesh.workloads:
            sans = (w.server_tls.client_sans if w.server_tls else ()) + (w.client_tls.sans if w.client_tls else ())
            for san in sans:
                assert san in names, f"{w.name}: {san}"
                checked += 1
    assert checked > 0, "the topology has no TLS SANs to check"


def test_a_port_that_requires_client_certificates_never_carries_the_kubelets_probes():
    mesh = build_topology(parse_settings({}, "dev")).mesh_in("mtls")
    blue = mesh.workload("blue")
    assert blue.server_tls and blue.health.kubelet_port != blue.port
    probed_on_tls = replace(blue, health=replace(blue.health, probe_port=None))
    bad = replace(mesh, workloads=tuple(probed_on_tls if w.name == "blue" else w for w in mesh.workloads))
    with pytest.raises(TopologyError, match="port 8080 requires client certificates.*probe_port"):
        bad.validate()
    same_port = replace(blue, health=replace(blue.health, probe_port=blue.port))
    bad = replace(mesh, workloads=tuple(same_port if w.name == "blue" else w for w in mesh.workloads))
    with pytest.raises(TopologyError, match="probe port 8080 must be a port other than 8080"):
        bad.validate()
    red = mesh.workload("red")
    assert red.server_tls is None and red.health.kubelet_port == red.port  # plain: probed where it serves


def test_an_autoscaler_below_its_replicas_or_on_a_single_writer_is_refused():
    from celestials.topology.model import Autoscaling, Storage, TopologyError

    mesh = build_topology(parse_settings({"autoscaleMaxReplicas": 3}, "dev")).meshes[0]
    front = mesh.workloads[0]
    too_low = replace(mesh, workloads=(replace(front, replicas=2, autoscaling=Autoscaling(1)), *mesh.workloads[1:]))
    with pytest.raises(TopologyError, match=f"workload {front.name}: autoscaling max 1 is below its 2 replicas"):
        too_low.validate()
    sqlite = replace(front, storage=Storage("sqlite", directory="/data"), autoscaling=Autoscaling(3))
    with pytest.raises(TopologyError, match="sqlite storage has a single writer, so it cannot autoscale"):
        replace(mesh, workloads=(sqlite, *mesh.workloads[1:])).validate()
    gateway = replace(mesh.gateway, replicas=4, autoscaling=Autoscaling(3))
    with pytest.raises(TopologyError, match="gateway ingress-gw: autoscaling max 3 is below its 4 replicas"):
        replace(mesh, gateway=gateway).validate()
