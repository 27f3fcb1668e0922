"""One call to the `color` service, passing `color_header` through; every outcome is a value.

Why results instead of exceptions: the front must answer every request promptly with a clear
status (the original hung on a failing backend), and which status depends on how the call went.
"""

from __future__ import annotations

from dataclasses import dataclass

import urllib3
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

COLOR_HEADER = "color_header"
#: A colour answer is a word; anything much longer is not one, so only this much is read.
MAX_BODY_BYTES = 4096


@dataclass(frozen=True)
class Answer:
    """`status` is the upstream HTTP status (0: no answer); `error` names a transport failure."""

    status: int
    body: str = ""
    error: str | None = None
    timed_out: bool = False


class ColorClient:
    def __init__(self, url: str, timeout_seconds: float, tracer: trace.Tracer):
        self._url = url
        self._timeout = urllib3.Timeout(total=timeout_seconds)
        self._pool = urllib3.PoolManager(retries=False, timeout=self._timeout)
        self._tracer = tracer

    def ask(self, color_header: str | None) -> Answer:
        headers = {COLOR_HEADER: color_header} if color_header is not None else {}
        with self._tracer.start_as_current_span("color GET", kind=SpanKind.CLIENT) as span:
            span.set_attribute("http.request.method", "GET")
            span.set_attribute("url.full", self._url)
            propagate.inject(headers)
            try:
                response = self._pool.request("GET", self._url, headers=headers, preload_content=False)
            except urllib3.exceptions.NewConnectionError as err:  # a ConnectTimeoutError subclass, but a refusal
                span.set_status(Status(StatusCode.ERROR, "connection failed"))
                return Answer(status=0, error=f"connection failed: {err.__context__ or err}")
            except urllib3.exceptions.TimeoutError as err:
                span.set_status(Status(StatusCode.ERROR, "timeout"))
                return Answer(status=0, error=f"no answer within {self._timeout.total:g} s ({type(err).__name__})",
                              timed_out=True)
            except urllib3.exceptions.HTTPError as err:
                span.set_status(Status(StatusCode.ERROR, type(err).__name__))
                return Answer(status=0, error=f"{type(err).__name__}: {err}")
            try:
                body = response.read(MAX_BODY_BYTES, decode_content=True)
            except (urllib3.exceptions.HTTPError, OSError) as err:
                span.set_status(Status(StatusCode.ERROR, type(err).__name__))
                return Answer(status=0, error=f"reading the answer failed: {type(err).__name__}",
                              timed_out=isinstance(err, urllib3.exceptions.TimeoutError))
            finally:
                response.release_conn()
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return Answer(status=response.status, body=body.decode("utf-8", "replace").strip())
