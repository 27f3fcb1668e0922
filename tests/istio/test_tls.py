"""The two-CA mTLS demo on Istio: front originates TLS with its own files towards every color,
blue and green terminate it in their sidecars and accept only front, red stays plain; the files
named are files of the mounted Secrets, the trust follows mtlsTrust, and front's sidecar has the
files of both trusts mounted in either state, so a running pod never meets a rule it cannot serve."""

from __future__ import annotations

import json

import pytest

from celestials import pki
from celestials.render.istio_tls import (TLS_DIR, TLS_INGRESS_PORT, USER_VOLUME_ANNOTATION,
                                         USER_VOLUME_MOUNT_ANNOTATION, client_san_patch)
from celestials.topology import build_topology, colorapp
from tests.appmesh.mesh_checks import broken, name, of_kind
from tests.istio.istio_checks import (client_san_patches, deployments_selected, mounted_secrets, sidecar_files,
                                      tls_file_problems, tls_paths)
from tests.meshes.traffic_checks import ANY, authorization_edges
from tests.istio.rendering import objects, render_all, settings_for

NS = colorapp.NAMESPACE
FRONT_SAN = "front.mtls.svc.cluster.local"
TELLER_SANS = ["color-blue.mtls.svc.cluster.local", "color-green.mtls.svc.cluster.local"]


def _by_name(objs, kind):
    return {name(o): o for o in of_kind(objs, kind, NS)}


def _pod(objs, workload):
    return _by_name(objs, "Deployment")[workload]["spec"]["template"]


TRUST_STATES = sorted(colorapp.TRUSTS)


def _named(objs, workload) -> set[str]:
    """Every file the TLS policies selecting the workload's pods name."""
    policies = [o for o in of_kind(objs, "DestinationRule", NS) + of_kind(objs, "Sidecar", NS)
                if [name(d) for d in deployments_selected(objs, o)] == [workload]]
    return {p for o in policies for p in tls_paths(o)}


def test_every_tls_file_named_is_in_the_secret_mounted_into_that_sidecar(rendered):
    assert tls_file_problems(rendered) == []
    named = [p for o in of_kind(rendered, "DestinationRule") + of_kind(rendered, "Sidecar") for p in tls_paths(o)]
    assert len(named) == 15  # front: 3 rules x 3 files; blue 3; green 3


@pytest.mark.parametrize("workload", ["front", "blue", "green"])
def test_a_sidecar_mounts_exactly_the_files_its_policies_name_in_some_trust_state(workload):
    """Nothing mounted that no policy ever names, nothing named that is not mounted; and what is
    mounted is the same in every trust state (front: both trust files, always)."""
    states = [objects(render_all(mtlsTrust=trust)) for trust in TRUST_STATES]
    mounted = [sidecar_files(_pod(objs, workload)) for objs in states]
    assert all(m == mounted[0] for m in mounted), workload
    assert mounted[0] == set().union(*(_named(objs, workload) for objs in states)), workload
    model = build_topology(settings_for()).mesh_in(NS).workload(workload)
    assert mounted[0] == {f"{TLS_DIR}/{f}" for f in colorapp.mounted_files(model)}


@pytest.mark.parametrize("before,after", [("ca1", "ca1+ca2"), ("ca1+ca2", "ca1")])
def test_fronts_running_pod_has_every_file_the_switched_rules_name(before, after):
    """While a switch is applied, the sidecar of a pod rendered for `before` receives the rules of
    `after` (istiod pushes them as soon as they exist; the pod is not replaced): it has their files."""
    old, new = objects(render_all(mtlsTrust=before)), objects(render_all(mtlsTrust=after))
    assert tls_file_problems(new, mounted_in=old) == []
    assert _named(new, "front") != _named(old, "front")  # the rules do change


def test_the_switch_check_catches_a_pod_that_mounts_only_the_old_trust():
    """Mounting only the Secret of the current trust (as front once did) leaves a running pod
    without the file the switched rules name."""
    def old_mount(o):
        annotations = o["spec"]["template"]["metadata"]["annotations"]
        annotations[USER_VOLUME_ANNOTATION] = json.dumps({"celestials-tls": {"secret": {"secretName": "front-ca1-tls"}}})
    old = broken(objects(render_all(mtlsTrust="ca1")), "Deployment", "front", old_mount)
    problems = tls_file_problems(objects(render_all(mtlsTrust="ca1+ca2")), mounted_in=old)
    assert len(problems) == 3 and all("ca1_ca2_bundle.pem is not a file" in p for p in problems)


@pytest.mark.parametrize("broken_path", ["clientCertificate", "caCertificates"])
def test_the_file_check_catches_a_file_the_secret_lacks(rendered, broken_path):
    objs = broken(rendered, "DestinationRule", "front-to-color-green",
                  lambda o: o["spec"]["trafficPolicy"]["tls"].update({broken_path: f"{TLS_DIR}/ca2_cert.pem"}))
    assert any("front-to-color-green" in p for p in tls_file_problems(objs))


def test_the_file_check_catches_a_mount_elsewhere(rendered):
    def remount(o):
        annotations = o["spec"]["template"]["metadata"]["annotations"]
        annotations[USER_VOLUME_MOUNT_ANNOTATION] = annotations[USER_VOLUME_MOUNT_ANNOTATION].replace(TLS_DIR, "/certs")
    problems = tls_file_problems(broken(rendered, "Deployment", "blue", remount))
    assert problems and all("Sidecar blue" in p for p in problems)


def test_the_file_check_catches_two_secrets_writing_one_file(rendered):
    def overlap(o):
        annotations = o["spec"]["template"]["metadata"]["annotations"]
        volumes = json.loads(annotations[USER_VOLUME_ANNOTATION])
        volumes["celestials-tls"]["projected"]["sources"][1]["secret"]["items"].append(
            {"key": pki.chain_file("front"), "path": pki.chain_file("front")})
        annotations[USER_VOLUME_ANNOTATION] = json.dumps(volumes)
    problems = tls_file_problems(broken(rendered, "Deployment", "front", overlap))
    assert len(problems) == 3 and set(problems) == {
        "front: front_cert_chain.pem is written by both Secret front-ca1-tls and Secret front-ca1-ca2-tls"}


def test_the_secret_is_mounted_read_only_into_the_proxy(rendered):
    annotations = _pod(rendered, "blue")["metadata"]["annotations"]
    volumes = json.loads(annotations[USER_VOLUME_ANNOTATION])
    mounts = json.loads(annotations[USER_VOLUME_MOUNT_ANNOTATION])
    assert volumes == {"celestials-tls": {"secret": {"secretName": "colorapp-blue-tls"}}}
    assert mounts == {"celestials-tls": {"mountPath": TLS_DIR, "readOnly": True}}


@pytest.mark.parametrize("trust", TRUST_STATES)
def test_fronts_two_secrets_share_one_read_only_directory(trust):
    """front-ca1-tls gives the leaf and CA1; front-ca1-ca2-tls only its bundle (the leaf files are
    the same in both): one directory, no path written twice, whatever the trust."""
    annotations = _pod(objects(render_all(mtlsTrust=trust)), "front")["metadata"]["annotations"]
    assert json.loads(annotations[USER_VOLUME_ANNOTATION]) == {"celestials-tls": {"projected": {"sources": [
        {"secret": {"name": "front-ca1-tls", "items": [{"key": f, "path": f} for f in (
            "front_key.pem", "front_cert_chain.pem", "ca1_cert.pem")]}},
        {"secret": {"name": "front-ca1-ca2-tls", "items": [{"key": "ca1_ca2_bundle.pem", "path": "ca1_ca2_bundle.pem"}]}},
    ]}}}
    assert json.loads(annotations[USER_VOLUME_MOUNT_ANNOTATION]) == {
        "celestials-tls": {"mountPath": TLS_DIR, "readOnly": True}}


@pytest.mark.parametrize("color,leaf", [("blue", "colorapp-blue"), ("green", "colorapp-green")])
def test_tellers_terminate_mutual_tls_and_accept_only_front(rendered, color, leaf):
    sidecar = _by_name(rendered, "Sidecar")[color]
    assert sidecar["spec"]["workloadSelector"] == {"labels": {"app": "color", "workload": color, "version": color}}
    [listener] = sidecar["spec"]["ingress"]
    assert listener["port"]["number"] == TLS_INGRESS_PORT and listener["defaultEndpoint"] == "0.0.0.0:8080"
    # no subjectAltNames: istiod's webhook refuses them in Sidecar ingress TLS (tests/istio/admission.py)
    assert listener["tls"] == {
        "mode": "MUTUAL", "serverCertificate": f"{TLS_DIR}/{pki.chain_file(leaf)}",
        "privateKey": f"{TLS_DIR}/{pki.key_file(leaf)}", "caCertificates": f"{TLS_DIR}/{pki.trust_file(['ca1'])}"}
    # front's SAN is pinned by the EnvoyFilter on exactly that pod and that TLS chain
    envoy_filter = _by_name(rendered, "EnvoyFilter")[f"{color}-client-sans"]
    assert envoy_filter["apiVersion"] == "networking.istio.io/v1alpha3"
    assert envoy_filter["spec"]["workloadSelector"] == sidecar["spec"]["workloadSelector"]
    [patch] = envoy_filter["spec"]["configPatches"]
    assert patch["applyTo"] == "FILTER_CHAIN" and patch["patch"]["operation"] == "MERGE"
    assert patch["match"] == {"context": "SIDECAR_INBOUND",
                              "listener": {"portNumber": TLS_INGRESS_PORT, "filterChain": {"transportProtocol": "tls"}}}
    assert patch["patch"]["value"] == client_san_patch((FRONT_SAN,))
    assert client_san_patches(rendered, NS, sidecar["spec"]["workloadSelector"]["labels"], TLS_INGRESS_PORT) == [FRONT_SAN]


def test_client_san_patch_is_the_tls_socket_istiod_names(rendered):
    """The MERGE applies only when the patch names the socket as istiod does
    (listener.go buildDownstreamTLSTransportSocket: wellknown.TransportSocketTLS) with the same
    config type; otherwise istiod would replace the whole socket, certificates included."""
    socket = client_san_patch((FRONT_SAN,))["transport_socket"]
    assert socket["name"] == "envoy.transport_sockets.tls"
    assert socket["typed_config"]["@type"] == \
        "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
    assert socket["typed_config"]["common_tls_context"] == {"combined_validation_context": {
        "default_validation_context": {"match_typed_subject_alt_names": [
            {"san_type": "DNS", "matcher": {"exact": FRONT_SAN}}]}}}


def test_without_the_client_san_filter_blue_admits_any_ca1_client(rendered):
    """The traffic-rule check reads the pinning from the EnvoyFilter: drop it and blue's TLS port
    is open to every holder of a CA1 certificate, which the check reports as ANY caller."""
    without = [o for o in rendered if not (o["kind"] == "EnvoyFilter" and name(o) == "blue-client-sans")]
    assert len(without) == len(rendered) - 1
    edges = authorization_edges(without, [NS])
    assert ("mtls", ANY, "blue") in edges
    assert ("mtls", ANY, "blue") not in authorization_edges(rendered, [NS])


def test_ports_line_up_service_target_sidecar_listener_and_peer_authentication(rendered):
    services = _by_name(rendered, "Service")
    peers = _by_name(rendered, "PeerAuthentication")
    for color in ("blue", "green"):
        [port] = services[f"color-{color}"]["spec"]["ports"]
        # clients still see HTTP on the app port; the endpoint is the sidecar's TLS listener
        assert (port["name"], port["port"], port.get("appProtocol")) == ("http", 8080, "http")
        assert port["targetPort"] == TLS_INGRESS_PORT
        assert peers[color]["spec"]["portLevelMtls"] == {str(TLS_INGRESS_PORT): {"mode": "DISABLE"}}
        assert peers[color]["spec"]["mtls"] == {"mode": "STRICT"}
        assert [name(d) for d in deployments_selected(rendered, peers[color])] == [color]
    for host in ("front", "color-red", "color"):
        assert [p["targetPort"] for p in services[host]["spec"]["ports"]] == [8080]


def test_red_has_no_server_tls(rendered):
    assert "red" not in _by_name(rendered, "Sidecar") and "red" not in _by_name(rendered, "PeerAuthentication")
    assert mounted_secrets(_pod(rendered, "red")) == []
    assert USER_VOLUME_ANNOTATION not in (_pod(rendered, "red")["metadata"].get("annotations") or {})


@pytest.mark.parametrize("trust,trust_file", [("ca1", "ca1_cert.pem"), ("ca1+ca2", "ca1_ca2_bundle.pem")])
def test_front_originates_tls_to_every_color_with_the_trust_switch(trust, trust_file):
    objs = objects(render_all(mtlsTrust=trust))
    rules = _by_name(objs, "DestinationRule")
    # red too: front's client policy is enforced, so a plain red fails like under App Mesh
    assert sorted(rules) == ["front-to-color-blue", "front-to-color-green", "front-to-color-red"]
    for color in colorapp.COLORS:
        spec = rules[f"front-to-color-{color}"]["spec"]
        host = f"color-{color}.mtls.svc.cluster.local"
        assert spec["host"] == host and spec["exportTo"] == ["."]
        assert spec["workloadSelector"] == {"matchLabels": {"app": "front", "workload": "front"}}
        assert spec["trafficPolicy"] == {"tls": {
            "mode": "MUTUAL", "clientCertificate": f"{TLS_DIR}/front_cert_chain.pem",
            "privateKey": f"{TLS_DIR}/front_key.pem", "caCertificates": f"{TLS_DIR}/{trust_file}",
            "subjectAltNames": TELLER_SANS, "sni": host}}
    assert mounted_secrets(_pod(objs, "front")) == ["front-ca1-tls", "front-ca1-ca2-tls"]
    assert tls_file_problems(objs) == []


def test_the_product_mesh_has_no_tls_policies(rendered):
    pc = [o for o in rendered if o["metadata"].get("namespace") == "prodcatalog-ns"]
    assert not of_kind(pc, "DestinationRule") + of_kind(pc, "Sidecar") + of_kind(pc, "PeerAuthentication")
    assert all(USER_VOLUME_ANNOTATION not in (d["spec"]["template"]["metadata"].get("annotations") or {})
               for d in of_kind(pc, "Deployment"))
