"""The per-hop bench's arithmetic and its bare Envoy (the figures in docs/local.md come from here)."""

from __future__ import annotations

import json
import subprocess

from celestials.local.bench import Result
from celestials.local.bench_hops import Run, Spread, bare_proxy_bootstrap, sched, table, where_the_time_goes
from celestials.local.rehearsal import find_tools
from celestials.render.local_plan import Endpoint


def _result(path: str, p50: float, p90: float) -> Result:
    return Result("/catalogDetail", path, 4, 200.0, p50, p90, p90 * 2, 800, 0)


def test_each_hop_is_a_difference_of_medians_over_the_rounds():
    results = {"direct": [_result("direct", 1.0, 2.0), _result("direct", 9.0, 30.0), _result("direct", 1.2, 2.2)],
               "bare": [_result("bare", 1.3, 2.5)] * 3,
               "1 hop": [_result("1 hop", 1.4, 2.6), _result("1 hop", 1.6, 3.0), _result("1 hop", 50.0, 90.0)],
               "2 hops": [_result("2 hops", 2.0, 4.0)] * 3}
    text = table(results)
    assert "| direct | 1.20 (1.00–9.00) | 2.20 (2.00–30.00) |" in text
    assert "| bare Envoy (bare − direct) | +0.10 | +0.30 |" in text
    assert "| server proxy (1 hop − direct) | +0.40 | +0.80 |" in text
    assert "| client proxy (2 hops − 1 hop) | +0.40 | +1.00 |" in text
    assert str(Spread.of([3.0, 1.0, 2.0])) == "2.00 (1.00–3.00)"


def test_where_the_time_goes_reports_medians_per_request():
    names = ("proddetail-v1", "bare-proxy", "proddetail-v1-envoy", "prodcatalog-envoy", "trace-sink")
    runs = {"1 hop": [Run(_result("1 hop", 1, 2), {n: (100.0 * k, 50.0, 2.0) for n in names}, 0.5 + k / 10)
                      for k in (1, 2, 3)]}
    assert where_the_time_goes(runs).splitlines()[-1] == (
        "| 1 hop | 70% | 200 / 50 / 2.0 | 200 / 50 / 2.0 | 200 / 50 / 2.0 | 200 / 50 / 2.0 | 200 / 50 / 2.0 |")


def test_scheduler_time_is_read_for_a_live_process():
    import os
    before = sched(os.getpid())
    sum(range(200_000))
    after = sched(os.getpid())
    assert after.run_ns > before.run_ns and after.slices >= before.slices


def test_the_bare_envoy_passes_envoy_validate(tmp_path):
    config = tmp_path / "bare.json"
    config.write_text(json.dumps(bare_proxy_bootstrap(Endpoint("127.76.5.1", 3000), Endpoint("127.76.5.1", 9901),
                                                      Endpoint("127.76.1.3", 3000))))
    result = subprocess.run([find_tools().envoy, "--mode", "validate", "-c", str(config), "--log-level", "error"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr
