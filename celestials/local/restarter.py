"""Restarting the rehearsal's crashed processes, as a kubelet restarts a pod's containers.

Under `restartPolicy: Always` the kubelet restarts a container that exits at once the first time,
then waits before each further restart — 10 s, doubling, capped at 5 minutes; the container is in
`CrashLoopBackOff` while it waits — and starts over once it has run 10 minutes (twice the cap)
since its last restart (Kubernetes documentation, Pod Lifecycle, "How Pods handle problems with
containers"). The rehearsal does the same with the delays of `BACKOFF`, scaled to one machine, so
that a crash is visible and a crash loop costs the machine little.

The restarter is a process of its own (`python -m celestials.local.restarter --root <root>`),
started by `up` and stopped first by `down`, so a rehearsal in the background is looked after
while no command runs. Each round it holds the state file's lock (celestials.local.statefile) as
every command of the rehearsal does, so it never restarts what a command is stopping or starting,
and it starts a process from the spec recorded when it was first started (as a kubelet restarts
the pod's spec, not a newer one). Restarts are counted per process in the state file, and
`make local-status` shows them; a process started again by a command (`local-restart`,
`local-reconfigure`) starts from 0, like a new pod.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol

from ..render.local_plan import Endpoint
from ..render.local_processes import Listen, ProcessSpec
from . import statefile, supervisor
from .supervisor import Running, SupervisorError

NAME = "restarter"
#: seconds between two looks at the processes
POLL_S = 0.5


@dataclass(frozen=True)
class Backoff:
    """The kubelet's restart back-off: `initial_s`, doubling per restart, at most `cap_s`."""

    initial_s: float
    cap_s: float

    @property
    def reset_after_s(self) -> float:
        """A process that ran this long since its last restart starts over (the kubelet: 2 × cap)."""
        return 2 * self.cap_s


#: the kubelet's 10 s → 5 min, scaled to a rehearsal on one machine
BACKOFF = Backoff(initial_s=1.0, cap_s=30.0)


@dataclass(frozen=True)
class Restarts:
    """A process's restart record (in the state file under `restarts`); times are
    `time.monotonic()` seconds, which every process of the machine shares."""

    count: int = 0
    #: how long an exit after the last restart waits before the next one
    delay_s: float | None = None
    restarted_at: float | None = None
    #: when the current exit was first seen; None while the process runs
    exited_at: float | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> "Restarts":
        return cls(**raw) if raw else cls()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fresh(self, now: float, policy: Backoff) -> bool:
        """No back-off applies: never restarted, or not for `reset_after_s`."""
        return self.delay_s is None or self.restarted_at is None or now - self.restarted_at >= policy.reset_after_s

    def wait(self, now: float, policy: Backoff) -> float:
        """Seconds until an exited process may be restarted (0: now)."""
        if self.exited_at is None or self.delay_s is None or self.fresh(now, policy):
            return 0.0
        return max(0.0, self.exited_at + self.delay_s - now)

    def next_delay(self, now: float, policy: Backoff) -> float:
        if self.delay_s is None or self.fresh(now, policy):
            return policy.initial_s
        return min(2 * self.delay_s, policy.cap_s)


class Processes(Protocol):
    """What the restarter does to processes (the machine's, or a test's fakes)."""

    def alive(self, running: Running) -> bool: ...
    def exit_code(self, running: Running) -> int | None: ...
    def clear(self, running: Running) -> None: ...
    def launch(self, spec: ProcessSpec, log: str, fingerprint: str, note: str) -> Running: ...


def tick(state: dict[str, Any], now: float, processes: Processes, policy: Backoff = BACKOFF) -> list[str]:
    """One look at every process of the state: restart those that exited and whose back-off is
    over, record it in `state` (changed in place); returns what happened, one line each."""
    events: list[str] = []
    restarts: dict[str, Any] = state.setdefault("restarts", {})
    specs = state.get("specs") or {}
    for name, raw in sorted((state.get("processes") or {}).items()):
        running = Running.from_dict(name, raw)
        if processes.alive(running):
            continue
        record = Restarts.from_dict(restarts.get(name))
        if record.exited_at is None:
            record = Restarts(record.count, record.delay_s, record.restarted_at, now)
            code = processes.exit_code(running)
            events.append(f"{name} (pid {running.pid}) exited" + (f" with code {code}" if code is not None else "")
                          + ("" if name in specs else "; no spec recorded for it, so it is not restarted"))
        if record.wait(now, policy) > 0 or name not in specs:
            restarts[name] = record.to_dict()
            continue
        spec, log = spec_from_record(specs[name])
        delay = record.next_delay(now, policy)
        record = Restarts(record.count + 1, delay, now, None)
        try:
            processes.clear(running)
            started = processes.launch(spec, log, running.fingerprint, f"restart {record.count}")
        except SupervisorError as err:
            record = Restarts(record.count, delay, now, now)
            events.append(f"{name}: restart {record.count} failed ({err}); next try in {delay:g}s")
        else:
            state["processes"][name] = started.to_dict()
            events.append(f"{name}: restart {record.count} (pid {started.pid}); if it exits again, "
                          f"the next restart waits {delay:g}s")
        restarts[name] = record.to_dict()
    return events


def describe(alive: bool, restarts: Mapping[str, Any] | None, restarter_alive: bool, now: float,
             policy: Backoff = BACKOFF) -> str:
    """A process's state as `make local-status` prints it."""
    if alive:
        return "running"
    if not restarter_alive:
        return "STOPPED"
    record = Restarts.from_dict(restarts)
    wait = record.wait(now, policy)
    if wait > 0:
        return f"CrashLoopBackOff (back-off {record.delay_s:g}s, next restart in {wait:.0f}s)"
    return "exited, restarting"


# --- the process specs in the state file ---------------------------------------------------
def spec_record(spec: ProcessSpec, log: str) -> dict[str, Any]:
    return {"spec": asdict(spec), "log": log}


def spec_from_record(raw: Mapping[str, Any]) -> tuple[ProcessSpec, str]:
    s = dict(raw["spec"])
    spec = ProcessSpec(
        name=s["name"], kind=s["kind"], argv=tuple(s["argv"]), cwd=s["cwd"],
        env=tuple((str(k), str(v)) for k, v in s["env"]),
        listens=tuple(Listen(Endpoint(**listen["endpoint"]), listen["label"]) for listen in s["listens"]),
        health_url=s["health_url"], workload=s.get("workload"), config_file=s.get("config_file"),
        admin_url=s.get("admin_url"))
    return spec, str(raw["log"])


# --- on the machine --------------------------------------------------------------------------
class MachineProcesses:
    """The real processes; keeps the ones it started, to reap them and read their exit codes."""

    def __init__(self) -> None:
        self.children: dict[int, subprocess.Popen[bytes]] = {}

    def alive(self, running: Running) -> bool:
        child = self.children.get(running.pid)
        if child is not None and child.poll() is not None:
            return False
        return running.alive()

    def exit_code(self, running: Running) -> int | None:
        child = self.children.get(running.pid)
        return child.poll() if child is not None else None

    def clear(self, running: Running) -> None:
        """What is left of the exited process's group (a forked worker), as a kubelet kills the
        rest of a container's cgroup."""
        supervisor.stop([running], timeout=5.0)
        self.children.pop(running.pid, None)

    def launch(self, spec: ProcessSpec, log: str, fingerprint: str, note: str) -> Running:
        started, popen = supervisor.start(spec, log, fingerprint, note)
        self.children[popen.pid] = popen
        return started


def spec(root: Path, project_root: Path) -> ProcessSpec:
    """The restarter as a process of the rehearsal."""
    return ProcessSpec(name=NAME, kind=NAME, argv=(sys.executable, "-m", "celestials.local.restarter", "--root",
                                                   str(root)),
                       cwd=str(project_root), env=(("PYTHONPATH", str(project_root)),), listens=(), health_url="")


def run(root: Path, poll_s: float = POLL_S, policy: Backoff = BACKOFF) -> int:
    """Look after the rehearsal in `root` until its state file is gone or names another restarter."""
    me, processes = os.getpid(), MachineProcesses()
    print(f"restarter (pid {me}): restarting exited processes of {root}; back-off {policy.initial_s:g}s, "
          f"doubling, at most {policy.cap_s:g}s, reset after {policy.reset_after_s:g}s", flush=True)
    while True:
        with statefile.lock(root):
            try:
                state = statefile.read(root)
            except statefile.StateFileError as err:
                print(f"restarter: {err}", flush=True)
                return 1
            if state is None or (state.get(NAME) or {}).get("pid") != me:
                print("restarter: the rehearsal is stopped, or another restarter looks after it", flush=True)
                return 0
            events = tick(state, time.monotonic(), processes, policy)
            if events:
                statefile.write(root, state)
        for event in events:
            print(event, flush=True)
        time.sleep(poll_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m celestials.local.restarter", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="the rehearsal's directory (its state.json)")
    args = parser.parse_args(argv)
    return run(Path(args.root).resolve())


if __name__ == "__main__":
    sys.exit(main())
