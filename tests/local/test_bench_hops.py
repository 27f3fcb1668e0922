"""The per-hop bench's arithmetic, its load and its own Envoys (the figures in docs/local.md come from here)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from celestials.local.bench import Result
from celestials.local.bench_hops import (BACK_TO_BACK, RATE, STUB_BODY, Run, Spread, bare_proxy_bootstrap,
                                         hey_command, measured_paths, sched, spent, stub_bootstrap, table,
                                         where_the_time_goes)
from celestials.local.rehearsal import find_tools
from celestials.render.local_plan import Endpoint
from tests.support.services import free_port, http_get


def _result(path: str, p50: float, p90: float) -> Result:
    return Result("/catalogDetail", path, 1, 200.0, p50, p90, p90 * 2, 800, 0)


def test_each_hop_is_a_difference_of_medians_over_the_rounds():
    results = {"direct": [_result("direct", 1.0, 2.0), _result("direct", 9.0, 30.0), _result("direct", 1.2, 2.2)],
               "bare": [_result("bare", 1.3, 2.5)] * 3,
               "1 hop": [_result("1 hop", 1.4, 2.6), _result("1 hop", 1.6, 3.0), _result("1 hop", 50.0, 90.0)],
               "2 hops": [_result("2 hops", 2.0, 4.0)] * 3,
               "stub": [_result("stub", 0.9, 1.5)] * 3, "bare → stub": [_result("bare → stub", 1.7, 2.4)] * 3,
               f"stub, {BACK_TO_BACK}": [_result("", 0.2, 0.3)] * 3,
               f"bare → stub, {BACK_TO_BACK}": [_result("", 0.5, 0.6)] * 3}
    text = table(results)
    assert "| hop | added p50 ms | added p90 ms | under 0.5 ms p50 and 1 ms p90 |" in text  # 1.00 is not under 1
    assert "| direct | 1.20 (1.00–9.00) | 2.20 (2.00–30.00) |" in text
    assert "| bare Envoy (bare − direct) | +0.10 | +0.30 | yes |" in text
    assert "| server proxy (1 hop − direct) | +0.40 | +0.80 | yes |" in text
    assert "| client proxy (2 hops − 1 hop) | +0.40 | +1.00 | no |" in text
    assert "| bare Envoy, no app (bare → stub − stub) | +0.80 | +0.90 | no |" in text
    assert f"| the same, {BACK_TO_BACK} | +0.30 | +0.30 | yes |" in text
    assert str(Spread.of([3.0, 1.0, 2.0])) == "2.00 (1.00–3.00)"


def test_a_hop_whose_paths_were_not_measured_is_left_out():
    text = table({"direct": [_result("direct", 1.0, 2.0)], "1 hop": [_result("1 hop", 1.5, 2.5)]})
    assert "| server proxy (1 hop − direct) | +0.50 | +0.50 | no |" in text
    assert "bare" not in text and "client proxy" not in text


def test_where_the_time_goes_reports_medians_per_request():
    names = ("proddetail-v1", "bare-proxy", "proddetail-v1-envoy", "prodcatalog-envoy", "stub-envoy", "trace-sink")
    runs = {"1 hop": [Run(_result("1 hop", 1, 2), {n: (100.0 * k, 50.0, 2.0) for n in names}, 0.5 + k / 10)
                      for k in (1, 2, 3)]}
    assert where_the_time_goes(runs).splitlines()[-1] == (
        "| 1 hop | 70% | " + " | ".join(["200 / 50 / 2.0"] * len(names)) + " |")


def test_the_load_is_one_connection_paced_at_the_rate_or_back_to_back():
    """Several connections paced by hey tick in step: their requests arrive in bursts and queue."""
    assert hey_command("http://h/x", 3, paced=True) == ["hey", "-z", "3s", "-c", "1", "-q", str(RATE), "http://h/x"]
    assert hey_command("http://h/x", 3, paced=False) == ["hey", "-z", "3s", "-c", "1", "http://h/x"]


def test_every_hop_is_measured_both_ways_and_only_the_stub_pair_back_to_back():
    endpoints = {"workloads": {"proddetail-v1": {"app": "http://a/", "sidecar": "http://s/"},
                               "prodcatalog": {"outbound": {"proddetail": "http://o/"}}}}
    paths = measured_paths(endpoints, "http://b/", "http://bs/", "http://st/")
    assert {label: (p.url, p.paced) for label, p in paths.items()} == {
        "direct": ("http://a/", True), "bare": ("http://b/", True), "1 hop": ("http://s/", True),
        "2 hops": ("http://o/", True), "stub": ("http://st/", True), "bare → stub": ("http://bs/", True),
        f"stub, {BACK_TO_BACK}": ("http://st/", False), f"bare → stub, {BACK_TO_BACK}": ("http://bs/", False)}


def test_scheduler_time_is_read_for_a_live_process():
    """The kernel adds a running thread's time to schedstat at a tick or a switch, not on every read:
    burn CPU, then sleep (a switch), until the reading moves; a process whose time never moves fails."""
    before = sched(os.getpid())
    deadline = time.monotonic() + 10
    while (used := spent(before, sched(os.getpid()))).run_ns == 0:
        assert time.monotonic() < deadline, "schedstat did not move in 10 s of CPU work"
        sum(range(200_000))
        time.sleep(0.001)
    assert used.run_ns > 0 and used.slices > 0


def test_a_thread_that_ends_between_readings_is_left_out_not_subtracted():
    """The trace sink serves each connection on its own thread; one ending must not make a figure negative."""
    burned, release = threading.Event(), threading.Event()

    def serve_one_connection():
        sum(range(3_000_000))  # CPU time the first reading sees
        burned.set()
        release.wait()

    worker = threading.Thread(target=serve_one_connection)
    worker.start()
    burned.wait()
    before = sched(os.getpid())
    release.set()
    worker.join()
    deadline = time.monotonic() + 10  # join() returns just before the kernel lets the thread go
    while Path(f"/proc/{os.getpid()}/task/{worker.native_id}").exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    after = sched(os.getpid())
    assert worker.native_id in before and worker.native_id not in after
    naive = sum(t.run_ns for t in after.values()) - sum(t.run_ns for t in before.values())
    assert naive < 0  # what summing all threads at each reading reported: the worker's time, subtracted
    used = spent(before, after)
    assert used.run_ns >= 0 and used.wait_ns >= 0 and used.slices >= 0


@pytest.mark.parametrize("which", ["bare", "stub"])
def test_the_bench_envoys_pass_envoy_validate(tmp_path, which):
    listen, admin, app = Endpoint("127.76.5.1", 3000), Endpoint("127.76.5.1", 9901), Endpoint("127.76.1.3", 3000)
    bootstrap = (bare_proxy_bootstrap(admin, {"app": (listen, app), "stub": (Endpoint("127.76.5.1", 3001), app)})
                 if which == "bare" else stub_bootstrap(listen, admin))
    config = tmp_path / f"{which}.json"
    config.write_text(json.dumps(bootstrap))
    result = subprocess.run([find_tools().envoy, "--mode", "validate", "-c", str(config), "--log-level", "error"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr


def test_the_bare_envoy_forwards_to_the_stub_which_answers_like_the_app(tmp_path):
    """The no-app pair really is a hop: the answer crosses the bare Envoy from the stub."""
    host, taken = "127.0.0.1", set[int]()
    stub, stub_admin, front, front_admin = (Endpoint(host, free_port(host, taken)) for _ in range(4))
    configs = {"stub": stub_bootstrap(stub, stub_admin),
               "bare": bare_proxy_bootstrap(front_admin, {"stub": (front, stub)})}
    envoys = []
    try:
        for name, bootstrap in configs.items():
            (tmp_path / f"{name}.json").write_text(json.dumps(bootstrap))
            envoys.append(subprocess.Popen([find_tools().envoy, "-c", str(tmp_path / f"{name}.json"), "--concurrency",
                                            "1", "--disable-hot-restart", "--log-level", "error"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 30
        while not (_ready(stub_admin) and _ready(front_admin)):
            assert time.monotonic() < deadline, "the bare Envoy did not become ready"
            time.sleep(0.2)
        status, body = http_get(front.url + "/catalogDetail")
        assert (status, body) == (200, STUB_BODY)
        assert json.loads(body) == {"vendors": ["ABC.com"], "version": "1"}  # the shape of proddetail-v1's answer
        _, stats = http_get(front_admin.url + "/stats?filter=cluster.stub.upstream_rq_200$")
        assert stats.strip() == "cluster.stub.upstream_rq_200: 1"
    finally:
        for envoy in envoys:
            envoy.terminate()
            envoy.wait(10)


def _ready(admin: Endpoint) -> bool:
    try:
        return http_get(admin.url + "/ready", timeout=1)[0] == 200
    except OSError:
        return False
