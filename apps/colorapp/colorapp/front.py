"""The front role: forwards each request to the `color` service (env COLOR_HOST), passing the
`color_header` header through, and answers with the colour the mesh routed it to.

Statuses: 200 + the colour (text/plain); 400 for a malformed `color_header`; 404 when the color
service has no route for it; 502 when the color service fails or refuses (e.g. the mesh's TLS
handshake fails), with the upstream status and message and a `reason` in words (colorapp.failure);
504 when it does not answer in time.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Mapping

from flask import Flask, Response, jsonify, request

from .config import FrontSettings, health_port_from_env
from .failure import reason_for
from .upstream import COLOR_HEADER, ColorClient
from .web import environment, new_app, tracer_provider_for

_HEADER_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
log = logging.getLogger(__name__)


def _error(status: int, message: str, **detail: Any):
    return jsonify({"error": message, **detail}), status


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the front from the environment; `config` overrides variables by name and may inject a
    `TRACER_PROVIDER`. Raises ConfigError on a bad variable."""
    env = environment(config)
    settings = FrontSettings.from_env(env)
    tracer_provider = tracer_provider_for(config, env, "Color-Front")
    client = ColorClient(settings.color_url, settings.timeout_seconds, tracer_provider.get_tracer("colorapp.front"))
    app = new_app(__name__, "front", tracer_provider, settings=settings,
                  health_port=health_port_from_env(env))

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
        return _error(502, "the color service failed", reason=reason_for(answer.status, answer.body),
                      upstream_status=answer.status, upstream_body=answer.body[:300])

    log.info("colorapp front ready: color service %s, timeout %gs", settings.color_url, settings.timeout_seconds)
    return app
