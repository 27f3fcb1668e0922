"""The mTLS demo as App Mesh renders it from the model: STRICT listeners and an enforced client
policy with file certificates, trust files and SANs, and the Secrets mounted into the sidecars
(front's: both trusts' in either state, so a running pod has every file a switched node names)."""

from __future__ import annotations

import pytest

from celestials.render.appmesh import SDS_ANNOTATION, SECRET_MOUNTS_ANNOTATION, VOLUME_MOUNTS_ANNOTATION
from components.mesh_tls import TLS_DIGEST_ANNOTATION
from tests.appmesh.mesh_checks import of_kind, sidecar_files, sidecar_secrets, tls_file_paths
from tests.appmesh.program import evaluate_backend

FRONT_SAN = "front.mtls.svc.cluster.local"
TELLER_SANS = ["color-blue.mtls.svc.cluster.local", "color-green.mtls.svc.cluster.local"]


def _nodes(manifests):
    return {o["metadata"]["name"]: o["spec"] for o in of_kind(manifests, "VirtualNode", "mtls")}


def _pods(manifests):
    return {d["metadata"]["name"]: d["spec"]["template"] for d in of_kind(manifests, "Deployment", "mtls")}


def _pod_annotations(manifests):
    return {name: pod["metadata"].get("annotations", {}) for name, pod in _pods(manifests).items()}


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
    assert not {SECRET_MOUNTS_ANNOTATION, VOLUME_MOUNTS_ANNOTATION} & set(_pod_annotations(backend.manifests)["red"])


@pytest.mark.parametrize("trust,trust_file", [("ca1", "ca1_cert.pem"), ("ca1+ca2", "ca1_ca2_bundle.pem")])
def test_front_enforces_tls_towards_its_backends_with_the_trust_switch(trust, trust_file):
    manifests = evaluate_backend(mtlsTrust=trust).manifests
    assert _nodes(manifests)["front"]["backendDefaults"] == {"clientPolicy": {"tls": {
        "enforce": True,
        "certificate": {"file": {"certificateChain": "/certs/front_cert_chain.pem",
                                 "privateKey": "/certs/front_key.pem"}},
        "validation": {"trust": {"file": {"certificateChain": f"/certs/{trust_file}"}},
                       "subjectAlternativeNames": {"match": {"exact": TELLER_SANS}}},
    }}}
    pod = _pods(manifests)["front"]
    # both trusts' Secrets, in one volume of the pod that the injector mounts at /certs
    assert sidecar_secrets(pod) == ["front-ca1-tls", "front-ca1-ca2-tls"]
    assert pod["metadata"]["annotations"][VOLUME_MOUNTS_ANNOTATION] == "celestials-tls:/certs"
    assert SECRET_MOUNTS_ANNOTATION not in pod["metadata"]["annotations"]


def test_sidecars_mount_the_secret_that_holds_every_file_their_node_names(backend):
    """Each path a VirtualNode's TLS names is a file of a Secret its pods' Envoy has mounted."""
    nodes, pods = _nodes(backend.manifests), _pods(backend.manifests)
    checked = 0
    for name, spec in nodes.items():
        paths = tls_file_paths(spec)
        if not paths:
            continue
        assert pods[name]["metadata"]["annotations"][SDS_ANNOTATION] == "disabled"
        files = sidecar_files(pods[name])
        for path in paths:
            assert path in files, (name, path)
            checked += 1
    assert checked == 9  # blue 3, green 3, front 3


@pytest.mark.parametrize("before,after", [("ca1", "ca1+ca2"), ("ca1+ca2", "ca1")])
def test_fronts_running_pod_has_every_file_the_switched_node_names(before, after):
    """The controller updates front's Envoy with the switched VirtualNode while the pod rendered
    for `before` runs on (the switch does not replace it): that pod has every file it names."""
    old, new = evaluate_backend(mtlsTrust=before).manifests, evaluate_backend(mtlsTrust=after).manifests
    switched = set(tls_file_paths(_nodes(new)["front"]))
    assert switched <= sidecar_files(_pods(old)["front"])
    assert switched != set(tls_file_paths(_nodes(old)["front"]))  # the node does change


def test_tls_pods_roll_when_their_certificates_change(backend):
    annotations = _pod_annotations(backend.manifests)
    assert {n for n, a in annotations.items() if TLS_DIGEST_ANNOTATION in a} == {"front", "blue", "green"}

