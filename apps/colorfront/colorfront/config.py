"""The front's settings, read at boot so a bad value stops the worker instead of a request.

COLOR_HOST: where the `color` service is, as `host:port` (the original contract) or an http URL
(what the mesh renderers hand out, e.g. `http://color.mtls.svc.cluster.local:8080/`).
UPSTREAM_TIMEOUT_SECONDS: how long one call to it may take (default 5, at most 60).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_TIMEOUT_SECONDS = 60.0
_HOST_PORT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[0-9]{1,5})?$")


class ConfigError(ValueError):
    """An environment variable whose value is not allowed."""

    def __init__(self, name: str, value: object, allowed: str):
        super().__init__(f"invalid environment variable {name}={value!r}: {allowed}")


@dataclass(frozen=True)
class Settings:
    color_url: str
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        raw = (env.get("COLOR_HOST") or "").strip()
        allowed = "the color service as host:port (color.mtls.svc.cluster.local:8080) or an http:// URL"
        if "://" in raw:
            parts = urlsplit(raw)
            if parts.scheme != "http" or not parts.hostname or parts.query or parts.fragment:
                raise ConfigError("COLOR_HOST", raw, allowed)
            url = raw if raw.endswith("/") else raw + "/"
        elif _HOST_PORT.match(raw):
            url = f"http://{raw}/"
        else:
            raise ConfigError("COLOR_HOST", env.get("COLOR_HOST"), allowed)
        try:
            urlsplit(url).port  # a port out of range raises here
        except ValueError:
            raise ConfigError("COLOR_HOST", raw, allowed) from None

        timeout = DEFAULT_TIMEOUT_SECONDS
        raw_timeout = (env.get("UPSTREAM_TIMEOUT_SECONDS") or "").strip()
        if raw_timeout:
            try:
                timeout = float(raw_timeout)
            except ValueError:
                timeout = math.nan
            if not 0 < timeout <= MAX_TIMEOUT_SECONDS:
                raise ConfigError("UPSTREAM_TIMEOUT_SECONDS", raw_timeout,
                                  f"a number of seconds > 0 and <= {MAX_TIMEOUT_SECONDS:g}")
        return cls(color_url=url, timeout_seconds=timeout)
