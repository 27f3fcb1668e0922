"""The OTLP sink: what it writes for protobuf, JSON and gRPC exports, and how it refuses garbage."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from celestials.tracing import sink as sink_module
from celestials.tracing.sink import TraceSink, load_spans

TRACE_ID = "5759e988bd862e3fe1be46a994272793"
ROOT_ID = "53995c3f42cd8ad8"
CHILD_ID = "0123456789abcdef"


def _kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


def sample_request() -> ExportTraceServiceRequest:
    root = Span(trace_id=bytes.fromhex(TRACE_ID), span_id=bytes.fromhex(ROOT_ID), name="GET /",
                kind=Span.SpanKind.SPAN_KIND_SERVER, start_time_unix_nano=1_000, end_time_unix_nano=5_000,
                attributes=[_kv("http.response.status_code", AnyValue(int_value=200)),
                            _kv("http.route", AnyValue(string_value="/")),
                            _kv("sampled", AnyValue(bool_value=True)),
                            _kv("ratio", AnyValue(double_value=0.5)),
                            _kv("tags", AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="a")])))],
                status=Status(code=Status.StatusCode.STATUS_CODE_OK))
    child = Span(trace_id=bytes.fromhex(TRACE_ID), span_id=bytes.fromhex(CHILD_ID),
                 parent_span_id=bytes.fromhex(ROOT_ID), name="GET", kind=Span.SpanKind.SPAN_KIND_CLIENT,
                 start_time_unix_nano=2_000, end_time_unix_nano=4_000,
                 status=Status(code=Status.StatusCode.STATUS_CODE_ERROR, message="timeout"))
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=[_kv("service.name", AnyValue(string_value="Frontend-Node"))]),
        scope_spans=[ScopeSpans(spans=[root, child])])])


SAMPLE_JSON = {
    "resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "Frontend-Node"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": [
            {"traceId": TRACE_ID, "spanId": ROOT_ID, "name": "GET /", "kind": 2,
             "startTimeUnixNano": "1000", "endTimeUnixNano": "5000",
             "attributes": [{"key": "http.response.status_code", "value": {"intValue": "200"}}],
             "status": {"code": 1}},
            {"traceId": TRACE_ID, "spanId": CHILD_ID, "parentSpanId": ROOT_ID, "name": "GET", "kind": 3,
             "startTimeUnixNano": 2000, "endTimeUnixNano": 4000, "status": {"code": 2, "message": "timeout"}},
        ]}],
    }],
}


@pytest.fixture
def sink(tmp_path: Path):
    with TraceSink(tmp_path / "spans.jsonl") as running:
        yield running


def post(sink: TraceSink, body: bytes, content_type: str, path: str = "/v1/traces",
         headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(f"{sink.endpoint}{path}", data=body, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def check_sample(spans: list[dict]) -> None:
    root, child = spans
    assert root["trace_id"] == child["trace_id"] == TRACE_ID
    assert (root["span_id"], root["parent_span_id"]) == (ROOT_ID, None)
    assert (child["span_id"], child["parent_span_id"]) == (CHILD_ID, ROOT_ID)
    assert (root["name"], root["kind"], child["kind"]) == ("GET /", "SERVER", "CLIENT")
    assert root["service.name"] == child["service.name"] == "Frontend-Node"
    assert (root["start_ns"], root["end_ns"]) == (1000, 5000)
    assert root["attributes"]["http.response.status_code"] == 200
    assert root["status"] == {"code": "OK", "message": ""}
    assert child["status"] == {"code": "ERROR", "message": "timeout"}


def test_protobuf_export_becomes_one_json_line_per_span(sink):
    status, content_type, body = post(sink, sample_request().SerializeToString(), "application/x-protobuf")
    assert (status, content_type) == (200, "application/x-protobuf")
    ExportTraceServiceResponse().ParseFromString(body)
    lines = sink.span_file.path.read_text().splitlines()
    assert len(lines) == 2
    spans = [json.loads(line) for line in lines]
    check_sample(spans)
    assert spans[0]["attributes"] == {"http.response.status_code": 200, "http.route": "/", "sampled": True,
                                      "ratio": 0.5, "tags": ["a"]}


def test_gzip_protobuf_export(sink):
    body = gzip.compress(sample_request().SerializeToString())
    status, _, _ = post(sink, body, "application/x-protobuf", headers={"Content-Encoding": "gzip"})
    assert status == 200
    check_sample(sink.spans())


def test_json_export_with_hex_ids(sink):
    status, content_type, body = post(sink, json.dumps(SAMPLE_JSON).encode(), "application/json; charset=utf-8")
    assert (status, content_type, body) == (200, "application/json", b"{}")
    spans = sink.spans()
    check_sample(spans)
    assert spans[0]["scope"] == "test"


@pytest.mark.parametrize("body, content_type, expected", [
    (b"\xff\xff\xff\xff", "application/x-protobuf", 400),
    (b"{not json", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}).encode(),
     "application/json", 400),
    (json.dumps({"resourceSpans": "nope"}).encode(), "application/json", 400),
    (b"hello", "text/plain", 415),
])
def test_garbage_is_refused_and_nothing_written(sink, body, content_type, expected):
    status, answer_type, answer = post(sink, body, content_type)
    assert status == expected
    assert answer_type == "application/json"
    assert json.loads(answer)["error"]
    assert sink.spans() == []


def test_bad_gzip_and_unknown_encoding_are_refused(sink):
    assert post(sink, b"not gzip", "application/x-protobuf", headers={"Content-Encoding": "gzip"})[0] == 400
    assert post(sink, b"x", "application/x-protobuf", headers={"Content-Encoding": "br"})[0] == 415


def test_oversized_bodies_are_refused(sink, monkeypatch):
    monkeypatch.setattr(sink_module, "MAX_BODY_BYTES", 1024)
    assert post(sink, b"\0" * 2048, "application/x-protobuf")[0] == 413
    bomb = gzip.compress(b"\0" * 100_000)
    assert post(sink, bomb, "application/x-protobuf", headers={"Content-Encoding": "gzip"})[0] == 413


def test_other_paths_and_methods(sink):
    assert post(sink, b"", "application/x-protobuf", path="/v1/metrics")[0] == 404
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{sink.endpoint}/v1/traces", timeout=5)
    assert err.value.code == 405
    with urllib.request.urlopen(f"{sink.endpoint}/healthz", timeout=5) as response:
        assert response.read() == b"ok\n"


def test_concurrent_exports_never_interleave(sink):
    body = sample_request().SerializeToString()
    results = []
    threads = [threading.Thread(target=lambda: results.append(post(sink, body, "application/x-protobuf")[0]))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [200] * 8
    spans = sink.spans()
    assert len(spans) == 16
    assert {span["span_id"] for span in spans} == {ROOT_ID, CHILD_ID}


def test_grpc_export(tmp_path):
    import grpc
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

    with TraceSink(tmp_path / "spans.jsonl", grpc_port=0) as sink:
        assert sink.grpc_port
        with grpc.insecure_channel(f"127.0.0.1:{sink.grpc_port}") as channel:
            TraceServiceStub(channel).Export(sample_request(), timeout=5)
        check_sample(sink.spans())


def test_load_spans_tolerates_a_missing_file_and_a_half_written_line(tmp_path):
    path = tmp_path / "spans.jsonl"
    assert load_spans(path) == []
    path.write_text('{"name": "a"}\n{"name": "b"}\n{"name": "c', encoding="utf-8")
    assert [span["name"] for span in load_spans(path)] == ["a", "b"]


def test_command_line_sink_serves_and_stops_on_sigterm(tmp_path):
    out = tmp_path / "cli" / "spans.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "celestials.tracing.sink", "--host", "127.0.0.1",
                             "--port", "0", "--out", str(out)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        line = proc.stdout.readline()
        assert "otlp sink listening on http://127.0.0.1:" in line, line
        endpoint = line.split("listening on ", 1)[1].split("/v1/traces", 1)[0]
        request = urllib.request.Request(f"{endpoint}/v1/traces", data=sample_request().SerializeToString(),
                                         headers={"Content-Type": "application/x-protobuf"}, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        check_sample(load_spans(out))
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
