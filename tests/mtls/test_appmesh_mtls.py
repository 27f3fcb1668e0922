"""The mtls mesh as the App Mesh renderer draws it, for both trust settings: every App Mesh object
validates against the upstream CRDs, and the TLS it declares agrees with the issued material
(SANs, CAs, files) and with what the sidecars mount. These are the two defects of the original:
SANs in another namespace than the one the mesh checks, and no IAM identity for the mtls Envoys."""

from __future__ import annotations

import copy
import posixpath

import pytest

from celestials import pki
from celestials.render.appmesh import API_VERSION, SDS_ANNOTATION, AppMeshInputs, render_app_mesh
from celestials.settings import parse_settings
from celestials.topology import build_topology, colorapp
from tests.appmesh.mesh_checks import (CRDS, crd_problems, load_crd_validators, sidecar_files, sidecar_secrets,
                                       sidecar_volumes, tls_file_paths)
from tools.reference import SKIP_HINT

ROLE = "arn:aws:iam::123456789012:role/celestials-dev-mtls-envoy"


def render(trust: str):
    settings = parse_settings({"mtlsTrust": trust, "appMeshEndOfSupportAcknowledged": True}, "dev")
    mesh = build_topology(settings).mesh_in(colorapp.NAMESPACE)
    inputs = AppMeshInputs(images={"colorteller": "registry/colorteller:1.0", "colorfront": "registry/colorfront:1.0"},
                           envoy_role_arn=ROLE)
    return mesh, [m.obj for m in render_app_mesh(mesh, settings, inputs)]


def of(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


@pytest.fixture(scope="module", params=["ca1", "ca1+ca2"])
def rendered(request):
    mesh, objects = render(request.param)
    return request.param, mesh, objects


# --- CRD schemas --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def validators():
    if not CRDS.exists():
        pytest.skip(f"{CRDS} is absent ({SKIP_HINT}): the CRD checks need "
                    "the upstream App Mesh CRDs")
    return load_crd_validators(CRDS)


def test_every_mtls_appmesh_object_validates_against_the_crds(rendered, validators):
    _, _, objects = rendered
    kinds = sorted(o["kind"] for o in objects if o.get("apiVersion") == API_VERSION)
    assert kinds == ["Mesh", "VirtualNode", "VirtualNode", "VirtualNode", "VirtualNode", "VirtualRouter",
                     "VirtualService", "VirtualService"]
    assert crd_problems(objects, validators) == []


@pytest.mark.parametrize("mutate, expected", [
    (lambda nodes: nodes["blue"]["spec"]["listeners"][0]["tls"].update(mode="MUTUAL"), "MUTUAL"),
    (lambda nodes: nodes["blue"]["spec"]["listeners"][0]["tls"]["certificate"]["file"].pop("privateKey"),
     "privateKey"),
    (lambda nodes: nodes["front"]["spec"]["backendDefaults"]["clientPolicy"]["tls"].update(enforced=True),
     "enforced"),
    (lambda nodes: nodes["front"]["spec"]["backendDefaults"]["clientPolicy"]["tls"]["validation"]["trust"]
     .update(file={"certificateChain": ""}), "certificateChain"),
])
def test_the_crd_check_catches_a_broken_tls_object(validators, mutate, expected):
    _, objects = render("ca1")
    objects = copy.deepcopy(objects)
    mutate(of(objects, "VirtualNode"))
    found = crd_problems(objects, validators)
    assert found and any(expected in p for p in found), found


# --- semantics ----------------------------------------------------------------------------------
def test_router_routes_on_exact_color_header_values(rendered):
    _, _, objects = rendered
    (router,) = of(objects, "VirtualRouter").values()
    routes = {}
    for route in router["spec"]["routes"]:
        http = route["httpRoute"]
        (header,) = http["match"]["headers"]
        assert header["name"] == colorapp.COLOR_HEADER and set(header["match"]) == {"exact"}
        (target,) = http["action"]["weightedTargets"]
        assert target["weight"] == 100
        routes[header["match"]["exact"]] = target["virtualNodeRef"]["name"]
    assert routes == {"blue": "blue", "green": "green", "red": "red"}
    color = of(objects, "VirtualService")["color"]["spec"]
    assert color["provider"] == {"virtualRouter": {"virtualRouterRef": {"name": router["metadata"]["name"]}}}
    assert color["awsName"] == "color.mtls.svc.cluster.local"


def test_tls_names_the_issued_identities_in_namespace_mtls(rendered):
    trust, mesh, objects = rendered
    plan = colorapp.pki_plan(mesh)
    san = {l.name: l.sans[0] for l in plan.leaves}
    nodes = of(objects, "VirtualNode")
    for color, leaf in (("blue", "colorapp-blue"), ("green", "colorapp-green")):
        spec = nodes[color]["spec"]
        tls = spec["listeners"][0]["tls"]
        assert tls["mode"] == "STRICT"
        assert tls["validation"]["subjectAlternativeNames"]["match"]["exact"] == [san["front"]]
        assert tls["validation"]["trust"]["file"]["certificateChain"] == "/certs/ca1_cert.pem"
        assert tls["certificate"]["file"] == {"certificateChain": f"/certs/{leaf}_cert_chain.pem",
                                              "privateKey": f"/certs/{leaf}_key.pem"}
        # the SAN is the very name the mesh routes to (the original's SANs named another namespace)
        assert spec["serviceDiscovery"]["dns"]["hostname"] == san[leaf]
        assert san[leaf].endswith(".mtls.svc.cluster.local")
    assert "tls" not in nodes["red"]["spec"]["listeners"][0]
    front = nodes["front"]["spec"]
    assert front["backends"] == [{"virtualService": {"virtualServiceRef": {"name": "color"}}}]
    client = front["backendDefaults"]["clientPolicy"]["tls"]
    assert client["enforce"] is True
    assert client["certificate"]["file"]["certificateChain"] == "/certs/front_cert_chain.pem"
    assert client["validation"]["trust"]["file"]["certificateChain"] == {
        "ca1": "/certs/ca1_cert.pem", "ca1+ca2": "/certs/ca1_ca2_bundle.pem"}[trust]
    assert client["validation"]["subjectAlternativeNames"]["match"]["exact"] == [san["colorapp-blue"],
                                                                                san["colorapp-green"]]


def test_each_sidecar_mounts_the_secret_holding_every_file_its_node_names(rendered, material):
    _, _, objects = rendered
    nodes, deployments = of(objects, "VirtualNode"), of(objects, "Deployment")
    issued = {**material.public_files(), **material.private_files()}
    mounted = {}
    for name, node in nodes.items():
        pod = deployments[name]["spec"]["template"]
        # the node selects exactly its own Deployment's pods
        assert [d for d, dep in deployments.items()
                if all(dep["spec"]["template"]["metadata"]["labels"].get(k) == v
                       for k, v in node["spec"]["podSelector"]["matchLabels"].items())] == [name]
        paths = tls_file_paths(node["spec"])
        if not paths:
            assert sidecar_volumes(pod) == []
            continue
        assert pod["metadata"]["annotations"][SDS_ANNOTATION] == "disabled"
        mounted[name] = sidecar_secrets(pod)
        files = sidecar_files(pod)
        for path in paths:
            assert path in files
            assert posixpath.basename(path) in issued  # and the issuing function produces it
    # front: both trusts' Secrets whatever the trust, so a switch finds its file already mounted
    assert mounted == {"front": ["front-ca1-tls", "front-ca1-ca2-tls"],
                       "blue": ["colorapp-blue-tls"], "green": ["colorapp-green-tls"]}


def test_the_mtls_envoys_have_an_iam_identity(rendered):
    _, _, objects = rendered
    accounts = of(objects, "ServiceAccount")
    for deployment in of(objects, "Deployment").values():
        account = accounts[deployment["spec"]["template"]["spec"]["serviceAccountName"]]
        assert account["metadata"]["namespace"] == "mtls"
        assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == ROLE


def test_the_trust_switch_changes_only_fronts_trust():
    """front's VirtualNode names the other trust file; its Deployment, which mounts both, stays."""
    _, before = render("ca1")
    _, after = render("ca1+ca2")
    changed = sorted((o["kind"], o["metadata"]["name"]) for o, p in zip(after, before, strict=True) if o != p)
    assert changed == [("VirtualNode", "front")]
    assert pki.trust_file(colorapp.TRUSTS["ca1+ca2"]) == "ca1_ca2_bundle.pem"
