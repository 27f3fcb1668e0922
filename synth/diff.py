"""`make synth-diff`: what a change does, per resource, offline — the counterpart of
`pulumi preview --diff` that needs no cloud, no Pulumi CLI and no state.

Two evaluations of the program under the mock runtime are compared by URN: resources added,
removed, and changed with each changed input's path and its old → new value. Secrets stay
`[secret]` on both sides (the synth redacts them before anything is compared), so a changed secret
never shows its value.

    python -m synth.diff --set canaryWeight=90              # the stack's config vs the same with overrides
    python -m synth.diff --base main                        # the ref `main` vs the working tree
    python -m synth.diff --base main --stack dev --stack prod --json

A change to an input that forces a new resource (the providers' `ForceNew` fields, listed with
their sources in synth/replacements.py) is a replace, `+-`, and what a replacement takes with it
follows: a dependent whose input carries the replaced resource's id is replaced too when that input
forces replacement, or updated with a value known only after the replacement. A type the list has
no facts for says "replacement not known" instead of passing as a plain update.

The result is a plain list of `ResourceChange` (one per resource that differs), so other columns
(e.g. a cost estimate) can be added to it without touching how it is computed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from celestials.local.stack import parse_overrides
from celestials.upstream_files import UpstreamFileError

from .harness import ROOT, quiet, synth_stack
from .replacements import judge


class _Missing:
    """An input present on one side only."""

    def __repr__(self) -> str:
        return "(none)"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Pending:
    """An input that carries a replaced resource's identity: known only once it is recreated."""

    #: the replaced resources' names
    after: str

    def __repr__(self) -> str:
        return f"(known after {self.after} {'are' if ', ' in self.after else 'is'} replaced)"


@dataclass(frozen=True)
class InputChange:
    #: where in the inputs, e.g. `spec.routes[0].httpRoute.action.weightedTargets[1].weight`
    path: str
    old: Any
    new: Any
    #: the same path as a reader wants it, each list element that has a name shown by it
    #: (`spec.rules[0].backendRefs[proddetail-v2].weight`); empty when no element has one
    shown: str = ""

    @property
    def label(self) -> str:
        return self.shown or self.path


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    name: str
    #: "create", "delete", "update" or "replace" (Pulumi's words)
    op: str
    inputs: tuple[InputChange, ...] = field(default_factory=tuple)
    #: why it is replaced: the input that forces it, or the replaced resource it follows
    reasons: tuple[str, ...] = ()
    #: why replacement is not known for this resource, when it is not
    unknown: str = ""
    #: what the providers' plan does not say (e.g. an update the cloud API will refuse)
    caveats: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["inputs"] = [{"path": c.path, "old": _jsonable(c.old), "new": _jsonable(c.new),
                          **({"shown": c.shown} if c.shown else {})} for c in self.inputs]
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Pending):
        return {"$knownAfterReplaceOf": value.after}
    return None if value is MISSING else value


def diff_values(old: Any, new: Any, path: str = "", shown: str = "") -> list[InputChange]:
    """Every leaf that differs between two input trees. Strings holding JSON (IAM policies,
    chart values) are compared as the data they hold, so one changed field shows as one path.
    A list element with a name of its own (`_identity`) is also shown by that name, since an
    index alone does not say which container, port or backend it is."""
    old, new = _parsed(old), _parsed(new)
    shown = shown or path
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[InputChange] = []
        for key in sorted(set(old) | set(new), key=str):
            changes += diff_values(old.get(key, MISSING), new.get(key, MISSING), _child(path, str(key)),
                                   _child(shown, str(key)))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        keyed = _by_name(old, new, path, shown)
        if keyed is not None:
            return keyed
        names = _element_names(old, new)
        changes = []
        for i in range(max(len(old), len(new))):
            name = names[i]
            changes += diff_values(old[i] if i < len(old) else MISSING, new[i] if i < len(new) else MISSING,
                                   f"{path}[{i}]", f"{shown}[{_bracketed(name)}]" if name else f"{shown}[{i}]")
        return changes
    if old == new:
        return []
    return [InputChange(path or "(value)", old, new, shown if shown != path else "")]


def _identity(item: Any) -> str | None:
    """A list element's own name: its `name` (containers, ports, env, volumes, Gateway API
    backendRefs), or the name of the one object it refers to (`virtualNodeRef: {name: ...}`)."""
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("name"), str):
        return str(item["name"])
    refs = [ref["name"] for key, ref in item.items()
            if key.endswith("Ref") and isinstance(ref, dict) and isinstance(ref.get("name"), str)]
    return str(refs[0]) if len(refs) == 1 else None


def _by_name(old: list[Any], new: list[Any], path: str, shown: str) -> list[InputChange] | None:
    """Lists whose every element has a name of its own on both sides (env, containers, ports),
    compared element by element by name, as Kubernetes merges them: an element added in the middle
    is one change, not a shift of every later one. None when not every element is named, a name
    repeats, or the names both sides share come in another order (then the index is what changed)."""
    before, after = [_identity(x) for x in old], [_identity(x) for x in new]
    if None in before or None in after or len(set(before)) < len(before) or len(set(after)) < len(after):
        return None
    old_at = {name: i for i, name in enumerate(before)}
    new_at = {name: i for i, name in enumerate(after)}
    if [n for n in before if n in new_at] != [n for n in after if n in old_at]:
        return None
    changes: list[InputChange] = []
    for i, name in enumerate(after):
        assert name is not None
        if name in old_at:
            changes += diff_values(old[old_at[name]], new[i], f"{path}[{i}]", f"{shown}[{_bracketed(name)}]")
        else:
            changes.append(InputChange(f"{path}[{i}]", MISSING, new[i], f"{shown}[{_bracketed(name)}]"))
    for i, name in enumerate(before):
        assert name is not None
        if name not in new_at:
            changes.append(InputChange(f"{path}[{i}]", old[i], MISSING, f"{shown}[{_bracketed(name)}]"))
    return changes


def _element_names(old: list[Any], new: list[Any]) -> list[str | None]:
    """Per index, the element's name when it tells the element apart: unique in both lists and
    the same on both sides (a renamed element is shown by its index)."""
    def unique(items: list[Any]) -> dict[int, str]:
        names = {i: n for i, n in ((i, _identity(x)) for i, x in enumerate(items)) if n is not None}
        counts = list(names.values())
        return {i: n for i, n in names.items() if counts.count(n) == 1}
    before, after = unique(old), unique(new)
    out: list[str | None] = []
    for i in range(max(len(old), len(new))):
        a, b = before.get(i), after.get(i)
        if i < len(old) and i < len(new):
            out.append(a if a is not None and a == b else None)
        else:
            out.append(a if i < len(old) else b)
    return out


def _bracketed(name: str) -> str:
    """A name inside `[...]`: as it is when it cannot be taken for an index or hide a bracket."""
    return name if _PLAIN_NAME.fullmatch(name) and not name.isdigit() else json.dumps(name)


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:/$-]+")


def _child(path: str, key: str) -> str:
    """`a.b` for a plain key, `a["k8s.io/name"]` for one with dots or slashes (annotations)."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def diff_resources(base: Iterable[Mapping[str, Any]], head: Iterable[Mapping[str, Any]]) -> list[ResourceChange]:
    """Per-resource changes from `base` to `head` (synth resource records), in URN order: inputs
    compared by URN, then each update judged replace or update (synth/replacements.py), with the
    replacements' consequences for the resources that carry a replaced resource's identity."""
    before = {r["urn"]: r for r in base}
    after = {r["urn"]: r for r in head}
    changed: dict[str, tuple[InputChange, ...]] = {}
    ops: dict[str, str] = {}
    for urn in sorted(set(before) | set(after)):
        old, new = before.get(urn), after.get(urn)
        if old is None:
            ops[urn] = "create"
        elif new is None:
            ops[urn] = "delete"
        else:
            inputs = diff_values({"provider": old.get("provider"), **old["inputs"]},
                                 {"provider": new.get("provider"), **new["inputs"]})
            if inputs:
                changed[urn] = tuple(inputs)
    both = [after[urn] for urn in sorted(set(before) & set(after))]
    verdicts = judge(both, {urn: [c.path for c in inputs] for urn, inputs in changed.items()})
    changes: list[ResourceChange] = []
    for urn in sorted(set(before) | set(after)):
        record = after.get(urn) or before[urn]
        if urn in ops:
            changes.append(ResourceChange(urn, record["type"], record["name"], ops[urn]))
            continue
        verdict = verdicts.get(urn)
        inputs = changed.get(urn, ())
        if verdict is None:
            if inputs:
                changes.append(ResourceChange(urn, record["type"], record["name"], "update", inputs))
            continue
        shown = {c.path for c in inputs}
        pending = tuple(InputChange(path, _value_at(before[urn]["inputs"], path), Pending(", ".join(names)))
                        for path, names in sorted(verdict.pending.items()) if path not in shown)
        named = _naming(inputs)
        changes.append(ResourceChange(
            urn, record["type"], record["name"], "replace" if verdict.replace else "update",
            inputs + pending, tuple(dict.fromkeys(named(r) for r in verdict.reasons)), named(verdict.unknown),
            tuple(dict.fromkeys(named(c) for c in verdict.caveats))))
    return changes


def _naming(inputs: Iterable[InputChange]) -> Any:
    """A function that writes each changed input's path in a verdict's words as it is shown."""
    labels: dict[str, set[str]] = {}
    for c in inputs:
        labels.setdefault(c.path, set()).add(c.label)
    # a path two changes share (an element removed where another now is) keeps its index
    shown = {path: next(iter(names)) for path, names in labels.items() if len(names) == 1 and path not in names}
    if not shown:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(p) for p in sorted(shown, key=len, reverse=True)) + r"(?![\w.\[])")
    return lambda text: pattern.sub(lambda m: shown[m.group(0)], text)


def _value_at(inputs: Mapping[str, Any], path: str) -> Any:
    value: Any = inputs
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


@dataclass(frozen=True)
class StackDiff:
    """One stack's comparison: the per-resource changes and what they were computed between."""

    stack: str
    base: str
    head: str
    changes: list[ResourceChange]
    unchanged: int

    def as_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "base": self.base, "head": self.head, "unchanged": self.unchanged,
                "changes": [c.as_dict() for c in self.changes]}


def compare(stack: str, base: list[Mapping[str, Any]], head: list[Mapping[str, Any]],
            base_label: str, head_label: str) -> StackDiff:
    changes = diff_resources(base, head)
    common = len({r["urn"] for r in base} & {r["urn"] for r in head})
    return StackDiff(stack, base_label, head_label, changes,
                     common - sum(c.op in ("update", "replace") for c in changes))


_SYMBOL = {"create": "+", "delete": "-", "update": "~", "replace": "+-"}


def render_text(diff: StackDiff) -> str:
    changes = diff.changes
    lines = [f"Stack {diff.stack}: {diff.base} → {diff.head}"]
    for change in changes:
        lines.append(f"  {_SYMBOL[change.op]} {change.type}  {change.name}")
        for c in change.inputs:
            lines.append(f"      ~ {c.label}: {_show(c.old)} → {_show(c.new)}")
        lines += [f"      +- replaced: {reason}" for reason in change.reasons]
        lines += [f"      ! {caveat}" for caveat in change.caveats]
        if change.unknown:
            lines.append(f"      ? {change.unknown}")
    counts = {op: sum(1 for c in changes if c.op == op) for op in ("create", "update", "replace", "delete")}
    unknown = sum(1 for c in changes if c.unknown)
    lines.append(f"Resources: + {counts['create']} to create, ~ {counts['update']} to update, "
                 f"+- {counts['replace']} to replace, - {counts['delete']} to delete, {diff.unchanged} unchanged"
                 + (f"; replacement not known for {unknown} (marked ?)" if unknown else ""))
    return "\n".join(lines)


def _show(value: Any, limit: int = 120) -> str:
    text = repr(value) if value is MISSING or isinstance(value, Pending) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- the two sides ------------------------------------------------------------------------
def synth_here(stack: str, overrides: Mapping[str, str]) -> list[dict[str, Any]]:
    """This tree's program, evaluated in this process."""
    with quiet():
        return synth_stack(stack, overrides).resources


def synth_tree(tree: Path, stack: str, overrides: Mapping[str, str]) -> list[dict[str, Any]]:
    """Another tree's program (e.g. the base ref), evaluated by its own `python -m synth` in a
    fresh process with this venv's Python: its modules must not mix with ours."""
    with tempfile.TemporaryDirectory(prefix="synth-diff-out-") as out:
        sets = [arg for key, value in overrides.items() for arg in ("--set", f"{key}={value}")]
        result = subprocess.run([sys.executable, "-m", "synth", "--stack", stack, "--out", out, *sets],
                                cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise SynthDiffError(f"synth of {stack} in {tree} failed:\n{result.stderr.strip()}")
        return json.loads((Path(out) / "resources.json").read_text())["resources"]


class SynthDiffError(RuntimeError):
    """A side that cannot be evaluated, or a base ref that does not exist."""


def export_ref(ref: str, into: Path) -> Path:
    """The files of git ref `ref` in `into`. `git archive` rather than `git worktree add`: it
    leaves nothing registered in the repository if this command is interrupted."""
    verify = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=ROOT,
                            capture_output=True, text=True)
    if verify.returncode != 0:
        raise SynthDiffError(f"no git commit {ref!r} in {ROOT}")
    archive = into / "base.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), verify.stdout.strip()], cwd=ROOT, check=True)
    tree = into / "tree"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    archive.unlink()
    return tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.diff", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", action="append", default=[], help="stack to compare (repeatable; default dev)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override on the head side (the working tree), e.g. canaryWeight=90")
    parser.add_argument("--base", metavar="REF", help="git ref to compare the working tree with, e.g. main")
    parser.add_argument("--base-tree", metavar="DIR", help="an already checked-out base tree (CI)")
    parser.add_argument("--json", action="store_true", help="print the changes as JSON")
    args = parser.parse_args(argv)
    try:
        overrides = parse_overrides(args.set)
        if not (overrides or args.base or args.base_tree):
            raise SynthDiffError('nothing to compare: give overrides (SET="canaryWeight=90") '
                                 "or a base (BASE=main)")
        diffs = _compare(args.stack or ["dev"], overrides, args.base, args.base_tree)
    except (SynthDiffError, UpstreamFileError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps([d.as_dict() for d in diffs], indent=2, sort_keys=True))
    else:
        print("\n\n".join(render_text(d) for d in diffs))
    return 0


@dataclass(frozen=True)
class Sides:
    """One stack evaluated on both sides; `base_root` is the tree the base came from (its stack
    file is the base's config)."""

    stack: str
    base_label: str
    head_label: str
    base: list[dict[str, Any]]
    head: list[dict[str, Any]]
    base_root: Path


def evaluate_sides(stacks: list[str], overrides: Mapping[str, str], base_ref: str | None,
                   base_tree: str | None) -> Iterator[Sides]:
    """The two evaluations per stack that a diff compares (also used by `make cost-diff`)."""
    head_label = "working tree" + (" with " + ", ".join(f"{k}={v}" for k, v in overrides.items()) if overrides else "")
    with tempfile.TemporaryDirectory(prefix="synth-diff-") as tmp:
        tree = Path(base_tree).resolve() if base_tree else export_ref(base_ref, Path(tmp)) if base_ref else None
        base_label = f"{base_ref or base_tree}" if tree else "stack config"
        for stack in stacks:
            yield Sides(stack, base_label, head_label, synth_tree(tree, stack, {}) if tree else synth_here(stack, {}),
                        synth_here(stack, overrides), tree or ROOT)


def _compare(stacks: list[str], overrides: Mapping[str, str], base_ref: str | None,
             base_tree: str | None) -> list[StackDiff]:
    return [compare(s.stack, s.base, s.head, s.base_label, s.head_label)
            for s in evaluate_sides(stacks, overrides, base_ref, base_tree)]


if __name__ == "__main__":
    sys.exit(main())
