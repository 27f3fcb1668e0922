"""`make synth STACK=<stack>`: evaluate __main__.py offline and write what it would deploy.

Writes build/synth/<stack>/resources.json and build/synth/<stack>/manifests/ (one YAML file per
Kubernetes object, secrets redacted; Helm releases under manifests/helm/), then prints a
preview-like summary.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Mapping

import yaml

from celestials.local.stack import parse_overrides
from celestials.upstream_files import UpstreamFileError

from .harness import ROOT, SynthResult, quiet, synth_stack


def component_of(result: SynthResult, resource: Mapping[str, Any]) -> str | None:
    """The URN of the resource's nearest component ancestor in its Pulumi parent chain; None when
    the stack itself is its nearest (the stack is not a registered resource, so it ends the chain)."""
    urns = result.urns
    for urn in result.ancestors(resource["urn"]):
        if urn in urns and not urns[urn]["custom"]:
            return urn
    return None


def _component_tree(result: SynthResult) -> list[str]:
    """Per component, depth first from the stack: its label, how many resources it holds directly
    (child components included) and in all, and those it holds directly, counted by type."""
    urns = result.urns
    held: dict[str | None, Counter[str]] = {}
    children: dict[str | None, list[str]] = {}
    for r in result.resources:
        owner = component_of(result, r)
        held.setdefault(owner, Counter())[r["type"]] += 1
        if not r["custom"]:
            children.setdefault(owner, []).append(r["urn"])

    def in_all(owner: str | None) -> int:
        return sum(held.get(owner, Counter()).values()) + sum(in_all(c) for c in children.get(owner, []))

    lines: list[str] = []

    def add(owner: str | None, depth: int) -> None:
        indent = "  " * (depth + 1)
        label = f"{result.stack} (stack)" if owner is None else f"{urns[owner]['type']}  {urns[owner]['name']}"
        direct, total = sum(held.get(owner, Counter()).values()), in_all(owner)
        counts = f"{direct} resources" + (f", {total} with its components" if total != direct else "")
        if owner in result.remote:
            counts = "a multi-language component: its plugin registers its children when deployed, not offline"
        lines.append(f"{indent}{label}: {counts}")
        for typ, n in sorted(held.get(owner, Counter()).items()):
            lines.append(f"{indent}    + {n:3d}  {typ}")
        for child in sorted(children.get(owner, []), key=lambda u: (urns[u]["type"], urns[u]["name"])):
            add(child, depth + 1)

    add(None, 0)
    return lines


def write(result: SynthResult, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    manifests = out / "manifests"
    manifests.mkdir(parents=True)
    (out / "resources.json").write_text(json.dumps(
        {"stack": result.stack, "resources": result.resources, "outputs": result.outputs},
        indent=2, sort_keys=True) + "\n")
    for obj in result.manifests:
        meta = obj.get("metadata") or {}
        folder = manifests / (meta.get("namespace") or "_cluster")
        folder.mkdir(exist_ok=True)
        name = f"{obj['kind']}-{meta.get('name', 'unnamed')}.yaml".lower()
        (folder / name).write_text(yaml.safe_dump(obj, sort_keys=True))
    releases = [r for r in result.resources if r["type"] == "kubernetes:helm.sh/v3:Release"]
    if releases:
        (manifests / "helm").mkdir()
        for r in releases:
            (manifests / "helm" / f"{r['name']}.yaml").write_text(yaml.safe_dump(r["inputs"], sort_keys=True))


def summary(result: SynthResult, seconds: float, overrides: dict[str, str] | None = None) -> str:
    lines = [f"Previewing stack {result.stack} offline (Pulumi mock runtime, no cloud):", ""]
    if overrides:
        lines[-1:-1] = ["Overrides (--set) on top of Pulumi." + result.stack + ".yaml: "
                        + ", ".join(f"{k}={v}" for k, v in sorted(overrides.items()))]
    lines += _component_tree(result)
    types = Counter(r["type"] for r in result.resources)
    lines += ["", f"Resources: + {len(result.resources)} to create "
              f"({len(types)} types, {len(result.manifests)} Kubernetes objects)"]
    if result.outputs:
        lines.append("Outputs:")
        for k, v in sorted(result.outputs.items()):
            lines.append(f"    {k}: {json.dumps(v) if not isinstance(v, str) else v}")
    lines.append(f"Evaluated in {seconds:.2f}s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth", description=__doc__)
    parser.add_argument("--stack", action="append", help="repeatable (default: dev)")
    parser.add_argument("--out", default=None, help="default: build/synth/<stack>; only with one --stack")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a celestials:* config value for this run")
    args = parser.parse_args(argv)
    stacks = args.stack or ["dev"]
    if args.out and len(stacks) > 1:
        parser.error("--out names one directory: give it with one --stack (each stack is written to build/synth/<stack>)")
    try:
        overrides = parse_overrides(args.set)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for n, stack in enumerate(stacks):
        started = time.perf_counter()
        try:
            with quiet():
                result = synth_stack(stack, overrides)
        except (ValueError, UpstreamFileError) as err:  # settings, topology, capacity, pinned files: plainly, no traceback
            print(f"error: stack {stack}: {err}" if len(stacks) > 1 else f"error: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"\ninterrupted; nothing was written for stack {stack}", file=sys.stderr)
            return 130
        seconds = time.perf_counter() - started
        out = Path(args.out) if args.out else ROOT / "build" / "synth" / stack
        write(result, out)
        print(("\n" if n else "") + summary(result, seconds, overrides))
        print(f"Wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}/resources.json and manifests/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
