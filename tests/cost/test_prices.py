"""The price data's provenance: every figure has a price, a date, a source, the region its source
states it for and whether that confirms it for the region it prices; a figure is confirmed only for
the region its source names; usage volumes are stated; every instance type the capacity check
accepts has a confirmed price in every region with data."""

from __future__ import annotations

import datetime

import pytest
import yaml

from celestials.capacity import INSTANCE_TYPES
from celestials.cost import CostError, load_price_book, parse_price_book
from celestials.cost.prices import ALL_REGIONS, PRICES_FILE

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
        assert price.source_region, path


def test_an_unconfirmed_figure_says_so_in_its_source():
    """`confirmed: false` is an assumption: the reader of the source must see it is one."""
    for path, price in load_price_book().all_prices().items():
        if not price.confirmed:
            assert "not confirmed" in price.source, path


def _figure(**changes):
    figure = {"usd": 0.1, "unit": "h", "date": datetime.date(2026, 1, 1), "source": "x",
              "region": "us-west-2", "confirmed": True}
    figure.update(changes)
    return {k: v for k, v in figure.items() if v is not None}


def _parse(figure, key="eks_cluster_hour"):
    return parse_price_book({"hours_per_month": 730, "regions": {"us-west-2": {key: figure}}})


def test_a_complete_figure_is_accepted():
    price = _parse(_figure()).region("us-west-2")["eks_cluster_hour"]
    assert (price.source_region, price.confirmed) == ("us-west-2", True)


@pytest.mark.parametrize("field", ["date", "source", "usd", "region", "confirmed"])
def test_a_figure_without_date_source_price_region_or_confirmed_is_refused(field):
    with pytest.raises(CostError, match=f"us-west-2.eks_cluster_hour has no {field}"):
        _parse(_figure(**{field: None}))


def test_an_empty_source_is_refused():
    with pytest.raises(CostError, match="m5.large.source is empty"):
        _parse({"m5.large": _figure(source=" ")}, key="ec2_instance_hour")


@pytest.mark.parametrize("source_region", ["us-east-1", "not stated"])
def test_a_figure_confirmed_from_another_regions_source_is_refused(source_region):
    with pytest.raises(CostError, match=f"confirmed: true but its source states the figure for {source_region}, "
                                        "not us-west-2"):
        _parse(_figure(region=source_region))


def test_another_regions_figure_is_kept_as_unconfirmed():
    price = _parse(_figure(region="us-east-1", confirmed=False)).region("us-west-2")["eks_cluster_hour"]
    assert (price.source_region, price.confirmed) == ("us-east-1", False)


def test_a_figure_for_all_regions_confirms_each():
    assert _parse(_figure(region=ALL_REGIONS)).region("us-west-2")["eks_cluster_hour"].confirmed


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_confirmed_must_be_true_or_false(value):
    figure = _figure()
    figure["confirmed"] = value
    with pytest.raises(CostError, match="eks_cluster_hour.confirmed = .* is not true or false"):
        _parse(figure)


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


def test_every_instance_price_is_confirmed_for_its_region():
    """The dev default is chosen by price among these types (test_cheapest_dev): an assumed price
    could pick the wrong one."""
    book = load_price_book()
    for region in RAW["regions"]:
        unconfirmed = sorted(t for t, p in book.region(region).instance_hour.items() if not p.confirmed)
        assert not unconfirmed, f"{region}: instance prices not confirmed for the region: {unconfirmed}"

