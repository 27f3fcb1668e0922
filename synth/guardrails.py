"""`make guardrails`: the policy pack's rules (celestials/guardrails), offline, over the synth of
every stack and mesh backend — what `pulumi preview --policy-pack policy` would refuse, found
without the Pulumi CLI. Exit status 1 when any rule is violated, each violation naming the rule
and the resource."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Mapping

from celestials.guardrails import Resource, Violation, check
from celestials.local.stack import parse_overrides

from .harness import BACKEND_SELECTION, STACKS, SynthResult, quiet, synth_stack


def resources_of(result: SynthResult) -> list[Resource]:
    """Every registration as the rules see it (components too: the pulumi-eks components' inputs
    are all the offline run has of the cluster and node group)."""
    return [Resource(urn=r["urn"], type=r["type"], name=r["name"], props=r["inputs"]) for r in result.resources]


def violations(stack: str, backend: str, overrides: Mapping[str, Any] | None = None) -> list[Violation]:
    with quiet():
        result = synth_stack(stack, {**BACKEND_SELECTION[backend], **(overrides or {})})
    return check(resources_of(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.guardrails", description=__doc__)
    parser.add_argument("--stack", action="append", choices=STACKS, help=f"default: {' '.join(STACKS)}")
    parser.add_argument("--backend", action="append", choices=sorted(BACKEND_SELECTION),
                        help=f"default: {' '.join(sorted(BACKEND_SELECTION))}")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a celestials:* config value for this run")
    args = parser.parse_args(argv)
    failed = False
    try:
        overrides = parse_overrides(args.set)
        for stack in args.stack or STACKS:
            for backend in args.backend or sorted(BACKEND_SELECTION):
                found = violations(stack, backend, overrides)
                failed |= bool(found)
                print(f"{stack} / {backend}: {len(found)} violation(s)")
                for v in found:
                    print(f"  {v}")
    except ValueError as err:  # overrides, settings, topology or capacity refused the stack
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
