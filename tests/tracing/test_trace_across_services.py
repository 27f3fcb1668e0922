"""One request to the front end is one trace across frontend-node → prodcatalog → proddetail.

Real processes (node, gunicorn) export over OTLP/HTTP to the sink; the test reads the sink's file.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from typing import Callable

import pytest

from celestials.tracing.sink import TraceSink
from tests.support.services import http_get, start_product_catalog

SERVICES = ("Frontend-Node", "Product-Catalog", "Product-Detail-V1")
WAIT_SECONDS = 10.0


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("traced")
    with TraceSink(workdir / "spans.jsonl") as sink:
        stack = start_product_catalog(workdir, sink_endpoint=sink.endpoint)
        try:
            yield stack, sink
        finally:
            codes = stack.stop()
    assert codes == {"frontend": 0, "prodcatalog": 0, "proddetail": 0}, stack.logs()


def wait_for_trace(sink: TraceSink, match: Callable[[str, list[dict]], bool]) -> tuple[str, list[dict]]:
    """The first trace (id, spans) for which `match` holds, polling the sink's file (bounded)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        traces: dict[str, list[dict]] = defaultdict(list)
        for span in sink.spans():
            traces[span["trace_id"]].append(span)
        for trace_id, spans in traces.items():
            if match(trace_id, spans):
                return trace_id, spans
        if time.monotonic() > deadline:
            seen = {tid: sorted({s["service.name"] for s in spans}) for tid, spans in traces.items()}
            pytest.fail(f"no matching trace within {WAIT_SECONDS:g}s; traces seen: {seen}")
        time.sleep(0.1)


def spans_all_services(spans: list[dict]) -> bool:
    return {s["service.name"] for s in spans if s["kind"] == "SERVER"} >= set(SERVICES)


def server_span(spans: list[dict], service: str) -> dict:
    [span] = [s for s in spans if s["service.name"] == service and s["kind"] == "SERVER"]
    return span


def check_chain(spans: list[dict]) -> None:
    """Each hop's SERVER span is the child of the caller's CLIENT span."""
    by_id = {span["span_id"]: span for span in spans}
    for caller, callee in (("Frontend-Node", "Product-Catalog"), ("Product-Catalog", "Product-Detail-V1")):
        parent = by_id.get(server_span(spans, callee)["parent_span_id"])
        assert parent is not None, f"{callee}'s parent span is not in the trace"
        assert (parent["service.name"], parent["kind"]) == (caller, "CLIENT")


def test_one_request_is_one_trace_across_three_services(traced):
    stack, sink = traced
    started = int(time.time())
    status, body = http_get(stack["frontend"].url + "/")
    assert status == 200, body

    trace_id, spans = wait_for_trace(sink, lambda _, spans: spans_all_services(spans))
    check_chain(spans)
    frontend = server_span(spans, "Frontend-Node")
    assert frontend["parent_span_id"] is None
    assert frontend["attributes"]["http.route"] == "/"
    assert server_span(spans, "Product-Detail-V1")["attributes"]["http.route"] == "/catalogDetail"
    # X-Ray accepts only trace ids that start with the epoch second they were made in.
    assert started - 5 <= int(trace_id[:8], 16) <= time.time() + 5


def test_an_incoming_traceparent_is_continued(traced):
    stack, sink = traced
    trace_id = f"{int(time.time()):08x}{secrets.token_hex(12)}"
    parent = secrets.token_hex(8)
    status, _ = http_get(stack["frontend"].url + "/", headers={"traceparent": f"00-{trace_id}-{parent}-01"})
    assert status == 200

    _, spans = wait_for_trace(sink, lambda tid, spans: tid == trace_id and spans_all_services(spans))
    check_chain(spans)
    assert server_span(spans, "Frontend-Node")["parent_span_id"] == parent


def test_an_incoming_x_ray_header_is_continued(traced):
    stack, sink = traced
    epoch, unique, parent = f"{int(time.time()):08x}", secrets.token_hex(12), secrets.token_hex(8)
    header = f"Root=1-{epoch}-{unique};Parent={parent};Sampled=1"
    status, _ = http_get(stack["frontend"].url + "/", headers={"X-Amzn-Trace-Id": header})
    assert status == 200

    _, spans = wait_for_trace(sink, lambda tid, spans: tid == epoch + unique and spans_all_services(spans))
    check_chain(spans)
    assert server_span(spans, "Frontend-Node")["parent_span_id"] == parent
