"""A config change shows exactly its cost delta: two evaluations of the real program compared by
synth.diff's per-resource diff, priced by the model."""

from __future__ import annotations

from datetime import date

import pytest

from celestials.cost import cost_deltas, load_price_book, price_resources, render_deltas
from synth.diff import diff_resources, synth_here

H = 730
#: a fixed day: these deltas do not depend on it
ON = date(2026, 12, 7)


@pytest.fixture(scope="module")
def base():
    records = synth_here("dev", {})
    return records, price_resources(records, "us-west-2", today=ON)


def _delta(base, overrides):
    base_records, base_report = base
    head_records = synth_here("dev", overrides)
    head = price_resources(head_records, "us-west-2", today=ON)
    ops = {c.urn: c.op for c in diff_resources(base_records, head_records)}
    return base_report, head, cost_deltas(base_report, head, ops)


def test_a_second_nat_gateway_adds_exactly_the_gateway_and_its_address(base):
    prices = load_price_book().region("us-west-2")
    nat_gb = load_price_book().assumptions["nat_gateway_gb_processed"].value
    before, after, deltas = _delta(base, {"natGateways": "2"})
    assert [(d.type, d.name, d.op) for d in deltas] == [
        ("aws:ec2/eip:Eip", "network-nat-1", "create"),
        ("aws:ec2/natGateway:NatGateway", "network-nat-1", "create"),
    ]
    nat = prices["nat_gateway_hour"].usd * H + nat_gb * prices["nat_gateway_gb"].usd
    ip = prices["public_ipv4_hour"].usd * H
    assert [d.delta for d in deltas] == pytest.approx([ip, nat])
    assert after.total - before.total == pytest.approx(nat + ip)
    text = render_deltas("dev", "stack config", "natGateways=2", before, after, deltas)
    assert f"+ ${nat:,.2f}/month: aws:ec2/natGateway:NatGateway network-nat-1  [create]" in text


def test_one_more_node_adds_exactly_one_instance_and_its_root_volume(base):
    base_records, _ = base
    (group,) = [r for r in base_records if r["type"] == "eks:index:ManagedNodeGroup"]
    nodes = group["inputs"]["scalingConfig"]["desiredSize"]
    (itype,) = group["inputs"]["instanceTypes"]
    prices = load_price_book().region("us-west-2")
    before, after, deltas = _delta(base, {"nodeCount": str(nodes + 1), "nodeMaxCount": str(nodes + 1)})
    assert [(d.type, d.op) for d in deltas] == [("eks:index:ManagedNodeGroup", "update")]
    one_node = prices.instance_hour[itype].usd * H + 30 * prices["ebs_gp3_gb_month"].usd
    assert deltas[0].delta == pytest.approx(one_node)
    assert after.total - before.total == pytest.approx(one_node)


def test_a_change_without_cost_shows_no_delta(base):
    before, after, deltas = _delta(base, {"canaryWeight": "90"})
    assert deltas == [] and after.total == pytest.approx(before.total)
    assert "no change in monthly cost" in render_deltas("dev", "a", "b", before, after, deltas)


def test_a_replaced_node_group_is_labelled_replace(base):
    before, after, deltas = _delta(base, {"nodeArchitecture": "amd64", "instanceType": "t3.medium"})
    assert [(d.type, d.op) for d in deltas] == [("eks:index:ManagedNodeGroup", "replace")]
    text = render_deltas("dev", "a", "b", before, after, deltas)
    assert "eks:index:ManagedNodeGroup cluster-nodes  [replace]" in text
