"""Which files a mesh proxy has mounted, read back from a pod's rendered volumes: a `secret`
volume holds every file of its Secret (or the `items` it lists), a `projected` one the files of
each Secret source. What the mTLS component puts in each Secret is `colorapp.TLS_SECRETS`.

A file two sources would both write, or an item the Secret does not hold, is an error here: the
API server refuses the first, and the kubelet never starts a pod with the second."""

from __future__ import annotations

import posixpath
from typing import Any, Mapping

from celestials.topology import colorapp

#: Secret name → the files it holds (pki file names), as the mTLS component creates them.
SECRET_FILES = {s.name: frozenset(s.files) for s in colorapp.TLS_SECRETS}


class MountError(ValueError):
    """A volume that could not be mounted as rendered."""


def _secret_sources(volume: Mapping[str, Any]) -> list[tuple[str, list[dict] | None]]:
    if "secret" in volume:
        return [(volume["secret"]["secretName"], volume["secret"].get("items"))]
    if "projected" in volume:
        return [(s["secret"]["name"], s["secret"].get("items")) for s in volume["projected"]["sources"]
                if "secret" in s]
    return []


def volume_secrets(volume: Mapping[str, Any]) -> list[str]:
    """The Secrets a volume reads, in order."""
    return [name for name, _ in _secret_sources(volume)]


def volume_files(volume: Mapping[str, Any]) -> dict[str, str]:
    """File name in the volume's directory → the Secret it comes from."""
    out: dict[str, str] = {}
    for name, items in _secret_sources(volume):
        if name not in SECRET_FILES:
            raise MountError(f"volume reads Secret {name!r}, which the mTLS component does not create")
        pairs = [(i["key"], i["path"]) for i in items] if items else [(f, f) for f in sorted(SECRET_FILES[name])]
        for key, path in pairs:
            if key not in SECRET_FILES[name]:
                raise MountError(f"Secret {name} has no key {key!r}")
            if path in out:
                raise MountError(f"{path} is written by both Secret {out[path]} and Secret {name}")
            out[path] = name
    return out


def mounted_paths(volume: Mapping[str, Any], directory: str) -> set[str]:
    """Every file path a container that mounts `volume` at `directory` sees."""
    return {posixpath.join(directory, f) for f in volume_files(volume)}
