"""Nothing a client sends produces a 5xx, on every path: oversized and malformed bodies sent to
every app directly, through its sidecar, and through the ingress gateway where the app is behind it.

Why repeated, with a small request after each oversized one: the failure this guards against is
intermittent. An app that answers before reading a large body used to have its connection closed
silently by gunicorn; Envoy put that connection back in its pool and the next request sent on it
came back 503 (`UC`, `connection_termination`), a few times in every fifteen.
"""

from __future__ import annotations

import collections
import http.client
import json
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPEATS = 20
SIZES = {"64KiB": 64 * 1024, "1MiB": 1024 * 1024}
MALFORMED_REPEATS = 5

#: workload → (method, path, Content-Type, the app's answer to an oversized body, health path)
REQUESTS = {
    "frontend-node": ("POST", "/products", "application/x-www-form-urlencoded", 413, "/ping"),
    "prodcatalog": ("POST", "/products/7", "application/json", 413, "/products/ping"),
    "proddetail-v1": ("POST", "/catalogDetail", "application/json", 405, "/ping"),
    "proddetail-v2": ("POST", "/catalogDetail", "application/json", 405, "/ping"),
    "front": ("POST", "/", "application/json", 405, "/ping"),
    "blue": ("POST", "/", "application/json", 405, "/ping"),
    "green": ("POST", "/", "application/json", 405, "/ping"),
    "red": ("POST", "/", "application/json", 405, "/ping"),
}
#: Sidecars whose inbound listener is STRICT mTLS: the client presents front's certificate.
MTLS_SIDECARS = {"blue", "green"}
PATHS = [(name, via) for name in REQUESTS for via in ("app", "sidecar")] + [("frontend-node", "gateway")]


def _address(urls: dict, name: str, via: str) -> tuple[str, int]:
    url = urls["gateway"] if via == "gateway" else urls["workloads"][name][via]
    parts = urlsplit(url)
    return parts.hostname, parts.port


def _tls_context(rehearsal, name: str, via: str) -> ssl.SSLContext | None:
    if via != "sidecar" or name not in MTLS_SIDECARS:
        return None
    pki = Path(rehearsal.root) / "pki"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(str(pki / "ca1_ca2_bundle.pem"))
    ctx.load_cert_chain(str(pki / "front_cert_chain.pem"), str(pki / "front_key.pem"))
    return ctx


def _connection(address, ctx) -> http.client.HTTPConnection:
    if ctx is None:
        return http.client.HTTPConnection(*address, timeout=15)
    return http.client.HTTPSConnection(*address, timeout=15, context=ctx)


def _exchange(address, ctx, method: str, path: str, body: bytes | None = None,
              content_type: str | None = None) -> tuple[object, bytes]:
    """(status, body) of one request on a fresh connection, or (the exception's name, b"")."""
    conn = _connection(address, ctx)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": content_type} if content_type else {})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as err:
        return type(err).__name__, b""
    finally:
        conn.close()


@pytest.mark.parametrize("name, via", PATHS, ids=[f"{name}-{via}" for name, via in PATHS])
def test_oversized_bodies_get_the_apps_4xx_and_the_next_request_is_served(rehearsal, urls, name, via):
    method, path, content_type, refused, health = REQUESTS[name]
    address, ctx = _address(urls, name, via), _tls_context(rehearsal, name, via)
    outcomes: collections.Counter = collections.Counter()
    examples: dict = {}
    for label, size in SIZES.items():
        for _ in range(REPEATS):
            status, body = _exchange(address, ctx, method, path, b"x" * size, content_type)
            outcomes[(label, status)] += 1
            examples.setdefault((label, status), body[:200])
            status, body = _exchange(address, ctx, "GET", health)
            outcomes[(f"next after {label}", status)] += 1
            examples.setdefault((f"next after {label}", status), body[:200])
    expected = collections.Counter({(label, refused): REPEATS for label in SIZES})
    expected.update({(f"next after {label}", 200): REPEATS for label in SIZES})
    assert outcomes == expected, f"{name} via {via}: {dict(outcomes)}; examples {examples}"


MALFORMED = ("{method} {path} HTTP/1.1\r\nHost: rehearsal\r\nContent-Type: {content_type}\r\n"
             "Transfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n")


def _raw_exchange(address, ctx, raw: bytes) -> bytes:
    """One raw request's whole response: the head, then as many body bytes as it declares (to EOF
    when it declares none). Read by length, not to EOF, because an Envoy that closes a connection
    after an error waits for the peer to close first (its delayed close, 1 s by default)."""
    with socket.create_connection(address, timeout=15) as plain:
        sock = ctx.wrap_socket(plain) if ctx else plain
        sock.sendall(raw)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
        head = answer.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
        declared = [int(line.split(":", 1)[1]) for line in head.split("\r\n")[1:]
                    if line.startswith("content-length:")]
        while (not declared or len(answer.partition(b"\r\n\r\n")[2]) < declared[0]) \
                and (chunk := sock.recv(65536)):
            answer += chunk
    return answer


@pytest.mark.parametrize("name, via", PATHS, ids=[f"{name}-{via}" for name, via in PATHS])
def test_a_malformed_chunked_body_is_a_400(rehearsal, urls, name, via):
    """Direct, the app's own JSON 4xx (400, or the route's 405 when the app refuses the method before
    the broken chunk arrives); through an Envoy, Envoy refuses it with a 400 before the app."""
    method, path, content_type, _, _ = REQUESTS[name]
    address, ctx = _address(urls, name, via), _tls_context(rehearsal, name, via)
    raw = MALFORMED.format(method=method, path=path, content_type=content_type).encode()
    for _ in range(MALFORMED_REPEATS):
        answer = _raw_exchange(address, ctx, raw)
        head, _, body = answer.partition(b"\r\n\r\n")
        if via == "app":
            assert head.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 405 ")), f"{name}: {answer[:300]!r}"
            assert "error" in json.loads(body), f"{name}: {answer[:300]!r}"
        else:
            assert head.startswith(b"HTTP/1.1 400 "), f"{name} via {via}: {answer[:300]!r}"
