"""Write README's configuration reference from the settings' own definitions (celestials/settings.py).

Each row is one `Key`: its default read from the `Settings` dataclass, what it accepts from the
same kind that parses it, the limits other keys set from the same `RULES` that enforce them, and
what the committed stack files write. The table lives between `<!-- settings:table -->` and
`<!-- /settings:table -->`; prose names a default only inside `<!-- default:KEY -->value<!-- /default -->`.
`make docs-settings` rewrites both; tests/config/test_settings_reference.py fails when they are stale.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from celestials import settings as st
from celestials.local.stack import read_stack_file, reads_as_text
from tools.artifacts_doc import rewrite_docs

ROOT = Path(__file__).resolve().parent.parent
TABLE = re.compile(r"(<!-- settings:table -->\n)(?P<body>.*?)(<!-- /settings:table -->)", re.S)
DEFAULT = re.compile(r"<!-- default:(?P<name>[A-Za-z:]+) -->(?P<value>.*?)<!-- /default -->")


def literal(value: Any) -> str:
    """A value as a stack file writes it (YAML that Pulumi reads back as that value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    if isinstance(value, str):
        return value if reads_as_text(value) else json.dumps(value)
    raise TypeError(f"no stack-file form for {value!r}")


def stacks(root: Path = ROOT) -> tuple[str, ...]:
    """The committed stacks, by their files."""
    return tuple(sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml")))


def _full(key: st.Key) -> str:
    return key.name if ":" in key.name else f"{st.PROJECT}:{key.name}"


def _written(root: Path, stack: str, key: st.Key) -> str:
    """The value as the stack file writes it (quotes included), or — when the file leaves it out."""
    f = read_stack_file(root, stack)
    full = _full(key)
    if full not in f.config:
        return "—"
    line = (root / f"Pulumi.{stack}.yaml").read_text().splitlines()[f.written[full][0] - 1]
    bare = key.name.split(":", 1)[1] if key.name.startswith(st.PROJECT + ":") else key.name
    m = re.match(rf"\s*(?:{re.escape(st.PROJECT)}:)?{re.escape(bare)}\s*:\s*(?P<value>.*?)\s*(?:\s#.*)?$", line)
    written = m.group("value") if m and m.group("value") else f.config[full]  # a block list: its JSON
    return f"`{written}`"


def _backends() -> str:
    from components.mesh_backends import BACKENDS  # the registry owns the names

    return "one of the registry's (`components/mesh_backends.py`): " + ", ".join(f"`{b}`" for b in BACKENDS)


#: what a key allows beyond its kind, from the layer that decides it
BEYOND_KIND = {"meshBackend": _backends}


def default_cell(key: st.Key) -> str:
    from celestials.stack_config import REQUIRED_KEYS  # the check that refuses a stack without it

    if _full(key) in REQUIRED_KEYS:
        return "none: every stack states it"
    if key.default is None:
        return f"unset: {key.unset}"
    return f"`{literal(key.default)}`"


def allowed_cell(key: st.Key) -> str:
    parts = [BEYOND_KIND[key.name]() if key.name in BEYOND_KIND else key.kind.doc]
    # a rule shown on another key's row says which key it limits
    parts += [r.doc if r.key == key.name else f"{r.key}: {r.doc}" for r in st.rules_of(key.name)]
    return "; ".join(parts)


def table(root: Path = ROOT) -> str:
    names = stacks(root)
    rows = ["| key | default | " + " | ".join(f"`{s}`" for s in names) + " | allowed | what it does |",
            "| --- | --- | " + " | ".join("---" for _ in names) + " | --- | --- |"]
    for key in (st.REGION, *st.KEYS):
        cells = [f"`{_full(key)}`", default_cell(key), *(_written(root, s, key) for s in names),
                 allowed_cell(key), key.what]
        rows.append("| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def render(text: str, root: Path = ROOT) -> str:
    def default(m: re.Match[str]) -> str:
        name = m.group("name")
        try:
            key = st.definition(name)
        except KeyError:
            raise KeyError(f"unknown default marker {name!r} (known: {', '.join(st.CONFIG_KEYS)})") from None
        return f"<!-- default:{name} -->{literal(key.default)}<!-- /default -->"

    text = DEFAULT.sub(default, text)
    if TABLE.search(text):
        generated = table(root)
        text = TABLE.sub(lambda m: m.group(1) + generated + m.group(3), text)
    return text


def main(argv: list[str] | None = None) -> int:
    return rewrite_docs(render, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
