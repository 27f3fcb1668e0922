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

import yaml

from celestials.local.stack import parse_overrides
from celestials.upstream_files import UpstreamFileError

from .harness import ROOT, SynthResult, quiet, synth_stack


def _component_of(result: SynthResult, resource: dict) -> str:
    chain = result.ancestors(resource["urn"])
    top = chain[-1] if chain else resource["urn"]
    return top.split("::")[-1] if chain else "(stack)"


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
    by_component: dict[str, Counter] = {}
    for r in result.resources:
        by_component.setdefault(_component_of(result, r), Counter())[r["type"]] += 1
    for component in sorted(by_component):
        lines.append(f"  {component}")
        for typ, n in sorted(by_component[component].items()):
            lines.append(f"      + {n:3d}  {typ}")
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
