"""The teller's one setting, read at boot so a bad value stops the worker instead of a request."""

from __future__ import annotations

import re
from typing import Mapping

_COLOR = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


class ConfigError(ValueError):
    """An environment variable whose value is not allowed."""

    def __init__(self, name: str, value: object, allowed: str):
        super().__init__(f"invalid environment variable {name}={value!r}: {allowed}")


def color_from_env(env: Mapping[str, str]) -> str:
    raw = env.get("COLOR")
    color = raw.strip() if isinstance(raw, str) else ""
    if not _COLOR.match(color):
        raise ConfigError("COLOR", raw, "a colour name: lower-case letters, digits, '-' (1-32), e.g. blue")
    return color
