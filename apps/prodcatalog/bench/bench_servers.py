"""Benchmark GET /products/ under gunicorn (gunicorn.conf.py) and under Flask's development server.

Both servers run in the same run, on the same seeded SQLite file, against the same fast proddetail
stub (a separate process), on 127.0.0.1 only. For each concurrency level, the same number of client
threads (one keep-alive connection each) send requests for a fixed time, split into slices that
alternate between the two servers; the table gives throughput, p50 and p99 latency and the
gunicorn/dev-server ratios.

    python apps/prodcatalog/bench/bench_servers.py [--duration 5] [--rounds 5] [--clients 1,8,32] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1]
PORTS = range(18080, 18100)  # the top of prodcatalog's test range
PRODUCTS = 25
DETAIL = {"version": "1", "vendors": ["ABC.com"]}

PRODDETAIL_STUB = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
BODY = json.dumps({detail}).encode()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stalls
    def log_message(self, *args): pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

DEV_SERVER = r"""
import sys
from prodcatalog import create_app
create_app().run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
"""


def free_ports(count: int) -> list[int]:
    found = []
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise SystemExit(f"need {count} free ports in {PORTS.start}-{PORTS.stop - 1}")


def wait_ready(port: int, path: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} not ready after {timeout}s")


def seed(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.executemany("INSERT OR REPLACE INTO products VALUES (?, ?)",
                         [(i, f"Product {i}") for i in range(1, PRODUCTS + 1)])


def load(port: int, clients: int, duration: float) -> tuple[list[float], int, float]:
    """`clients` threads, each on one keep-alive connection, for `duration` seconds (after a warm-up).

    Returns the latencies (seconds), the error count and the measured time."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start_gate = threading.Barrier(clients + 1)
    stop_at = [float("inf")]

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(3):  # warm-up: connect, first requests
            conn.request("GET", "/products/")
            conn.getresponse().read()
        start_gate.wait()
        mine = latencies[index]
        while True:
            began = time.perf_counter()
            if began >= stop_at[0]:
                break
            try:
                conn.request("GET", "/products/")
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or b'"vendors"' not in body:
                    errors[index] += 1
            except OSError:
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - began)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    stop_at[0] = began + duration
    for thread in threads:
        thread.join()
    return [x for per_client in latencies for x in per_client], sum(errors), time.perf_counter() - began


def summarize(samples: list[float], errors: int, elapsed: float) -> dict:
    samples = sorted(samples)

    def pct(q: float) -> float:
        return samples[min(len(samples) - 1, int(q * len(samples)))] * 1000 if samples else float("nan")

    return {"requests": len(samples), "rps": len(samples) / elapsed, "p50": pct(0.50), "p99": pct(0.99),
            "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per server and level")
    parser.add_argument("--clients", default="1,8,32", help="comma-separated concurrency levels")
    parser.add_argument("--rounds", type=int, default=5, help="alternating slices per server and level")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    if args.duration <= 0 or args.duration > 60 or not levels or max(levels) > 64 or min(levels) < 1:
        raise SystemExit("--duration must be in (0, 60] and --clients between 1 and 64")
    if not 1 <= args.rounds <= 20:
        raise SystemExit("--rounds must be between 1 and 20")

    load_before = os.getloadavg()[0]
    detail_port, gunicorn_port, dev_port = free_ports(3)
    with tempfile.TemporaryDirectory(prefix="prodcatalog-bench-") as data:
        db = Path(data) / "products.db"
        seed(db)
        env = {**os.environ, "SQLITE_PATH": str(db), "AGG_APP_URL": f"http://127.0.0.1:{detail_port}/catalogDetail",
               "OTEL_TRACES_EXPORTER": "none", "HOST": "127.0.0.1", "WEB_CONCURRENCY": str(args.workers),
               "GUNICORN_THREADS": str(args.threads), "LOG_LEVEL": "warning"}
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        processes = {
            "proddetail stub": subprocess.Popen(
                [sys.executable, "-c", PRODDETAIL_STUB.replace("{detail}", repr(DETAIL)), str(detail_port)], **quiet),
            "gunicorn": subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null",
                 "prodcatalog:create_app()"], cwd=APP_DIR, env={**env, "PORT": str(gunicorn_port)}, **quiet),
            "dev server": subprocess.Popen(
                [sys.executable, "-c", DEV_SERVER, str(dev_port)], cwd=APP_DIR, env=env, **quiet),
        }
        try:
            wait_ready(detail_port, "/catalogDetail", processes["proddetail stub"])
            wait_ready(gunicorn_port, "/products/ping", processes["gunicorn"])
            wait_ready(dev_port, "/products/ping", processes["dev server"])
            conn = http.client.HTTPConnection("127.0.0.1", gunicorn_port, timeout=5)
            conn.request("GET", "/products/")
            body = json.loads(conn.getresponse().read())
            assert len(body["products"]) == PRODUCTS and body["details"] == DETAIL, body

            # The two servers take turns in short slices, so background load on a shared machine
            # falls on both alike instead of on whichever happened to run at a bad moment.
            servers = (("gunicorn", gunicorn_port), ("dev server", dev_port))
            results = {}
            for clients in levels:
                collected = {name: ([], 0, 0.0) for name, _ in servers}
                for _ in range(args.rounds):
                    for name, port in servers:
                        samples, errors, elapsed = load(port, clients, args.duration / args.rounds)
                        old_samples, old_errors, old_elapsed = collected[name]
                        collected[name] = (old_samples + samples, old_errors + errors, old_elapsed + elapsed)
                for name, _ in servers:
                    results[(clients, name)] = summarize(*collected[name])
        finally:
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()

    print(f"prodcatalog GET /products/ ({PRODUCTS} products, proddetail stub), {args.duration:g}s per cell "
          f"in {args.rounds} slices alternating between the servers; "
          f"gunicorn: {args.workers} workers x {args.threads} threads (gthread); dev server: Flask threaded")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"client threads in the benchmark process on the same machine; "
          f"1-min load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print()
    print("| clients | server | requests | req/s | p50 ms | p99 ms | errors |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for clients in levels:
        for name in ("gunicorn", "dev server"):
            r = results[(clients, name)]
            print(f"| {clients} | {name} | {r['requests']} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} "
                  f"| {r['errors']} |")
    print()
    print("| clients | throughput gunicorn/dev | p50 gunicorn/dev | p99 gunicorn/dev |")
    print("|---:|---:|---:|---:|")
    for clients in levels:
        g, d = results[(clients, "gunicorn")], results[(clients, "dev server")]
        print(f"| {clients} | {g['rps'] / d['rps']:.2f}x | {g['p50'] / d['p50']:.2f}x | {g['p99'] / d['p99']:.2f}x |")


if __name__ == "__main__":
    main()
