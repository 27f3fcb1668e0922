"""A stack's settings for the rehearsal: its Pulumi.<stack>.yaml plus command-line overrides.

The stack file is read directly (no Pulumi CLI): the `config:` mapping's `celestials:*` keys go
through `parse_settings`, exactly as the Pulumi program would see them, so a value the program
would refuse is refused here too, naming the key. `aws:region` is passed along; other
providers' keys are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import yaml

from ..settings import PROJECT, Settings, parse_settings


class StackFileError(ValueError):
    """A stack file that is missing or not shaped like a Pulumi stack file."""


def stack_file(project_root: str | Path, stack: str) -> Path:
    return Path(project_root) / f"Pulumi.{stack}.yaml"


def read_stack_config(project_root: str | Path, stack: str) -> tuple[dict, str | None]:
    """(`celestials:*` values, aws:region) from the stack file."""
    path = stack_file(project_root, stack)
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in Path(project_root).glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {path.name} for STACK={stack}; stacks with a file: "
                             f"{', '.join(known) or 'none'}")
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise StackFileError(f"{path.name} is not valid YAML: {err}") from None
    config = (doc.get("config") or {}) if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(config, dict):
        raise StackFileError(f"{path.name}: `config:` must be a mapping of keys to values")
    ours = {k: v for k, v in config.items() if isinstance(k, str) and k.startswith(PROJECT + ":")}
    region = config.get("aws:region")
    return ours, region if isinstance(region, str) else None


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`key=value` strings (key with or without `celestials:`) → mapping; values stay strings so
    `parse_settings` checks them like CLI config values."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"override {pair!r}: expected key=value, e.g. canaryWeight=100")
        out[_qualified(key.strip())] = value.strip()
    return out


def _qualified(key: str) -> str:
    return key if key.startswith(PROJECT + ":") else f"{PROJECT}:{key}"


def qualify(overrides: Mapping[str, object] | None) -> dict[str, str]:
    """Overrides keyed `celestials:<key>` whichever form they came in, values as config strings."""
    return {_qualified(k): _config_string(v) for k, v in (overrides or {}).items()}


def _config_string(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def load_settings(project_root: str | Path, stack: str, overrides: Mapping[str, str] | None = None) -> Settings:
    config, region = read_stack_config(project_root, stack)
    merged = {**config, **qualify(overrides)}
    return parse_settings(merged, stack, region=region)
