"""The service map: edges from parent/child spans across services, counts, latencies, picture."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from celestials.local import servicemap
from celestials.local.servicemap import Span, build, layers, render_svg, render_text


def _span(trace: str, sid: str, parent: str, service: str, start_ms: float, dur_ms: float) -> Span:
    return Span(trace, sid, parent, service, "op", int(start_ms * 1e6), int((start_ms + dur_ms) * 1e6))


def _one_request(trace: str, slow: float = 0.0) -> list[Span]:
    """gateway → frontend sidecar → frontend app → (own sidecar) → catalog sidecar."""
    return [
        _span(trace, "a", "", "ingress-gw", 0, 20 + slow),
        _span(trace, "b", "a", "frontend-envoy", 1, 18 + slow),
        _span(trace, "c", "b", "Frontend", 2, 16 + slow),
        _span(trace, "d", "c", "Frontend", 3, 10 + slow),  # the app's own client span: no edge
        _span(trace, "e", "d", "frontend-envoy", 3.5, 9 + slow),
        _span(trace, "f", "e", "catalog-envoy", 4, 8 + slow),
    ]


def test_edges_count_calls_between_services_with_the_callees_latency():
    graph = build(_one_request("t1") + _one_request("t2", slow=10))
    edges = {(e.source, e.target): e for e in graph.edges}
    assert set(edges) == {("client", "ingress-gw"), ("ingress-gw", "frontend-envoy"), ("frontend-envoy", "Frontend"),
                          ("Frontend", "frontend-envoy"), ("frontend-envoy", "catalog-envoy")}
    assert graph.traces == 2
    catalog = edges[("frontend-envoy", "catalog-envoy")]
    assert catalog.calls == 2
    assert (catalog.percentile(50), catalog.percentile(90)) == (8.0, 18.0)


def test_a_span_whose_parent_is_in_another_trace_is_a_call_from_outside():
    spans = [_span("t1", "a", "", "gw", 0, 5), _span("t2", "b", "a", "app", 1, 2)]
    assert {(e.source, e.target) for e in build(spans).edges} == {("client", "gw"), ("client", "app")}


def test_the_text_lists_every_edge_and_says_when_there_is_nothing():
    text = render_text(build(_one_request("t1")))
    assert "frontend-envoy -> catalog-envoy" in text and "2 traces" not in text and "1 traces" in text
    assert render_text(build([])).startswith("no spans yet")


def test_the_picture_is_svg_with_a_box_per_service_laid_out_by_call_depth():
    graph = build(_one_request("t1"))
    layer = layers(graph)
    assert [layer[n] for n in ("client", "ingress-gw", "frontend-envoy", "Frontend")] == [0, 1, 2, 3]
    assert layer["catalog-envoy"] == 3
    root = ET.fromstring(render_svg(graph, proxies={"ingress-gw", "frontend-envoy", "catalog-envoy"}))
    ns = "{http://www.w3.org/2000/svg}"
    labels = [t.text for t in root.iter(f"{ns}text")]
    assert set(graph.nodes) <= set(labels)
    assert len(list(root.iter(f"{ns}rect"))) == len(graph.nodes)
    assert any(p.get("stroke-dasharray") for p in root.iter(f"{ns}path"))  # the call back to the own sidecar
    fills = {g.get("data-name"): g.find(f"{ns}rect").get("fill") for g in root.iter(f"{ns}g")}
    assert set(fills) == set(graph.nodes)
    assert fills["ingress-gw"] == fills["catalog-envoy"] != fills["Frontend"]


def test_spans_are_read_from_the_sinks_file(tmp_path):
    record = {"trace_id": "ab" * 16, "span_id": "cd" * 8, "parent_span_id": None, "service.name": "gw",
              "name": "GET /", "kind": "SERVER", "start_ns": 1_000_000, "end_ns": 3_500_000}
    path = tmp_path / "spans.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (span,) = servicemap.read_spans(path)
    assert (span.service, span.parent_span_id, span.duration_ms) == ("gw", "", 2.5)
