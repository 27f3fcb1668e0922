"""The service map: edges from parent/child spans across services, counts, latencies, picture."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pytest

from celestials.local import servicemap
from celestials.local.servicemap import Span, build, layers, render_text
from celestials.local.servicemap_svg import render_svg


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
    services = [g for g in root.iter(f"{ns}g") if g.get("class") == "service"]
    assert len(services) == len(graph.nodes)
    assert any(p.get("stroke-dasharray") for p in root.iter(f"{ns}path"))  # the call back to the own sidecar
    fills = {g.get("data-name"): g.find(f"{ns}rect").get("fill") for g in services}
    assert set(fills) == set(graph.nodes)
    assert fills["ingress-gw"] == fills["catalog-envoy"] != fills["Frontend"]


def test_spans_are_read_from_the_sinks_file(tmp_path):
    record = {"trace_id": "ab" * 16, "span_id": "cd" * 8, "parent_span_id": None, "service.name": "gw",
              "name": "GET /", "kind": "SERVER", "start_ns": 1_000_000, "end_ns": 3_500_000}
    path = tmp_path / "spans.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (span,) = servicemap.read_spans(path)
    assert (span.service, span.parent_span_id, span.duration_ms) == ("gw", "", 2.5)


# --- the picture with large counts: labels readable, nothing overlapping, the canvas used -------
SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = shutil.which("chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


def _busy_mesh() -> servicemap.Graph:
    """The rehearsal's shape (fan-out, canary, an app calling out through its own sidecar, a second
    mesh) with counts from 7 to 123456 calls."""
    calls = [("client", "ingress-gw", 123456), ("ingress-gw", "fe-envoy", 123456), ("fe-envoy", "Frontend", 1030),
             ("Frontend", "fe-envoy", 1030), ("fe-envoy", "pc-envoy", 123456), ("pc-envoy", "Catalog", 99999),
             ("Catalog", "pc-envoy", 1030), ("pc-envoy", "pd1-envoy", 1030), ("pc-envoy", "pd2-envoy", 123456),
             ("pd1-envoy", "Detail-V1", 1030), ("pd2-envoy", "Detail-V2", 7), ("client", "front-envoy", 1030),
             ("front-envoy", "Front", 123456), ("Front", "front-envoy", 99999), ("front-envoy", "blue-envoy", 1030)]
    graph = servicemap.Graph(nodes=[], edges=[], traces=123456)
    for source, target, count in calls:
        for node in (source, target):
            if node not in graph.nodes:
                graph.nodes.append(node)
        graph.edges.append(servicemap.Edge(source, target, [10.0 + i % 97 for i in range(count)]))
    return graph


def _boxes(root, klass: str) -> dict[str, tuple[float, float, float, float]]:
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == klass:
            rect = group.find(f"{SVG}rect")
            key = group.get("data-edge") or group.get("data-name")
            found[key] = tuple(float(rect.get(a)) for a in ("x", "y", "width", "height"))
    return found


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_edge_labels_with_large_counts_overlap_nothing_and_fit_the_view_box():
    graph = _busy_mesh()
    root = ET.fromstring(render_svg(graph, proxies={n for n in graph.nodes if n.endswith("-envoy")}))
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    labels, nodes = _boxes(root, "edge-label"), _boxes(root, "service")
    assert len(labels) == len(graph.edges) and len(nodes) == len(graph.nodes)
    texts = {g.get("data-edge"): g.find(f"{SVG}text").text for g in root.iter(f"{SVG}g") if g.get("data-edge")}
    assert texts["client -> ingress-gw"].startswith("123456× ") and texts["pd2-envoy -> Detail-V2"].startswith("7× ")
    for name, box in {**labels, **nodes}.items():
        assert 0 <= box[0] and box[0] + box[2] <= width and 0 <= box[1] and box[1] + box[3] <= height, name
    items = list(labels.items())
    for i, (a, box_a) in enumerate(items):
        for b, box_b in items[i + 1:]:
            assert not _overlap(box_a, box_b), f"labels {a} and {b} overlap"
        for node, box_n in nodes.items():
            assert not _overlap(box_a, box_n), f"label {a} overlaps service {node}"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_in_a_browser_every_label_is_whole_and_clear_and_the_picture_fills_its_canvas(tmp_path):
    """The rendered text as Chromium lays it out (getBBox): each edge label lies inside its own box,
    clear of every other label and every service box, and the content spans its canvas."""
    from playwright.sync_api import sync_playwright

    graph = _busy_mesh()
    svg = render_svg(graph, proxies={n for n in graph.nodes if n.endswith("-envoy")})
    (tmp_path / "service-map.svg").write_text(svg)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.goto((tmp_path / "service-map.svg").as_uri())
            measured = page.evaluate("""() => {
                const svg = document.querySelector('svg');
                const box = (el) => { const b = el.getBBox(); return [b.x, b.y, b.width, b.height]; };
                const services = [...svg.querySelectorAll('g.service')].map((g) => ({
                    name: g.dataset.name, rect: box(g.querySelector('rect')), text: box(g.querySelector('text'))}));
                const inService = (t) => t.closest('g.service') !== null;
                const labels = [...svg.querySelectorAll('text')].filter((t) => !inService(t) && t.closest('g'))
                    .map((t) => ({label: t.textContent, text: box(t),
                                  rect: t.parentNode.querySelector('rect') ? box(t.parentNode.querySelector('rect')) : null}));
                const content = [...svg.children].filter((el) => el.tagName !== 'defs' && !(el.tagName === 'rect'
                    && el.getAttribute('width') === svg.getAttribute('width'))).map(box);
                return {viewBox: svg.getAttribute('viewBox').split(' ').map(Number), services, labels, content};
            }""")
        finally:
            browser.close()
    width, height = measured["viewBox"][2:]
    services, labels = measured["services"], measured["labels"]
    assert len(labels) == len(graph.edges)

    def inside(inner, outer) -> bool:
        return (outer[0] - 0.5 <= inner[0] and inner[0] + inner[2] <= outer[0] + outer[2] + 0.5
                and outer[1] - 0.5 <= inner[1] and inner[1] + inner[3] <= outer[1] + outer[3] + 0.5)

    for label in labels:
        assert label["rect"] and inside(label["text"], label["rect"]), f"{label['label']} spills out of its box"
        assert inside(label["text"], (0, 0, width, height)), f"{label['label']} is outside the picture"
        for service in services:
            assert not _overlap(label["text"], service["rect"]), f"{label['label']} is hidden by {service['name']}"
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not _overlap(a["text"], b["text"]), f"{a['label']} overlaps {b['label']}"
    for service in services:
        assert inside(service["text"], service["rect"]), f"{service['name']} does not fit its box"
    left = min(b[0] for b in measured["content"])
    right = max(b[0] + b[2] for b in measured["content"])
    top = min(b[1] for b in measured["content"])
    bottom = max(b[1] + b[3] for b in measured["content"])
    assert (right - left) / width > 0.9 and (bottom - top) / height > 0.85, (left, right, top, bottom, width, height)
