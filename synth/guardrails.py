"""`make guardrails`: the policy pack's rules (celestials/guardrails), offline, over the synth of
every stack and mesh backend — what `pulumi preview --policy-pack policy` would refuse, found
without the Pulumi CLI. Exit status 1 when any rule is violated, each violation naming the rule
and the resource. The advisory rules' findings are printed too, as of today (`CELESTIALS_TODAY`,
else the system date), and never fail the run."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

from celestials.guardrails import Resource, Violation, advise, check
from celestials.local.stack import parse_overrides
from celestials.today import today
from celestials.upstream_files import UpstreamFileError

from .harness import BACKEND_SELECTION, STACKS, SynthResult, quiet, synth_stack


def _as_resources(records: Iterable[Mapping[str, Any]]) -> list[Resource]:
    """Every registration as the rules see it (components too: the pulumi-eks components' inputs
    are all the offline run has of the cluster and node group)."""
    return [Resource(urn=r["urn"], type=r["type"], name=r["name"], props=r["inputs"]) for r in records]


def resources_of(result: SynthResult) -> list[Resource]:
    return _as_resources(result.resources)


def from_file(path: Path) -> list[Resource]:
    """The resources of a `make synth` output (build/synth/<stack>/resources.json)."""
    return _as_resources(json.loads(path.read_text())["resources"])


def _report(title: str, resources: list[Resource], day: date) -> bool:
    """Print the violations and then the advisories under `title`; True when there are violations."""
    found = check(resources)
    advisories = advise(resources, day)
    print(f"{title}: {len(found)} violation(s)")
    for v in found:
        print(f"  {v}")
    if advisories:
        print(f"  {len(advisories)} advisory (as of {day}, not failing):")
        for a in advisories:
            print(f"    {a}")
    return bool(found)


def evaluated(stack: str, backend: str, overrides: Mapping[str, Any] | None = None) -> list[Resource]:
    with quiet():
        result = synth_stack(stack, {**BACKEND_SELECTION[backend], **(overrides or {})})
    return resources_of(result)


def violations(stack: str, backend: str, overrides: Mapping[str, Any] | None = None) -> list[Violation]:
    return check(evaluated(stack, backend, overrides))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.guardrails", description=__doc__)
    parser.add_argument("--stack", action="append", choices=STACKS, help=f"default: {' '.join(STACKS)}")
    parser.add_argument("--backend", action="append", choices=sorted(BACKEND_SELECTION),
                        help=f"default: {' '.join(sorted(BACKEND_SELECTION))}")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a celestials:* config value for this run")
    parser.add_argument("--resources", type=Path, metavar="FILE",
                        help="check this `make synth` output (build/synth/<stack>/resources.json) instead")
    args = parser.parse_args(argv)
    failed = False
    try:
        day = today()
        if args.resources:
            if not args.resources.is_file():
                print(f"error: {args.resources}: no such file (run make synth first)", file=sys.stderr)
                return 1
            return 1 if _report(str(args.resources), from_file(args.resources), day) else 0
        overrides = parse_overrides(args.set)
        for stack in args.stack or STACKS:
            for backend in args.backend or sorted(BACKEND_SELECTION):
                failed |= _report(f"{stack} / {backend}", evaluated(stack, backend, overrides), day)
    except (ValueError, UpstreamFileError) as err:  # settings, topology, capacity or the pinned files refused the stack
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
