"""Every request's body is read to its end (bounded) before the app answers.

Why: an answer sent while the body is still arriving (a 413 decided from Content-Length, a 405,
a 404) leaves the body on the connection. gunicorn then drains at most 64 KiB and closes the
connection without having said `Connection: close`, so a proxy in front (the mesh sidecar, the
ingress gateway) puts that connection back in its pool and sends the next request onto a socket
being closed: that request fails with a 503 (`UC`, `connection_termination`). Reading the body
first keeps the connection reusable; a body too broken to read (a malformed chunk) is a 400.

Beyond DRAIN_LIMIT_BYTES the body is abandoned: gunicorn.conf.py's `pre_request` hook marks such
requests (declared by Content-Length) `Connection: close`, so no proxy reuses their connection, and
a body declared that large gets its 413 at once, before any of it is read.

A body encoded (`Content-Encoding`) other than `identity` is a 415: the app decodes none.
A body that stops arriving (gunicorn's worker bounds the read, app_common/gunicorn_worker.py) is a 408.
"""

from __future__ import annotations

from flask import Flask, g, request

from .validation import MAX_BODY_BYTES, InvalidInput

#: How much of a body the app reads and throws away to keep its connection reusable.
DRAIN_LIMIT_BYTES = 8 * 1024 * 1024
_READ_SIZE = 64 * 1024


def read_body_first(app: Flask) -> None:
    """Register the hook that reads each request's body (up to MAX_BODY_BYTES kept, up to
    DRAIN_LIMIT_BYTES read) before routing errors or views answer."""

    @app.before_request
    def _read_whole_body():
        declared = request.content_length
        if declared is not None and declared > DRAIN_LIMIT_BYTES:
            raise InvalidInput(f"request body exceeds {MAX_BODY_BYTES} bytes", status=413, limit=MAX_BODY_BYTES)
        try:
            kept = _read_up_to(MAX_BODY_BYTES + 1)
            if len(kept) > MAX_BODY_BYTES:
                _read_up_to(DRAIN_LIMIT_BYTES - len(kept), keep=False)
        except TimeoutError as exc:
            raise InvalidInput("request body not received in time", status=408) from exc
        except Exception as exc:  # gunicorn's InvalidChunkSize, NoMoreData; werkzeug's dechunker OSError
            raise InvalidInput("request body is malformed and could not be read",
                               reason=f"{type(exc).__name__}: {exc}"[:200]) from exc
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        if kept and encoding not in ("", "identity"):
            raise InvalidInput("request body must not be encoded (Content-Encoding: identity)", status=415,
                               content_encoding=encoding[:100])
        if len(kept) > MAX_BODY_BYTES:
            raise InvalidInput(f"request body exceeds {MAX_BODY_BYTES} bytes", status=413, limit=MAX_BODY_BYTES)
        g.request_body = kept


def request_body() -> bytes:
    """The body of the current request, as read by the hook."""
    return g.get("request_body", b"")


def _read_up_to(limit: int, keep: bool = True) -> bytes:
    """Up to `limit` bytes of the body (fewer at its end); with keep=False they are discarded."""
    stream = request.stream
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(_READ_SIZE, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        if keep:
            chunks.append(chunk)
    return b"".join(chunks)
