"""Writes what every stack deploys on every mesh backend, for checkov (make lint-checkov):
build/scan/k8s/<stack>-<backend>/manifests/, laid out as `make synth` lays it out.

Every stack file (Pulumi.<stack>.yaml) on every mesh backend (synth.harness: STACKS,
BACKEND_SELECTION, which the tests hold equal to the registry), so a backend or stack added later
is scanned without touching the make file.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from synth.__main__ import write
from synth.harness import BACKEND_SELECTION, ROOT, STACKS, quiet, synth_stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/scan_manifests.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "scan" / "k8s")
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)  # nothing left over from a stack or backend that is gone
    for stack in STACKS:
        for backend in sorted(BACKEND_SELECTION):
            try:
                with quiet():
                    result = synth_stack(stack, BACKEND_SELECTION[backend])
            except ValueError as err:
                print(f"error: stack {stack} on {backend}: {err}", file=sys.stderr)
                return 1
            write(result, args.out / f"{stack}-{backend}")
            print(f"{args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}/"
                  f"{stack}-{backend}: {len(result.manifests)} Kubernetes objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
