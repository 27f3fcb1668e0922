"""Loopback stand-ins for proddetail: a working one with switchable faults, and raw misbehaving sockets."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PORT_RANGE = range(18000, 18100)
APP_DIR = Path(__file__).resolve().parents[1]
CATALOG_DETAIL_V1 = {"version": "1", "vendors": ["ABC.com"]}


def bind_loopback(sock: socket.socket) -> int:
    """Bind `sock` to a free port of the test range, starting at a random one."""
    ports = list(PORT_RANGE)
    start = random.randrange(len(ports))
    for port in ports[start:] + ports[:start]:
        try:
            sock.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port in 18000-18099")


def closed_port() -> int:
    """A port of the range with no listener (bound, then released)."""
    with socket.socket() as sock:
        return bind_loopback(sock)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server_address = ("127.0.0.1", bind_loopback(self.socket))
        self.server_name, self.server_port = self.server_address


class ProddetailStub:
    """GET /catalogDetail → `detail` as JSON; set `behaviour` to "ok", "status500", "html", "array",
    "huge" or "slow" (sleeps `delay` seconds). Records the headers of every request in `requests`."""

    def __init__(self, detail: dict[str, Any]):
        self.detail = detail
        self.behaviour = "ok"
        self.delay = 0.0
        self.requests: list[dict[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                stub.requests.append({k.lower(): v for k, v in self.headers.items()})
                body, status, ctype = json.dumps(stub.detail).encode(), 200, "application/json"
                if stub.behaviour == "status500":
                    body, status = b'{"error":"boom"}', 500
                elif stub.behaviour == "html":
                    body, ctype = b"<html>not json</html>", "text/html"
                elif stub.behaviour == "array":
                    body = b'["ABC.com"]'
                elif stub.behaviour == "huge":
                    body = b'{"vendors":["' + b"x" * 200_000 + b'"]}'
                elif stub.behaviour == "slow":
                    time.sleep(stub.delay)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/catalogDetail"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def __enter__(self) -> "ProddetailStub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class RawServer:
    """A loopback socket server with hand-written misbehaviour, for what http.server cannot do.

    mode "silent": accepts connections and never answers; "trickle": sends headers, then one body byte
    every `interval` seconds; "garbage": answers bytes that are not HTTP, then closes.
    """

    def __init__(self, mode: str, interval: float = 0.1):
        self.mode, self.interval = mode, interval
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.port = bind_loopback(self._sock)
        self.url = f"http://127.0.0.1:{self.port}/catalogDetail"
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []

    def __enter__(self) -> "RawServer":
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for conn in self._conns:
            conn.close()
        self._sock.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.mode == "silent":
                self._stop.wait()
            elif self.mode == "garbage":
                conn.recv(65536)
                conn.sendall(b"\x00\xffthis is not HTTP\r\n\r\n")
                conn.close()
            elif self.mode == "trickle":
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
                while not self._stop.wait(self.interval):
                    conn.sendall(b" ")
        except OSError:
            pass
