"""Write the figures the docs quote from the program's own offline evaluation into README.md and
docs/*.md (`make docs-figures`): resource counts, the canary diff example, the App Mesh → Istio
migration counts.

A figure sits between `<!-- figure:NAME -->` and `<!-- /figure -->` (inline) or, for a whole
example output, `<!-- figures:NAME -->` and `<!-- /figures:NAME -->` around its code block;
tests/tooling/test_figures_doc.py fails when a file is stale. Timings are not figures of this kind:
they are measured by `make bench-synth` and quoted with the machine and the day.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from tools.artifacts_doc import DOCS

ROOT = Path(__file__).resolve().parent.parent
INLINE = re.compile(r"<!-- figure:(?P<name>[a-z0-9-]+) -->(?P<value>.*?)<!-- /figure -->")
BLOCK = re.compile(r"(?P<open><!-- figures:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(?P<close><!-- /figures:(?P=name) -->)", re.S)

#: (stack, backend, overrides) → the resources that evaluation registers
Synth = Callable[[str, str, Mapping[str, str]], list[dict[str, Any]]]
#: what the canary example changes (README, "What does a change do?")
CANARY_EXAMPLE = {"celestials:canaryWeight": "90"}


def _synth(stack: str, backend: str, overrides: Mapping[str, str]) -> list[dict[str, Any]]:
    from synth.harness import BACKEND_SELECTION, quiet, synth_stack
    with quiet():
        return synth_stack(stack, {**BACKEND_SELECTION[backend], **overrides}).resources


def figures(synth: Synth = _synth) -> dict[str, str]:
    """Figure name → its text."""
    from synth.diff import compare, render_text
    dev, prod = synth("dev", "istio", {}), synth("prod", "istio", {})
    canary = compare("dev", dev, synth("dev", "istio", CANARY_EXAMPLE), "stack config",
                     "working tree with " + ", ".join(f"{k}={v}" for k, v in CANARY_EXAMPLE.items()))
    # A deployed App Mesh stack switched to Istio: App Mesh is the base, Istio the head.
    migration = compare("dev", synth("dev", "appmesh", {}), dev, "appmesh", "istio")
    ops = {op: sum(1 for c in migration.changes if c.op == op) for op in ("create", "update", "replace", "delete")}
    return {
        "dev-resources": str(len(dev)),
        "prod-resources": str(len(prod)),
        "canary-diff": "```\n" + render_text(canary) + "\n```\n",
        "migration-delete": str(ops["delete"]),
        "migration-create": str(ops["create"]),
        "migration-update": str(ops["update"]),
        "migration-replace": str(ops["replace"]),
        "migration-unchanged": str(migration.unchanged),
    }


def rewrite(text: str, values: Mapping[str, str]) -> str:
    def inline(m: re.Match[str]) -> str:
        return f"<!-- figure:{m['name']} -->{values[m['name']]}<!-- /figure -->"

    def block(m: re.Match[str]) -> str:
        return m["open"] + values[m["name"]] + m["close"]

    return BLOCK.sub(block, INLINE.sub(inline, text))


def unknown_names(text: str, values: Mapping[str, str]) -> list[str]:
    return sorted({m["name"] for pattern in (INLINE, BLOCK) for m in pattern.finditer(text)} - set(values))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.figures_doc", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only say which files are stale (exit 1)")
    args = parser.parse_args(argv)
    values = figures()
    stale = []
    for name in DOCS:
        path = ROOT / name
        text = path.read_text()
        unknown = unknown_names(text, values)
        if unknown:
            print(f"{name}: unknown figure(s) {', '.join(unknown)}; known: {', '.join(sorted(values))}", file=sys.stderr)
            return 2
        new = rewrite(text, values)
        if new != text:
            stale.append(name)
            if not args.check:
                path.write_text(new)
    verb = "stale" if args.check else "rewritten"
    print(f"{verb}: {', '.join(stale)}" if stale else "every figure is current")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
