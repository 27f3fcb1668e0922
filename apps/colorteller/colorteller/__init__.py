"""Color teller: answers every request with its colour (env COLOR), the mTLS demo's backend.

Run: `python -m gunicorn -c gunicorn.conf.py "colorteller:create_app()"` (cwd apps/colorteller).
TLS is not the app's business: the mesh proxy in front of it terminates mutual TLS.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask, Response, jsonify
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from werkzeug.exceptions import HTTPException

from .config import ConfigError, color_from_env
from .tracing import EXCLUDED_URLS, build_tracer_provider, install_propagator

__all__ = ["ConfigError", "create_app"]

TRACER_PROVIDER = "TRACER_PROVIDER"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; `config` overrides variables by name and may inject a
    `TRACER_PROVIDER`. Raises ConfigError on a bad variable."""
    config = dict(config or {})
    env = {**os.environ, **{k: v for k, v in config.items() if isinstance(v, str)}}
    color = color_from_env(env)
    tracer_provider = config.get(TRACER_PROVIDER) or build_tracer_provider(env, f"Color-Teller-{color.capitalize()}")
    install_propagator(env)

    app = Flask(__name__)
    app.extensions["colorteller"] = {"color": color, "tracer_provider": tracer_provider}

    @app.get("/ping")
    def ping():
        return Response("Healthy", mimetype="text/plain")

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def tell(path: str):
        return Response(color, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = jsonify({"error": (exc.name or "error").lower(), "status": exc.code})
        if exc.code == 405:
            response.headers["Allow"] = "GET, HEAD"
        return response, exc.code

    FlaskInstrumentor.instrument_app(app, tracer_provider=tracer_provider, excluded_urls=EXCLUDED_URLS)
    logging.getLogger(__name__).info("colorteller ready: COLOR=%s", color)
    return app
