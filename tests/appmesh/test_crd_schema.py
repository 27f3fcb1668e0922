"""Every App Mesh object the backend creates validates against the upstream CRDs
(appmesh-controller 1.13.3), with unknown fields refused (the API server would prune them)."""

from __future__ import annotations

import pytest

from celestials.render.appmesh import APPMESH_KINDS
from tests.appmesh.mesh_checks import appmesh_objects, broken, crd_problems


def test_every_appmesh_kind_the_backend_uses_has_a_served_crd(crd_validators, backend):
    kinds = {o["kind"] for o in appmesh_objects(backend.manifests)}
    assert kinds == set(APPMESH_KINDS)
    assert kinds <= set(crd_validators)


def test_every_appmesh_object_validates(crd_validators, backend):
    objects = appmesh_objects(backend.manifests)
    assert len(objects) == 20  # 2 meshes, 8 nodes, 5 services, 3 routers, 1 gateway, 1 gateway route
    assert crd_problems(objects, crd_validators) == []


@pytest.mark.parametrize("config", [{"canaryWeight": 0}, {"canaryWeight": 100}, {"mtlsTrust": "ca1+ca2"},
                                    {"tracing": False}, {"prodcatalogStorage": "sqlite", "prodcatalogReplicas": 1}])
def test_objects_validate_for_other_settings(crd_validators, config):
    from tests.appmesh.program import evaluate_backend

    assert crd_problems(evaluate_backend(**config).manifests, crd_validators) == []


@pytest.mark.parametrize("kind,obj,mutate,expected", [
    ("VirtualNode", "prodcatalog", lambda o: o["spec"]["listeners"][0]["healthCheck"].update(intervalMillis=100),
     "intervalMillis"),
    ("VirtualNode", "blue", lambda o: o["spec"]["listeners"][0]["tls"].update(mode="MUTUAL"), "tls.mode"),
    ("VirtualRouter", "proddetail-router",
     lambda o: o["spec"]["routes"][0]["httpRoute"]["action"]["weightedTargets"][0].update(weight=101), "weight"),
    ("VirtualService", "proddetail", lambda o: o["spec"].update(provder={}), "spec"),
    ("GatewayRoute", "gateway-route-frontend", lambda o: o["spec"]["httpRoute"].pop("action"), "httpRoute"),
    ("Mesh", "prodcatalog-mesh", lambda o: o["spec"]["egressFilter"].update(type="DENY"), "egressFilter.type"),
])
def test_the_schema_check_catches_a_broken_object(crd_validators, backend, kind, obj, mutate, expected):
    problems = crd_problems(broken(appmesh_objects(backend.manifests), kind, obj, mutate), crd_validators)
    assert problems and any(expected.split(".")[-1] in p for p in problems), problems

