"""The mTLS matrix through the local rehearsal's real Envoys (rendered from the same model, with the
certificates the same issuing function wrote), over HTTP with `color_header`, and the trust switch
as a settings change. Uses the rehearsal's test hooks (celestials/local/testing.py)."""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from celestials.local.testing import endpoints, get, shared_rehearsal


@pytest.fixture(scope="module")
def rehearsal(request):
    return shared_rehearsal(request)


@pytest.fixture(scope="module")
def urls(rehearsal):
    return endpoints(rehearsal)


@pytest.fixture(scope="module")
def pki_dir(rehearsal) -> Path:
    return Path(rehearsal.root) / "pki"


def ask(urls, color: str) -> tuple[int, str]:
    return get(urls["colorFront"], headers={"color_header": color})


def envoy_stats(admin_url: str, prefix: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{admin_url.rstrip('/')}/stats?format=json&filter={prefix}", timeout=10) as r:
        return {s["name"]: s.get("value", 0) for s in json.load(r)["stats"] if "name" in s}


def stat(admin_url: str, name: str) -> int:
    return envoy_stats(admin_url, name.replace(".", r"\."))[name]


def digest_files(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.glob("*.pem"))}


def test_with_trust_ca1_blue_answers_and_green_and_red_fail(urls):
    assert urls["settings"]["mtlsTrust"] == "ca1"
    assert ask(urls, "blue") == (200, "blue")
    front_admin = urls["workloads"]["front"]["admin"]
    refused_before = stat(front_admin, "cluster.green.ssl.fail_verify_error")
    status, body = ask(urls, "green")
    assert status == 502, body
    assert json.loads(body)["upstream_status"] == 503
    # the reason is front's sidecar refusing green's chain (CA2 untrusted), not anything else
    assert stat(front_admin, "cluster.green.ssl.fail_verify_error") > refused_before
    # ... and front's answer says so in words
    assert json.loads(body)["reason"] == "the color service's certificate is not trusted by front"
    status, body = ask(urls, "red")  # red speaks plain HTTP; front's client policy enforces TLS
    assert status == 502, body
    assert json.loads(body)["reason"] == "the color service does not speak TLS, and front's client policy requires it"


def test_unknown_color_is_a_404_from_the_router(urls):
    status, body = ask(urls, "purple")
    assert status == 404 and "purple" in json.loads(body)["error"]


def test_the_trust_switch_is_a_settings_change_that_lets_green_through(rehearsal, urls, pki_dir):
    files_before = digest_files(pki_dir)
    with rehearsal.overridden({"mtlsTrust": "ca1+ca2"}) as restarted:
        # only front's sidecar changed, in place: nothing restarted, no certificate reissued
        assert restarted == [] and rehearsal.reloaded == ["front-envoy"]
        assert digest_files(pki_dir) == files_before
        assert ask(urls, "green") == (200, "green")
        assert ask(urls, "blue") == (200, "blue")
        assert ask(urls, "red")[0] == 502
    assert ask(urls, "green")[0] == 502  # back to the baseline trust
    assert ask(urls, "blue") == (200, "blue")


# --- blue's inbound Envoy refuses every client that is not front -------------------------------
def _tls_get(endpoint: str, pki_dir: Path, chain: str | None, key: str | None) -> bytes:
    parts = urlsplit(endpoint)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(str(pki_dir / "ca1_ca2_bundle.pem"))
    if chain:
        ctx.load_cert_chain(str(pki_dir / chain), str(pki_dir / key))
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: color-blue\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := tls.recv(4096):
                data += chunk
    return data


@pytest.mark.parametrize("client, chain, key, counter", [
    ("no certificate", None, None, "fail_verify_no_cert"),
    ("a CA2 certificate", "colorapp-green_cert_chain.pem", "colorapp-green_key.pem", "fail_verify_error"),
    ("a CA1 certificate with another SAN", "colorapp-blue_cert_chain.pem", "colorapp-blue_key.pem",
     "fail_verify_san"),
])
def test_blue_refuses(urls, pki_dir, client, chain, key, counter):
    blue = urls["workloads"]["blue"]
    name = f"listener.{urlsplit(blue['sidecar']).hostname}_{urlsplit(blue['sidecar']).port}.ssl.{counter}"
    before = stat(blue["admin"], name)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        answer = _tls_get(blue["sidecar"], pki_dir, chain, key)
        if not answer:
            raise ConnectionError("closed without an answer")
    assert stat(blue["admin"], name) == before + 1, f"{client}: {name} did not count the refusal"


def test_blue_answers_front_certificate(urls, pki_dir):
    answer = _tls_get(urls["workloads"]["blue"]["sidecar"], pki_dir, "front_cert_chain.pem", "front_key.pem")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b"blue"
