"""Starting, probing and stopping the rehearsal's processes.

Every process starts in its own session (so its process group is its pid and holds everything it
forks, e.g. gunicorn's workers) with stdout and stderr appended to its log file. A process is
identified by pid *and* start time, so a recycled pid is never signalled; stopping sends SIGTERM
to the group, waits, then SIGKILLs what is left.

The start time is the kernel's, in clock ticks after boot (`/proc/<pid>/stat`), not psutil's
`create_time()`: that one is boot time plus those ticks on the wall clock, and moves when the clock
is stepped (a VM resumed, NTP). Seen here: every process of a running rehearsal "started" 11 s
later than recorded, so none was recognised as ours and none was stopped.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, TypedDict

import psutil

from ..render.local_processes import Listen, ProcessSpec

#: Variables of the caller's shell that would change how the apps trace or where they send it.
_SCRUBBED_PREFIXES = ("OTEL_",)


class SupervisorError(RuntimeError):
    """A process that could not start, became unhealthy, or a port that is taken."""


class RunningRecord(TypedDict):
    """A started process as the rehearsal's state file keeps it (`Running.to_dict`)."""

    pid: int
    started: int
    fingerprint: str
    kind: str


def started(pid: int) -> int:
    """When a process started: clock ticks after boot (field 22 of /proc/<pid>/stat).

    Raises psutil.NoSuchProcess when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        raise psutil.NoSuchProcess(pid) from None
    return int(stat.rsplit(")", 1)[1].split()[19])  # after the command name: field 3 is index 0


@dataclass(frozen=True)
class Running:
    """A started process as recorded in the state file."""

    name: str
    pid: int
    #: clock ticks after boot when it started (`started`)
    started: int
    fingerprint: str
    kind: str = "app"

    def alive(self) -> bool:
        try:
            return started(self.pid) == self.started and psutil.Process(self.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    def to_dict(self) -> RunningRecord:
        return {"pid": self.pid, "started": self.started, "fingerprint": self.fingerprint, "kind": self.kind}

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any]) -> "Running":
        if "started" in raw:
            start = int(raw["started"])
        else:  # a state file written before `started`: its wall-clock create_time, converted as psutil made it
            start = round((float(raw["create_time"]) - psutil.boot_time()) * os.sysconf("SC_CLK_TCK"))
        return cls(name, int(raw["pid"]), start, str(raw["fingerprint"]), str(raw.get("kind", "app")))


def check_ports(specs: Iterable[ProcessSpec]) -> None:
    """Refuse to start when an address we need is taken, naming it and, if known, its owner."""
    taken = [(spec, listen) for spec in specs for listen in spec.listens if _in_use(listen)]
    if taken:
        lines = [f"  {listen.endpoint} ({listen.label}){_owner(listen)}" for _, listen in taken]
        raise SupervisorError("address already in use, cannot start the rehearsal:\n" + "\n".join(lines))


def _in_use(listen: Listen) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            sock.bind((listen.endpoint.host, listen.endpoint.port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return True
            raise SupervisorError(f"cannot bind {listen.endpoint} ({listen.label}): {err}") from None
    return False


def _owner(listen: Listen) -> str:
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if (conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == listen.endpoint.port
                    and conn.laddr.ip in (listen.endpoint.host, "0.0.0.0") and conn.pid):
                proc = psutil.Process(conn.pid)
                return f" — held by pid {conn.pid} ({proc.name()})"
    except (psutil.Error, OSError):
        pass
    return ""


def child_environment(spec: ProcessSpec) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(spec.env)
    return env


def start(spec: ProcessSpec, log_path: str, fingerprint: str, note: str = "") -> tuple[Running, subprocess.Popen[bytes]]:
    """Start `spec` with its output appended to `log_path`, under a header line (with `note`,
    e.g. "restart 2", when given)."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "ab") as log:
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        what = f"{spec.name} ({note})" if note else spec.name
        log.write(f"\n=== {stamp} starting {what}: {' '.join(spec.argv)}\n".encode())
        log.flush()
        try:
            popen = subprocess.Popen(spec.argv, cwd=spec.cwd, env=child_environment(spec), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as err:
            raise SupervisorError(f"{spec.name}: cannot run {spec.argv[0]}: {err}") from None
    return Running(spec.name, popen.pid, started(popen.pid), fingerprint, spec.kind), popen


def probe(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_healthy(specs: Iterable[ProcessSpec], running: Mapping[str, Running], logs: Mapping[str, str],
                 timeout: float) -> None:
    """Poll every health URL until all answer 2xx; fail fast, with its log's tail, on a death."""
    pending = {spec.name: spec for spec in specs}
    deadline = time.monotonic() + timeout
    while pending:
        for name, spec in list(pending.items()):
            if not running[name].alive():
                raise SupervisorError(f"{name} exited during start-up; last lines of {logs[name]}:\n"
                                      + tail(logs[name]))
            if probe(spec.health_url):
                del pending[name]
        if not pending:
            return
        if time.monotonic() > deadline:
            details = "\n".join(f"  {n}: {s.health_url} (log {logs[n]})" for n, s in pending.items())
            raise SupervisorError(f"not healthy after {timeout:.0f}s:\n{details}")
        time.sleep(0.2)


#: Shutdown order: no new traffic first, the trace sink last so apps can flush their spans to it.
STOP_ORDER = ("gateway", "app", "sidecar", "sink")


def stop(processes: Iterable[Running], timeout: float = 8.0) -> list[str]:
    """Stop process groups tier by tier (STOP_ORDER); return the names that needed SIGKILL."""
    groups = list(processes)
    killed: list[str] = []
    for tier in sorted({p.kind for p in groups}, key=lambda k: STOP_ORDER.index(k) if k in STOP_ORDER else 0):
        killed += _stop_together([p for p in groups if p.kind == tier], timeout)
    return killed


def _stop_together(groups: list[Running], timeout: float) -> list[str]:
    _signal_groups(groups, signal.SIGTERM)
    _wait_gone(groups, timeout)
    killed = [p.name for p in groups if _members(p, _groups())]
    _signal_groups(groups, signal.SIGKILL)
    left = _wait_gone(groups, 3.0)
    if left:
        raise SupervisorError(f"processes still running after SIGKILL: {', '.join(left)}")
    return killed


def _groups() -> dict[int, list[psutil.Process]]:
    """Every live (non-zombie) process by process group: one scan serves all our groups."""
    index: dict[int, list[psutil.Process]] = {}
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                index.setdefault(os.getpgid(proc.pid), []).append(proc)
        except (psutil.Error, OSError):
            continue
    return index


def _members(p: Running, index: Mapping[int, list[psutil.Process]]) -> list[psutil.Process]:
    """Our group's processes; none if its pid was recycled into someone else's new group."""
    members = []
    for proc in index.get(p.pid, ()):
        try:
            start = started(proc.pid)
            if proc.pid == p.pid and start != p.started:
                return []
            if start >= p.started:
                members.append(proc)
        except psutil.Error:
            continue
    return members


def _signal_groups(groups: list[Running], sig: int) -> None:
    index = _groups()
    for p in groups:
        for proc in _members(p, index):
            try:
                proc.send_signal(sig)
            except psutil.Error:
                pass


def _wait_gone(groups: list[Running], timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        index = _groups()
        left = [p.name for p in groups if _members(p, index)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def tail(path: str, lines: int = 20) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            return "\n".join(handle.read().decode(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
