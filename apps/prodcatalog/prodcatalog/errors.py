"""Every error leaves as JSON `{"error": "...", ...}`: client mistakes as 4xx, store outages as 503."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .storage import StoreUnavailable
from .validation import MAX_BODY_BYTES, InvalidInput

log = logging.getLogger(__name__)

_MESSAGES = {
    404: "not found",
    405: "method not allowed",
    413: f"request body exceeds {MAX_BODY_BYTES} bytes",
}


def json_error(status: int, message: str, **detail: Any):
    body = {"error": message, **detail}
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidInput)
    def invalid_input(exc: InvalidInput):
        return json_error(exc.status, exc.message, **exc.detail)

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(exc: StoreUnavailable):
        log.error("product store unavailable: %s", exc)
        return json_error(503, "product store unavailable, try again later")

    @app.errorhandler(HTTPException)
    def http_exception(exc: HTTPException):
        # Routing redirects (/products → /products/) never reach here; Flask returns them as they are.
        status = exc.code or 500
        detail: dict[str, Any] = {}
        if status == 404:
            detail["path"] = request.path[:200]
        allowed = exc.valid_methods if isinstance(exc, MethodNotAllowed) else None
        if allowed:
            detail["allowed"] = sorted(allowed)
        response, status = json_error(status, _MESSAGES.get(status, (exc.name or "error").lower()), **detail)
        if allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal server error")
