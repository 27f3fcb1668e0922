"""What the sidecars enforce: only declared backends are reachable, STRICT TLS checks the client."""

from __future__ import annotations

import json
import socket
import ssl

import pytest

from celestials import pki
from celestials.local.testing import get
from celestials.topology.edges import callees_of


def _outbound(urls: dict, workload: str, service: str) -> str:
    return urls["workloads"][workload]["outbound"][service]


def test_an_app_reaches_its_declared_backend_through_its_sidecar(urls, product):
    status, body = get(_outbound(urls, "frontend-node", "prodcatalog") + "products/")
    assert status == 200
    assert product[0] in json.loads(body)["products"]


def test_every_sidecar_reaches_exactly_the_models_edges(rehearsal, urls):
    """The services a sidecar has outbound listeners for lead to exactly the workload's callees in
    the model's edges (the same function the cluster's traffic rules are rendered from)."""
    for mesh in rehearsal.render().topology.meshes:
        for w in mesh.workloads:
            services = urls["workloads"][w.name]["outbound"]
            reached = {callee for s in services for callee in mesh.service_workloads(s)}
            assert reached == set(callees_of(mesh, w.name)), w.name


def _undeclared_calls(topology):
    """(mesh, caller, service) for every service whose workloads include one the caller may not call."""
    for mesh in topology.meshes:
        for w in mesh.workloads:
            allowed = set(callees_of(mesh, w.name))
            for svc in mesh.services:
                if not set(mesh.service_workloads(svc.name)) <= allowed:
                    yield mesh, w, svc.name


def test_an_undeclared_call_has_nowhere_to_go(rehearsal, urls):
    """Every call outside the model's edges (e.g. frontend-node → proddetail) finds no listener.
    Locally a sidecar's outbound listeners are told apart by port only (one loopback address per
    caller), so an undeclared service on the port of a declared one (front → front, on color's
    8080) lands on that declared backend's listener, which sends only to the declared service."""
    rendered = rehearsal.render()
    undeclared = list(_undeclared_calls(rendered.topology))
    assert any((w.name, s) == ("frontend-node", "proddetail") for _, w, s in undeclared)
    checked = 0
    for mesh, w, service in undeclared:
        assert service not in urls["workloads"][w.name]["outbound"], (w.name, service)
        address = rendered.plan.outbound(mesh, w, service)
        if address in {rendered.plan.outbound(mesh, w, b) for b in w.backends}:
            continue
        checked += 1
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address.host, address.port), timeout=2).close()
            pytest.fail(f"{w.name} reached {service}, which the model does not let it call")
    assert checked >= len(undeclared) - 1  # only front → front shares a declared listener's port
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
