"""Every request's body is read to its end (bounded) and dropped before the app answers.

Why: neither role takes a body, so it answers (a 405 for a POST, the colour for a GET) without
reading it. gunicorn then drains at most 64 KiB and closes the connection without having said
`Connection: close`, so the sidecar in front puts that connection back in its pool and sends the
next request onto a socket being closed: that request fails with a 503 (`UC`,
`connection_termination`). Reading the body first keeps the connection reusable.

A body beyond DRAIN_LIMIT_BYTES is a 413 (and gunicorn.conf.py's `pre_request` hook marks such
requests, when Content-Length declares them, `Connection: close`), decided from the declared length
alone when there is one; a body too broken to read (a malformed chunk) is a 400; one that stops
arriving (the worker bounds the read, app_common/gunicorn_worker.py) is a 408.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, RequestTimeout

#: How much of a body the app reads and throws away to keep its connection reusable.
DRAIN_LIMIT_BYTES = 8 * 1024 * 1024
_READ_SIZE = 64 * 1024


def drain_body_first(app: Flask) -> None:
    """Register the hook that reads and drops each request's body before any view or error answers."""

    @app.before_request
    def _drain_body():
        declared = request.content_length
        if declared is not None and declared > DRAIN_LIMIT_BYTES:
            raise RequestEntityTooLarge(f"request body exceeds {DRAIN_LIMIT_BYTES} bytes")
        stream, remaining = request.stream, DRAIN_LIMIT_BYTES + 1
        try:
            while remaining > 0:
                chunk = stream.read(min(_READ_SIZE, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
        except TimeoutError as exc:
            raise RequestTimeout("request body not received in time") from exc
        except Exception as exc:  # gunicorn's InvalidChunkSize, NoMoreData; werkzeug's dechunker OSError
            raise BadRequest(f"request body is malformed and could not be read ({type(exc).__name__})") from exc
        raise RequestEntityTooLarge(f"request body exceeds {DRAIN_LIMIT_BYTES} bytes")
