"""The bench reads wrk's and hey's reports correctly, measures the paths in interleaved rounds and
summarises them right (the figures in docs/local.md come from here)."""

from __future__ import annotations

import pytest

from celestials.local.bench import PATHS, Result, Row, Spread, interleaved, parse_hey, parse_wrk, table

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


class FakeMachine:
    """Stands in for wrk: a clock that advances one tick per run and a machine that slows down by
    `drift` ms per tick; the gateway costs `added` ms more than direct at every quantile."""

    def __init__(self, added: float, drift: float):
        self.added, self.drift, self.tick, self.calls = added, drift, 0, []

    def measure(self, path: str) -> Result:
        self.calls.append(path)
        base = 10.0 + self.drift * self.tick + (self.added if path == "gateway" else 0.0)
        self.tick += 1
        return Result("/", path, 16, 1000.0 / base, base, base * 2, base * 3, 100, 0)


def test_rounds_alternate_the_order_of_the_paths():
    machine = FakeMachine(added=1.0, drift=0.0)
    runs = interleaved(PATHS, 5, machine.measure)
    assert machine.calls == ["direct", "gateway", "gateway", "direct", "direct", "gateway",
                             "gateway", "direct", "direct", "gateway"]
    assert {path: len(rs) for path, rs in runs.items()} == {"direct": 5, "gateway": 5}
    assert [r.path for r in runs["gateway"]] == ["gateway"] * 5


def test_what_the_gateway_adds_comes_from_each_rounds_pair():
    """A machine slowing down by 3 ms per run under a 1 ms gateway: measured once, direct then
    gateway would read +4 ms; the pairs of alternating rounds read +4 and -2, and say so."""
    machine = FakeMachine(added=1.0, drift=3.0)
    row = Row("/", "16 conn", interleaved(PATHS, 4, machine.measure))
    assert row.added("p50") == pytest.approx([4.0, -2.0, 4.0, -2.0])
    text = table([row])
    assert "| GET / | 16 conn | +1.00 (-2.00 to +4.00) | +2.00 (-4.00 to +8.00) | +3.00 (-6.00 to +12.00) | " \
           "n/a | 2 of 4 rounds: sign not resolved |" in text
    # per path: median (min–max) over the rounds; the direct runs were at ticks 0, 3, 4, 7
    assert "| GET / | 16 conn | direct | 49 (32–100) | 20.50 (10.00–31.00) | 41.00 (20.00–62.00) | " \
           "61.50 (30.00–93.00) | 400 | 0 |" in text


def test_a_gateway_slower_in_every_round_is_resolved():
    machine = FakeMachine(added=2.0, drift=0.5)
    row = Row("/ping", "1 conn", interleaved(PATHS, 5, machine.measure))
    assert row.added("p90") == pytest.approx([5.0, 3.0, 5.0, 3.0, 5.0])
    line = table([row]).splitlines()[-1]
    assert line.endswith("| +2.50 | 5 of 5 rounds |") and "not resolved" not in line
    assert Spread.of(row.added("p90")).signed() == "+5.00 (+3.00 to +5.00)"


def test_a_gateway_faster_in_every_round_gets_no_per_hop_cost():
    machine = FakeMachine(added=-3.0, drift=0.5)
    line = table([Row("/ping", "64 conn", interleaved(PATHS, 3, machine.measure))]).splitlines()[-1]
    assert line.endswith("| n/a | 0 of 3 rounds: faster through the gateway, so not a hop's cost |")
