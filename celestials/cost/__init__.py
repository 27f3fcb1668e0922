"""Monthly cost of a stack from its synth output (issue 12): price data with provenance
(prices.yaml, read by `prices`), the pure model (`model`), text tables and deltas (`report`)."""

from .model import Charge, CostReport, FREE_TYPES, PRICERS, ResourceCost, control_plane_rates, price_resources
from .prices import CostError, PriceBook, load_price_book, parse_price_book
from .report import CostDelta, cost_deltas, money, render_deltas, render_table
from .tutorial import tutorial_records

__all__ = ["Charge", "CostDelta", "CostError", "CostReport", "FREE_TYPES", "PRICERS", "PriceBook",
           "ResourceCost", "control_plane_rates", "cost_deltas", "load_price_book", "money", "parse_price_book", "price_resources",
           "render_deltas", "render_table", "tutorial_records"]
