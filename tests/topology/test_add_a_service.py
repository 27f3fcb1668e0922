"""docs/add-a-service.md, done: a `ratings` service added to the real model as the guide says is
rendered, counted and checked as it says, and each mistake it names fails with the message it
quotes.

The toy's image is built from proddetail's code (a server that answers `/ping` on `$PORT`), so
the synth needs no app directory of its own; everything else is the guide's `ratings`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import pytest

import celestials.topology as topology_module
from celestials import images
from celestials.capacity import CapacityError
from celestials.guardrails import check
from celestials.render.local_plan import plan_local
from celestials.render.local_processes import Tools, render_processes
from celestials.settings import Settings, parse_settings
from celestials.topology import build_topology
from celestials.topology.edges import Edge, callers_of, mesh_edges
from celestials.topology.productcatalog import product_catalog_mesh
from celestials.topology.model import (BackendEnv, HealthCheck, Mesh, Resources, Service, TopologyError,
                                       Workload)
from synth.guardrails import resources_of
from synth.harness import quiet, synth_stack

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "add-a-service.md"
MESH = "prodcatalog-mesh"


def ratings(settings: Settings, **changes: Any) -> Workload:
    """The guide's step 3 workload."""
    mesh = product_catalog_mesh(settings)
    return dataclasses.replace(Workload(
        name="ratings", app="ratings", image="ratings", port=7000, host="ratings",
        health=HealthCheck(path="/ping", port=7000), tracing_name="Ratings",
        resources=Resources(cpu_request_m=50, memory_request_mi=64, memory_limit_mi=128),
        replicas=settings.request_path_replicas, autoscaling=mesh.workload("frontend-node").autoscaling,
    ), **changes)


def with_ratings(mesh: Mesh, workload: Workload, service: Service | None = None, called: bool = True) -> Mesh:
    """Steps 3 and 4: the workload, its Service, and frontend-node calling it with RATINGS_URL."""
    front = mesh.workload("frontend-node")
    if called:
        front = dataclasses.replace(front, backends=(*front.backends, "ratings"),
                                    backend_env=(*front.backend_env, BackendEnv("RATINGS_URL", "ratings", "/ratings/")))
    workloads = tuple(front if w.name == front.name else w for w in mesh.workloads) + (workload,)
    services = (*mesh.services, service or Service(name="ratings", port=7000, workload="ratings"))
    return dataclasses.replace(mesh, workloads=workloads, services=services).validate()


def _settings(stack: str = "dev") -> Settings:
    return parse_settings({}, stack)


@pytest.fixture
def added(monkeypatch) -> Callable[..., None]:
    """Put `ratings` into the real model (and its image into the registry, step 2) for a synth;
    keyword arguments change the workload."""
    def add(**changes: Any) -> None:
        monkeypatch.setattr(topology_module, "product_catalog_mesh",
                            lambda settings: with_ratings(product_catalog_mesh(settings), ratings(settings, **changes)))
        monkeypatch.setitem(images.IMAGES, "ratings",
                            images.ImageSpec("ratings", "proddetail", "ratings", "1.0", context_dir=images.APPS_DIR))
    return add


def _synth(stack: str):
    with quiet():
        return synth_stack(stack)


def _named(result, typ: str, name: str) -> dict[str, Any]:
    return next(r for r in result.resources if r["type"] == typ and r["inputs"].get("metadata", {}).get("name") == name)


def test_the_service_is_rendered_with_its_edge_and_passes_the_guardrails(added):
    added()
    result = _synth("dev")
    mesh = build_topology(_settings()).mesh(MESH)
    assert Edge("frontend-node", "ratings") in mesh_edges(mesh) and callers_of(mesh, "ratings") == ("frontend-node",)
    for typ in ("kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:core/v1:ServiceAccount"):
        _named(result, typ, "ratings")
    assert _named(result, "kubernetes:security.istio.io/v1:AuthorizationPolicy", "allow-ratings")
    assert any(r["type"] == "aws:ecr/repository:Repository" and r["name"] == "images-ratings" for r in result.resources)
    # the caller gets the URL (guide step 4) and an egress rule to the new port
    front = _named(result, "kubernetes:apps/v1:Deployment", "frontend-node")
    env = {e["name"]: e.get("value") for e in front["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["RATINGS_URL"] == "http://ratings.prodcatalog-ns.svc.cluster.local:7000/ratings/"
    egress = _named(result, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "allow-frontend-node")["inputs"]["spec"]["egress"]
    assert {"port": 7000, "protocol": "TCP"} in [p for rule in egress for p in rule.get("ports", [])]
    ingress = _named(result, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "allow-ratings")["inputs"]["spec"]["ingress"]
    assert [peer["podSelector"]["matchLabels"]["workload"] for rule in ingress for peer in rule["from"]] == ["frontend-node"]
    assert check(resources_of(result)) == []


def test_production_refuses_a_fixed_single_replica(added):
    added(replicas=1, autoscaling=None)
    found = check(resources_of(_synth("prod")))
    assert [(v.rule, v.urn.rsplit("::", 1)[1]) for v in found] == [
        ("prod-survives-node-loss", "mesh-prodcatalog-ns-deployment-prodcatalog-ns-ratings")]
    assert _quoted(found[0].message) in found[0].message


def test_a_container_without_a_memory_limit_is_refused(added):
    added(resources=Resources(cpu_request_m=50, memory_request_mi=64))
    found = check(resources_of(_synth("dev")))
    assert [(v.rule, v.urn.rsplit("::", 1)[1]) for v in found] == [
        ("containers-hardened", "mesh-prodcatalog-ns-deployment-prodcatalog-ns-ratings")]
    assert _quoted(found[0].message) in found[0].message


def test_a_workload_that_does_not_fit_stops_the_synth_with_the_shortfall(added):
    added(resources=Resources(cpu_request_m=50, memory_request_mi=1536, memory_limit_mi=2048))
    with pytest.raises(CapacityError) as caught:
        _synth("dev")
    message = str(caught.value)
    assert message.startswith("the workloads do not fit on stack dev's node group — ")
    assert "memory short by " in message and "Raise celestials:nodeCount" in message
    assert "`the workloads do not fit on stack dev's node group — 2 × t4g.medium: ...; memory short by ...Mi.`" in \
        GUIDE.read_text()


def _quoted(message: str) -> str:
    """The part of a message the guide quotes; the guide must quote it verbatim."""
    for quoted in ("in production runs 1 replica(s), fewer than 2; run it highly available or say why not "
                   "(celestials.io/single-replica-reason)", "has no limits.memory (resources)"):
        if quoted in message:
            assert f"`{quoted}`" in " ".join(GUIDE.read_text().split()), f"the guide does not quote {quoted!r}"
            return quoted
    raise AssertionError(f"not a message the guide names: {message}")


def _without_service(s: Settings) -> Mesh:
    mesh = product_catalog_mesh(s)
    front = mesh.workload("frontend-node")
    front = dataclasses.replace(front, backends=(*front.backends, "ratings"))
    return dataclasses.replace(mesh, workloads=tuple(front if w.name == front.name else w for w in mesh.workloads)
                               + (ratings(s),)).validate()


#: the guide's step 3 table: mistake → (the model with it, the message the guide quotes)
MISTAKES: dict[str, tuple[Callable[[Settings], Mesh], str]] = {
    "no Service": (_without_service, "workload frontend-node: backend 'ratings' is not a declared service"),
    "health port": (lambda s: with_ratings(product_catalog_mesh(s),
                                           ratings(s, health=HealthCheck(path="/ping", port=7001))),
                    "workload ratings: health check port 7001 is not its port 7000"),
    "service port": (lambda s: with_ratings(product_catalog_mesh(s), ratings(s),
                                            Service(name="ratings", port=7001, workload="ratings")),
                     "service ratings: port 7001 differs from its workload's"),
    "name": (lambda s: with_ratings(product_catalog_mesh(s), ratings(s, name="Ratings"),
                                    Service(name="ratings", port=7000, workload="Ratings")),
             "'Ratings' is not a DNS label"),
    "no caller": (lambda s: with_ratings(product_catalog_mesh(s), ratings(s), called=False),
                  "workload ratings: unreachable from the gateway (declare it internal if that is intended)"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_model_mistake_the_guide_names_fails_with_its_message(mistake):
    build, message = MISTAKES[mistake]
    with pytest.raises(TopologyError) as caught:
        build(_settings())
    assert message in str(caught.value)
    assert f"`{message}`" in GUIDE.read_text()


def test_an_image_the_registry_does_not_know_is_refused():
    mesh = with_ratings(product_catalog_mesh(_settings()), ratings(_settings()))
    with pytest.raises(images.ImageError) as caught:
        images.images_for(dataclasses.replace(build_topology(_settings()), meshes=(mesh,)))
    assert str(caught.value).startswith("unknown image 'ratings'; known images: ")
    assert "`unknown image 'ratings'; known images: ...`" in GUIDE.read_text()


def test_an_app_without_a_local_launcher_is_refused(tmp_path):
    mesh = with_ratings(product_catalog_mesh(_settings()), ratings(_settings()))
    topology = dataclasses.replace(build_topology(_settings()), meshes=(mesh,))
    with pytest.raises(TopologyError) as caught:
        render_processes(topology, plan_local(topology, str(tmp_path)), Tools("python", "node", "envoy"), str(ROOT))
    assert str(caught.value).startswith("workload ratings: no local launcher for app 'ratings' (known: ")
    assert "`workload ratings: no local launcher for app 'ratings' (known: ...)`" in GUIDE.read_text()


def test_the_guide_is_linked_from_the_readme():
    assert "(docs/add-a-service.md)" in (ROOT / "README.md").read_text()
