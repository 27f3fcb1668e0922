"""The price data (prices.yaml) read once and checked: every figure has a price, a date, a source,
the region its source states the figure for, and whether that confirms it for the region it prices.

Why a data file: prices change and must be updated without touching the model, and a reviewer must
see where each figure comes from, when it was looked at and for which region. A region without data
is refused, never priced with another region's figures; a figure whose source only gives another
region's rate stays in the file marked `confirmed: false` (an assumption, said so), never passes as
confirmed.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

PRICES_FILE = Path(__file__).with_name("prices.yaml")

#: The `region` of a figure whose source states one rate for every commercial region.
ALL_REGIONS = "all"


class CostError(ValueError):
    """Price data that is missing or malformed, or a region without prices."""


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    date: datetime.date
    source: str
    #: the region the source states the figure for (`ALL_REGIONS` when it states one rate for all)
    source_region: str
    #: the source states it for the region it prices (or for all regions); else an assumption
    confirmed: bool


@dataclass(frozen=True)
class Assumption:
    """A stated usage volume that a usage-based price is multiplied by."""

    value: float
    unit: str
    why: str


@dataclass(frozen=True)
class RegionPrices:
    region: str
    hours_per_month: float
    prices: Mapping[str, Price]
    instance_hour: Mapping[str, Price]
    assumptions: Mapping[str, Assumption]

    def __getitem__(self, key: str) -> Price:
        try:
            return self.prices[key]
        except KeyError:
            raise CostError(f"no price {key!r} for {self.region} in {PRICES_FILE.name}") from None


@dataclass(frozen=True)
class PriceBook:
    currency: str
    hours_per_month: float
    assumptions: Mapping[str, Assumption]
    regions: Mapping[str, Mapping[str, Any]]

    def region(self, name: str) -> RegionPrices:
        """The prices of `name`; a region without data is an error naming the ones that have it."""
        if name not in self.regions:
            raise CostError(f"no price data for region {name!r} (aws:region); {PRICES_FILE.name} has "
                            f"{', '.join(sorted(self.regions))}. Add the region's figures, each with "
                            f"its date and source, to celestials/cost/{PRICES_FILE.name}")
        data = dict(self.regions[name])
        instances = data.pop("ec2_instance_hour", {}) or {}
        return RegionPrices(
            region=name, hours_per_month=self.hours_per_month,
            prices={k: _price(name, k, v) for k, v in data.items()},
            instance_hour={k: _price(name, f"ec2_instance_hour.{k}", {"unit": "per instance-hour", **v})
                           for k, v in instances.items()},
            assumptions=self.assumptions)

    def all_prices(self) -> dict[str, Price]:
        """Every figure of every region, by dotted path (for the provenance check)."""
        out: dict[str, Price] = {}
        for name in self.regions:
            r = self.region(name)
            out.update({f"{name}.{k}": p for k, p in r.prices.items()})
            out.update({f"{name}.ec2_instance_hour.{k}": p for k, p in r.instance_hour.items()})
        return out


_FIELDS = ("usd", "unit", "date", "source", "region", "confirmed")


def _price(region: str, key: str, raw: Any) -> Price:
    path = f"{region}.{key}"
    if not isinstance(raw, Mapping):
        raise CostError(f"{PRICES_FILE.name}: {path} must be a mapping with {', '.join(_FIELDS)}")
    missing = [k for k in _FIELDS if k not in raw]
    if missing:
        raise CostError(f"{PRICES_FILE.name}: {path} has no {', '.join(missing)}")
    usd, date, source = raw["usd"], raw["date"], raw["source"]
    source_region, confirmed = raw["region"], raw["confirmed"]
    if isinstance(usd, bool) or not isinstance(usd, (int, float)) or usd < 0:
        raise CostError(f"{PRICES_FILE.name}: {path}.usd = {usd!r} is not a non-negative number")
    if not isinstance(date, datetime.date):
        raise CostError(f"{PRICES_FILE.name}: {path}.date = {date!r} is not a date (YYYY-MM-DD)")
    if not isinstance(source, str) or not source.strip():
        raise CostError(f"{PRICES_FILE.name}: {path}.source is empty: say where the figure comes from")
    if not isinstance(source_region, str) or not source_region.strip():
        raise CostError(f"{PRICES_FILE.name}: {path}.region = {source_region!r}: name the region the source "
                        f"states the figure for, or {ALL_REGIONS!r}")
    if not isinstance(confirmed, bool):
        raise CostError(f"{PRICES_FILE.name}: {path}.confirmed = {confirmed!r} is not true or false")
    if confirmed and source_region not in (region, ALL_REGIONS):
        raise CostError(f"{PRICES_FILE.name}: {path} is confirmed: true but its source states the figure for "
                        f"{source_region}, not {region}; a figure is confirmed only for the region its source "
                        f"names (or {ALL_REGIONS!r}), else it is confirmed: false")
    return Price(float(usd), str(raw["unit"]), date, source, source_region, confirmed)


def parse_price_book(data: Mapping[str, Any]) -> PriceBook:
    assumptions = {}
    for key, raw in (data.get("assumptions") or {}).items():
        if not isinstance(raw, Mapping) or not {"value", "unit", "why"} <= set(raw):
            raise CostError(f"{PRICES_FILE.name}: assumption {key} needs value, unit and why")
        assumptions[key] = Assumption(float(raw["value"]), str(raw["unit"]), str(raw["why"]))
    book = PriceBook(currency=str(data.get("currency", "USD")), hours_per_month=float(data["hours_per_month"]),
                     assumptions=assumptions, regions=dict(data.get("regions") or {}))
    book.all_prices()  # every figure checked now, not when first used
    return book


@functools.lru_cache(maxsize=1)
def load_price_book(path: Path = PRICES_FILE) -> PriceBook:
    return parse_price_book(yaml.safe_load(path.read_text()))
