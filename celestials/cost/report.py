"""The cost model's answers as text: a table per resource with a monthly total, and the dollar
delta of a change per resource. Pure functions over `CostReport`s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .model import CostReport, ResourceCost


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def unit_price(usd: float) -> str:
    """A unit price with the precision it is quoted at ($0.0225, $0.10), at least cents."""
    text = f"{usd:.6f}".rstrip("0")
    return "$" + (text + "0" * max(0, 2 - len(text.split(".")[1])))


def number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def render_table(report: CostReport, title: str) -> str:
    """Priced resources (most expensive first) with their charges, the total per month, then the
    unpriced resources (never counted as zero) and the assumptions behind usage-based charges."""
    lines = [f"{title} — {report.region}, on-demand, USD per month (730 h), as of {report.today}", ""]
    width = max((len(f"{r.type}  {r.name}") for r in report.priced), default=20)
    used: set[str] = set()
    for r in sorted(report.priced, key=lambda r: (-r.monthly, r.urn)):
        lines.append(f"  {r.type + '  ' + r.name:<{width}}  {money(r.monthly):>10}")
        for c in r.charges:
            per = f"{unit_price(c.price.usd)}/h × {c.hours:g} h" if c.hours is not None else unit_price(c.price.usd)
            mark = " *" if c.assumption else ""
            lines.append(f"      {c.item}: {number(c.quantity)} × {per} = {money(c.monthly)}{mark}")
            if c.assumption:
                used.add(c.assumption)
        if r.note:
            lines.append(f"      not included: {r.note}")
    lines += ["", f"  Total: {money(report.total)} per month "
              f"({len(report.priced)} priced, {len(report.free)} without charge, {len(report.unpriced)} unpriced)"]
    saving = [r for r in report.free if r.saves]
    if saving:
        lines += ["", "  Saved by resources without charge (already out of the charges above):"]
        lines += [f"    - {money(r.saves)}/month: {r.type}  {r.name}: {r.note} *" for r in saving]
        used.add("dynamodb_request_bytes")
    if report.unpriced:
        lines += ["", "  Unpriced (NOT in the total):"]
        lines += [f"    ? {r.type}  {r.name}: {r.note}" for r in report.unpriced]
    if used:
        lines += ["", "  * usage-based, at the volume assumed in celestials/cost/prices.yaml:"]
    a = report.assumptions
    return "\n".join(lines + [f"    {key}: {number(a[key].value)} {a[key].unit}" for key in sorted(used)])


@dataclass(frozen=True)
class CostDelta:
    urn: str
    type: str
    name: str
    #: "create", "delete", "update", "replace" (from the per-resource diff) or "" when only the price moved
    #: (e.g. the node group's root volumes after a launch template change)
    op: str
    before: float
    after: float
    #: an unpriced side: the delta of this resource is unknown
    unpriced: bool = False

    @property
    def delta(self) -> float:
        return self.after - self.before


def cost_deltas(base: CostReport, head: CostReport, ops: Mapping[str, str]) -> list[CostDelta]:
    """Per resource whose monthly cost differs (or that is unpriced on a side and changed), in
    URN order. `ops`: URN → create/delete/update/replace from the per-resource diff."""
    before, after = base.by_urn(), head.by_urn()
    out = []
    for urn in sorted(set(before) | set(after)):
        old, new = before.get(urn), after.get(urn)
        unpriced = any(r is not None and r.status == "unpriced" for r in (old, new))
        b, a = _monthly(old), _monthly(new)
        if round(a - b, 6) != 0 or (unpriced and urn in ops):
            ref = new or old
            assert ref is not None  # the URN comes from one side or the other
            out.append(CostDelta(urn, ref.type, ref.name, ops.get(urn, ""), b, a, unpriced))
    return out


def _monthly(r: ResourceCost | None) -> float:
    return r.monthly if r is not None and r.status == "priced" else 0.0


def render_deltas(stack: str, base_label: str, head_label: str, base: CostReport, head: CostReport,
                  deltas: list[CostDelta]) -> str:
    lines = [f"Stack {stack}: monthly cost {base_label} → {head_label} ({head.region}, on-demand, USD, as of {head.today})"]
    for d in deltas:
        sign = "+" if d.delta >= 0 else "-"
        note = "  (unpriced on one side: delta unknown)" if d.unpriced else ""
        op = {"create": "create", "delete": "delete", "update": "update", "replace": "replace",
              "": "price follows a related change"}[d.op]
        lines.append(f"  {sign} {money(abs(d.delta))}/month: {d.type} {d.name}  [{op}]{note}")
    if not deltas:
        lines.append("  no change in monthly cost")
    total = head.total - base.total
    sign = "+" if total >= 0 else "-"
    lines.append(f"Total: {money(base.total)} → {money(head.total)} per month ({sign} {money(abs(total))})")
    return "\n".join(lines)
