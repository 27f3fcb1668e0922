import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

APP_DIR = Path(__file__).resolve().parent.parent
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

PORTS = range(18300, 18330)  # colorapp's share of the mTLS area's test ports
#: The images' command (Dockerfile CMD); the role comes from COLOR_ROLE.
COMMAND = (sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "colorapp:create_app()")


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


@pytest.fixture
def spans():
    """The app's own provider (X-Ray ids, no exporter) recording into memory."""
    from colorapp.tracing import build_tracer_provider

    exporter = InMemorySpanExporter()
    provider = build_tracer_provider({"OTEL_TRACES_EXPORTER": "none"}, "Color-Teller-Red")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


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


class Gunicorn:
    """Runs COMMAND from the app directory on a free loopback port, tracing off, `env` on top."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def _env(self, env: dict[str, str]) -> dict[str, str]:
        return {**os.environ, "HOST": "127.0.0.1", "PORT": str(free_port()), "OTEL_TRACES_EXPORTER": "none", **env}

    def serve(self, **env: str) -> "Served":
        env = self._env(env)
        proc = subprocess.Popen(COMMAND, cwd=APP_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.procs.append(proc)
        return Served(proc, f"http://127.0.0.1:{env['PORT']}")

    def run(self, **env: str) -> subprocess.CompletedProcess:
        """For a server that must not come up: waits for it to exit."""
        return subprocess.run(COMMAND, cwd=APP_DIR, env=self._env(env), capture_output=True, timeout=60)

    def stop(self):
        for proc in self.procs:
            proc.terminate()
            proc.wait(timeout=20)


class Served:
    def __init__(self, proc: subprocess.Popen, url: str):
        self.proc, self.url = proc, url

    def get(self, path: str = "/", headers: dict[str, str] | None = None, within: float = 20) -> str:
        """The body of the first answer, waiting up to `within` s for the server to come up."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        deadline = time.monotonic() + within
        while True:
            try:
                with urllib.request.urlopen(request, timeout=2) as r:
                    return r.read().decode()
            except urllib.error.HTTPError:
                raise  # it is up, and said no
            except (urllib.error.URLError, ConnectionError):
                assert self.proc.poll() is None, self.proc.stderr.read().decode()
                assert time.monotonic() < deadline, f"gunicorn did not answer within {within:g} s"
                time.sleep(0.2)


@pytest.fixture
def gunicorn():
    runner = Gunicorn()
    yield runner
    runner.stop()
