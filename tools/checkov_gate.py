"""The pass/fail decision on checkov's results (make lint-checkov), against one suppressions file.

Checkov runs with --soft-fail and writes JSON; this gate fails when a check fails that no entry of
security/checkov-suppressions.yaml covers, when an entry covers nothing any more (stale: the file
must stay an honest list of what is not enforced), when an entry has no reason, or when a
framework scanned nothing or could not parse a file. Why a post-filter instead of checkov's own
--skip-check: it scopes a suppression to resources or files, and it can tell a stale one.

    python tools/checkov_gate.py --suppressions FILE --expect kubernetes,dockerfile RESULT.json...
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Iterable

import yaml

ENTRY_KEYS = {"id", "where", "reason"}
WHERE_KEYS = {"resources", "paths"}


class SuppressionError(ValueError):
    """The suppressions file itself is wrong (names the entry and what is wrong)."""


@dataclass(frozen=True)
class Suppression:
    check_id: str
    reason: str
    resources: tuple[str, ...] = ()  # fnmatch patterns on checkov's resource id; empty: any
    paths: tuple[str, ...] = ()      # fnmatch patterns on the file path; empty: any

    def covers(self, finding: Finding) -> bool:
        return (finding.check_id == self.check_id
                and (not self.resources or any(fnmatchcase(finding.resource, p) for p in self.resources))
                and (not self.paths or any(fnmatchcase(finding.path, p) for p in self.paths)))

    def describe(self) -> str:
        scope = "; ".join(f"{k}: {', '.join(v)}" for k, v in (("resources", self.resources),
                                                             ("paths", self.paths)) if v)
        return f"{self.check_id} ({scope or 'all'})"


@dataclass(frozen=True)
class Finding:
    check_id: str
    name: str
    resource: str
    path: str
    lines: tuple[int, int]
    framework: str

    def message(self) -> str:
        return (f"{self.check_id}: {self.name}\n    {self.framework} resource {self.resource} "
                f"in {self.path}:{self.lines[0]}-{self.lines[1]}")


@dataclass
class Verdict:
    unsuppressed: list[Finding]
    stale: list[Suppression]
    problems: list[str]        # frameworks that scanned nothing, parsing errors
    summaries: list[str]       # one line per framework

    @property
    def ok(self) -> bool:
        return not (self.unsuppressed or self.stale or self.problems)


def parse_suppressions(data: Any) -> list[Suppression]:
    """The file's `suppressions:` list; any malformed entry is an error, so nothing is silently
    suppressed (or silently not)."""
    if not isinstance(data, dict) or not isinstance(data.get("suppressions"), list):
        raise SuppressionError("the file must be a mapping with a `suppressions:` list")
    result = []
    for index, entry in enumerate(data["suppressions"], start=1):
        label = f"suppression #{index}" + (f" ({entry.get('id')})" if isinstance(entry, dict) else "")
        if not isinstance(entry, dict):
            raise SuppressionError(f"{label}: must be a mapping with {', '.join(sorted(ENTRY_KEYS))}")
        unknown = set(entry) - ENTRY_KEYS
        if unknown:
            raise SuppressionError(f"{label}: unknown key(s) {', '.join(sorted(unknown))}; "
                                   f"allowed: {', '.join(sorted(ENTRY_KEYS))}")
        check_id, reason, where = entry.get("id"), entry.get("reason"), entry.get("where")
        if not isinstance(check_id, str) or not check_id.strip():
            raise SuppressionError(f"{label}: `id` must name a checkov check, e.g. CKV_K8S_11")
        if not isinstance(reason, str) or not reason.strip():
            raise SuppressionError(f"{label}: `reason` is missing or empty; say why the check does not apply")
        if where == "all":
            result.append(Suppression(check_id, reason.strip()))
            continue
        if not isinstance(where, dict) or not where or set(where) - WHERE_KEYS:
            raise SuppressionError(f"{label}: `where` must be `all` or a mapping with "
                                   f"{' and/or '.join(sorted(WHERE_KEYS))} (lists of patterns), got {where!r}")
        patterns = {}
        for key in WHERE_KEYS:
            value = where.get(key, [])
            if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
                raise SuppressionError(f"{label}: `where.{key}` must be a list of patterns, got {value!r}")
            patterns[key] = tuple(value)
        result.append(Suppression(check_id, reason.strip(), patterns["resources"], patterns["paths"]))
    return result


def _reports(data: Any) -> Iterable[dict[str, Any]]:
    """Checkov writes one report object for one framework and a list of them for several."""
    return data if isinstance(data, list) else [data]


def judge(results: Iterable[Any], suppressions: list[Suppression], expect: Iterable[str] = ()) -> Verdict:
    findings: list[Finding] = []
    problems: list[str] = []
    summaries: list[str] = []
    checked: dict[str, int] = {}
    for data in results:
        for report in _reports(data):
            framework = report.get("check_type", "?")
            summary = report.get("summary") or {}
            checked[framework] = checked.get(framework, 0) + summary.get("passed", 0) + summary.get("failed", 0)
            if summary.get("parsing_errors"):
                problems.append(f"{framework}: checkov could not parse {summary['parsing_errors']} file(s): "
                                + ", ".join(report.get("results", {}).get("parsing_errors", [])))
            summaries.append(f"{framework}: {summary.get('passed', 0)} passed, {summary.get('failed', 0)} failed "
                             f"in {summary.get('resource_count', 0)} resources")
            for f in report.get("results", {}).get("failed_checks", []):
                findings.append(Finding(f["check_id"], f.get("check_name", ""), f.get("resource", ""),
                                        f.get("file_path", "").lstrip("/"),
                                        tuple(f.get("file_line_range") or (0, 0)), framework))
    for framework in expect:
        if not checked.get(framework):
            problems.append(f"{framework}: no check ran (no file found, or checkov failed before scanning)")
    used: set[Suppression] = set()
    unsuppressed = []
    for finding in findings:
        covering = [s for s in suppressions if s.covers(finding)]
        used.update(covering)
        if not covering:
            unsuppressed.append(finding)
    stale = [s for s in suppressions if s not in used]
    return Verdict(unsuppressed, stale, problems, summaries)


def report(verdict: Verdict, suppressions_file: str) -> str:
    lines = [f"checkov {s}" for s in verdict.summaries]
    if verdict.unsuppressed:
        lines.append(f"{len(verdict.unsuppressed)} failed check(s) not suppressed — fix them at their "
                     f"source, or add an entry with its reason to {suppressions_file}:")
        lines += [f"  {f.message()}" for f in sorted(verdict.unsuppressed, key=lambda f: (f.check_id, f.path))]
    if verdict.stale:
        lines.append(f"{len(verdict.stale)} stale suppression(s) in {suppressions_file} (the check no longer "
                     "fails there; remove the entry):")
        lines += [f"  {s.describe()}" for s in verdict.stale]
    lines += [f"error: {p}" for p in verdict.problems]
    if verdict.ok:
        lines.append("checkov: no unsuppressed failure")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/checkov_gate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--suppressions", required=True, type=Path)
    parser.add_argument("--expect", default="", help="comma-separated frameworks that must have run checks")
    parser.add_argument("results", nargs="+", type=Path, help="checkov JSON reports (-o json)")
    args = parser.parse_args(argv)
    try:
        suppressions = parse_suppressions(yaml.safe_load(args.suppressions.read_text()))
    except SuppressionError as err:
        print(f"error: {args.suppressions}: {err}", file=sys.stderr)
        return 2
    results = []
    for path in args.results:
        try:
            results.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as err:
            print(f"error: {path}: not a checkov JSON report ({err})", file=sys.stderr)
            return 2
    verdict = judge(results, suppressions, [f for f in args.expect.split(",") if f])
    print(report(verdict, str(args.suppressions)))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
