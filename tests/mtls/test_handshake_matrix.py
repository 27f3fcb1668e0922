"""The mTLS handshake matrix with real TLS (Python `ssl`, OpenSSL) and the issued material.

Each peer is configured from the model exactly as its proxy would be (colorapp.tls_files: the
leaf chain and key, the trust file, the SANs to accept), with the files `celestials.pki` wrote.
Servers check the client chain during the handshake and the client SAN right after it (what
Envoy's `match_typed_subject_alt_names` does); the front checks the server's chain and SAN.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field

import pytest

from celestials.topology import colorapp

PORTS = range(18340, 18360)  # this test's share of the mTLS area's ports
HOST = "127.0.0.1"
TIMEOUT = 5.0


def _sans(peer: dict | None) -> tuple[str, ...]:
    return tuple(v for k, v in (peer or {}).get("subjectAltName", ()) if k == "DNS")


def _bind() -> socket.socket:
    for port in PORTS:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            sock.close()
            continue
        sock.listen(8)
        return sock
    raise RuntimeError(f"no free port in {PORTS}")


@dataclass
class Teller:
    """A colour teller behind its proxy's inbound TLS policy (or plain, for red)."""

    color: str
    context: ssl.SSLContext | None
    client_sans: tuple[str, ...] = ()
    outcomes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.sock = _bind()
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(TIMEOUT)
            try:
                self._answer(conn)
            except (OSError, ssl.SSLError) as err:
                self.outcomes.append(f"refused: {err}")
            finally:
                conn.close()

    def _answer(self, conn: socket.socket):
        if self.context is not None:
            conn = self.context.wrap_socket(conn, server_side=True)
            sans = _sans(conn.getpeercert())
            if not set(sans) & set(self.client_sans):
                self.outcomes.append(f"refused: client SANs {list(sans)} not in {list(self.client_sans)}")
                return
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
            if not request[:3].isalpha():  # not HTTP (a TLS ClientHello): answer as an HTTP server does
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                self.outcomes.append("refused: not HTTP")
                return
        body = self.color.encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        self.outcomes.append("ok")

    def close(self):
        self.sock.close()


def server_context(workload, pki_dir) -> ssl.SSLContext:
    files = colorapp.tls_files(workload, str(pki_dir))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(files["certificate_chain"], files["private_key"])
    ctx.load_verify_locations(files["server_trust"])
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_context(chain: str | None, key: str | None, trust: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # the SAN is checked against the policy's list, as the proxy does
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(trust)
    if chain:
        ctx.load_cert_chain(chain, key)
    return ctx


def front_context(front, pki_dir) -> ssl.SSLContext:
    files = colorapp.tls_files(front, str(pki_dir))
    return client_context(files["certificate_chain"], files["private_key"], files["client_trust"])


def call(ctx: ssl.SSLContext, port: int, accept_sans: tuple[str, ...] | None, color: str) -> str:
    """One request as the caller's proxy makes it; returns the answer's body or raises."""
    with socket.create_connection((HOST, port), timeout=TIMEOUT) as raw:
        with ctx.wrap_socket(raw) as tls:
            if accept_sans is not None and not set(_sans(tls.getpeercert())) & set(accept_sans):
                raise ssl.SSLError(f"server SANs {_sans(tls.getpeercert())} not in {accept_sans}")
            tls.sendall(f"GET / HTTP/1.1\r\nHost: color\r\ncolor_header: {color}\r\n\r\n".encode())
            data = b""
            while chunk := tls.recv(4096):
                data += chunk
    if not data:
        raise ConnectionError("the server closed the connection without answering")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return body.decode()


@pytest.fixture(scope="module")
def tellers(mesh_for, pki_dir):
    mesh = mesh_for()
    out = {}
    for color in colorapp.COLORS:
        w = mesh.workload(color)
        if w.server_tls:
            out[color] = Teller(color, server_context(w, pki_dir), w.server_tls.client_sans)
        else:
            out[color] = Teller(color, None)
    yield out
    for teller in out.values():
        teller.close()


REFUSED = (ssl.SSLError, ConnectionError, OSError)


# --- front, as the model configures it, for each trust setting ----------------------------------
@pytest.mark.parametrize("trust, color, expected", [
    ("ca1", "blue", "blue"),
    ("ca1", "green", None),          # green's chain ends at CA2, which front does not trust yet
    ("ca1+ca2", "blue", "blue"),
    ("ca1+ca2", "green", "green"),   # after the trust switch
    ("ca1", "red", None),            # red speaks no TLS; front's client policy enforces it
    ("ca1+ca2", "red", None),
])
def test_front_matrix(tellers, mesh_for, pki_dir, trust, color, expected):
    front = mesh_for(mtlsTrust=trust).workload("front")
    ctx = front_context(front, pki_dir)
    teller = tellers[color]
    if expected is not None:
        assert call(ctx, teller.port, front.client_tls.sans, color) == expected
        assert teller.outcomes[-1] == "ok"
    else:
        before = len(teller.outcomes)
        with pytest.raises(REFUSED) as err:
            call(ctx, teller.port, front.client_tls.sans, color)
        if color == "green":
            assert isinstance(err.value, ssl.SSLCertVerificationError)
            assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)
        if color == "red":
            assert isinstance(err.value, ssl.SSLError)  # e.g. WRONG_VERSION_NUMBER: no TLS spoken there
        assert "ok" not in teller.outcomes[before:]


# --- clients blue must refuse -------------------------------------------------------------------
def _wait_outcome(teller: Teller, before: int) -> str:
    for _ in range(100):
        if len(teller.outcomes) > before:
            return teller.outcomes[-1]
        threading.Event().wait(0.02)
    raise AssertionError("the teller recorded no outcome")


@pytest.mark.parametrize("client, reason", [
    ("no certificate", "PEER_DID_NOT_RETURN_A_CERTIFICATE"),
    ("green's certificate (CA2)", "CERTIFICATE_VERIFY_FAILED"),
    ("blue's certificate (CA1, SAN color-blue)", "not in ['front.mtls.svc.cluster.local']"),
])
def test_blue_refuses_clients_without_front_identity(tellers, pki_dir, client, reason):
    certs = {"no certificate": (None, None),
             "green's certificate (CA2)": ("colorapp-green_cert_chain.pem", "colorapp-green_key.pem"),
             "blue's certificate (CA1, SAN color-blue)": ("colorapp-blue_cert_chain.pem", "colorapp-blue_key.pem")}
    chain, key = certs[client]
    ctx = client_context(chain and str(pki_dir / chain), key and str(pki_dir / key), str(pki_dir / "ca1_ca2_bundle.pem"))
    blue = tellers["blue"]
    before = len(blue.outcomes)
    with pytest.raises(REFUSED):
        call(ctx, blue.port, None, "blue")
    outcome = _wait_outcome(blue, before)
    assert outcome.startswith("refused") and reason in outcome, outcome


def test_front_refuses_a_server_outside_its_san_list(tellers, pki_dir, mesh_for):
    """A CA1 certificate is not enough to impersonate a teller: front's own leaf, served back to it."""
    front = mesh_for().workload("front")
    impostor_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    impostor_ctx.load_cert_chain(str(pki_dir / "front_cert_chain.pem"), str(pki_dir / "front_key.pem"))
    impostor = Teller("blue", impostor_ctx, ())
    try:
        with pytest.raises(ssl.SSLError, match="not in"):
            call(front_context(front, pki_dir), impostor.port, front.client_tls.sans, "blue")
    finally:
        impostor.close()
