"""The bench reads wrk's and hey's reports correctly (the figures in docs/local.md come from here)."""

from __future__ import annotations

import pytest

from celestials.local.bench import median_result, parse_hey, parse_wrk

WRK = """\
Running 3s test @ http://127.76.0.1:8088/
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.65ms    3.60ms  30.81ms   71.90%
  Latency Distribution
     50%  420.00us
     75%    9.63ms
     90%   15.57ms
     99%    1.02s
  283 requests in 3.00s, 1.20MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:     94.18
Transfer/sec:    400.00KB
"""

HEY = """\
Summary:
  Requests/sec:\t926.6000

Latency distribution:
  10% in 0.0012 secs
  50% in 0.0028 secs
  90% in 0.0177 secs
  99% in 0.0435 secs

Status code distribution:
  [200]\t2770 responses
  [503]\t10 responses

Error distribution:
  [3]\tGet "http://127.76.0.1:8088/ping": dial tcp: connection refused
"""


def test_wrk_report_units_and_errors():
    r = parse_wrk(WRK, "/", "gateway", 1)
    assert (r.p50_ms, r.p90_ms, r.p99_ms) == pytest.approx((0.42, 15.57, 1020.0))
    assert (r.requests_per_s, r.requests, r.errors) == (94.18, 283, 4 + 3)


def test_hey_report_in_seconds_with_failures_counted():
    r = parse_hey(HEY, "/ping", "direct", 16)
    assert (r.p50_ms, r.p90_ms, r.p99_ms) == pytest.approx((2.8, 17.7, 43.5))
    assert (r.requests_per_s, r.requests, r.errors) == (926.6, 2783, 13)


def test_median_of_rounds():
    runs = [parse_hey(HEY.replace("0.0177", v), "/ping", "direct", 16) for v in ("0.0100", "0.0300", "0.0177")]
    assert median_result(runs).p90_ms == pytest.approx(17.7) and median_result(runs).requests == 3 * 2783
