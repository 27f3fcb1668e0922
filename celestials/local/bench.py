"""`make bench` for the rehearsal: what the gateway and the sidecar add to `GET /` of the frontend.

Two paths to the same app: direct (the app's own address) and through the ingress gateway and the
frontend's inbound sidecar — two Envoy hops more, like a client and a server sidecar in Istio's
benchmark. Both paths still include the frontend's calls to prodcatalog and proddetail through
their sidecars, so the difference is the two extra hops; `GET /ping` (answered by the frontend
alone) is measured the same way to show the proxies' cost without the page's own work. Load
comes from `wrk` (closed loop:
each connection sends its next request when the previous answer arrives), 1, 16 and 64
connections. Istio's published sidecar figure (2.65 ms added at p90, Istio 1.12, client + server
proxy, 1 kB at 1000 rps over 16 connections) is an open-loop measurement, so the same shape is
run with `hey` at a fixed rate: GET /ping at 1000 rps over 16 connections (the page itself tops out
near 250 rps here) and GET / at 100 rps, three alternating rounds, medians reported. The
rehearsal runs in its own loopback block (127.76.x.y), tracing off unless `--tracing`.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from .rehearsal import PROJECT_ROOT, Rehearsal
from .testing import get, post_form

BENCH_NET = 76
CONNECTIONS = (1, 16, 64)
TARGETS = ("/", "/ping")
#: (target, total requests/s) over 16 connections, like Istio's benchmark
FIXED_RATE = (("/ping", 1000), ("/", 100))
FIXED_CONNECTIONS = 16
ROUNDS = 3
EXTRA_HOPS = 2  # the gateway and the frontend's inbound sidecar
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Result:
    target: str
    path: str
    connections: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    errors: int


def parse_wrk(output: str, target: str, path: str, connections: int) -> Result:
    """Read wrk's `--latency` report."""
    def latency(pct: str) -> float:
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not found:
            raise ValueError(f"wrk output has no {pct}% latency:\n{output}")
        return float(found.group(1)) * _UNITS[found.group(2)]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not rate or not total:
        raise ValueError(f"wrk output has no request rate:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Result(target, path, connections, float(rate.group(1)), latency("50"), latency("90"), latency("99"),
                  int(total.group(1)), errors)


def run_wrk(url: str, target: str, path: str, connections: int, seconds: int) -> Result:
    threads = 1 if connections == 1 else 2
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output, target, path, connections)


def overhead_rows(results: list[Result], target: str) -> list[str]:
    by = {(r.path, r.connections): r for r in results if r.target == target}
    rows = []
    for c in CONNECTIONS:
        direct, meshed = by[("direct", c)], by[("gateway", c)]
        added = (meshed.p50_ms - direct.p50_ms, meshed.p90_ms - direct.p90_ms, meshed.p99_ms - direct.p99_ms)
        rows.append(f"| GET {target} | {c} | {added[0]:+.2f} | {added[1]:+.2f} | {added[2]:+.2f} | "
                    f"{added[1] / EXTRA_HOPS:+.2f} | {direct.requests_per_s:.0f} → {meshed.requests_per_s:.0f} |")
    return rows


def table(results: list[Result]) -> str:
    lines = ["| request | path | connections | req/s | p50 ms | p90 ms | p99 ms | requests | errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| GET {r.target} | {r.path} | {r.connections} | {r.requests_per_s:.0f} | {r.p50_ms:.2f} | "
                     f"{r.p90_ms:.2f} | {r.p99_ms:.2f} | {r.requests} | {r.errors} |")
    lines += ["", "Added by the gateway + the frontend's inbound sidecar (gateway minus direct):", "",
              "| request | connections | +p50 ms | +p90 ms | +p99 ms | +p90 ms per hop | req/s direct → gateway |",
              "|---|---|---|---|---|---|---|"]
    for target in TARGETS:
        lines += overhead_rows(results, target)
    return "\n".join(lines)


def parse_hey(output: str, target: str, path: str, connections: int) -> Result:
    """Read hey's summary (latencies in seconds)."""
    def latency(pct: str) -> float:
        found = re.search(rf"^\s+{pct}% in ([\d.]+) secs", output, re.M)
        if not found:
            raise ValueError(f"hey output has no {pct}% latency:\n{output}")
        return float(found.group(1)) * 1e3

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    statuses = {int(code): int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", output)}
    failures = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s+Get ", output, re.M))
    if not rate or not statuses:
        raise ValueError(f"hey output has no request rate:\n{output}")
    errors = failures + sum(n for code, n in statuses.items() if not 200 <= code < 400)
    return Result(target, path, connections, float(rate.group(1)), latency("50"), latency("90"), latency("99"),
                  sum(statuses.values()) + failures, errors)


def hey_command(url: str, seconds: float, connections: int, rate: float | None) -> list[str]:
    """hey for `seconds` over `connections`, sharing `rate` requests/s between them (hey paces each
    connection), or unpaced (each connection sends its next request when the answer arrives)."""
    pacing = ["-q", f"{rate / connections:g}"] if rate is not None else []
    return ["hey", "-z", f"{seconds:g}s", "-c", str(connections), *pacing, url]


def run_hey(url: str, target: str, path: str, seconds: float, connections: int = FIXED_CONNECTIONS,
            rate: float | None = None) -> Result:
    command = hey_command(url, seconds, connections, rate)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_hey(output, target, path, connections)


def median_result(results: list[Result]) -> Result:
    first = results[0]
    return Result(first.target, first.path, first.connections,
                  statistics.median(r.requests_per_s for r in results), statistics.median(r.p50_ms for r in results),
                  statistics.median(r.p90_ms for r in results), statistics.median(r.p99_ms for r in results),
                  sum(r.requests for r in results), sum(r.errors for r in results))


def fixed_rate_table(results: list[Result]) -> str:
    lines = ["| request | rate | path | p50 ms | p90 ms | p99 ms | requests | errors | added p90, 2 hops | per hop |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    by = {(r.target, r.path): r for r in results}
    for target, rate in FIXED_RATE:
        direct, meshed = by[(target, "direct")], by[(target, "gateway")]
        for r in (direct, meshed):
            added = meshed.p90_ms - direct.p90_ms
            extra = f"{added:+.2f} | {added / EXTRA_HOPS:+.2f}" if r is meshed else " | "
            lines.append(f"| GET {target} | {rate} rps / {FIXED_CONNECTIONS} conn | {r.path} | {r.p50_ms:.2f} | "
                         f"{r.p90_ms:.2f} | {r.p99_ms:.2f} | {r.requests} | {r.errors} | {extra} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m celestials.local.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--seconds", type=int, default=6, help="duration of each load run (default 6)")
    parser.add_argument("--tracing", action="store_true", help="keep tracing on (100%% sampling) while measuring")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "build" / "bench" / "local.json"))
    args = parser.parse_args(argv)
    missing = [tool for tool in ("wrk", "hey") if shutil.which(tool) is None]
    if missing:
        print(f"bench-local needs {' and '.join(missing)}: apt-get install {' '.join(missing)}", file=sys.stderr)
        return 1

    overrides = {"tracing": "true" if args.tracing else "false"}
    rehearsal = Rehearsal(stack=args.stack, overrides=overrides, root=PROJECT_ROOT / "build" / "bench-local",
                          net=BENCH_NET)
    rehearsal.down()
    endpoints = rehearsal.up()
    try:
        gateway = endpoints["gateway"]
        direct = endpoints["workloads"]["frontend-node"]["app"]
        post_form(gateway + "products", {"id": str(uuid.uuid4().int % 10**9), "name": "Bench lamp"})
        for url in (direct, gateway):  # both paths answer a full page before measuring
            status, body = get(url)
            if status != 200 or "Product Catalog version" not in body:
                raise RuntimeError(f"{url} did not answer a full page (HTTP {status})")
        results = []
        for target in TARGETS:
            for connections in CONNECTIONS:
                for path, base in (("direct", direct), ("gateway", gateway)):
                    url = base.rstrip("/") + target
                    run_wrk(url, target, path, connections, 1)  # warm-up: connection pools, JIT
                    results.append(run_wrk(url, target, path, connections, args.seconds))
                    r = results[-1]
                    print(f"  GET {target:6} {path:8} c={connections:<3} {r.requests_per_s:8.0f} req/s  "
                          f"p90 {r.p90_ms:.2f} ms", flush=True)
        fixed = []
        for target, rate in FIXED_RATE:
            rounds: dict[str, list[Result]] = {"direct": [], "gateway": []}
            for _ in range(ROUNDS):  # alternate the paths so drift on the machine hits both alike
                for path, base in (("direct", direct), ("gateway", gateway)):
                    rounds[path].append(run_hey(base.rstrip("/") + target, target, path, args.seconds, rate=rate))
            for path in ("direct", "gateway"):
                fixed.append(median_result(rounds[path]))
                print(f"  GET {target:6} {path:8} {rate} rps  p90 {fixed[-1].p90_ms:.2f} ms (median of {ROUNDS})",
                      flush=True)
    finally:
        rehearsal.down()
    print(f"\nfrontend-node, {args.seconds}s per run, tracing {'on' if args.tracing else 'off'}, "
          f"stack {args.stack}\n")
    print(table(results))
    print(f"\nFixed rate (open loop, hey), median of {ROUNDS} alternating rounds of {args.seconds}s:\n")
    print(fixed_rate_table(fixed))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"tracing": args.tracing, "seconds": args.seconds,
                                          "results": [asdict(r) for r in results],
                                          "fixed_rate": [asdict(r) for r in fixed]}, indent=2) + "\n")
    print(f"\nraw results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
