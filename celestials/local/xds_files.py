"""Hand a running Envoy new routes and clusters through the files it watches, and know when it has
applied them.

Envoy reloads a watched xDS file when another file is renamed onto it (an in-place edit is never
seen), so every file is written next to its final name and moved there; an unchanged file is not
touched, so Envoy reloads only what changed. Envoy reports each document's `version_info` in
`/config_dump` once it has accepted it; a rejected document leaves the old version there, and the
wait names the file and the Envoy's log instead of pretending the change is live.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import Any, Mapping

from ..render.local_xds import EnvoyFiles


class ReloadError(RuntimeError):
    """An Envoy did not apply a rewritten file in time (it rejected it, or it is stuck)."""


def write(files: EnvoyFiles, bootstrap_path: str) -> dict[str, str]:
    """Write an Envoy's xDS files (in their safe order) and bootstrap; return the xDS files whose
    content changed, path → the version Envoy will report once it applied them."""
    changed: dict[str, str] = {}
    for path, document in files.xds.items():
        if _write_if_changed(path, document):
            changed[path] = document["version_info"]
    _write_if_changed(bootstrap_path, files.bootstrap)
    return changed


def _write_if_changed(path: str, document: dict[str, Any]) -> bool:
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)  # a move: what Envoy's watch reacts to
    return True


def applied_versions(config_dump: Mapping[str, Any]) -> dict[str, str]:
    """What an Envoy runs, by file name: `cds`, `lds`, `rds-<route config>` → version_info.
    A cluster or listener still warming does not count as applied."""
    versions: dict[str, str] = {}
    for section in config_dump.get("configs", []):
        kind = section.get("@type", "").rsplit(".", 1)[-1]
        if kind == "ClustersConfigDump" and not section.get("dynamic_warming_clusters"):
            versions["cds"] = section.get("version_info", "")
        elif kind == "ListenersConfigDump" and not any(
                "warming_state" in x for x in section.get("dynamic_listeners", [])):
            versions["lds"] = section.get("version_info", "")
        elif kind == "RoutesConfigDump":
            for route in section.get("dynamic_route_configs", []):
                versions[f"rds-{route['route_config']['name']}"] = route.get("version_info", "")
    return versions


def wait_applied(process: str, admin_url: str, changed: Mapping[str, str], log: str, timeout: float) -> None:
    """Poll the Envoy's `/config_dump` until it reports every changed file's version."""
    expected = {os.path.splitext(os.path.basename(path))[0]: version for path, version in changed.items()}
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{admin_url}/config_dump", timeout=5) as response:
                versions = applied_versions(json.load(response))
        except (urllib.error.URLError, OSError, ValueError):
            versions = {}
        pending = sorted(name for name, version in expected.items() if versions.get(name) != version)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise ReloadError(f"{process} has not applied {', '.join(f'{n}.json' for n in pending)} after "
                              f"{timeout:.0f}s (rejected? see {log}); it still runs the previous version")
        time.sleep(0.1)
