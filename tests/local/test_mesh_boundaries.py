"""What the sidecars enforce: only declared backends are reachable, STRICT TLS checks the client."""

from __future__ import annotations

import json
import socket
import ssl

import pytest

from celestials import pki
from celestials.local.testing import get


def _outbound(urls: dict, workload: str, service: str) -> str:
    return urls["workloads"][workload]["outbound"][service]


def test_an_app_reaches_its_declared_backend_through_its_sidecar(urls, product):
    status, body = get(_outbound(urls, "frontend-node", "prodcatalog") + "products/")
    assert status == 200
    assert product[0] in json.loads(body)["products"]


def test_an_undeclared_call_has_nowhere_to_go(rehearsal, urls):
    """frontend-node declares only prodcatalog: its sidecar has no listener for proddetail."""
    rendered = rehearsal.render()
    mesh = rendered.topology.mesh("prodcatalog-mesh")
    address = rendered.plan.outbound(mesh, mesh.workload("frontend-node"), "proddetail")
    assert "proddetail" not in urls["workloads"]["frontend-node"]["outbound"]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address.host, address.port), timeout=2).close()
    # ... while the caller that declares it does reach it
    assert get(_outbound(urls, "prodcatalog", "proddetail") + "catalogDetail")[0] == 200


def _blue_inbound(urls: dict) -> tuple[str, int]:
    host_port = urls["workloads"]["blue"]["sidecar"].removeprefix("http://").rstrip("/")
    host, port = host_port.rsplit(":", 1)
    return host, int(port)


def _call_blue(urls: dict, pki_dir, leaf: str | None) -> str:
    """GET / on blue's sidecar over TLS, presenting `leaf`'s certificate (or none)."""
    context = ssl.create_default_context(cafile=str(pki_dir / pki.trust_file(["ca1"])))
    if leaf:
        chain, key = pki.leaf_paths(leaf, str(pki_dir))
        context.load_cert_chain(chain, key)
    with socket.create_connection(_blue_inbound(urls), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="color-blue.mtls.svc.cluster.local") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: color-blue\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := tls.recv(4096):
                answer += chunk
    return answer.decode()


def test_strict_inbound_tls_accepts_front_and_refuses_others(rehearsal, urls):
    pki_dir = rehearsal.root / "pki"
    answer = _call_blue(urls, pki_dir, "front")
    assert answer.startswith("HTTP/1.1 200") and answer.rstrip().endswith("blue")
    for leaf, why in ((None, "no client certificate"), ("colorapp-green", "signed by CA2"),
                      ("colorapp-blue", "CA1 but not front's SAN")):
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            _call_blue(urls, pki_dir, leaf)
            pytest.fail(f"blue answered a client with {why}")
