"""A stack's settings for the rehearsal: its Pulumi.<stack>.yaml plus command-line overrides.

The stack file is read directly (no Pulumi CLI): its whole `config:` mapping goes through
`settings_from_config`, the check the Pulumi program runs too, so a key or value the program
would refuse is refused here too, naming the key. A key written twice is refused (PyYAML would
silently keep the last one; the Pulumi CLI refuses it too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Hashable, Mapping

import yaml

from ..settings import PROJECT, Settings
from ..stack_config import settings_from_config


class StackFileError(ValueError):
    """A stack file that is missing or not shaped like a Pulumi stack file."""


class _DuplicateKey(yaml.YAMLError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats a key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(f"key {key!r} is written twice (lines {seen[key] + 1} and "
                                    f"{key_node.start_mark.line + 1}); keep one")
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def stack_file(project_root: str | Path, stack: str) -> Path:
    return Path(project_root) / f"Pulumi.{stack}.yaml"


def read_stack_config(project_root: str | Path, stack: str) -> dict[str, Any]:
    """The stack file's whole `config:` mapping (keys as written; checked by the caller)."""
    path = stack_file(project_root, stack)
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in Path(project_root).glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {path.name} for STACK={stack}; stacks with a file: "
                             f"{', '.join(known) or 'none'}")
    try:
        doc = yaml.load(path.read_text(), Loader=_UniqueKeyLoader) or {}
    except _DuplicateKey as err:
        raise StackFileError(f"{path.name}: {err}") from None
    except yaml.YAMLError as err:
        raise StackFileError(f"{path.name} is not valid YAML: {err}") from None
    config = (doc.get("config") or {}) if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(config, dict):
        raise StackFileError(f"{path.name}: `config:` must be a mapping of keys to values")
    return {str(k): v for k, v in config.items()}


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`key=value` strings (a bare key is ours: `celestials:<key>`) → mapping; values stay strings
    so they are checked like CLI config values."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"override {pair!r}: expected key=value, e.g. canaryWeight=100")
        out[_qualified(key.strip())] = value.strip()
    return out


def _qualified(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def qualify(overrides: Mapping[str, object] | None) -> dict[str, str]:
    """Overrides keyed as Pulumi holds them (a bare key becomes `celestials:<key>`), values as
    config strings."""
    return {_qualified(k): _config_string(v) for k, v in (overrides or {}).items()}


def _config_string(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def load_settings(project_root: str | Path, stack: str, overrides: Mapping[str, str] | None = None) -> Settings:
    merged = {**read_stack_config(project_root, stack), **qualify(overrides)}
    return settings_from_config(merged, stack)
