"""blue's sidecar on Istio, run by a real Envoy: the inbound TLS chain istiod builds from blue's
Sidecar (tests/istio/istiod_listener.py), with blue's client-SAN EnvoyFilter merged in as istiod
merges it, admits front's CA1 certificate and refuses a CA1 certificate with another SAN, a CA2
certificate and no certificate; the same chain without the EnvoyFilter (what the Sidecar alone
gives, since istiod refuses its subjectAltNames) admits any CA1 client. Certificates: the issued
material (tests/mtls/conftest.py)."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from celestials.local.rehearsal import find_tools
from celestials.render.istio_tls import TLS_DIR, TLS_INGRESS_PORT
from tests.appmesh.mesh_checks import name
from tests.istio.istiod_listener import apply_envoy_filter, patch_applies, sidecar_tls_chain
from tests.istio.rendering import objects, render_all
from tests.support.services import free_port

START_TIMEOUT_S = 30.0


def _rendered(kind: str, obj_name: str) -> dict:
    [obj] = [o for o in objects(render_all()) if o["kind"] == kind and name(o) == obj_name]
    return obj


@pytest.fixture(scope="module")
def chains(pki_dir, tmp_path_factory):
    """(pinned, unpinned): blue's chain with and without its EnvoyFilter."""
    secrets = tmp_path_factory.mktemp("sds")
    base = sidecar_tls_chain(_rendered("Sidecar", "blue"), TLS_INGRESS_PORT, pki_dir, secrets, TLS_DIR, "blue")
    return apply_envoy_filter(base, _rendered("EnvoyFilter", "blue-client-sans")), base


@pytest.fixture(scope="module")
def envoy(chains, tmp_path_factory):
    """One Envoy, two listeners: `pinned` (with the EnvoyFilter) and `unpinned` (without)."""
    work = tmp_path_factory.mktemp("envoy")
    taken: set[int] = set()
    ports = {"admin": free_port(taken=taken), "pinned": free_port(taken=taken), "unpinned": free_port(taken=taken)}
    listeners = []
    for label, chain in zip(("pinned", "unpinned"), chains, strict=True):
        # a bound listener instead of iptables' redirect to the virtual inbound: its port is the match
        chain = {**chain, "filter_chain_match": {**chain["filter_chain_match"], "destination_port": ports[label]}}
        listeners.append({"name": label, "address": {"socket_address": {"address": "127.0.0.1", "port_value": ports[label]}},
                          "listener_filters": [{"name": "envoy.filters.listener.tls_inspector", "typed_config": {
                              "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"}}],
                          "filter_chains": [chain]})
    bootstrap = {"node": {"id": "sidecar~blue", "cluster": "blue.mtls"},  # SDS needs a node, as istio-agent gives
                 "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": ports["admin"]}}},
                 "static_resources": {"listeners": listeners}}
    config = work / "bootstrap.json"
    config.write_text(json.dumps(bootstrap))
    envoy_bin = find_tools().envoy
    check = subprocess.run([envoy_bin, "--mode", "validate", "-c", str(config), "--log-level", "error"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    log = work / "envoy.log"
    with log.open("w") as out:
        proc = subprocess.Popen([envoy_bin, "-c", str(config), "--concurrency", "1", "--disable-hot-restart",
                                 "--log-level", "info"], stdout=out, stderr=subprocess.STDOUT)
    try:
        admin = f"http://127.0.0.1:{ports['admin']}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{admin}/ready", timeout=2) as r:
                    if r.status == 200 and _stat(admin, "listener_manager.total_listeners_active") == 2:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Envoy did not get ready: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield {**ports, "admin": admin}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _stat(admin: str, stat_name: str) -> int:
    with urllib.request.urlopen(f"{admin}/stats?format=json&filter=^{stat_name.replace('.', '[.]')}$", timeout=5) as r:
        stats = {s["name"]: s.get("value", 0) for s in json.load(r)["stats"] if "name" in s}
    return stats.get(stat_name, 0)


def _get(port: int, pki_dir: Path, chain: str | None, key: str | None) -> bytes:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(str(pki_dir / "ca1_ca2_bundle.pem"))
    ctx.set_alpn_protocols(["http/1.1"])
    if chain:
        ctx.load_cert_chain(str(pki_dir / chain), str(pki_dir / key))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: color-blue\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := tls.recv(4096):
                data += chunk
    return data


FRONT = ("front_cert_chain.pem", "front_key.pem")
OTHER_CA1 = ("colorapp-blue_cert_chain.pem", "colorapp-blue_key.pem")  # CA1, SAN color-blue.mtls.svc.cluster.local
CA2 = ("colorapp-green_cert_chain.pem", "colorapp-green_key.pem")


def test_the_envoy_filter_targets_exactly_the_sidecars_tls_chain(chains):
    pinned, unpinned = chains
    [patch] = _rendered("EnvoyFilter", "blue-client-sans")["spec"]["configPatches"]
    assert patch_applies(patch, unpinned)
    # not a plaintext chain on that port, nor the TLS chain of another port
    assert not patch_applies(patch, {**unpinned, "filter_chain_match": {"destination_port": TLS_INGRESS_PORT}})
    assert not patch_applies(patch, {**unpinned, "filter_chain_match": {"destination_port": 8080,
                                                                       "transport_protocol": "tls"}})
    # the merge adds the SAN matcher and keeps istiod's certificate and trust
    context = pinned["transport_socket"]["typed_config"]["common_tls_context"]
    combined = context["combined_validation_context"]
    assert combined["default_validation_context"] == {"match_typed_subject_alt_names": [
        {"san_type": "DNS", "matcher": {"exact": "front.mtls.svc.cluster.local"}}]}
    assert combined["validation_context_sds_secret_config"]["name"] == f"file-root:{TLS_DIR}/ca1_cert.pem"
    assert context["tls_certificate_sds_secret_configs"] == \
        unpinned["transport_socket"]["typed_config"]["common_tls_context"]["tls_certificate_sds_secret_configs"]


def test_front_is_admitted(envoy, pki_dir):
    head, _, body = _get(envoy["pinned"], pki_dir, *FRONT).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b"blue"


@pytest.mark.parametrize("client, files, counter", [
    ("a CA1 certificate with another SAN", OTHER_CA1, "fail_verify_san"),
    ("a CA2 certificate", CA2, "fail_verify_error"),
    ("no certificate", (None, None), "fail_verify_no_cert"),
])
def test_every_other_client_is_refused_in_the_handshake(envoy, pki_dir, client, files, counter):
    stat = f"listener.127.0.0.1_{envoy['pinned']}.ssl.{counter}"
    before = _stat(envoy["admin"], stat)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        if not _get(envoy["pinned"], pki_dir, *files):
            raise ConnectionError("closed without an answer")
    assert _stat(envoy["admin"], stat) == before + 1, f"{client}: {stat} did not count the refusal"


def test_without_the_envoy_filter_any_ca1_client_gets_in(envoy, pki_dir):
    """What the Sidecar alone gives: the trust is checked, the SAN is not."""
    head, _, body = _get(envoy["unpinned"], pki_dir, *OTHER_CA1).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b"blue"
    with pytest.raises((ssl.SSLError, ConnectionError)):
        if not _get(envoy["unpinned"], pki_dir, *CA2):
            raise ConnectionError("closed without an answer")


def test_the_patch_without_istiods_trust_is_refused_by_envoy(tmp_path, pki_dir):
    """Why no proxy version is pinned: if an upgrade changed the chain so that the merge replaced
    istiod's validation context instead of joining it, the SAN matcher would stand without the
    trust istiod serves, and Envoy refuses that outright rather than running without the check."""
    [patch] = _rendered("EnvoyFilter", "blue-client-sans")["spec"]["configPatches"]
    context = json.loads(json.dumps(patch["patch"]["value"]["transport_socket"]["typed_config"]))
    context["common_tls_context"]["tls_certificates"] = [{
        "certificate_chain": {"filename": str(pki_dir / "colorapp-blue_cert_chain.pem")},
        "private_key": {"filename": str(pki_dir / "colorapp-blue_key.pem")}}]
    chain = {"filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
        "stat_prefix": "blue", "cluster": "app"}}],
        "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": context}}
    bootstrap = {"static_resources": {
        "listeners": [{"name": "blue", "address": {"socket_address": {"address": "127.0.0.1", "port_value": 8443}},
                       "filter_chains": [chain]}],
        "clusters": [{"name": "app", "load_assignment": {"cluster_name": "app"}}]}}
    config = tmp_path / "bootstrap.json"
    config.write_text(json.dumps(bootstrap))
    result = subprocess.run([find_tools().envoy, "--mode", "validate", "-c", str(config), "--log-level", "critical"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ValidationContextSdsSecretConfig: value is required" in result.stdout + result.stderr
