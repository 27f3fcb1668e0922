"""The renderer's list is a valid creation order and declares the edges a real cluster needs:
the namespace (whose label makes the injector add sidecars) before everything in it, each
Deployment after its ServiceAccount, its TLS Secret and its TLS policies, routes after what they
route to."""

from __future__ import annotations

from dataclasses import replace

import pytest

from celestials.render.istio_tracing import ISTIO_NAMESPACE
from celestials.render.kubernetes_workloads import ObjectKey
from tests.istio.istio_checks import by_key, deployment_order_problems, order_problems
from tests.istio.rendering import EXTERNAL, render_all


def _meshes(manifests):
    """The meshes' manifests; the mesh-wide Telemetry lives in Istio's own namespace, which the
    Istio install creates (the component orders it after istiod)."""
    return [m for m in manifests if m.key.namespace != ISTIO_NAMESPACE]


def test_the_list_is_a_valid_creation_order(manifests):
    assert order_problems(_meshes(manifests), EXTERNAL) == []


def test_the_namespace_comes_first_in_each_mesh(manifests):
    namespaces = [i for i, m in enumerate(manifests) if m.key.kind == "Namespace"]
    for i in namespaces:
        ns = manifests[i].key.name
        assert all(j > i for j, m in enumerate(manifests) if m.key.namespace == ns)


def test_deployments_wait_for_their_service_account_and_tls_secret(manifests):
    assert deployment_order_problems(manifests) == []
    deps = by_key(manifests)
    assert ObjectKey("Secret", "mtls", "front-ca1-tls") in deps[ObjectKey("Deployment", "mtls", "front")].depends_on
    assert ObjectKey("Secret", "mtls", "colorapp-green-tls") in deps[ObjectKey("Deployment", "mtls", "green")].depends_on
    assert ObjectKey("Sidecar", "mtls", "blue") in deps[ObjectKey("Deployment", "mtls", "blue")].depends_on
    assert not [k for k in deps[ObjectKey("Deployment", "mtls", "red")].depends_on if k.kind == "Secret"]


@pytest.mark.parametrize("trust", ["ca1", "ca1+ca2"])
def test_front_waits_for_the_secrets_of_both_trusts(trust):
    """It mounts both, in either state, so a trust switch changes none of its edges."""
    deps = by_key(render_all(mtlsTrust=trust))
    front = deps[ObjectKey("Deployment", "mtls", "front")].depends_on
    assert [k for k in front if k.kind == "Secret"] == [ObjectKey("Secret", "mtls", "front-ca1-tls"),
                                                        ObjectKey("Secret", "mtls", "front-ca1-ca2-tls")]


def test_a_mesh_route_waits_for_its_backends(manifests):
    route = by_key(manifests)[ObjectKey("HTTPRoute", "prodcatalog-ns", "proddetail-router")]
    for key in (ObjectKey("Service", "prodcatalog-ns", "proddetail"), ObjectKey("Service", "prodcatalog-ns", "proddetail-v2"),
                ObjectKey("Deployment", "prodcatalog-ns", "proddetail-v2")):
        assert key in route.depends_on
    ingress = by_key(manifests)[ObjectKey("HTTPRoute", "prodcatalog-ns", "ingress-gw")]
    assert ObjectKey("Gateway", "prodcatalog-ns", "ingress-gw") in ingress.depends_on


@pytest.mark.parametrize("index_of,mutate,expected", [
    (lambda ms: next(i for i, m in enumerate(ms) if m.key == ObjectKey("Deployment", "mtls", "blue")),
     lambda m: replace(m, depends_on=tuple(k for k in m.depends_on if k.kind != "Secret")),
     "does not wait for Secret/mtls/colorapp-blue-tls"),
    (lambda ms: next(i for i, m in enumerate(ms) if m.key == ObjectKey("Deployment", "prodcatalog-ns", "prodcatalog")),
     lambda m: replace(m, depends_on=tuple(k for k in m.depends_on if k.kind != "ServiceAccount")),
     "does not wait for ServiceAccount/prodcatalog-ns/prodcatalog"),
])
def test_the_deployment_check_catches_a_missing_edge(manifests, index_of, mutate, expected):
    ms = list(manifests)
    i = index_of(ms)
    ms[i] = mutate(ms[i])
    assert any(expected in p for p in deployment_order_problems(ms))


def test_the_order_check_catches_an_object_before_its_dependency(manifests):
    ms = _meshes(manifests)
    i = next(i for i, m in enumerate(ms) if m.key == ObjectKey("HTTPRoute", "mtls", "color-router"))
    ms.insert(1, ms.pop(i))
    assert any("HTTPRoute/mtls/color-router: depends on" in p for p in order_problems(ms, EXTERNAL))
    ms = _meshes(manifests)
    i = next(i for i, m in enumerate(ms) if m.key == ObjectKey("Sidecar", "mtls", "green"))
    ms[i] = replace(ms[i], depends_on=())
    assert any("Sidecar/mtls/green: does not wait for its namespace" in p for p in order_problems(ms, EXTERNAL))
