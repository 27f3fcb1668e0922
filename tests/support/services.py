"""Start the Product Catalog apps as real processes on loopback, by their run contracts (TEAM.md).

`start_product_catalog(workdir)` runs proddetail v1 (on the images' Node, which `make install`
puts in tools/node), prodcatalog (gunicorn, SQLite in `workdir`) and frontend-node (the same Node), each on a free port in 18100-18199 (this area's test range),
waits until each answers its health check, and returns a `ProductCatalog` whose services can be
stopped one by one (to watch the front end degrade) and are all stopped by `stop()`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from celestials.local.rehearsal import node_executable

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
PORT_RANGE = range(18100, 18200)
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0


class ServiceError(RuntimeError):
    """A service did not start (its log tail is in the message)."""


def free_port(host: str = "127.0.0.1", taken: set[int] | None = None) -> int:
    """A port of PORT_RANGE that nothing listens on now; `taken` are ports this run already handed out."""
    taken = taken if taken is not None else set()
    start = os.getpid() % len(PORT_RANGE)  # spread concurrent runs over the range
    for offset in range(len(PORT_RANGE)):
        port = PORT_RANGE[(start + offset) % len(PORT_RANGE)]
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise ServiceError(f"no free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")


def http_get(url: str, timeout: float = 5.0, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """(status, body) of a GET; HTTP errors are answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


@dataclass
class Service:
    """One running app: its process, base URL and log file."""

    name: str
    url: str
    health_url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_healthy(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise ServiceError(f"{self.name} exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                if http_get(self.health_url, timeout=1.0)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ServiceError(f"{self.name} not healthy at {self.health_url} after {timeout:g}s:\n{self.log()[-3000:]}")

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
        """SIGTERM (graceful), then SIGKILL after `timeout`; returns the exit code."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def start_service(name: str, argv: list[str], cwd: Path, env: dict[str, str], url: str, health_path: str,
                  log_dir: Path) -> Service:
    """Start one process with `env` (on top of a cleaned os.environ) and wait for its health check."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, cwd=cwd, env={**base, **env}, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    service = Service(name, url, url + health_path, process, log_path)
    service.wait_healthy()
    return service


def _require_node_modules(app: str) -> None:
    if not (APPS / app / "node_modules").is_dir():
        raise ServiceError(f"apps/{app}/node_modules is missing: run `make install` first")


def otel_env(sink_endpoint: str | None) -> dict[str, str]:
    """Export to the sink quickly (small batch delay) when there is one; otherwise export nothing.

    OTEL_SERVICE_NAME is left unset on purpose, so the apps' default service names are what is tested.
    """
    if sink_endpoint is None:
        return {"OTEL_TRACES_EXPORTER": "none"}
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_PROPAGATORS": "tracecontext,baggage,xray",
    }


@dataclass
class ProductCatalog:
    """The three running services, by name: proddetail, prodcatalog, frontend."""

    services: dict[str, Service] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    def stop(self) -> dict[str, int | None]:
        """Stop every service, front to back; returns their exit codes."""
        return {name: self.services[name].stop() for name in reversed(list(self.services))}

    def logs(self) -> str:
        return "\n".join(f"--- {name} ---\n{service.log()[-2000:]}" for name, service in self.services.items())


def start_product_catalog(workdir: Path, sink_endpoint: str | None = None, host: str = "127.0.0.1",
                          backend_timeout_ms: int = 3000, proxy_timeout_seconds: float = 1.0) -> ProductCatalog:
    """frontend-node → prodcatalog → proddetail v1 on loopback; tracing to `sink_endpoint` if given."""
    for app in ("proddetail", "frontend-node"):
        _require_node_modules(app)
    node = node_executable()  # the images' Node, as the rehearsal runs them
    taken: set[int] = set()
    ports = {name: free_port(host, taken) for name in ("proddetail", "prodcatalog", "frontend")}
    urls = {name: f"http://{host}:{port}" for name, port in ports.items()}
    logs = workdir / "logs"
    stack = ProductCatalog()
    try:
        stack.services["proddetail"] = start_service(
            "proddetail", [node, "server.js"], APPS / "proddetail",
            {"HOST": host, "PORT": str(ports["proddetail"]), "APP_VERSION": "1",
             **otel_env(sink_endpoint)},
            urls["proddetail"], "/ping", logs)
        stack.services["prodcatalog"] = start_service(
            "prodcatalog", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "prodcatalog:create_app()"],
            APPS / "prodcatalog",
            {"HOST": host, "PORT": str(ports["prodcatalog"]), "WEB_CONCURRENCY": "1",
             "AGG_APP_URL": f"{urls['proddetail']}/catalogDetail",
             "PROXY_TIMEOUT_SECONDS": str(proxy_timeout_seconds), "STORAGE_BACKEND": "sqlite",
             "SQLITE_PATH": str(workdir / "products.db"), **otel_env(sink_endpoint)},
            urls["prodcatalog"], "/products/ping", logs)
        stack.services["frontend"] = start_service(
            "frontend", [node, "server.js"], APPS / "frontend-node",
            {"HOST": host, "PORT": str(ports["frontend"]), "BASE_URL": f"{urls['prodcatalog']}/products/",
             "BACKEND_TIMEOUT_MS": str(backend_timeout_ms), **otel_env(sink_endpoint)},
            urls["frontend"], "/ping", logs)
    except BaseException:
        stack.stop()
        raise
    return stack
