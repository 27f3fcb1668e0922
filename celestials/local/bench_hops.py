"""`make bench`: what one Envoy hop of the rehearsal costs, side by side with no hop, in one run.

The same request (`GET /catalogDetail` of proddetail-v1, a small JSON answer) four ways:

    direct   the app's own address
    bare     a bare Envoy (same binary and flags, one route to the app, no tracing, no access log,
             no retries): what any Envoy hop costs on this machine, the floor our config sits on
    1 hop    proddetail-v1's sidecar (inbound listener → app): the server-side proxy
    2 hops   prodcatalog's sidecar outbound listener → proddetail-v1's sidecar → app: client and
             server proxy, the path prodcatalog's own calls take (canary weight 0, so all go to v1)

at a fixed rate (hey, 200 requests/s over 4 keep-alive connections, each paced at 50/s), tracing
(100 % sampling, exported to the trace sink) and JSON access logs on, as the rehearsal runs. The
machine is shared, so the paths are measured interleaved (direct, 1 hop, 2 hops, direct, ...) in
short rounds and each figure is the median over the rounds, with the spread (min–max); the added
latency per hop is the difference of medians: 1 hop − direct (server proxy) and 2 hops − 1 hop
(client proxy).

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

from ..render.local_envoy import HCM, ROUTER
from ..render.local_plan import ADMIN_PORT, Endpoint
from ..render.local_processes import Listen, ProcessSpec, envoy_argv
from . import supervisor
from .bench import BENCH_NET, Result, parse_hey
from .rehearsal import PROJECT_ROOT, Rehearsal, find_tools

TARGET = "/catalogDetail"
RATE = 200
CONNECTIONS = 4
PATHS = ("direct", "bare", "1 hop", "2 hops")
BARE = "bare-proxy"
#: the bare Envoy's addresses: a host no rehearsal process uses (127.<net>.5.x is not in the plan)
BARE_HOST = f"127.{BENCH_NET}.5.1"
#: processes whose scheduling is accounted per request (all are on, or feed from, every path)
ACCOUNTED = ("proddetail-v1", BARE, "proddetail-v1-envoy", "prodcatalog-envoy", "trace-sink")
SETTINGS = {"canaryWeight": "0", "tracing": "true"}  # every call of the 2-hop path reaches proddetail-v1


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        return cls(statistics.median(values), min(values), max(values))

    def __str__(self) -> str:
        return f"{self.median:.2f} ({self.low:.2f}–{self.high:.2f})"


@dataclass(frozen=True)
class Sched:
    """Scheduler time of a process (all its threads and children), in nanoseconds."""

    run_ns: int
    wait_ns: int
    slices: int

    def __sub__(self, other: "Sched") -> "Sched":
        return Sched(self.run_ns - other.run_ns, self.wait_ns - other.wait_ns, self.slices - other.slices)


def sched(pid: int) -> Sched:
    total = [0, 0, 0]
    for proc in [pid, *_children(pid)]:
        for task in Path(f"/proc/{proc}/task").glob("*"):
            try:
                values = (task / "schedstat").read_text().split()
            except OSError:
                continue  # a thread that just ended
            for i in range(3):
                total[i] += int(values[i])
    return Sched(*total)


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


def urls(endpoints: dict[str, Any], bare: str) -> dict[str, str]:
    workloads = endpoints["workloads"]
    return {"direct": workloads["proddetail-v1"]["app"], "bare": bare,
            "1 hop": workloads["proddetail-v1"]["sidecar"],
            "2 hops": workloads["prodcatalog"]["outbound"]["proddetail"]}


def bare_proxy_bootstrap(listen: Endpoint, admin: Endpoint, app: Endpoint) -> dict[str, Any]:
    """The least an Envoy can be in front of the app: one listener, one route, one cluster."""
    def address(e: Endpoint) -> dict[str, Any]:
        return {"socket_address": {"address": e.host, "port_value": e.port}}
    hcm = {"@type": HCM, "stat_prefix": "bare", "http_filters": [
               {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}}],
           "route_config": {"name": "bare", "virtual_hosts": [
               {"name": "bare", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "app"}}]}]}}
    return {"node": {"id": BARE, "cluster": BARE}, "admin": {"address": address(admin)},
            "static_resources": {
                "listeners": [{"name": "bare", "address": address(listen), "filter_chains": [{"filters": [
                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}]}],
                "clusters": [{"name": "app", "type": "STATIC", "connect_timeout": "1s", "load_assignment": {
                    "cluster_name": "app", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address(app)}}]}]}}]}}


@contextlib.contextmanager
def bare_proxy(rehearsal: Rehearsal) -> Iterator[tuple[str, int]]:
    """Run the bare Envoy in front of proddetail-v1 for the measurement: (its URL, its pid)."""
    rendered = rehearsal.render()
    mesh = next(m for m in rendered.topology.meshes if any(w.name == "proddetail-v1" for w in m.workloads))
    app = rendered.plan.app(mesh, mesh.workload("proddetail-v1"))
    listen, admin = Endpoint(BARE_HOST, app.port), Endpoint(BARE_HOST, ADMIN_PORT)
    config_file = rendered.plan.envoy_config(BARE)
    Path(config_file).write_text(json.dumps(bare_proxy_bootstrap(listen, admin, app), indent=2) + "\n")
    spec = ProcessSpec(name=BARE, kind="sidecar", argv=envoy_argv(find_tools(), rendered.plan, BARE),
                       cwd=str(rehearsal.project_root), env=(), listens=(Listen(listen, "bare Envoy"),),
                       health_url=admin.url + "/ready")
    supervisor.check_ports([spec])
    running, popen = supervisor.start(spec, rendered.plan.log(BARE), "bench")
    try:
        supervisor.wait_healthy([spec], {BARE: running}, {BARE: rendered.plan.log(BARE)}, 30)
        yield listen.url + "/", popen.pid
    finally:
        supervisor.stop([running])
        popen.wait()


def run_hey(url: str, path: str, seconds: float) -> Result:
    command = ["hey", "-z", f"{seconds:g}s", "-c", str(CONNECTIONS), "-q", f"{RATE / CONNECTIONS:g}", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_hey(output, TARGET, path, CONNECTIONS)


def run_accounted(url: str, path: str, seconds: float, pids: dict[str, int]) -> Run:
    before, busy_before = {n: sched(p) for n, p in pids.items()}, machine_busy()
    result = run_hey(url, path, seconds)
    after, busy_after = {n: sched(p) for n, p in pids.items()}, machine_busy()
    n = max(result.requests, 1)
    per_request = {}
    for name in pids:
        d = after[name] - before[name]
        per_request[name] = (d.run_ns / n / 1e3, d.wait_ns / n / 1e3, d.slices / n)
    busy = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1)
    return Run(result, per_request, busy)


def measure(paths: dict[str, str], rounds: int, seconds: float, pids: dict[str, int]) -> dict[str, list[Run]]:
    """Interleaved: every round runs each path once, in order, so drift hits them alike."""
    runs: dict[str, list[Run]] = {p: [] for p in paths}
    for url in paths.values():  # warm-up: connection pools, JIT
        subprocess.run(["hey", "-z", "2s", "-c", str(CONNECTIONS), "-q", f"{RATE / CONNECTIONS:g}",
                        url.rstrip("/") + TARGET], capture_output=True, check=True)
    for i in range(rounds):
        for path, url in paths.items():
            runs[path].append(run_accounted(url.rstrip("/") + TARGET, path, seconds, pids))
        print(f"  round {i + 1}/{rounds}: " + "  ".join(
            f"{p} p50 {r[-1].result.p50_ms:.2f} p90 {r[-1].result.p90_ms:.2f}" for p, r in runs.items()), flush=True)
    return runs


def where_the_time_goes(runs: dict[str, list[Run]]) -> str:
    lines = ["| path | machine busy | " + " | ".join(ACCOUNTED) + " |", "|---|---|" + "---|" * len(ACCOUNTED)]
    for path, rs in runs.items():
        cells = []
        for name in ACCOUNTED:
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
    lines += ["", "| hop | added p50 ms | added p90 ms |", "|---|---|---|"]
    for label, a, b in (("bare Envoy (bare − direct)", "direct", "bare"),
                        ("server proxy (1 hop − direct)", "direct", "1 hop"),
                        ("client proxy (2 hops − 1 hop)", "1 hop", "2 hops")):
        lines.append(f"| {label} | {summary[b]['p50'].median - summary[a]['p50'].median:+.2f} | "
                     f"{summary[b]['p90'].median - summary[a]['p90'].median:+.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m celestials.local.bench_hops", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--seconds", type=float, default=4, help="duration of each run (default 4)")
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
        with bare_proxy(rehearsal) as (bare_url, bare_pid):
            runs = measure(urls(endpoints, bare_url), args.rounds, args.seconds, {**pids, BARE: bare_pid})
        results = {path: [r.result for r in rs] for path, rs in runs.items()}
    finally:
        if not args.keep:
            rehearsal.down()
    print(f"\nGET {TARGET} of proddetail-v1 at {RATE} requests/s ({CONNECTIONS} connections × {RATE // CONNECTIONS}/s, "
          f"hey), tracing on (100 %), access logs on; median (min–max) of {args.rounds} interleaved rounds of "
          f"{args.seconds:g}s; {os.cpu_count()} CPUs shared with the whole rehearsal and other jobs\n")
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
