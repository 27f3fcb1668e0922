"""The dev stack's default node group is the cheapest that passes the capacity check with the
default mesh backend: every instance type of the table, at every node count that could still be
cheaper, priced by the cost model and checked by the capacity check."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from celestials import capacity as cap
from celestials.cost import load_price_book, price_resources
from celestials.local.stack import read_stack_config
from celestials.settings import parse_settings
from celestials.topology import build_topology
from synth.diff import synth_here
from synth.harness import ROOT


@pytest.fixture(scope="module")
def dev():
    raw = read_stack_config(ROOT, "dev")
    region = raw.pop("aws:region")
    return parse_settings(raw, "dev", region), synth_here("dev", {})


def _group_cost(records, instance: str, nodes: int, region: str) -> float:
    """The node group's monthly cost (instances + root volumes) as the cost model prices it."""
    records = copy.deepcopy(records)
    (group,) = [r for r in records if r["type"] == "eks:index:ManagedNodeGroup"]
    group["inputs"]["instanceTypes"] = [instance]
    group["inputs"]["scalingConfig"]["desiredSize"] = nodes
    report = price_resources(records, region, today=date(2026, 12, 7))  # the node group's price is not dated
    (priced,) = [r for r in report.priced if r.urn == group["urn"]]
    return priced.monthly


def test_dev_uses_the_default_backend(dev):
    from celestials.settings import Settings

    settings, _ = dev
    assert settings.mesh_backend == Settings().mesh_backend


def test_no_cheaper_node_group_passes_the_capacity_check(dev):
    from components import mesh_backends, trace_collector

    settings, records = dev
    demands = cap.stack_demands(build_topology(settings), mesh_backends.select(settings).capacity_overhead(settings),
                                trace_collector.pod_demands(settings))
    current = _group_cost(records, settings.instance_type, settings.node_count, settings.region)
    assert cap.plan_capacity(settings.instance_type, settings.node_count, demands,
                             settings.node_architecture).fits
    hourly = load_price_book().region(settings.region).instance_hour
    cheaper = []
    for name, it in cap.INSTANCE_TYPES.items():
        nodes = 1
        # more nodes of one type only cost more; stop once the instances alone reach the current cost
        while nodes * hourly[name].usd * 730 < current:
            cost = _group_cost(records, name, nodes, settings.region)
            if cost < current - 0.005 and cap.plan_capacity(name, nodes, demands).fits:
                cheaper.append((round(cost, 2), f"{nodes} × {name} ({it.architecture})"))
            nodes += 1
    assert not cheaper, (f"dev runs {settings.node_count} × {settings.instance_type} at ${current:.2f}/month, "
                         f"but these pass the capacity check for less: {sorted(cheaper)}")
