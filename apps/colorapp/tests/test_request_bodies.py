"""Bodies are read before the answer, so a sidecar can reuse the connection (see colorapp/body.py)."""

import http.client
import json
import socket
import urllib.parse

import pytest

from colorapp.body import DRAIN_LIMIT_BYTES

MALFORMED_CHUNKED = (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")


@pytest.fixture
def teller(gunicorn):
    served = gunicorn.serve(COLOR_ROLE="teller", COLOR="blue")
    served.get("/ping")
    return urllib.parse.urlsplit(served.url)


@pytest.mark.parametrize("size", [64 * 1024, 1024 * 1024])
def test_a_post_with_a_large_body_is_a_405_and_the_connection_stays_usable(teller, size):
    conn = http.client.HTTPConnection(teller.hostname, teller.port, timeout=10)
    try:
        conn.request("POST", "/", body=b"x" * size, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())) == (405, {"error": "method not allowed", "status": 405})
        assert not response.will_close
        sock = conn.sock
        conn.request("GET", "/")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"blue")
        assert conn.sock is sock, "the same connection served both requests"
    finally:
        conn.close()


def test_a_body_declared_beyond_the_drain_limit_is_a_413_before_it_is_sent(teller):
    """From the declared Content-Length alone: the client sends the head and a few bytes, and waits."""
    with socket.create_connection((teller.hostname, teller.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\nxxxx" % (DRAIN_LIMIT_BYTES + 1))
        answer = b""
        while chunk := sock.recv(65536):  # the 413, then the server closes: no timeout on the way
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), answer[:300]
    assert b"\r\nConnection: close\r\n" in head
    assert json.loads(body)["detail"] == f"request body exceeds {DRAIN_LIMIT_BYTES} bytes"


def test_a_malformed_chunked_body_is_a_json_400(teller):
    with socket.create_connection((teller.hostname, teller.port), timeout=10) as sock:
        sock.sendall(MALFORMED_CHUNKED)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert json.loads(body)["error"] == "bad request"
    assert b"HTTP/1.1" not in body, "nothing of the body was parsed as a second request"
