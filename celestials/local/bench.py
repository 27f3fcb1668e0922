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
near 250 rps here) and GET / at 100 rps.

The machine is shared and drifts, so one run per path cannot tell two hops from the drift between
two runs: every row is measured in interleaved rounds (direct then gateway, then gateway then
direct, ...), each figure is the median with the spread (min–max) over the rounds, and what the
gateway adds is read from the rounds' paired differences (gateway minus the direct run next to it),
with the number of rounds in which the gateway was the slower. The rehearsal runs in its own
loopback block (127.76.x.y), tracing off unless `--tracing`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from .rehearsal import PROJECT_ROOT, Rehearsal
from .testing import get, post_form

BENCH_NET = 76
CONNECTIONS = (1, 16, 64)
TARGETS = ("/", "/ping")
#: (target, total requests/s) over 16 connections, like Istio's benchmark
FIXED_RATE = (("/ping", 1000), ("/", 100))
FIXED_CONNECTIONS = 16
ROUNDS = 5
PATHS = ("direct", "gateway")
EXTRA_HOPS = 2  # the gateway and the frontend's inbound sidecar
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
T = TypeVar("T")


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


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        return cls(statistics.median(values), min(values), max(values))

    def __str__(self) -> str:
        return f"{self.median:.2f} ({self.low:.2f}–{self.high:.2f})"

    def signed(self) -> str:
        return f"{self.median:+.2f} ({self.low:+.2f} to {self.high:+.2f})"


def interleaved(paths: Sequence[str], rounds: int, measure: Callable[[str], T]) -> dict[str, list[T]]:
    """Run `measure` once per path in each of `rounds` rounds, the order reversed every other round
    (A B, B A, A B, ...): drift on the machine hits every path alike, and no path always runs
    right after the same other one."""
    runs: dict[str, list[T]] = {p: [] for p in paths}
    for i in range(rounds):
        for path in (paths if i % 2 == 0 else tuple(reversed(paths))):
            runs[path].append(measure(path))
    return runs


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


@dataclass(frozen=True)
class Row:
    """One measured shape (request, load) on both paths, every round kept."""

    target: str
    #: how it was loaded: "1 conn", or "1000 rps / 16 conn"
    load: str
    runs: dict[str, list[Result]]

    def added(self, quantile: str) -> list[float]:
        """Per round, the gateway's figure minus the direct one of the same round."""
        return [getattr(g, f"{quantile}_ms") - getattr(d, f"{quantile}_ms")
                for d, g in zip(self.runs["direct"], self.runs["gateway"], strict=True)]


def _quantiles(results: list[Result]) -> str:
    return " | ".join(str(Spread.of([getattr(r, f"{q}_ms") for r in results])) for q in ("p50", "p90", "p99"))


def table(rows: list[Row]) -> str:
    """Per row and path: median (min–max) over the rounds; then what the gateway adds, from the
    rounds' paired differences, with how many rounds it was slower in. A per-hop figure only where
    the gateway was slower at p90 in every round: a difference that changes sign between rounds is
    not resolved by the run, and one where the gateway path was faster in every round (a saturated
    closed loop: the paths queue differently) measures queueing, not what two hops cost."""
    lines = ["| request | load | path | req/s | p50 ms | p90 ms | p99 ms | requests | errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for path in PATHS:
            rs = row.runs[path]
            lines.append(f"| GET {row.target} | {row.load} | {path} | "
                         f"{Spread.of([r.requests_per_s for r in rs]).median:.0f} "
                         f"({min(r.requests_per_s for r in rs):.0f}–{max(r.requests_per_s for r in rs):.0f}) | "
                         f"{_quantiles(rs)} | {sum(r.requests for r in rs)} | {sum(r.errors for r in rs)} |")
    lines += ["", "Added by the gateway + the frontend's inbound sidecar (gateway minus direct, per round; "
              "median (min to max) over the rounds):", "",
              "| request | load | +p50 ms | +p90 ms | +p99 ms | +p90 ms per hop | gateway slower at p90 in |",
              "|---|---|---|---|---|---|---|"]
    for row in rows:
        p50, p90, p99 = (Spread.of(row.added(q)) for q in ("p50", "p90", "p99"))
        slower = sum(d > 0 for d in row.added("p90"))
        per_hop = f"{p90.median / EXTRA_HOPS:+.2f}" if p90.low > 0 else "n/a"
        verdict = ("" if p90.low > 0 else ": faster through the gateway, so not a hop's cost" if p90.high < 0
                   else ": sign not resolved")
        lines.append(f"| GET {row.target} | {row.load} | {p50.signed()} | {p90.signed()} | {p99.signed()} | "
                     f"{per_hop} | {slower} of {len(row.added('p90'))} rounds{verdict} |")
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


def _wrk(urls: dict[str, str], target: str, connections: int, seconds: int) -> Callable[[str], Result]:
    return lambda path: run_wrk(urls[path] + target, target, path, connections, seconds)


def _hey(urls: dict[str, str], target: str, rate: int, seconds: int) -> Callable[[str], Result]:
    return lambda path: run_hey(urls[path] + target, target, path, seconds, rate=rate)


def _measure(target: str, load: str, rounds: int, run: Callable[[str], Result],
             warm_up: Callable[[str], Result] | None = None) -> Row:
    """One row: a warm-up per path (connection pools, JIT), then the interleaved rounds."""
    for path in PATHS:
        if warm_up is not None:
            warm_up(path)
    row = Row(target, load, interleaved(PATHS, rounds, run))
    p90 = {path: Spread.of([r.p90_ms for r in rs]) for path, rs in row.runs.items()}
    print(f"  GET {target:6} {load:20} p90 direct {p90['direct']}  gateway {p90['gateway']}", flush=True)
    return row


def _as_dict(row: Row) -> dict[str, object]:
    return {"target": row.target, "load": row.load,
            "runs": {path: [asdict(r) for r in rs] for path, rs in row.runs.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m celestials.local.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--seconds", type=int, default=4, help="duration of each load run (default 4)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"interleaved rounds per row (default {ROUNDS})")
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
    load_before = os.getloadavg()[0]
    endpoints = rehearsal.up()
    try:
        gateway = endpoints["gateway"]
        direct = endpoints["workloads"]["frontend-node"]["app"]
        urls = {"direct": direct.rstrip("/"), "gateway": gateway.rstrip("/")}
        post_form(gateway + "products", {"id": str(uuid.uuid4().int % 10**9), "name": "Bench lamp"})
        for url in (direct, gateway):  # both paths answer a full page before measuring
            status, body = get(url)
            if status != 200 or "Product Catalog version" not in body:
                raise RuntimeError(f"{url} did not answer a full page (HTTP {status})")
        closed = [_measure(target, f"{c} conn", args.rounds, _wrk(urls, target, c, args.seconds), _wrk(urls, target, c, 1))
                  for target in TARGETS for c in CONNECTIONS]
        fixed = [_measure(target, f"{rate} rps / {FIXED_CONNECTIONS} conn", args.rounds,
                          _hey(urls, target, rate, args.seconds)) for target, rate in FIXED_RATE]
    finally:
        rehearsal.down()
    print(f"\nfrontend-node, {args.rounds} interleaved rounds of {args.seconds}s per row and path, tracing "
          f"{'on' if args.tracing else 'off'}, stack {args.stack}; {os.cpu_count()} CPUs, load average "
          f"{load_before:.1f} before → {os.getloadavg()[0]:.1f} after\n")
    print("Closed loop (wrk):\n")
    print(table(closed))
    print("\nFixed rate (open loop, hey):\n")
    print(table(fixed))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"tracing": args.tracing, "seconds": args.seconds, "rounds": args.rounds,
                                          "closed_loop": [_as_dict(r) for r in closed],
                                          "fixed_rate": [_as_dict(r) for r in fixed]}, indent=2) + "\n")
    print(f"\nraw results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
