"""One request through the gateway yields one trace across gateway, frontend, prodcatalog, proddetail."""

from __future__ import annotations

import time
import uuid

from celestials.local.testing import get
from celestials.tracing.sink import load_spans


def _settled(path: str, quiet_s: float = 1.5, limit_s: float = 15.0) -> int:
    """Wait until no span has arrived for `quiet_s` (Envoys and apps flush every 0.5 s)."""
    deadline = time.monotonic() + limit_s
    count, since = len(load_spans(path)), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = len(load_spans(path))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return count
    raise AssertionError(f"spans kept arriving in {path} for {limit_s}s")


def test_one_request_is_one_trace_through_every_hop(urls, product):
    spans_file = urls["tracesFile"]
    before = _settled(spans_file)
    probe = uuid.uuid4().hex
    status, body = get(f"{urls['gateway']}?probe={probe}")
    assert status == 200 and "Product Catalog version" in body
    _settled(spans_file)
    new = load_spans(spans_file)[before:]

    traces = {s["trace_id"] for s in new}
    assert len(traces) == 1, f"{len(traces)} traces for one request: " + str(sorted({s['service.name'] for s in new}))
    services = {s["service.name"] for s in new}
    version = next(s["service.name"][-1] for s in new if s["service.name"].startswith("Product-Detail-V"))
    assert {"ingress-gw", "frontend-node-envoy", "Frontend-Node", "prodcatalog-envoy", "Product-Catalog",
            f"proddetail-v{version}-envoy", f"Product-Detail-V{version}"} <= services, services

    by_id = {s["span_id"]: s for s in new}
    (root,) = [s for s in new if not s["parent_span_id"]]
    assert root["service.name"] == "ingress-gw"
    assert all(s["parent_span_id"] in by_id for s in new if s is not root), "a span's parent is missing"
    gateway_spans = [s for s in new if s["service.name"] == "ingress-gw"]
    assert any(probe in str(s["attributes"]) for s in gateway_spans), "the gateway span is not this request's"
