"""Front of the mTLS demo: forwards each request to the `color` service (env COLOR_HOST), passing
the `color_header` header through, and answers with the colour the mesh routed it to.

Run: `python -m gunicorn -c gunicorn.conf.py "colorfront:create_app()"` (cwd apps/colorfront).
Statuses: 200 + the colour (text/plain); 400 for a malformed `color_header`; 404 when the color
service has no route for it; 502 when the color service fails or refuses (e.g. the mesh's TLS
handshake fails), with the upstream status and message; 504 when it does not answer in time.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Mapping

from flask import Flask, Response, jsonify, request
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from werkzeug.exceptions import HTTPException

from .config import ConfigError, Settings
from .tracing import EXCLUDED_URLS, build_tracer_provider, install_propagator
from .upstream import COLOR_HEADER, ColorClient

__all__ = ["ConfigError", "create_app"]

TRACER_PROVIDER = "TRACER_PROVIDER"
_HEADER_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
log = logging.getLogger(__name__)


def _error(status: int, message: str, **detail: Any):
    return jsonify({"error": message, **detail}), status


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; `config` overrides variables by name and may inject a
    `TRACER_PROVIDER`. Raises ConfigError on a bad variable."""
    config = dict(config or {})
    env = {**os.environ, **{k: v for k, v in config.items() if isinstance(v, str)}}
    settings = Settings.from_env(env)
    tracer_provider = config.get(TRACER_PROVIDER) or build_tracer_provider(env, "Color-Front")
    install_propagator(env)
    client = ColorClient(settings.color_url, settings.timeout_seconds, tracer_provider.get_tracer("colorfront"))

    app = Flask(__name__)
    app.extensions["colorfront"] = {"settings": settings, "tracer_provider": tracer_provider}

    @app.get("/ping")
    def ping():
        return Response("Healthy", mimetype="text/plain")

    @app.get("/")
    def color():
        value = request.headers.get(COLOR_HEADER)
        if value is not None and not _HEADER_VALUE.match(value):
            return _error(400, f"{COLOR_HEADER} must be 1-64 letters, digits, '_', '.' or '-'",
                          header=COLOR_HEADER)
        answer = client.ask(value)
        if answer.status == 200:
            return Response(answer.body, mimetype="text/plain")
        if answer.timed_out:
            return _error(504, "the color service did not answer in time", detail=answer.error)
        if answer.status == 404:
            which = f"{COLOR_HEADER}={value!r}" if value is not None else f"a request without {COLOR_HEADER}"
            return _error(404, f"the color service has no route for {which}",
                          upstream_status=404, upstream_body=answer.body[:300])
        if answer.status == 0:
            log.warning("color service unreachable: %s", answer.error)
            return _error(502, "the color service is unreachable", detail=answer.error)
        log.warning("color service answered %s: %s", answer.status, answer.body[:300])
        return _error(502, "the color service failed", upstream_status=answer.status,
                      upstream_body=answer.body[:300])

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = jsonify({"error": (exc.name or "error").lower(), "status": exc.code})
        if exc.code == 405:
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))
        return response, exc.code

    FlaskInstrumentor.instrument_app(app, tracer_provider=tracer_provider, excluded_urls=EXCLUDED_URLS)
    log.info("colorfront ready: color service %s, timeout %gs", settings.color_url, settings.timeout_seconds)
    return app
