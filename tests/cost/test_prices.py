"""The price data's provenance: every figure has a price, a date and a source; usage volumes are
stated; every instance type the capacity check accepts has a price in every region with data."""

from __future__ import annotations

import datetime

import pytest
import yaml

from celestials.capacity import INSTANCE_TYPES
from celestials.cost import CostError, load_price_book, parse_price_book
from celestials.cost.prices import PRICES_FILE

RAW = yaml.safe_load(PRICES_FILE.read_text())


def test_every_price_has_a_date_and_a_source():
    book = load_price_book()
    figures = book.all_prices()
    regions = RAW["regions"]
    expected = sum(len(v) - 1 + len(v["ec2_instance_hour"]) for v in regions.values())
    assert len(figures) == expected > 40
    for path, price in figures.items():
        assert isinstance(price.date, datetime.date) and price.date.year >= 2026, path
        assert len(price.source.strip()) > 10, path
        assert price.usd > 0, path


@pytest.mark.parametrize("field", ["date", "source", "usd"])
def test_a_figure_without_date_source_or_price_is_refused(field):
    region = {"eks_cluster_hour": {"usd": 0.1, "unit": "h", "date": datetime.date(2026, 1, 1), "source": "x"}}
    del region["eks_cluster_hour"][field]
    with pytest.raises(CostError, match=f"us-west-2.eks_cluster_hour has no {field}"):
        parse_price_book({"hours_per_month": 730, "regions": {"us-west-2": region}})


def test_an_empty_source_is_refused():
    region = {"ec2_instance_hour": {"m5.large": {"usd": 0.1, "date": datetime.date(2026, 1, 1), "source": " "}}}
    with pytest.raises(CostError, match="m5.large.source is empty"):
        parse_price_book({"hours_per_month": 730, "regions": {"us-west-2": region}})


def test_usage_assumptions_state_value_unit_and_why():
    for key, a in load_price_book().assumptions.items():
        assert a.value > 0 and a.unit and a.why, key


def test_month_is_730_hours():
    assert load_price_book().hours_per_month == 730


def test_every_region_the_stacks_use_has_data():
    from celestials.local.stack import read_stack_config
    from synth.harness import ROOT

    book = load_price_book()
    for stack in ("dev", "prod"):
        book.region(read_stack_config(ROOT, stack)["aws:region"])


def test_every_instance_type_of_the_capacity_table_has_a_price():
    book = load_price_book()
    for region in RAW["regions"]:
        prices = book.region(region)
        missing = sorted(set(INSTANCE_TYPES) - set(prices.instance_hour))
        assert not missing, f"{region}: no price for {missing}"

