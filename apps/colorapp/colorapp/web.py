"""What both roles' Flask apps share: the environment (with overrides for tests), a tracer provider,
the probe route, JSON bodies for every HTTP error, request bodies read before answering (body.py),
and traced requests (probes excepted).

Why one place: the teller and the front must answer probes, errors and traces the same way, and
gunicorn.conf.py finds each worker's provider under the same key to flush it on exit.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask, Response, abort, jsonify, request
from opentelemetry import trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from werkzeug.exceptions import HTTPException

from .body import drain_body_first
from .tracing import EXCLUDED_URLS, build_tracer_provider, install_propagator

#: `create_app` config key for a tracer provider to use instead of one built from OTEL_* (tests).
TRACER_PROVIDER = "TRACER_PROVIDER"
#: `app.extensions` key holding the role, its settings and its tracer provider.
EXTENSION = "colorapp"


def environment(config: Mapping[str, Any] | None) -> dict[str, str]:
    """The process environment with `config`'s string values laid over it."""
    return {**os.environ, **{k: v for k, v in (config or {}).items() if isinstance(v, str)}}


def tracer_provider_for(config: Mapping[str, Any] | None, env: Mapping[str, str],
                        default_name: str) -> trace.TracerProvider:
    """The injected provider or one from OTEL_*; installs the propagators OTEL_PROPAGATORS names."""
    provider = (config or {}).get(TRACER_PROVIDER) or build_tracer_provider(env, default_name)
    install_propagator(env)
    return provider


def arrival_port(environ: Mapping[str, Any]) -> int | None:
    """The local port a request arrived on (gunicorn hands the connection's socket over; the Host
    header, which a client chooses, is not trusted for this)."""
    sock = environ.get("gunicorn.socket")
    try:
        return sock.getsockname()[1] if sock is not None else None
    except (OSError, IndexError, TypeError):
        return None


def new_app(import_name: str, role: str, tracer_provider: trace.TracerProvider, allow: str | None = None,
            health_port: int | None = None, **state: Any) -> Flask:
    """A traced Flask app with `GET /ping` and JSON errors. `allow` fixes the Allow header of a 405
    (default: the methods the matched route accepts). `health_port`: requests arriving there get
    `GET /ping` only (a 404 for anything else), so the probes' plain port is no way around the
    mesh's TLS on the serving port."""
    app = Flask(import_name)
    app.extensions[EXTENSION] = {"role": role, "tracer_provider": tracer_provider, "health_port": health_port,
                                 **state}
    drain_body_first(app)

    if health_port is not None:
        @app.before_request
        def only_probes_on_the_health_port():
            if arrival_port(request.environ) == health_port and request.path != "/ping":
                abort(404)

    @app.get("/ping")
    def ping():
        return Response("Healthy", mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        body = {"error": (exc.name or "error").lower(), "status": exc.code}
        if exc.code in (400, 408, 413):  # the body was refused: say why
            body["detail"] = exc.description
        response = jsonify(body)
        if exc.code == 405:
            response.headers["Allow"] = allow or ", ".join(sorted(exc.valid_methods or ()))
        return response, exc.code

    FlaskInstrumentor.instrument_app(app, tracer_provider=tracer_provider, excluded_urls=EXCLUDED_URLS)
    return app
