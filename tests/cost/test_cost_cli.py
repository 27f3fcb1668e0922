"""`make cost` / `make cost-diff` entry point (python -m synth.cost) and its CI wiring."""

from __future__ import annotations

from pathlib import Path

import yaml

from synth import cost as cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_tutorial_footprint_is_priced_on_the_same_data(capsys):
    assert cli.main(["--tutorial"]) == 0
    out = capsys.readouterr().out
    assert "2 × m5.large (desired size)" in out and "Network Load Balancer" in out and "NAT gateway" in out
    assert "Total: $" in out and "0 unpriced" in out


def test_a_stack_prints_a_table_and_a_total(capsys):
    assert cli.main(["--stack", "prod"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stack prod — us-west-2") and "Total: $" in out
    assert out.count("aws:ec2/natGateway:NatGateway") == 3


def test_a_region_without_prices_is_an_error_not_a_guess(capsys):
    assert cli.main(["--stack", "dev", "--set", "aws:region=eu-north-1"]) == 1
    assert "no price data for region 'eu-north-1'" in capsys.readouterr().err


def test_diff_without_a_side_says_what_to_give(capsys):
    assert cli.main(["diff"]) == 1
    assert "nothing to compare" in capsys.readouterr().err


def test_the_offline_diff_job_and_its_comment_carry_the_cost_delta():
    job = yaml.safe_load((ROOT / ".github/workflows/synth-diff.yml").read_text())["jobs"]["synth-diff"]
    runs = [s.get("run", "") for s in job["steps"]]
    (step,) = [r for r in runs if "cost-diff" in r]
    assert 'BASE_TREE="$GITHUB_WORKSPACE/base"' in step and "> out/cost.txt" in step
    assert 'STACK="dev prod"' in step
    comment = (ROOT / ".github/workflows/synth-diff-comment.yml").read_text()
    assert "synth/cost.txt" in comment


def test_diff_against_a_base_tree_prices_both_sides(tmp_path, capsys):
    """As CI runs it: the base is another checkout, evaluated by its own `python -m synth`."""
    from celestials.cost import load_price_book, money
    from synth.diff import export_ref

    book = load_price_book()
    prices = book.region("us-west-2")
    ip = prices["public_ipv4_hour"].usd * 730
    nat = prices["nat_gateway_hour"].usd * 730 + prices["nat_gateway_gb"].usd * book.assumptions["nat_gateway_gb_processed"].value
    tree = export_ref("HEAD", tmp_path)
    assert cli.main(["diff", "--base-tree", str(tree), "--set", "natGateways=2"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert lines == [f"  + {money(ip)}/month: aws:ec2/eip:Eip network-nat-1  [create]",
                     f"  + {money(nat)}/month: aws:ec2/natGateway:NatGateway network-nat-1  [create]"]
    assert f"monthly cost {tree} → working tree with celestials:natGateways=2" in out
