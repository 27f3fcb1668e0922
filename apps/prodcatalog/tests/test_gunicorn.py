"""The real thing: gunicorn with gunicorn.conf.py on a loopback port, two workers, spans exported
over OTLP/HTTP from the workers (set up after fork) and flushed when SIGTERM stops them."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from prodcatalog_stubs import APP_DIR, CATALOG_DETAIL_V1, _Server, closed_port

TRACE_ID = "5759e988bd862e3fe1be46a994272793"
START_TIMEOUT = 30.0


class OtlpReceiver:
    """Collects OTLP/HTTP protobuf trace exports posted to /v1/traces."""

    def __init__(self):
        self.requests: list[ExportTraceServiceRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                message = ExportTraceServiceRequest()
                message.ParseFromString(body)
                receiver.requests.append(message)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}/v1/traces"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def spans(self):
        for request in self.requests:
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        yield attributes, span

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


@pytest.fixture
def gunicorn(tmp_path, proddetail):
    receiver = OtlpReceiver()
    port = closed_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2",
           "AGG_APP_URL": proddetail.url, "SQLITE_PATH": str(tmp_path / "products.db"),
           "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.endpoint,
           # No periodic export within the test: spans can only arrive through the exit flush.
           "OTEL_BSP_SCHEDULE_DELAY": "600000"}
    for name in ("OTEL_SERVICE_NAME", "OTEL_PROPAGATORS", "OTEL_SDK_DISABLED", "OTEL_EXPORTER_OTLP_ENDPOINT",
                 "OTEL_EXPORTER_OTLP_PROTOCOL", "GUNICORN_CMD_ARGS"):
        env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "prodcatalog:create_app()"],
                               cwd=APP_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if request(port, "GET", "/products/ping")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start:\n{process.communicate()[0]}")
        time.sleep(0.1)
    try:
        yield port, process, receiver
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        receiver.close()


def test_gunicorn_serves_the_api_and_stops_cleanly(gunicorn, proddetail):
    port, process, receiver = gunicorn

    status, ctype, body = request(port, "POST", "/products/1", json.dumps({"name": "Table"}),
                                  {"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (200, {"status": "New Product added to Product Catalog", "name": "Table",
                                          "created": True})
    # Several requests, so both workers (and both share the SQLite file) are very likely exercised.
    for _ in range(6):
        status, ctype, body = request(port, "GET", "/products/",
                                      headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
        assert status == 200 and ctype == "application/json"
        assert json.loads(body) == {"products": {"1": "Table"}, "details": CATALOG_DETAIL_V1}
    assert proddetail.requests[-1]["traceparent"].split("-")[1] == TRACE_ID

    # A chunked body (no Content-Length) larger than the limit is refused, not read to the end.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/products/2", body=iter([b'{"name": "' + b"x" * 40_000 + b'"}']),
                 headers={"Content-Type": "application/json"}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413 and json.loads(response.read())["error"]
    conn.close()

    status, _, body = request(port, "GET", "/nope")
    assert status == 404 and json.loads(body)["error"] == "not found"

    assert receiver.requests == [], "nothing exported before shutdown (600 s batch delay)"
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Shutting down: Master" in output
    assert '"GET /products/ HTTP/1.1" 200' in output, "access log on stdout"

    spans = list(receiver.spans())
    servers = [(resource, span) for resource, span in spans if span.trace_id.hex() == TRACE_ID and span.kind == 2]
    assert len(servers) == 6, output
    assert {resource["service.name"] for resource, _ in servers} == {"Product-Catalog"}


MALFORMED_CHUNKED = (b"POST /products/3 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")


@pytest.mark.parametrize("size", [64 * 1024, 1024 * 1024])
def test_an_oversized_body_is_read_and_the_connection_stays_usable(gunicorn, size):
    """A proxy reuses the connection after a 413 unless told otherwise: it must still serve the next
    request (before the fix gunicorn closed it silently and a sidecar answered the next one 503)."""
    port = gunicorn[0]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/products/2", body=b"x" * size, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())) == (
            413, {"error": "request body exceeds 16384 bytes", "limit": 16384})
        assert not response.will_close
        sock = conn.sock
        conn.request("GET", "/products/ping")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"healthy")
        assert conn.sock is sock, "the same connection served both requests"
    finally:
        conn.close()


def test_a_body_declared_beyond_the_drain_limit_gets_its_413_before_it_is_sent(gunicorn):
    """From the declared Content-Length alone: the client sends the head and a few bytes, and waits."""
    from prodcatalog.body import DRAIN_LIMIT_BYTES

    with socket.create_connection(("127.0.0.1", gunicorn[0]), timeout=10) as sock:
        sock.sendall(b"POST /products/2 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n{\"name\": " % (DRAIN_LIMIT_BYTES + 1))
        answer = b""
        while chunk := sock.recv(65536):  # the 413, then the server closes: no timeout on the way
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), answer[:300]
    assert b"\r\nConnection: close\r\n" in head
    assert json.loads(body)["limit"] == 16384


def test_a_malformed_chunked_body_is_a_400_not_a_500(gunicorn):
    with socket.create_connection(("127.0.0.1", gunicorn[0]), timeout=10) as sock:
        sock.sendall(MALFORMED_CHUNKED)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert json.loads(body)["error"] == "request body is malformed and could not be read"
    _, process, _ = gunicorn
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert "Traceback" not in output
