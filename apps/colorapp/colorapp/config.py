"""The settings of both roles, read at boot so a bad value stops the worker instead of a request.

COLOR_ROLE: which app this is, `teller` or `front` (each image bakes its own from a build arg).
Teller: COLOR, the colour it answers with.
Front: COLOR_HOST, where the `color` service is, as `host:port` (the original contract) or an
http URL (what the mesh renderers hand out, e.g. `http://color.mtls.svc.cluster.local:8080/`);
UPSTREAM_TIMEOUT_SECONDS, how long one call to it may take (default 5, at most 60).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

ROLES = ("teller", "front")
DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_TIMEOUT_SECONDS = 60.0
_COLOR = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[0-9]{1,5})?$")


class ConfigError(ValueError):
    """An environment variable whose value is not allowed."""

    def __init__(self, name: str, value: object, allowed: str):
        super().__init__(f"invalid environment variable {name}={value!r}: {allowed}")


def health_port_from_env(env: Mapping[str, str]) -> int | None:
    """HEALTH_PORT: a second, plain port that answers only `GET /ping`, for the kubelet's probes
    when the serving port requires client certificates (the mesh's TLS sits in front of PORT)."""
    raw = (env.get("HEALTH_PORT") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536 or raw == (env.get("PORT") or "").strip():
        raise ConfigError("HEALTH_PORT", raw, "a port from 1 to 65535 other than PORT")
    return int(raw)


def role_from_env(env: Mapping[str, str]) -> str:
    raw = env.get("COLOR_ROLE")
    role = raw.strip() if isinstance(raw, str) else ""
    if role not in ROLES:
        raise ConfigError("COLOR_ROLE", raw, " or ".join(ROLES))
    return role


def color_from_env(env: Mapping[str, str]) -> str:
    raw = env.get("COLOR")
    color = raw.strip() if isinstance(raw, str) else ""
    if not _COLOR.match(color):
        raise ConfigError("COLOR", raw, "a colour name: lower-case letters, digits, '-' (1-32), e.g. blue")
    return color


@dataclass(frozen=True)
class FrontSettings:
    color_url: str
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "FrontSettings":
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
            urlsplit(url).port  # noqa: B018 — reading it validates: a port out of range raises
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
