"""`make bench`: what one Envoy hop of the rehearsal costs, side by side with no hop, in one run.

The same request (`GET /catalogDetail` of proddetail-v1, a small JSON answer) four ways:

    direct   the app's own address
    bare     a bare Envoy (same binary and flags, one route to the app, no tracing, no access log,
             no retries): what any Envoy hop costs on this machine, the floor our config sits on
    1 hop    proddetail-v1's sidecar (inbound listener → app): the server-side proxy
    2 hops   prodcatalog's sidecar outbound listener → proddetail-v1's sidecar → app: client and
             server proxy, the path prodcatalog's own calls take (canary weight 0, so all go to v1)

and, to separate what the machine charges for a hop from anything of ours, with no app at all:

    stub          an Envoy answering by itself (`direct_response`): the cheapest HTTP server here
    bare → stub   the bare Envoy in front of it

at a fixed rate: hey, 200 requests/s, evenly spaced (one keep-alive connection, a request every
5 ms; several connections paced by hey tick in step and arrive in bursts, which queue behind each
other and count queueing as latency), tracing (100 % sampling, exported to the trace sink) and
JSON access logs on, as the rehearsal runs. The stub pair is measured a second time back to back
(one connection, each request sent when the last answer arrives): the same hop with no idle gap
between requests. The machine is shared, so the paths are measured interleaved (direct, bare, 1 hop,
..., direct, ...) in short rounds and each figure is the median over the rounds, with the spread
(min–max); the added latency of a hop is a difference of medians (1 hop − direct: the server proxy,
2 hops − 1 hop: the client proxy).

Where the time goes is read from the kernel's scheduler statistics of every process on the path
(`/proc/<pid>/task/*/schedstat`: time on a CPU, time runnable but waiting for one, and the number
of times it was scheduled), per request, and from `/proc/stat` how busy the machine was: a proxy
hop is at least two wake-ups of the Envoy's worker thread (the request in, the answer back), and on
a saturated machine each wake-up first waits in the run queue.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from ..render.local_envoy import HCM, ROUTER, envoy_listener, route_config, socket_address, static_cluster
from ..render.local_plan import ADMIN_PORT, Endpoint, LocalPlan
from ..render.local_processes import Listen, ProcessSpec, envoy_argv
from . import bench, supervisor
from .bench import BENCH_NET, Result, Spread
from .rehearsal import PROJECT_ROOT, Rehearsal, find_tools

TARGET = "/catalogDetail"
RATE = 200
#: one keep-alive connection, so requests are evenly spaced, 1/RATE apart (the docstring says why)
CONNECTIONS = 1
BARE = "bare-proxy"
STUB = "stub-envoy"
#: the bench's own Envoys live on hosts no rehearsal process uses (127.<net>.5.x is not in the plan)
BARE_HOST = f"127.{BENCH_NET}.5.1"
STUB_HOST = f"127.{BENCH_NET}.5.2"
#: the port of the stub, and of the bare Envoy's listener in front of it
STUB_PORT = 3001
#: the stub answers what proddetail-v1 answers, so both pairs carry the same bytes
STUB_BODY = '{"version":"1","vendors":["ABC.com"]}'
BACK_TO_BACK = "back to back"
#: (hop, path without it, path with it): each hop's cost is the difference of the two paths' medians
HOPS = (("bare Envoy (bare − direct)", "direct", "bare"),
        ("server proxy (1 hop − direct)", "direct", "1 hop"),
        ("client proxy (2 hops − 1 hop)", "1 hop", "2 hops"),
        ("bare Envoy, no app (bare → stub − stub)", "stub", "bare → stub"),
        (f"the same, {BACK_TO_BACK}", f"stub, {BACK_TO_BACK}", f"bare → stub, {BACK_TO_BACK}"))
#: what a hop may add at RATE (p50, p90 in ms): the target of issue 11, with tracing and access logs on
TARGET_ADDED_MS = (0.5, 1.0)
#: processes whose scheduling is accounted per request (all are on, or feed from, some path)
ACCOUNTED = ("proddetail-v1", BARE, "proddetail-v1-envoy", "prodcatalog-envoy", STUB, "trace-sink")
SETTINGS = {"canaryWeight": "0", "tracing": "true"}  # every call of the 2-hop path reaches proddetail-v1


@dataclass(frozen=True)
class Sched:
    """Scheduler time of a process (all its threads and children), in nanoseconds."""

    run_ns: int
    wait_ns: int
    slices: int

    def __sub__(self, other: "Sched") -> "Sched":
        return Sched(self.run_ns - other.run_ns, self.wait_ns - other.wait_ns, self.slices - other.slices)

    def __add__(self, other: "Sched") -> "Sched":
        return Sched(self.run_ns + other.run_ns, self.wait_ns + other.wait_ns, self.slices + other.slices)


def sched(pid: int) -> dict[int, Sched]:
    """Scheduler time of each thread of a process and its children, by thread id."""
    threads = {}
    for proc in [pid, *_children(pid)]:
        for task in Path(f"/proc/{proc}/task").glob("*"):
            try:
                values = (task / "schedstat").read_text().split()
            except OSError:
                continue  # a thread that just ended
            threads[int(task.name)] = Sched(*(int(v) for v in values[:3]))
    return threads


def spent(before: dict[int, Sched], after: dict[int, Sched]) -> Sched:
    """What a process's threads spent between two readings.

    Only threads alive at the second reading count (one born in between, with all of its time): a
    thread that ended in between (the trace sink serves each connection on a thread of its own) takes
    its figures with it, so it is left out rather than subtracted."""
    total = Sched(0, 0, 0)
    for tid, now in after.items():
        total = total + (now - before.get(tid, Sched(0, 0, 0)))
    return total


def _children(pid: int) -> list[int]:
    try:
        found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [g for c in found for g in _children(c)]


def machine_busy() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


@dataclass(frozen=True)
class Run:
    result: Result
    #: per accounted process: (µs on a CPU, µs waiting for a CPU, times scheduled) per request
    per_request: dict[str, tuple[float, float, float]]
    #: share of the machine's CPU time that was busy during the run
    busy: float


@dataclass(frozen=True)
class MeasuredPath:
    """Where a path's requests go, and whether they are paced at RATE or sent back to back."""

    url: str
    paced: bool = True


def measured_paths(endpoints: dict[str, Any], bare_app: str, bare_stub: str, stub: str) -> dict[str, MeasuredPath]:
    workloads = endpoints["workloads"]
    return {"direct": MeasuredPath(workloads["proddetail-v1"]["app"]), "bare": MeasuredPath(bare_app),
            "1 hop": MeasuredPath(workloads["proddetail-v1"]["sidecar"]),
            "2 hops": MeasuredPath(workloads["prodcatalog"]["outbound"]["proddetail"]),
            "stub": MeasuredPath(stub), "bare → stub": MeasuredPath(bare_stub),
            f"stub, {BACK_TO_BACK}": MeasuredPath(stub, paced=False),
            f"bare → stub, {BACK_TO_BACK}": MeasuredPath(bare_stub, paced=False)}


def _listener(name: str, listen: Endpoint, route: dict[str, Any]) -> dict[str, Any]:
    """One plain HTTP listener with one route: no tracing, no access log, no retries."""
    hcm = {"@type": HCM, "stat_prefix": name,
           "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}}],
           "route_config": route_config(name, [{"match": {"prefix": "/"}, **route}])}
    return envoy_listener(name, listen, "INBOUND", [{"filters": [
        {"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}])


def bare_proxy_bootstrap(admin: Endpoint, upstreams: dict[str, tuple[Endpoint, Endpoint]]) -> dict[str, Any]:
    """The least an Envoy can be in front of a server: per upstream one listener, one route, one cluster.

    `upstreams` maps a name to (where the Envoy listens, where it forwards to)."""
    return {"node": {"id": BARE, "cluster": BARE}, "admin": {"address": socket_address(admin)},
            "static_resources": {
                "listeners": [_listener(name, listen, {"route": {"cluster": name}})
                              for name, (listen, _) in upstreams.items()],
                "clusters": [static_cluster(name, upstream) for name, (_, upstream) in upstreams.items()]}}


def stub_bootstrap(listen: Endpoint, admin: Endpoint) -> dict[str, Any]:
    """An Envoy that answers every request itself: an upstream that costs as little as any here."""
    route = {"direct_response": {"status": 200, "body": {"inline_string": STUB_BODY}},
             "response_headers_to_add": [{"header": {"key": "content-type", "value": "application/json"}}]}
    return {"node": {"id": STUB, "cluster": STUB}, "admin": {"address": socket_address(admin)},
            "static_resources": {"listeners": [_listener("stub", listen, route)]}}


@contextlib.contextmanager
def bench_envoy(plan: LocalPlan, cwd: Path, name: str, listens: dict[str, Endpoint], admin: Endpoint,
                bootstrap: dict[str, Any]) -> Iterator[int]:
    """Run one of the bench's own Envoys for the measurement; yields its pid."""
    Path(plan.envoy_config(name)).write_text(json.dumps(bootstrap, indent=2) + "\n")
    spec = ProcessSpec(name=name, kind="sidecar", argv=envoy_argv(find_tools(), plan, name),
                       cwd=str(cwd), env=(),
                       listens=tuple(Listen(e, f"{name} {what}") for what, e in listens.items()),
                       health_url=admin.url + "/ready")
    supervisor.check_ports([spec])
    running, popen = supervisor.start(spec, plan.log(name), "bench")
    try:
        supervisor.wait_healthy([spec], {name: running}, {name: plan.log(name)}, 30)
        yield popen.pid
    finally:
        supervisor.stop([running])
        popen.wait()


@contextlib.contextmanager
def bench_envoys(rehearsal: Rehearsal) -> Iterator[tuple[dict[str, str], dict[str, int]]]:
    """The stub and the bare Envoy (in front of the app and of the stub): their URLs and pids."""
    rendered = rehearsal.render()
    mesh = next(m for m in rendered.topology.meshes if any(w.name == "proddetail-v1" for w in m.workloads))
    app = rendered.plan.app(mesh, mesh.workload("proddetail-v1"))
    stub = Endpoint(STUB_HOST, STUB_PORT)
    bare_app, bare_stub = Endpoint(BARE_HOST, app.port), Endpoint(BARE_HOST, STUB_PORT)
    stub_admin, bare_admin = Endpoint(STUB_HOST, ADMIN_PORT), Endpoint(BARE_HOST, ADMIN_PORT)
    plan, cwd = rendered.plan, rehearsal.project_root
    with bench_envoy(plan, cwd, STUB, {"stub": stub}, stub_admin, stub_bootstrap(stub, stub_admin)) as stub_pid, \
            bench_envoy(plan, cwd, BARE, {"to the app": bare_app, "to the stub": bare_stub}, bare_admin,
                        bare_proxy_bootstrap(bare_admin, {"app": (bare_app, app), "stub": (bare_stub, stub)})) as bare_pid:
        yield ({"bare_app": bare_app.url, "bare_stub": bare_stub.url, "stub": stub.url},
               {STUB: stub_pid, BARE: bare_pid})


def _rate(paced: bool) -> float | None:
    return RATE if paced else None


def hey_command(url: str, seconds: float, paced: bool) -> list[str]:
    return bench.hey_command(url, seconds, CONNECTIONS, _rate(paced))


def run_accounted(url: str, path: str, seconds: float, paced: bool, pids: dict[str, int]) -> Run:
    before, busy_before = {n: sched(p) for n, p in pids.items()}, machine_busy()
    result = bench.run_hey(url, TARGET, path, seconds, CONNECTIONS, _rate(paced))
    after, busy_after = {n: sched(p) for n, p in pids.items()}, machine_busy()
    n = max(result.requests, 1)
    per_request = {}
    for name in pids:
        d = spent(before[name], after[name])
        per_request[name] = (d.run_ns / n / 1e3, d.wait_ns / n / 1e3, d.slices / n)
    busy = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1)
    return Run(result, per_request, busy)


def measure(paths: dict[str, MeasuredPath], rounds: int, seconds: float, pids: dict[str, int]) -> dict[str, list[Run]]:
    """Interleaved: every round runs each path once, in order, so drift hits them alike."""
    runs: dict[str, list[Run]] = {p: [] for p in paths}
    for path in paths.values():  # warm-up: connection pools, JIT
        subprocess.run(hey_command(path.url.rstrip("/") + TARGET, 2, paced=True), capture_output=True, check=True)
    for i in range(rounds):
        for label, path in paths.items():
            runs[label].append(run_accounted(path.url.rstrip("/") + TARGET, label, seconds, path.paced, pids))
        print(f"  round {i + 1}/{rounds}: " + "  ".join(
            f"{p} p50 {r[-1].result.p50_ms:.2f} p90 {r[-1].result.p90_ms:.2f}" for p, r in runs.items()), flush=True)
    return runs


def where_the_time_goes(runs: dict[str, list[Run]]) -> str:
    names = [n for n in ACCOUNTED if any(n in r.per_request for rs in runs.values() for r in rs)]
    lines = ["| path | machine busy | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for path, rs in runs.items():
        cells = []
        for name in names:
            run_us, wait_us, slices = (statistics.median(r.per_request[name][i] for r in rs) for i in range(3))
            cells.append(f"{run_us:.0f} / {wait_us:.0f} / {slices:.1f}")
        lines.append(f"| {path} | {statistics.median(r.busy for r in rs):.0%} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(results: dict[str, list[Result]]) -> str:
    summary = {p: {q: Spread.of([getattr(r, f"{q}_ms") for r in rs]) for q in ("p50", "p90", "p99")}
               for p, rs in results.items()}
    lines = ["| path | p50 ms | p90 ms | p99 ms | req/s | requests | errors |", "|---|---|---|---|---|---|---|"]
    for path, rs in results.items():
        s = summary[path]
        lines.append(f"| {path} | {s['p50']} | {s['p90']} | {s['p99']} | "
                     f"{statistics.median(r.requests_per_s for r in rs):.0f} | {sum(r.requests for r in rs)} | "
                     f"{sum(r.errors for r in rs)} |")
    lines += ["", f"| hop | added p50 ms | added p90 ms | under {TARGET_ADDED_MS[0]:g} ms p50 and {TARGET_ADDED_MS[1]:g} ms p90 |",
              "|---|---|---|---|"]
    for label, a, b in HOPS:
        if a in summary and b in summary:
            p50, p90 = (summary[b][q].median - summary[a][q].median for q in ("p50", "p90"))
            met = "yes" if p50 < TARGET_ADDED_MS[0] and p90 < TARGET_ADDED_MS[1] else "no"
            lines.append(f"| {label} | {p50:+.2f} | {p90:+.2f} | {met} |")
    return "\n".join(lines)


def conditions(rounds: int, seconds: float) -> str:
    return (f"GET {TARGET} at {RATE} requests/s evenly spaced (hey, {CONNECTIONS} keep-alive connection, a request "
            f"every {1000 / RATE:g} ms), '{BACK_TO_BACK}' rows unpaced on the same connection; tracing on (100 %), "
            f"access logs on; median (min–max) of {rounds} interleaved rounds of {seconds:g}s; "
            f"{os.cpu_count()} CPUs shared with the whole rehearsal and other jobs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m celestials.local.bench_hops", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--seconds", type=float, default=3, help="duration of each run (default 3)")
    parser.add_argument("--keep", action="store_true", help="leave the rehearsal running, and measure a running one as it is (for experiments)")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "build" / "bench" / "local-hops.json"))
    args = parser.parse_args(argv)
    if shutil.which("hey") is None:
        print("bench needs hey: apt-get install hey", file=sys.stderr)
        return 1
    rehearsal = Rehearsal(stack=args.stack, overrides=SETTINGS, root=PROJECT_ROOT / "build" / "bench-local",
                          net=BENCH_NET)
    if not (args.keep and rehearsal.is_running()):
        rehearsal.down()
        rehearsal.up()
    try:
        endpoints = json.loads(Path(rehearsal.root, "endpoints.json").read_text())
        state = rehearsal.read_state()
        assert state is not None  # up() wrote it, or it was running already
        pids = {name: raw["pid"] for name, raw in state["processes"].items() if name in ACCOUNTED}
        with bench_envoys(rehearsal) as (urls, own_pids):
            paths = measured_paths(endpoints, urls["bare_app"], urls["bare_stub"], urls["stub"])
            runs = measure(paths, args.rounds, args.seconds, {**pids, **own_pids})
        results = {path: [r.result for r in rs] for path, rs in runs.items()}
    finally:
        if not args.keep:
            rehearsal.down()
    print(f"\n{conditions(args.rounds, args.seconds)}\n")
    print(table(results))
    print("\nWhere the time goes, per request (median over the rounds): µs on a CPU / µs runnable but waiting "
          "for a CPU / times scheduled, for each process (all threads); machine busy = share of both CPUs' "
          "time not idle during the run\n")
    print(where_the_time_goes(runs))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rate": RATE, "connections": CONNECTIONS, "seconds": args.seconds,
                                          "rounds": {p: [asdict(r) for r in rs] for p, rs in runs.items()}},
                                         indent=2) + "\n")
    print(f"\nraw results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
