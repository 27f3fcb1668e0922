"""The EKS control plane is priced at the rate of its version's support on the day priced: the
extended-support rate only while an EXTENDED cluster's version is in extended support. The day is
an input (`today`; `make cost` reads it once, `CELESTIALS_TODAY` overrides it)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from celestials import eks_versions as ev
from celestials.cost import load_price_book, price_resources
from synth import cost as cli
from synth.diff import synth_here
from tests.cost.test_model import BOOK, H, rec

DAY = timedelta(days=1)
V135 = ev.release("1.35")
STD, EXT = V135.standard_support_ends, V135.extended_support_ends


def _cluster(inputs, today):
    report = price_resources([rec("eks:index:Cluster", "eks", inputs)], "test-region-1", BOOK, today=today)
    (r,) = report.resources
    return r


@pytest.mark.parametrize("inputs, today, usd, item", [
    ({"version": "1.35", "upgradePolicy": {"supportType": "EXTENDED"}}, STD, 0.1,
     f"EXTENDED upgrade policy: in standard support on {STD} (until {STD})"),
    ({"version": "1.35", "upgradePolicy": {"supportType": "EXTENDED"}}, STD + DAY, 0.6,
     f"EXTENDED upgrade policy: in extended support on {STD + DAY} (until {EXT})"),
    ({"version": "1.35", "upgradePolicy": {"supportType": "EXTENDED"}}, EXT, 0.6, "in extended support"),
    ({"version": "1.35", "upgradePolicy": {"supportType": "STANDARD"}}, STD + DAY, 0.1,
     "STANDARD upgrade policy: past standard support"),
    ({"version": "1.35"}, STD + DAY, 0.6, "EXTENDED upgrade policy (none stated: EKS's default): in extended"),
    ({}, STD + DAY, 0.1, "version not stated: standard support assumed"),
])
def test_the_rate_follows_the_version_the_policy_and_the_day(inputs, today, usd, item):
    r = _cluster(inputs, today)
    assert r.status == "priced", r.note
    (charge,) = r.charges
    assert (charge.price.usd, charge.hours) == (usd, H) and r.monthly == pytest.approx(usd * H)
    assert item in charge.item, charge.item


@pytest.mark.parametrize("inputs, today, why", [
    ({"version": "1.35", "upgradePolicy": {"supportType": "EXTENDED"}}, EXT + DAY,
     f"EKS no longer offers 1.35 on {EXT + DAY}"),
    ({"version": "1.29"}, STD, "EKS version 1.29 is not in celestials/eks_versions.py"),
])
def test_a_version_without_a_rate_that_day_is_unpriced_not_guessed(inputs, today, why):
    r = _cluster(inputs, today)
    assert r.status == "unpriced" and why in r.note


def _cluster_of(records):
    (cluster,) = [r for r in records if r["type"] == "eks:index:Cluster"]
    return cluster


def test_a_stack_in_extended_support_costs_exactly_the_premium_more_only_with_extended_policy():
    prices = load_price_book().region("us-west-2")
    premium = (prices["eks_cluster_extended_support_hour"].usd - prices["eks_cluster_hour"].usd) * H
    policies = {}
    for stack in ("dev", "prod"):
        records = synth_here(stack, {})
        cluster = _cluster_of(records)
        policy = policies[stack] = cluster["inputs"]["upgradePolicy"]["supportType"]
        last_standard_day = ev.release(cluster["inputs"]["version"]).standard_support_ends
        before = price_resources(records, "us-west-2", today=last_standard_day)
        after = price_resources(records, "us-west-2", today=last_standard_day + DAY)
        extra = premium if policy == ev.EXTENDED else 0.0  # STANDARD: upgraded by AWS, never billed extended
        assert after.total - before.total == pytest.approx(extra), stack
        changed = {r.urn for r in after.priced if r.monthly != before.by_urn()[r.urn].monthly}
        assert changed == ({cluster["urn"]} if extra else set()), stack
    assert set(policies.values()) == set(ev.SUPPORT_TYPES), "the stacks cover both policies"


def test_make_cost_prices_as_of_the_injected_day(monkeypatch, capsys):
    version = _cluster_of(synth_here("prod", {}))["inputs"]["version"]
    day = ev.release(version).standard_support_ends + DAY
    monkeypatch.setenv("CELESTIALS_TODAY", str(day))
    assert cli.main(["--stack", "prod"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Stack prod — us-west-2, on-demand, USD per month (730 h), as of {day}")
    assert f"EKS control plane {version}, EXTENDED upgrade policy: in extended support on {day}" in out
    monkeypatch.setenv("CELESTIALS_TODAY", "someday")
    assert cli.main(["--stack", "prod"]) == 1
    assert "CELESTIALS_TODAY='someday'" in capsys.readouterr().err
