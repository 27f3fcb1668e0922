"""Writes what every stack deploys on every mesh backend, for checkov (make lint-checkov):
build/scan/k8s/<stack>-<backend>/manifests/, laid out as `make synth` lays it out.

Every stack file (Pulumi.<stack>.yaml) on every backend of the registry, so a backend or stack
added later is scanned without touching the make file. App Mesh is selected with its end-of-support
acknowledgement, as its tests select it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from components.mesh_backends import BACKENDS
from synth.__main__ import write
from synth.harness import ROOT, quiet, synth_stack

#: What a backend needs on top of `meshBackend` to be selectable in a stack.
BACKEND_SETTINGS = {"appmesh": {"appMeshEndOfSupportAcknowledged": "true"}}


def stacks() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/scan_manifests.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "scan" / "k8s")
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)  # nothing left over from a stack or backend that is gone
    for stack in stacks():
        for backend in BACKENDS:
            overrides = {"meshBackend": backend, **BACKEND_SETTINGS.get(backend, {})}
            try:
                with quiet():
                    result = synth_stack(stack, overrides)
            except ValueError as err:
                print(f"error: stack {stack} on {backend}: {err}", file=sys.stderr)
                return 1
            write(result, args.out / f"{stack}-{backend}")
            print(f"{args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}/"
                  f"{stack}-{backend}: {len(result.manifests)} Kubernetes objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
