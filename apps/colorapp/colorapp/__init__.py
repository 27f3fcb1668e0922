"""The mTLS demo's two apps, one codebase; COLOR_ROLE picks which one a process is, and each
image bakes its role from the COLOR_ROLE build arg (as proddetail bakes APP_VERSION).

- `teller` (colorapp.teller): answers every request with its colour (env COLOR).
- `front` (colorapp.front): forwards to the color service (env COLOR_HOST) with `color_header`.

Run: `COLOR_ROLE=teller python -m gunicorn -c gunicorn.conf.py "colorapp:create_app()"` (cwd
apps/colorapp). TLS is not the apps' business: the mesh proxies terminate mutual TLS.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from flask import Flask

from . import front, teller
from .config import ROLES, ConfigError, role_from_env
from .web import TRACER_PROVIDER, environment

__all__ = ["ROLES", "TRACER_PROVIDER", "ConfigError", "create_app"]

FACTORIES: dict[str, Callable[..., Flask]] = {"teller": teller.create_app, "front": front.create_app}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app of the role COLOR_ROLE names (from the environment, or `config` like the roles' own
    factories). Raises ConfigError on a missing or unknown role, or a bad variable of the role."""
    return FACTORIES[role_from_env(environment(config))](config)
