"""The processes of a local rehearsal: the trace sink, every app, its sidecar, every gateway.

Pure: which command, working directory, environment, addresses and health probe each process
has. The runner (celestials.local) starts them. Apps get only what they would get in a pod:
their HOST/PORT, backend URLs pointing at their own sidecar's outbound listener (`backend_env`),
the model's env, and the standard OTEL_* variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from ..topology.model import Mesh, Topology, TopologyError, Workload
from .local_plan import Endpoint, LocalPlan, sidecar_name

SINK = "trace-sink"


@dataclass(frozen=True)
class Tools:
    """Executables the rehearsal runs: paths decided by the runner, never looked up here."""

    python: str
    node: str
    envoy: str


@dataclass(frozen=True)
class Listen:
    """An address a process binds, with the words to name it when it is already taken."""

    endpoint: Endpoint
    label: str


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    kind: str  # sink | app | sidecar | gateway
    argv: tuple[str, ...]
    cwd: str
    env: tuple[tuple[str, str], ...]
    listens: tuple[Listen, ...]
    #: URL that answers 2xx once the process is ready
    health_url: str
    #: the workload an app or sidecar belongs to (stopping "proddetail-v1" stops both)
    workload: str | None = None
    #: for Envoys: the bootstrap file the runner writes before starting it
    config_file: str | None = None
    #: for Envoys: the admin URL (where `/config_dump` tells which xDS files are applied)
    admin_url: str | None = None


@dataclass(frozen=True)
class _Launcher:
    cwd: str
    argv: Callable[[Tools], tuple[str, ...]]
    env: Callable[[Workload, LocalPlan], Mapping[str, str]] = lambda w, plan: {}


def _node(tools: Tools) -> tuple[str, ...]:
    return (tools.node, "server.js")


def _gunicorn(factory: str) -> Callable[[Tools], tuple[str, ...]]:
    return lambda tools: (tools.python, "-m", "gunicorn", "-c", "gunicorn.conf.py", factory)


#: How each app of the model runs outside a container (the run contracts in docs/local.md).
LAUNCHERS: dict[str, _Launcher] = {
    "frontend-node": _Launcher("apps/frontend-node", _node),
    "proddetail": _Launcher("apps/proddetail", _node,
                            lambda w, plan: {"APP_VERSION": (w.version or "").removeprefix("v")}),
    # No DynamoDB on one machine: the catalog keeps its products in SQLite under build/local/data.
    "prodcatalog": _Launcher(
        "apps/prodcatalog", _gunicorn("prodcatalog:create_app()"),
        lambda w, plan: {"STORAGE_BACKEND": "sqlite", "SQLITE_PATH": plan.data(f"{w.name}.sqlite3"),
                         "WEB_CONCURRENCY": "2"}),
    # One codebase, two apps: the role each image bakes in (COLOR_ROLE), given here by env.
    "front": _Launcher("apps/colorapp", _gunicorn("colorapp:create_app()"),
                       lambda w, plan: {"COLOR_ROLE": "front"}),
    "color": _Launcher("apps/colorapp", _gunicorn("colorapp:create_app()"),
                       lambda w, plan: {"COLOR_ROLE": "teller"}),
}


def render_processes(topology: Topology, plan: LocalPlan, tools: Tools, project_root: str,
                     tracing: bool = True) -> tuple[ProcessSpec, ...]:
    """Start order: the sink, then per workload its app and sidecar, then the gateways."""
    processes = [_sink(plan, tools, project_root)]
    for mesh in topology.meshes:
        for w in mesh.workloads:
            processes.append(_app(mesh, w, plan, tools, project_root, tracing))
            processes.append(_sidecar(mesh, w, plan, tools, project_root))
    for mesh in topology.meshes:
        if mesh.gateway:
            gw = mesh.gateway
            processes.append(ProcessSpec(
                name=gw.name, kind="gateway", argv=envoy_argv(tools, plan, gw.name), cwd=project_root,
                env=(), listens=(Listen(plan.gateway(mesh, gw), f"{gw.name} listener"),
                                 Listen(plan.gateway_admin(mesh, gw), f"{gw.name} admin")),
                health_url=plan.gateway_admin(mesh, gw).url + "/ready", config_file=plan.envoy_config(gw.name),
                admin_url=plan.gateway_admin(mesh, gw).url))
    return tuple(processes)


def _sink(plan: LocalPlan, tools: Tools, project_root: str) -> ProcessSpec:
    sink = plan.sink
    return ProcessSpec(
        name=SINK, kind="sink", cwd=project_root, env=(("PYTHONPATH", project_root),),
        argv=(tools.python, "-m", "celestials.tracing.sink", "--host", sink.host, "--port", str(sink.port),
              "--out", plan.spans_file),
        listens=(Listen(sink, "trace sink (OTLP/HTTP)"),), health_url=sink.url + "/healthz")


def _app(mesh: Mesh, w: Workload, plan: LocalPlan, tools: Tools, project_root: str, tracing: bool) -> ProcessSpec:
    launcher = LAUNCHERS.get(w.app)
    if launcher is None:
        raise TopologyError(f"workload {w.name}: no local launcher for app {w.app!r} "
                            f"(known: {', '.join(sorted(LAUNCHERS))})")
    app = plan.app(mesh, w)
    env: dict[str, str] = {"HOST": app.host, "PORT": str(app.port)}
    for backend in w.backend_env:
        env[backend.name] = f"{plan.outbound(mesh, w, backend.service).url}{backend.path}"
    env.update(w.env)
    env.update(launcher.env(w, plan))
    env.update({
        "OTEL_SERVICE_NAME": w.tracing_name,
        "OTEL_TRACES_EXPORTER": "otlp" if tracing else "none",
        "OTEL_EXPORTER_OTLP_ENDPOINT": plan.sink.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        # The local Envoys trace with W3C trace context and leave X-Amzn-Trace-Id as the caller
        # sent it; extracting xray first lets the sidecar's traceparent win, so an app's span
        # hangs under its own sidecar's span as it would under App Mesh's X-Ray-speaking Envoy.
        "OTEL_PROPAGATORS": "xray,tracecontext,baggage",
        "OTEL_BSP_SCHEDULE_DELAY": "500",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    })
    return ProcessSpec(
        name=w.name, kind="app", argv=launcher.argv(tools), cwd=f"{project_root}/{launcher.cwd}",
        env=tuple(sorted(env.items())), listens=(Listen(app, f"{w.name} app"),),
        health_url=app.url + w.health.path, workload=w.name)


def _sidecar(mesh: Mesh, w: Workload, plan: LocalPlan, tools: Tools, project_root: str) -> ProcessSpec:
    name = sidecar_name(w)
    listens = [Listen(plan.inbound(mesh, w), f"{name} inbound"),
               Listen(plan.sidecar_admin(mesh, w), f"{name} admin")]
    listens += [Listen(plan.outbound(mesh, w, b), f"{name} outbound to {b}") for b in w.backends]
    return ProcessSpec(
        name=name, kind="sidecar", argv=envoy_argv(tools, plan, name), cwd=project_root, env=(),
        listens=tuple(listens), health_url=plan.sidecar_admin(mesh, w).url + "/ready", workload=w.name,
        config_file=plan.envoy_config(name), admin_url=plan.sidecar_admin(mesh, w).url)


def envoy_argv(tools: Tools, plan: LocalPlan, name: str) -> tuple[str, ...]:
    # Hot restart is off, so no shared-memory base id can collide between Envoys or rehearsals;
    # one worker thread each is plenty for a rehearsal on a 2-core machine.
    return (tools.envoy, "-c", plan.envoy_config(name), "--concurrency", "1", "--disable-hot-restart",
            "--log-level", "info", "--service-node", name, "--service-cluster", name)
