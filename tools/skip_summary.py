"""A pytest plugin (loaded by the root conftest.py): at the end of every run, even with -q, the
tests that did not run, grouped by their reason with a count and where they are, so a green run
says what it did not check (no Chromium, no ../shared/reference, ...)."""

from __future__ import annotations

from typing import Any


def skip_groups(reports: list[Any], root: str = "") -> list[tuple[str, int, list[str]]]:
    """(reason, how many, the test folders, relative to `root`) per reason, the largest group first."""
    groups: dict[str, tuple[int, set[str]]] = {}
    for report in reports:
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            path, _, reason = longrepr
        else:
            path, reason = report.nodeid.split("::")[0], str(longrepr)
        reason = str(reason).removeprefix("Skipped: ")
        path = str(path).replace("\\", "/")
        if root and path.startswith(root.rstrip("/") + "/"):
            path = path[len(root.rstrip("/")) + 1:]
        folder = path.rpartition("/")[0] or path
        count, folders = groups.get(reason, (0, set()))
        groups[reason] = (count + 1, folders | {folder})
    return sorted(((reason, n, sorted(folders)) for reason, (n, folders) in groups.items()),
                  key=lambda g: (-g[1], g[0]))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if getattr(r, "skipped", False)]
    if not skipped:
        return
    groups = skip_groups(skipped, str(config.rootpath))
    terminalreporter.write_sep("=", f"not run: {len(skipped)} skipped, {len(groups)} reason(s)")
    for reason, count, folders in groups:
        terminalreporter.write_line(f"{count:5d} × {reason}  [{', '.join(folders)}]")
