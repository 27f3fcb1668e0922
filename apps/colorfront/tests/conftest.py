import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

PORTS = range(18310, 18330)  # this app's share of the mTLS area's test ports


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ports in TIME_WAIT are fine
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


class FakeColorService:
    """A stand-in for the color service: records each request, answers as told."""

    def __init__(self):
        self.requests: list[dict[str, str]] = []
        self.status, self.body, self.delay = 200, "blue", 0.0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                service.requests.append({k.lower(): v for k, v in self.headers.items()})
                time.sleep(service.delay)
                color = self.headers.get("color_header")
                body = (service.body if color is None else service.body.replace("{color}", color)).encode()
                try:
                    self.send_response(service.status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the front gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def color_service():
    with FakeColorService() as service:
        yield service


@pytest.fixture(name="free_port")
def free_port_fixture():
    return free_port()
