"""The mTLS demo as App Mesh renders it from the model: STRICT listeners and an enforced client
policy with file certificates, trust files and SANs, and the Secrets mounted into the sidecars."""

from __future__ import annotations

import posixpath

import pytest

from celestials.render.appmesh import SDS_ANNOTATION, SECRET_MOUNTS_ANNOTATION
from celestials.topology import colorapp
from components.mesh_tls import TLS_DIGEST_ANNOTATION
from tests.appmesh.mesh_checks import of_kind, tls_file_paths
from tests.appmesh.program import evaluate_backend

FRONT_SAN = "front.mtls.svc.cluster.local"
TELLER_SANS = ["color-blue.mtls.svc.cluster.local", "color-green.mtls.svc.cluster.local"]


def _nodes(manifests):
    return {o["metadata"]["name"]: o["spec"] for o in of_kind(manifests, "VirtualNode", "mtls")}


def _pod_annotations(manifests):
    return {d["metadata"]["name"]: d["spec"]["template"]["metadata"].get("annotations", {})
            for d in of_kind(manifests, "Deployment", "mtls")}


@pytest.mark.parametrize("color,leaf", [("blue", "colorapp-blue"), ("green", "colorapp-green")])
def test_tellers_listen_in_strict_tls_and_accept_only_front(backend, color, leaf):
    tls = _nodes(backend.manifests)[color]["listeners"][0]["tls"]
    assert tls == {
        "mode": "STRICT",
        "certificate": {"file": {"certificateChain": f"/certs/{leaf}_cert_chain.pem",
                                 "privateKey": f"/certs/{leaf}_key.pem"}},
        "validation": {"trust": {"file": {"certificateChain": "/certs/ca1_cert.pem"}},
                       "subjectAlternativeNames": {"match": {"exact": [FRONT_SAN]}}},
    }


def test_red_has_no_tls(backend):
    red = _nodes(backend.manifests)["red"]
    assert "tls" not in red["listeners"][0] and "backendDefaults" not in red
    assert SECRET_MOUNTS_ANNOTATION not in _pod_annotations(backend.manifests)["red"]


@pytest.mark.parametrize("trust,trust_file,secret", [("ca1", "ca1_cert.pem", "front-ca1-tls"),
                                                     ("ca1+ca2", "ca1_ca2_bundle.pem", "front-ca1-ca2-tls")])
def test_front_enforces_tls_towards_its_backends_with_the_trust_switch(trust, trust_file, secret):
    manifests = evaluate_backend(mtlsTrust=trust).manifests
    assert _nodes(manifests)["front"]["backendDefaults"] == {"clientPolicy": {"tls": {
        "enforce": True,
        "certificate": {"file": {"certificateChain": "/certs/front_cert_chain.pem",
                                 "privateKey": "/certs/front_key.pem"}},
        "validation": {"trust": {"file": {"certificateChain": f"/certs/{trust_file}"}},
                       "subjectAlternativeNames": {"match": {"exact": TELLER_SANS}}},
    }}}
    assert _pod_annotations(manifests)["front"][SECRET_MOUNTS_ANNOTATION] == f"{secret}:/certs/"


def test_sidecars_mount_the_secret_that_holds_every_file_their_node_names(backend):
    """Each path a VirtualNode's TLS names is a file of the Secret its pods mount, at the mount path."""
    nodes, annotations = _nodes(backend.manifests), _pod_annotations(backend.manifests)
    secrets = {s.name: s for s in colorapp.TLS_SECRETS}
    checked = 0
    for name, spec in nodes.items():
        paths = tls_file_paths(spec)
        if not paths:
            continue
        secret_name, mount = annotations[name][SECRET_MOUNTS_ANNOTATION].split(":")
        assert annotations[name][SDS_ANNOTATION] == "disabled"
        files = set(secrets[secret_name].files)
        for path in paths:
            assert posixpath.dirname(path) + "/" == mount and posixpath.basename(path) in files, (name, path)
            checked += 1
    assert checked == 9  # blue 3, green 3, front 3


def test_tls_pods_roll_when_their_certificates_change(backend):
    annotations = _pod_annotations(backend.manifests)
    assert {n for n, a in annotations.items() if TLS_DIGEST_ANNOTATION in a} == {"front", "blue", "green"}

