"""The service map of the rehearsal's traces: who called whom, how often, how fast.

An edge A → B is a span of service B whose parent span belongs to service A (within one trace);
its latency is B's span duration. Spans without a parent in the data are calls from outside,
drawn from a `client` node. Text for the terminal, a hand-written SVG for the picture (layered
left to right by call depth; calls back up a layer, e.g. an app calling out through its own
sidecar, are drawn as arcs below).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Iterable, Mapping

CLIENT = "client"


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    service: str
    name: str
    start_ns: int
    end_ns: int

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6


@dataclass
class Edge:
    source: str
    target: str
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile (q in 0..100) of the call latencies."""
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Graph:
    nodes: list[str]
    edges: list[Edge]
    traces: int


def span_from_record(record: Mapping) -> Span:
    """One span as `celestials.tracing.sink.load_spans` returns it."""
    return Span(trace_id=record["trace_id"], span_id=record["span_id"],
                parent_span_id=record.get("parent_span_id") or "",
                service=record.get("service.name") or "unknown", name=record.get("name", ""),
                start_ns=int(record["start_ns"]), end_ns=int(record["end_ns"]))


def read_spans(path: str | Path) -> list[Span]:
    from ..tracing.sink import load_spans
    return [span_from_record(r) for r in load_spans(str(path))]


def build(spans: Iterable[Span]) -> Graph:
    spans = list(spans)
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    edges: dict[tuple[str, str], Edge] = {}
    nodes: dict[str, None] = {}
    for span in sorted(spans, key=lambda s: (s.start_ns, s.service)):
        parent = by_id.get((span.trace_id, span.parent_span_id)) if span.parent_span_id else None
        source = parent.service if parent else CLIENT
        if source == span.service:
            continue
        nodes.setdefault(source, None)
        nodes.setdefault(span.service, None)
        edges.setdefault((source, span.service), Edge(source, span.service)).latencies_ms.append(span.duration_ms)
    return Graph(nodes=list(nodes), edges=list(edges.values()), traces=len({s.trace_id for s in spans}))


def render_text(graph: Graph) -> str:
    if not graph.edges:
        return "no spans yet: send a request through the gateway, wait a second, try again"
    width = max(len(f"{e.source} -> {e.target}") for e in graph.edges)
    lines = [f"service map: {len(graph.nodes)} services, {len(graph.edges)} edges, {graph.traces} traces",
             f"  {'edge':{width}}  {'calls':>6}  {'p50 ms':>8}  {'p90 ms':>8}  {'max ms':>8}"]
    for e in sorted(graph.edges, key=lambda e: (e.source, e.target)):
        lines.append(f"  {e.source + ' -> ' + e.target:{width}}  {e.calls:>6}  {e.percentile(50):>8.2f}  "
                     f"{e.percentile(90):>8.2f}  {max(e.latencies_ms):>8.2f}")
    return "\n".join(lines)


# --- picture ----------------------------------------------------------------------------
_NODE_W, _NODE_H, _COL_GAP, _ROW_GAP, _MARGIN = 170, 40, 90, 50, 30


def layers(graph: Graph) -> dict[str, int]:
    """Longest-path layering after dropping the edges that close a cycle (found by DFS)."""
    succ: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in graph.edges:
        succ[e.source].append(e.target)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in succ[node]:
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                visit(nxt)
        state[node] = 2

    for node in graph.nodes:
        if node not in state:
            visit(node)
    layer = {n: 0 for n in graph.nodes}
    for _ in graph.nodes:  # relax: at most |nodes| rounds on a DAG
        for e in graph.edges:
            if (e.source, e.target) not in back and layer[e.target] < layer[e.source] + 1:
                layer[e.target] = layer[e.source] + 1
    return layer


def render_svg(graph: Graph, proxies: Iterable[str] = ()) -> str:
    """The picture; services named in `proxies` (the Envoys) are drawn in blue, apps in green."""
    proxies = set(proxies)
    layer = layers(graph)
    columns: dict[int, list[str]] = {}
    for node in graph.nodes:
        columns.setdefault(layer[node], []).append(node)
    pos: dict[str, tuple[int, int]] = {}
    for col, names in columns.items():
        for row, name in enumerate(names):
            pos[name] = (_MARGIN + col * (_NODE_W + _COL_GAP), _MARGIN + 20 + row * (_NODE_H + _ROW_GAP))
    width = _MARGIN * 2 + max(columns, default=0) * (_NODE_W + _COL_GAP) + _NODE_W
    height = _MARGIN * 2 + 20 + max((len(v) for v in columns.values()), default=1) * (_NODE_H + _ROW_GAP) + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
           f'<text x="{_MARGIN}" y="{_MARGIN}" font-size="14" font-weight="bold">Service map: '
           f'{graph.traces} traces, labels are calls and p50/p90 latency</text>']
    for e in graph.edges:
        (sx, sy), (tx, ty) = pos[e.source], pos[e.target]
        label = escape(f"{e.calls}× {e.percentile(50):.1f}/{e.percentile(90):.1f} ms")
        if layer[e.target] > layer[e.source]:
            x1, y1, x2, y2 = sx + _NODE_W, sy + _NODE_H / 2, tx, ty + _NODE_H / 2
            out.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#555" marker-end="url(#arrow)"/>')
            lx, ly = (x1 + x2) / 2, (y1 + y2) / 2 - 6
        else:  # a call back to an earlier layer: an arc under the boxes
            x1, y1, x2, y2 = sx + _NODE_W / 2, sy + _NODE_H, tx + _NODE_W / 2, ty + _NODE_H
            depth = max(y1, y2) + 45
            out.append(f'<path d="M{x1},{y1} C{x1},{depth} {x2},{depth} {x2},{y2}" fill="none" stroke="#999" '
                       f'stroke-dasharray="4 3" marker-end="url(#arrow)"/>')
            lx, ly = (x1 + x2) / 2, depth - 8
        out.append(f'<text x="{lx}" y="{ly}" text-anchor="middle" fill="#333">{label}</text>')
    for name, (x, y) in pos.items():
        fill = "#e8f0fe" if name in proxies else ("#eeeeee" if name == CLIENT else "#e6f4ea")
        out.append(f'<g class="service" data-name="{escape(name)}">'
                   f'<rect x="{x}" y="{y}" width="{_NODE_W}" height="{_NODE_H}" rx="6" fill="{fill}" stroke="#444"/>'
                   f'<text x="{x + _NODE_W / 2}" y="{y + _NODE_H / 2 + 4}" text-anchor="middle">{escape(name)}</text></g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
