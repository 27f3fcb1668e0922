"""The service map of the rehearsal's traces: who called whom, how often, how fast.

An edge A → B is a span of service B whose parent span belongs to service A (within one trace);
its latency is B's span duration. Spans without a parent in the data are calls from outside,
drawn from a `client` node. Text for the terminal here; the picture is servicemap_svg.py, laid out
by `layers` (call depth; calls back up a layer, e.g. an app calling out through its own sidecar,
are drawn as arcs below).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

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


def span_from_record(record: Mapping[str, Any]) -> Span:
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
