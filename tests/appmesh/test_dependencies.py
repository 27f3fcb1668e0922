"""The ordering a real cluster needs, as dependency edges in the Pulumi graph: controller release →
namespace → Mesh → App Mesh objects → workloads; no edges between App Mesh objects that only
reference each other (the controller resolves those; edges could deadlock a cycle of backends)."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from tests.appmesh.mesh_checks import dependency_problems

APPMESH = "kubernetes:appmesh.k8s.aws/v1beta2:"


def _find(result, kind, name, namespace=None):
    [r] = [r for r in result.resources if r["custom"] and r["inputs"].get("kind") == kind
           and r["inputs"]["metadata"]["name"] == name
           and (namespace is None or r["inputs"]["metadata"].get("namespace") == namespace)]
    return r


def test_release_namespace_and_virtual_node_edges_hold(backend):
    assert dependency_problems(backend.result) == []


def test_every_appmesh_object_waits_for_its_namespace_and_mesh(backend):
    result = backend.result
    for r in result.resources:
        if r["type"].startswith(APPMESH) and r["inputs"]["kind"] != "Mesh":
            ns = r["inputs"]["metadata"]["namespace"]
            mesh = "prodcatalog-mesh" if ns == "prodcatalog-ns" else "mtls-mesh"
            assert result.depends_on(r["urn"], _find(result, "Namespace", ns)["urn"]), r["name"]
            assert result.depends_on(r["urn"], _find(result, "Mesh", mesh)["urn"]), r["name"]


def test_gateway_pieces_wait_for_the_virtual_gateway(backend):
    result = backend.result
    vg = _find(result, "VirtualGateway", "ingress-gw")["urn"]
    assert result.depends_on(_find(result, "GatewayRoute", "gateway-route-frontend")["urn"], vg)
    assert result.depends_on(_find(result, "Deployment", "ingress-gw")["urn"], vg)


@pytest.mark.parametrize("workload,secret", [("front", "front-ca1-tls"), ("blue", "colorapp-blue-tls"),
                                             ("green", "colorapp-green-tls")])
def test_tls_workloads_wait_for_their_secret(backend, workload, secret):
    result = backend.result
    assert result.depends_on(_find(result, "Deployment", workload, "mtls")["urn"],
                             _find(result, "Secret", secret, "mtls")["urn"])


def test_service_accounts_exist_before_the_pods_that_use_them(backend):
    result = backend.result
    for name, sa in (("frontend-node", "envoy-proxies"), ("prodcatalog", "prodcatalog"), ("ingress-gw", "envoy-proxies")):
        assert result.depends_on(_find(result, "Deployment", name)["urn"],
                                 _find(result, "ServiceAccount", sa, "prodcatalog-ns")["urn"]), name


def test_no_edges_between_referencing_appmesh_objects(backend):
    """A VirtualService does not wait for its router, a VirtualNode not for its backends: with
    waitFor on each, such edges would deadlock `pulumi up` on any cycle of backends."""
    result = backend.result
    mesh_objects = [r for r in result.resources if r["type"].startswith(APPMESH) and r["inputs"]["kind"] != "Mesh"]
    urns = {r["urn"] for r in mesh_objects}
    for r in mesh_objects:
        if r["inputs"]["kind"] == "GatewayRoute":
            continue  # waits for its VirtualGateway: the admission webhook looks it up
        assert not set(r["dependencies"]) & urns, r["name"]


def test_appmesh_objects_wait_until_active(backend):
    for r in backend.result.resources:
        if r["type"].startswith(APPMESH):
            kind = r["inputs"]["kind"]
            assert r["inputs"]["metadata"]["annotations"]["pulumi.com/waitFor"] == f"condition={kind}Active"


def _without_edge(result, kind, name, target_kind, target_name):
    resources = copy.deepcopy(result.resources)
    target = _find(result, target_kind, target_name)["urn"]
    for r in resources:
        if r["custom"] and r["inputs"].get("kind") == kind and r["inputs"]["metadata"]["name"] == name:
            r["dependencies"] = [d for d in r["dependencies"] if d != target]
    return replace(result, resources=resources)


def test_the_dependency_check_catches_missing_edges(backend):
    result = backend.result
    [release] = [r for r in result.resources if r["type"] == "kubernetes:helm.sh/v3:Release"
                 and r["inputs"]["chart"] == "appmesh-controller"]
    resources = copy.deepcopy(result.resources)
    for r in resources:
        if r["type"] == APPMESH + "Mesh" and r["inputs"]["metadata"]["name"] == "mtls-mesh":
            r["dependencies"] = [d for d in r["dependencies"] if d != release["urn"]]
    assert any("Mesh mtls-mesh: does not wait for the controller release" in p
               for p in dependency_problems(replace(result, resources=resources)))
    assert any("Deployment prodcatalog-ns/proddetail-v2: does not wait for VirtualNode proddetail-v2" in p
               for p in dependency_problems(_without_edge(result, "Deployment", "proddetail-v2",
                                                          "VirtualNode", "proddetail-v2")))
    resources = copy.deepcopy(result.resources)
    for r in resources:
        if r["custom"] and r["inputs"].get("kind") == "Deployment" and r["inputs"]["metadata"]["name"] == "red":
            r["dependencies"] = []
    assert any("Deployment mtls/red: does not wait for its namespace" in p
               for p in dependency_problems(replace(result, resources=resources)))
