"""The call to proddetail: bounded in time and size, and never an error for the caller.

Any failure (refused, timed out, non-200, not JSON, not an object, too big) becomes the degraded
value `{"available": false, "reason": "..."}`, so the product list still answers 200 while
proddetail is down. The call is traced by hand (a CLIENT span plus the configured propagators'
headers) because opentelemetry-instrumentation-requests/urllib3 patch the library for the whole
process with one tracer provider, while each app built by `create_app` owns its provider.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import urllib3
from opentelemetry import propagate, trace
from opentelemetry.semconv.attributes import (error_attributes, http_attributes, server_attributes,
                                              url_attributes)
from opentelemetry.trace import SpanKind, Status, StatusCode

log = logging.getLogger(__name__)

#: proddetail answers ~60 bytes; anything near this is garbage, not a catalog detail.
MAX_DETAILS_BYTES = 64 * 1024
_READ_CHUNK = 8192
_NOT_HTTP = "proddetail closed the connection or did not answer valid HTTP"


class DetailsUnavailable(Exception):
    """Why proddetail's answer cannot be used; the message is the `reason` clients see."""

    def __init__(self, reason: str, error_type: str):
        super().__init__(reason)
        self.reason, self.error_type = reason, error_type


def unavailable(reason: str) -> dict[str, Any]:
    """The degraded `details` value (documented shape)."""
    return {"available": False, "reason": reason}


class DetailsClient:
    """Fetches proddetail's catalog detail (AGG_APP_URL) within `timeout_seconds` overall."""

    def __init__(self, url: str, timeout_seconds: float, tracer: trace.Tracer):
        self.url, self.timeout_seconds, self._tracer = url, timeout_seconds, tracer
        parts = urlsplit(url)
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        # PoolManager is thread-safe (gthread workers); no retries: one bounded attempt per request.
        self._pool = urllib3.PoolManager(num_pools=2, maxsize=16, block=False, retries=False)

    def fetch(self) -> dict[str, Any]:
        """proddetail's JSON object, or the degraded value with a reason."""
        attributes = {
            http_attributes.HTTP_REQUEST_METHOD: "GET",
            url_attributes.URL_FULL: self.url,
            server_attributes.SERVER_ADDRESS: self._host,
            server_attributes.SERVER_PORT: self._port,
        }
        with self._tracer.start_as_current_span("GET", kind=SpanKind.CLIENT, attributes=attributes) as span:
            try:
                return self._fetch(span)
            except DetailsUnavailable as exc:
                span.set_attribute(error_attributes.ERROR_TYPE, exc.error_type)
                span.set_status(Status(StatusCode.ERROR, exc.reason))
                log.warning("proddetail unavailable: %s", exc.reason)
                return unavailable(exc.reason)

    def _fetch(self, span: trace.Span) -> dict[str, Any]:
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        propagate.inject(headers)  # traceparent / baggage / X-Amzn-Trace-Id, per OTEL_PROPAGATORS
        limit = self.timeout_seconds
        deadline = time.monotonic() + limit
        try:
            response = self._pool.request(
                "GET", self.url, headers=headers, redirect=False, preload_content=False,
                decode_content=False, timeout=urllib3.Timeout(total=limit),
            )
        except urllib3.exceptions.NewConnectionError as exc:  # before TimeoutError: it subclasses it
            raise DetailsUnavailable(f"proddetail unreachable: {_cause(exc)}", type(exc).__name__) from exc
        except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
            raise DetailsUnavailable(f"proddetail timed out after {limit:g}s", "timeout") from exc
        except urllib3.exceptions.ProtocolError as exc:
            raise DetailsUnavailable(_NOT_HTTP, "protocol") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise DetailsUnavailable(f"proddetail unreachable: {_cause(exc)}", type(exc).__name__) from exc

        try:
            span.set_attribute(http_attributes.HTTP_RESPONSE_STATUS_CODE, response.status)
            if response.status != 200:
                raise DetailsUnavailable(f"proddetail answered HTTP {response.status}", str(response.status))
            encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise DetailsUnavailable(f"proddetail used unsupported Content-Encoding {encoding[:40]!r}",
                                         "encoding")
            body = self._read_body(response, deadline, limit)
        except BaseException:
            response.close()  # a half-read connection must not go back to the pool
            raise
        finally:
            response.release_conn()

        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise DetailsUnavailable("proddetail returned invalid JSON", "invalid_json") from exc
        if not isinstance(document, dict):
            raise DetailsUnavailable(f"proddetail returned a JSON {type(document).__name__}, not an object",
                                     "invalid_json")
        return document

    @staticmethod
    def _read_body(response: urllib3.BaseHTTPResponse, deadline: float, limit: float) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > MAX_DETAILS_BYTES:
            raise DetailsUnavailable(f"proddetail response exceeds {MAX_DETAILS_BYTES} bytes", "too_large")
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise DetailsUnavailable(f"proddetail timed out after {limit:g}s", "timeout")
            try:
                chunk = response.read1(_READ_CHUNK)
            except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
                raise DetailsUnavailable(f"proddetail timed out after {limit:g}s", "timeout") from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise DetailsUnavailable(_NOT_HTTP, "protocol") from exc
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_DETAILS_BYTES:
                raise DetailsUnavailable(f"proddetail response exceeds {MAX_DETAILS_BYTES} bytes", "too_large")
            chunks.append(chunk)

    def close(self) -> None:
        self._pool.clear()


def _cause(exc: BaseException) -> str:
    """The OS-level reason ('connection refused', 'name or service not known') under urllib3's wrapper."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return str(cause or exc)[:200]
