"""The canary through the whole rehearsal: the v1/v2 split seen through the gateway follows the weight."""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from celestials.local.testing import get

REQUESTS = 400
#: Two-sided bound of 4.5 standard deviations: a correct split fails it with probability < 1e-5.
SIGMAS = 4.5
_VERSION = re.compile(r"Product Catalog version ([12]) has vendors")


def _versions(url: str) -> dict[str, int]:
    def one(_):
        status, body = get(url)
        found = _VERSION.search(body)
        return found.group(1) if status == 200 and found else f"no version (HTTP {status})"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(one, range(REQUESTS)))
    return {answer: answers.count(answer) for answer in set(answers)}


def binomial_bounds(n: int, weight: int) -> tuple[float, float]:
    p = weight / 100
    spread = SIGMAS * math.sqrt(n * p * (1 - p))
    return n * p - spread, n * p + spread


@pytest.mark.parametrize("weight", [0, 50, 100])
def test_the_split_through_the_gateway_follows_the_canary_weight(rehearsal, urls, product, weight):
    with rehearsal.overridden({"canaryWeight": weight}) as restarted:
        assert restarted == []  # applied in place, by the caller's sidecar alone
        assert rehearsal.reloaded == ([] if weight == 50 else ["prodcatalog-envoy"])
        counts = _versions(urls["gateway"])
    assert set(counts) <= {"1", "2"}, counts  # every page showed a version
    low, high = binomial_bounds(REQUESTS, weight)
    assert low <= counts.get("2", 0) <= high, (counts, (low, high))


def test_the_bound_is_exact_at_the_ends_and_about_45_wide_at_50():
    assert binomial_bounds(400, 0) == (0, 0) and binomial_bounds(400, 100) == (400, 400)
    low, high = binomial_bounds(400, 50)
    assert (low, high) == (155, 245)
