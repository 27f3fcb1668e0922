"""The teller role: answers every request with its colour (env COLOR), the mTLS demo's backend.

TLS is not the app's business: the mesh proxy in front of it terminates mutual TLS.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask, Response

from .config import color_from_env, health_port_from_env
from .web import environment, new_app, tracer_provider_for

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the teller from the environment; `config` overrides variables by name and may inject a
    `TRACER_PROVIDER`. Raises ConfigError on a bad variable."""
    env = environment(config)
    color = color_from_env(env)
    tracer_provider = tracer_provider_for(config, env, f"Color-Teller-{color.capitalize()}")
    app = new_app(__name__, "teller", tracer_provider, allow="GET, HEAD", color=color,
                  health_port=health_port_from_env(env))

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def tell(path: str):
        return Response(color, mimetype="text/plain")

    log.info("colorapp teller ready: COLOR=%s", color)
    return app
