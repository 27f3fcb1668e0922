"""An OTLP trace receiver that appends every span it gets as one JSON line to a file.

Tests and the local rehearsal point the apps' OpenTelemetry exporters (and Envoy's tracer) at it,
then read the file with `load_spans` to check which spans share a trace. It speaks OTLP/HTTP
(`POST /v1/traces`, protobuf or JSON, optionally gzip-compressed) and, when given a gRPC port,
OTLP/gRPC. Every request is size-bounded and anything that is not OTLP gets a 4xx.

Run it with `python -m celestials.tracing.sink --host H --port P --out FILE [--grpc-port G]`.
"""

from __future__ import annotations

import argparse
import base64
import json
import signal
import sys
import threading
import zlib
from concurrent import futures
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

if TYPE_CHECKING:
    import grpc

TRACES_PATH = "/v1/traces"
MAX_BODY_BYTES = 8 * 1024 * 1024
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# A client that stops sending mid-request frees its thread after this many seconds.
SOCKET_TIMEOUT_SECONDS = 10


class BadRequest(ValueError):
    """The body is not an OTLP trace export request; `status` is the HTTP answer to give."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST):
        super().__init__(message)
        self.status = status


# --- decoding -----------------------------------------------------------------------------------

_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hex_ids_to_base64(node: Any) -> None:
    """OTLP/JSON writes ids as hex, protobuf's JSON mapping expects base64: convert in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                try:
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
                except ValueError as err:
                    raise BadRequest(f"{key} is not hex: {value!r}") from err
            else:
                _hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids_to_base64(item)


def _decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise BadRequest(f"unsupported Content-Encoding {encoding!r}",
                         HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error as err:
        raise BadRequest(f"body is not valid gzip: {err}") from err
    if len(data) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise BadRequest("decompressed body is too large", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    return data


def decode_request(body: bytes, content_type: str, content_encoding: str = "") -> ExportTraceServiceRequest:
    """Parse an OTLP/HTTP trace export body (protobuf or JSON), raising `BadRequest`."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    data = _decompress(body, content_encoding)
    request = ExportTraceServiceRequest()
    if media_type == PROTOBUF:
        try:
            request.ParseFromString(data)
        except DecodeError as err:
            raise BadRequest(f"body is not an OTLP protobuf trace request: {err}") from err
    elif media_type == JSON:
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise BadRequest(f"body is not JSON: {err}") from err
        if not isinstance(document, dict):
            raise BadRequest("an OTLP/JSON trace request is a JSON object")
        _hex_ids_to_base64(document)
        try:
            json_format.ParseDict(document, request, ignore_unknown_fields=True)
        except json_format.ParseError as err:
            raise BadRequest(f"body is not an OTLP/JSON trace request: {err}") from err
    else:
        raise BadRequest(f"unsupported Content-Type {content_type!r} (use {PROTOBUF} or {JSON})",
                         HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    return request


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


_Number = TypeVar("_Number", bound=int, contravariant=True)


class _ProtoEnum(Protocol[_Number]):
    """A generated protobuf enum (`Span.SpanKind`...): it names its numbers."""

    def Name(self, number: _Number) -> str: ...  # noqa: N802 - protobuf's naming


def _enum_name(enum: _ProtoEnum[_Number], number: _Number, prefix: str) -> str:
    try:
        return enum.Name(number).removeprefix(prefix)
    except ValueError:
        return str(number)


def span_records(request: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    """One plain dict per span: ids in lower-case hex, enums by name, attributes as JSON values."""
    records = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                records.append({
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex() or None,
                    "name": span.name,
                    "kind": _enum_name(Span.SpanKind, span.kind, "SPAN_KIND_"),
                    "service.name": resource.get("service.name"),
                    "start_ns": span.start_time_unix_nano,
                    "end_ns": span.end_time_unix_nano,
                    "attributes": _attributes(span.attributes),
                    "status": {
                        "code": _enum_name(Status.StatusCode, span.status.code, "STATUS_CODE_"),
                        "message": span.status.message,
                    },
                    "events": [{"name": event.name, "time_ns": event.time_unix_nano,
                                "attributes": _attributes(event.attributes)} for event in span.events],
                    "links": [{"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex()}
                              for link in span.links],
                    "scope": scope_spans.scope.name,
                    "resource": resource,
                })
    return records


# --- storage ------------------------------------------------------------------------------------

class SpanFile:
    """Appends span records as JSON lines; one lock, one write per export, so lines never interleave."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self._lock = threading.Lock()

    def append(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        text = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(text)
            out.flush()


def load_spans(path: str | Path) -> list[dict[str, Any]]:
    """Every span written so far; a missing file is no spans, a half-written last line is skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = text.split("\n")
    return [json.loads(line) for line in lines[:-1] if line.strip()]


# --- servers ------------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server_version = "celestials-otlp-sink"
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_SECONDS

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the span file is the record; errors are answered to the client."""

    def _answer(self, status: HTTPStatus, body: bytes = b"", content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _fail(self, status: HTTPStatus, message: str) -> None:
        self.close_connection = True
        self._answer(status, json.dumps({"error": message}).encode(), JSON)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path == "/healthz":
            self._answer(HTTPStatus.OK, b"ok\n")
        elif self.path == TRACES_PATH:
            self._fail(HTTPStatus.METHOD_NOT_ALLOWED, f"use POST {TRACES_PATH}")
        else:
            self._fail(HTTPStatus.NOT_FOUND, f"only POST {TRACES_PATH} is served")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            raise BadRequest("Content-Length is required", HTTPStatus.LENGTH_REQUIRED)
        if not length.isdigit():
            raise BadRequest(f"bad Content-Length {length!r}")
        if int(length) > MAX_BODY_BYTES:
            raise BadRequest(f"body over {MAX_BODY_BYTES} bytes", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            raise BadRequest("body shorter than Content-Length")
        return body

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(64).strip()
            try:
                size = int(line.split(b";", 1)[0], 16)
            except ValueError as err:
                raise BadRequest("bad chunked encoding") from err
            if size == 0:
                self.rfile.readline(64)
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise BadRequest(f"body over {MAX_BODY_BYTES} bytes", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            body += self.rfile.read(size)
            self.rfile.readline(64)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.split("?", 1)[0] != TRACES_PATH:
            self._fail(HTTPStatus.NOT_FOUND, f"only POST {TRACES_PATH} is served")
            return
        content_type = self.headers.get("Content-Type", "")
        try:
            body = self._read_body()
            request = decode_request(body, content_type, self.headers.get("Content-Encoding", ""))
            self.server.span_file.append(span_records(request))  # type: ignore[attr-defined]
        except BadRequest as err:
            self._fail(err.status, str(err))
            return
        if content_type.split(";", 1)[0].strip().lower() == JSON:
            self._answer(HTTPStatus.OK, b"{}", JSON)
        else:
            self._answer(HTTPStatus.OK, ExportTraceServiceResponse().SerializeToString(), PROTOBUF)

    def _not_allowed(self) -> None:
        self._fail(HTTPStatus.METHOD_NOT_ALLOWED, f"use POST {TRACES_PATH}")

    do_PUT = do_DELETE = do_PATCH = _not_allowed


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _grpc_server(span_file: SpanFile, host: str, port: int) -> tuple[Any, int]:
    """OTLP/gRPC on `port`; grpcio (a Pulumi dependency, so always here) is imported only if asked."""
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    class TraceService(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: ExportTraceServiceRequest,  # noqa: N802 - generated gRPC naming
                   context: grpc.ServicerContext) -> ExportTraceServiceResponse:
            span_file.append(span_records(request))
            return ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[
        ("grpc.max_receive_message_length", MAX_BODY_BYTES)])
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceService(), server)  # type: ignore[no-untyped-call]  # generated gRPC code, unannotated
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen for OTLP/gRPC on {host}:{port}")
    server.start()
    return server, bound


class TraceSink:
    """The sink as an object: `with TraceSink(out) as sink:` serves `sink.endpoint` until the block ends."""

    def __init__(self, out: str | Path, host: str = "127.0.0.1", port: int = 0,
                 grpc_port: int | None = None):
        self.span_file = SpanFile(out)
        self._http = _HTTPServer((host, port), _Handler)
        self._http.span_file = self.span_file  # type: ignore[attr-defined]
        self.host: str
        self.host, self.port = self._http.server_address[:2]  # type: ignore[assignment]  # typeshed: str | bytes for any family; AF_INET gives str
        self._grpc, self.grpc_port = (None, None)
        if grpc_port is not None:
            self._grpc, self.grpc_port = _grpc_server(self.span_file, host, grpc_port)
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="otlp-sink", daemon=True)

    @property
    def endpoint(self) -> str:
        """The base URL for OTEL_EXPORTER_OTLP_ENDPOINT (exporters append /v1/traces)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> "TraceSink":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        if self._grpc is not None:
            self._grpc.stop(grace=1).wait()

    def spans(self) -> list[dict[str, Any]]:
        return load_spans(self.span_file.path)

    def __enter__(self) -> "TraceSink":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m celestials.tracing.sink", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4318, help="OTLP/HTTP port (default 4318; 0 = any free port)")
    parser.add_argument("--grpc-port", type=int, default=None, help="also serve OTLP/gRPC on this port")
    parser.add_argument("--out", required=True, help="JSON-lines file the spans are appended to")
    args = parser.parse_args(argv)

    try:
        sink = TraceSink(args.out, host=args.host, port=args.port, grpc_port=args.grpc_port)
    except OSError as err:
        print(f"otlp sink: {err}", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with sink:
        grpc_note = f", OTLP/gRPC on {args.host}:{sink.grpc_port}" if sink.grpc_port else ""
        print(f"otlp sink listening on {sink.endpoint}{TRACES_PATH}{grpc_note}, writing {args.out}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
