"""`make cost` / `make cost-diff`: what a stack costs per month, and what a change adds, offline.

    python -m synth.cost --stack dev                          # table per resource + total
    python -m synth.cost --stack dev --set nodeCount=2        # the same with overrides
    python -m synth.cost --tutorial                           # the original tutorial's footprint
    python -m synth.cost diff --set natGateways=2             # $ delta: config vs overrides
    python -m synth.cost diff --base main --stack dev --stack prod

The stack is evaluated under the mock runtime (as `make synth`), priced by the pure model in
celestials/cost for the stack's `aws:region`, as of today (`CELESTIALS_TODAY=YYYY-MM-DD` prices
as of another day: an EKS version past its standard support is billed at the extended rate). The
diff takes its two sides and their per-resource changes from synth.diff (the same comparison as
`make synth-diff`) and adds a dollar column; both sides are priced as of the same day.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Mapping

from celestials.cost import CostError, cost_deltas, price_resources, render_deltas, render_table, tutorial_records
from celestials.local.stack import StackFileError, parse_overrides, read_stack_config
from celestials.today import today
from celestials.upstream_files import UpstreamFileError

from .diff import SynthDiffError, diff_resources, evaluate_sides, synth_here
from .harness import ROOT

DEFAULT_REGION = "us-west-2"


def stack_region(tree: Path, stack: str, overrides: Mapping[str, str] | None = None) -> str:
    """`aws:region` of the stack file in `tree` (the overrides win), as the program reads it."""
    if overrides and "aws:region" in overrides:
        return overrides["aws:region"]
    return str(read_stack_config(tree, stack).get("aws:region", DEFAULT_REGION))


def show(stack: str, overrides: Mapping[str, str], day: date) -> str:
    report = price_resources(synth_here(stack, overrides), stack_region(ROOT, stack, overrides), today=day)
    title = f"Stack {stack}" + (" with " + ", ".join(f"{k}={v}" for k, v in overrides.items()) if overrides else "")
    return render_table(report, title)


def diff(stacks: list[str], overrides: Mapping[str, str], base_ref: str | None, base_tree: str | None,
         day: date) -> str:
    """The sides and per-resource operations of `make synth-diff`, with a dollar column."""
    out = []
    for sides in evaluate_sides(stacks, overrides, base_ref, base_tree):
        base = price_resources(sides.base, stack_region(sides.base_root, sides.stack), today=day)
        head = price_resources(sides.head, stack_region(ROOT, sides.stack, overrides), today=day)
        ops = {c.urn: c.op for c in diff_resources(sides.base, sides.head)}
        out.append(render_deltas(sides.stack, sides.base_label, sides.head_label, base, head,
                                 cost_deltas(base, head, ops)))
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    mode = argv.pop(0) if argv[:1] == ["diff"] else "show"
    parser = argparse.ArgumentParser(prog=f"python -m synth.cost{' diff' if mode == 'diff' else ''}",
                                     description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", action="append", default=[], help="stack (repeatable; default dev)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value (diff: on the head side)")
    if mode == "diff":
        parser.add_argument("--base", metavar="REF", help="git ref to compare the working tree with, e.g. main")
        parser.add_argument("--base-tree", metavar="DIR", help="an already checked-out base tree (CI)")
    else:
        parser.add_argument("--tutorial", action="store_true",
                            help="price the original tutorial's eksctl footprint instead of a stack")
        parser.add_argument("--region", default=DEFAULT_REGION, help="region for --tutorial")
    args = parser.parse_args(argv)
    try:
        day = today()
        overrides = parse_overrides(args.set)
        if mode == "diff":
            if not (overrides or args.base or args.base_tree):
                raise SynthDiffError('nothing to compare: give overrides (SET="natGateways=2") or a base (BASE=main)')
            print(diff(args.stack or ["dev"], overrides, args.base, args.base_tree, day))
        elif args.tutorial:
            print(render_table(price_resources(tutorial_records(), args.region, today=day),
                               "The original tutorial (eksctl defaults: 2 × m5.large, 1 NAT gateway, the NLB)"))
        else:
            print("\n\n".join(show(stack, overrides, day) for stack in args.stack or ["dev"]))
    except (CostError, SynthDiffError, StackFileError, UpstreamFileError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
