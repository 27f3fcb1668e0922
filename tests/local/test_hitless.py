"""Settings changes are hitless, as in the cluster: under steady traffic the canary weight goes
0 → 100 → 50 and the mTLS trust flips both ways; no request fails, the split follows each new
weight, green's answer follows the trust, and no process (Envoys included) restarts."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from celestials.local import xds_files
from celestials.local.testing import get
from celestials.render.local_xds import EnvoyFiles

from .test_canary import binomial_bounds

_VERSION = re.compile(r"Product Catalog version ([12]) has vendors")
#: Requests each phase needs before the next change, so every weight is seen on enough pages.
PER_PHASE = 60
#: Bounded steady traffic: pages through the gateway at 50/s, blue through front at 25/s, 12 s each,
#: enough for five phases plus the time the five changes take on a loaded machine.
PAGES, BLUES = 600, 300


@dataclass(frozen=True)
class Answer:
    started: float
    ended: float
    status: int
    body: str


class SteadyTraffic:
    """At most `count` GETs at a fixed rate (open loop: a slow answer does not delay the next)."""

    def __init__(self, url: str, count: int, rate: float, headers: dict | None = None):
        self.url, self.count, self.rate, self.headers = url, count, rate, headers
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "SteadyTraffic":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._thread.join()

    def _one(self) -> None:
        started = time.monotonic()
        try:
            status, body = get(self.url, headers=self.headers, timeout=10)
        except OSError as err:  # a reset or refused connection is a failed request too
            status, body = 0, repr(err)
        with self._lock:
            self.answers.append(Answer(started, time.monotonic(), status, body))

    def _run(self) -> None:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            for i in range(self.count):
                time.sleep(max(0.0, start + i / self.rate - time.monotonic()))
                pool.submit(self._one)

    def started_since(self, t: float) -> int:
        with self._lock:
            return sum(a.started >= t for a in self.answers)

    def wait_for(self, since: float, n: int) -> None:
        deadline = time.monotonic() + n / self.rate * 3 + 10
        while self.started_since(since) < n and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)


def _version(answer: Answer) -> str:
    found = _VERSION.search(answer.body)
    return found.group(1) if answer.status == 200 and found else f"failed (HTTP {answer.status})"


def _processes(rehearsal) -> dict:
    return json.loads(Path(rehearsal.root, "state.json").read_text())["processes"]


def test_weight_and_trust_changes_drop_no_request_and_restart_nothing(rehearsal, urls, product):
    before = _processes(rehearsal)
    previous = dict(rehearsal.overrides)
    windows: dict[int, list[float]] = {}  # weight → [applied at, next change started at]
    trust_checks = []
    try:
        with SteadyTraffic(urls["gateway"], PAGES, 50) as pages, \
                SteadyTraffic(urls["colorFront"], BLUES, 25, {"color_header": "blue"}) as blues:
            for step in ({"canaryWeight": 0}, {"mtlsTrust": "ca1+ca2"}, {"canaryWeight": 100},
                         {"mtlsTrust": "ca1"}, {"canaryWeight": 50}):
                changing = time.monotonic()
                for window in windows.values():
                    if len(window) == 1 and "canaryWeight" in step:
                        window.append(changing)
                assert rehearsal.reconfigure(step) == []  # nothing restarted
                applied = time.monotonic()
                if "canaryWeight" in step:
                    windows[step["canaryWeight"]] = [applied]
                else:
                    trust_checks.append((step["mtlsTrust"], get(urls["colorFront"], {"color_header": "green"})[0]))
                pages.wait_for(applied, PER_PHASE)
    finally:
        rehearsal.overrides = previous
        rehearsal.reconfigure({})

    failed = [(_version(a), a.body[:200]) for a in pages.answers if not _version(a).isdigit()]
    failed += [(a.status, a.body[:200]) for a in blues.answers if (a.status, a.body) != (200, "blue")]
    assert not failed, f"{len(failed)} of {len(pages.answers) + len(blues.answers)} requests failed: {failed[:5]}"
    assert len(pages.answers) == PAGES and len(blues.answers) == BLUES

    # the split followed every weight: pages served wholly between a change being applied and the
    # next one starting show the new weight
    for weight, (start, *end) in windows.items():
        seen = [_version(a) for a in pages.answers if a.started >= start and (not end or a.ended < end[0])]
        assert len(seen) >= PER_PHASE, (weight, len(seen))
        low, high = binomial_bounds(len(seen), weight)
        assert low <= seen.count("2") <= high, (weight, {v: seen.count(v) for v in set(seen)})
    # the trust followed too: green (CA2) answers exactly while front trusts ca1+ca2
    assert trust_checks == [("ca1+ca2", 200), ("ca1", 502)]
    # and no process restarted: same pids, same start times
    assert _processes(rehearsal) == before


def test_a_rejected_file_is_named_and_the_envoy_keeps_its_routes(rehearsal, urls, product):
    rendered = rehearsal.render()
    files = rendered.files["prodcatalog-envoy"]
    path = rendered.plan.xds_file("prodcatalog-envoy", "rds-proddetail")
    broken = {"version_info": "broken", "resources": [{**files.xds[path]["resources"][0], "no_such_field": 1}]}
    admin = rendered.spec("prodcatalog-envoy").admin_url
    try:
        xds_files.write(EnvoyFiles(files.bootstrap, {path: broken}), rendered.plan.envoy_config("prodcatalog-envoy"))
        with pytest.raises(xds_files.ReloadError, match=r"prodcatalog-envoy has not applied rds-proddetail\.json"):
            xds_files.wait_applied("prodcatalog-envoy", admin, {path: "broken"}, "its log", timeout=2)
        assert _version(Answer(0, 0, *get(urls["gateway"]))) in ("1", "2")  # still served, old routes
    finally:
        changed = xds_files.write(files, rendered.plan.envoy_config("prodcatalog-envoy"))
        xds_files.wait_applied("prodcatalog-envoy", admin, changed, "its log", timeout=10)
