"""Traces continue across prodcatalog: W3C traceparent and X-Ray headers in, traceparent out."""

from __future__ import annotations

import time

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from prodcatalog import ConfigError, create_app
from prodcatalog.tracing import build_propagator, build_tracer_provider

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
XRAY_ROOT = "1-5759e988-bd862e3fe1be46a994272793"
XRAY_PARENT = "53995c3f42cd8ad8"


def spans_by_kind(exporter):
    """The one SERVER span and the one CLIENT span (proddetail call) of a single request."""
    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    clients = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert len(servers) == 1 and len(clients) <= 1, spans
    return servers[0], (clients[0] if clients else None)


def test_traceparent_is_continued_and_forwarded(client, span_exporter, proddetail):
    response = client.get("/products/", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    assert response.status_code == 200
    server, call = spans_by_kind(span_exporter)
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert format(server.parent.span_id, "016x") == PARENT_ID
    assert server.attributes.get("http.route") == "/products/"
    assert call.parent.span_id == server.context.span_id
    assert call.attributes["http.response.status_code"] == 200
    outgoing = proddetail.requests[0]
    assert outgoing["traceparent"] == f"00-{TRACE_ID}-{format(call.context.span_id, '016x')}-01"
    # The X-Ray propagator also writes its header, for X-Ray-native hops.
    assert outgoing["x-amzn-trace-id"].startswith("Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;")


def test_xray_header_is_continued(client, span_exporter, proddetail):
    header = f"Root={XRAY_ROOT};Parent={XRAY_PARENT};Sampled=1"
    client.get("/products/", headers={"X-Amzn-Trace-Id": header})
    server, call = spans_by_kind(span_exporter)
    assert format(server.context.trace_id, "032x") == XRAY_ROOT[2:].replace("-", "")
    assert format(server.parent.span_id, "016x") == XRAY_PARENT
    assert proddetail.requests[0]["traceparent"].split("-")[1] == XRAY_ROOT[2:].replace("-", "")
    assert proddetail.requests[0]["x-amzn-trace-id"].startswith(f"Root={XRAY_ROOT};")


def test_new_traces_have_xray_compatible_ids(client, span_exporter):
    client.get("/products/")
    server, _ = spans_by_kind(span_exporter)
    epoch = server.context.trace_id >> 96  # X-Ray: the first 32 bits are the start time in seconds
    assert abs(epoch - time.time()) < 600
    assert server.parent is None


def test_failed_proddetail_call_is_an_error_span(make_app, refused_url, span_exporter):
    make_app(AGG_APP_URL=refused_url).test_client().get("/products/")
    _, call = spans_by_kind(span_exporter)
    assert call.status.status_code == trace.StatusCode.ERROR
    assert call.attributes["error.type"] == "NewConnectionError"


def test_health_checks_are_not_traced(client, span_exporter):
    client.get("/products/ping")
    assert span_exporter.get_finished_spans() == ()
    client.get("/products/1")
    assert len(span_exporter.get_finished_spans()) == 1, "other requests are traced"


def test_propagators_follow_otel_propagators(make_app, span_exporter):
    client = make_app(OTEL_PROPAGATORS="tracecontext").test_client()
    client.get("/products/", headers={"X-Amzn-Trace-Id": f"Root={XRAY_ROOT};Parent={XRAY_PARENT};Sampled=1"})
    server, _ = spans_by_kind(span_exporter)
    assert server.parent is None, "with only tracecontext configured the X-Ray header is ignored"


def test_unknown_propagator_is_a_config_error():
    with pytest.raises(ConfigError, match="OTEL_PROPAGATORS"):
        build_propagator({"OTEL_PROPAGATORS": "tracecontext,nope"})


def test_default_provider_service_name_and_id_generator(monkeypatch):
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    provider = build_tracer_provider({"OTEL_TRACES_EXPORTER": "none"})
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "Product-Catalog"
    assert type(provider.id_generator).__name__ == "AwsXRayIdGenerator"
    assert provider._active_span_processor._span_processors == (), "exporter none: nothing exported"
    provider.shutdown()


def test_service_name_from_the_environment(monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "catalog-canary")
    provider = build_tracer_provider({"OTEL_SERVICE_NAME": "catalog-canary", "OTEL_TRACES_EXPORTER": "none"})
    assert provider.resource.attributes["service.name"] == "catalog-canary"
    provider.shutdown()


def test_otlp_exporter_is_the_default(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:18099/v1/traces")
    provider = build_tracer_provider({})
    [processor] = provider._active_span_processor._span_processors
    assert type(processor).__name__ == "BatchSpanProcessor"
    assert type(processor._batch_processor._exporter).__name__ == "OTLPSpanExporter"
    provider.shutdown()


@pytest.mark.parametrize("env, variable", [
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
])
def test_unsupported_exporters_are_config_errors(env, variable):
    with pytest.raises(ConfigError, match=variable):
        build_tracer_provider(env)


def test_sdk_disabled_gives_a_no_op_provider(tmp_path, refused_url):
    provider = build_tracer_provider({"OTEL_SDK_DISABLED": "true"})
    assert isinstance(provider, trace.NoOpTracerProvider)
    app = create_app({"OTEL_SDK_DISABLED": "true", "SQLITE_PATH": str(tmp_path / "p.db"),
                      "AGG_APP_URL": refused_url})
    assert app.test_client().get("/products/").status_code == 200
