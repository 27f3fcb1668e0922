"""The service map as a hand-written SVG: services left to right by call depth, an edge label
(calls, p50/p90 latency) on every edge, readable at any count. An app's call out through its own
sidecar (one column back) is a dashed curve inside the column gap, so it crosses no box.

Why the layout is computed rather than fixed: labels grow with the numbers ("123456× 61.3/101.3
ms"), so the gap between two columns is as wide as the widest label placed in it, and each label
is a boxed text drawn above lines and boxes, moved along its column gap until it overlaps no
service box and no other label. Text width is estimated from per-character advances of a
sans-serif font at 12 px, on the generous side, so the boxes hold the real text.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Iterable

from .servicemap import CLIENT, Edge, Graph, layers

FONT_PX = 12
_NODE_MIN_W, _NODE_H, _ROW_GAP, _MARGIN, _TITLE_H = 150, 40, 64, 24, 34
_LABEL_H, _LABEL_PAD, _GAP_MIN, _GAP_PAD, _BOW = 18, 6, 70, 16, 26
#: Advance widths in em, a little above DejaVu Sans / Liberation Sans (what headless Chromium uses).
_NARROW, _WIDE, _DEFAULT_EM = set("ijlt.,:;|!'/ "), set("mwMW×@%"), 0.66
_EM = {**{c: 0.34 for c in _NARROW}, **{c: 1.0 for c in _WIDE}, **{c: 0.64 for c in "0123456789"}}


def text_width(text: str, px: float = FONT_PX) -> float:
    """An upper estimate of the rendered width of `text` in pixels."""
    return sum(_EM.get(ch, _DEFAULT_EM) for ch in text) * px


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: "Box", margin: float = 0.0) -> bool:
        return not (self.x + self.w + margin <= other.x or other.x + other.w + margin <= self.x
                    or self.y + self.h + margin <= other.y or other.y + other.h + margin <= self.y)


def edge_label(edge: Edge) -> str:
    return f"{edge.calls}× {edge.percentile(50):.1f}/{edge.percentile(90):.1f} ms"


def _columns(graph: Graph, layer: dict[str, int]) -> list[list[str]]:
    """Nodes per layer, each column ordered by the mean row of its callers (fewer crossings)."""
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for node in graph.nodes:
        columns[layer[node]].append(node)
    row: dict[str, float] = {}
    for column in columns:
        def weight(node: str) -> float:
            callers = [row[e.source] for e in graph.edges if e.target == node and e.source in row]
            return sum(callers) / len(callers) if callers else float(len(row))
        column.sort(key=weight)
        row.update({node: float(i) for i, node in enumerate(column)})
    return columns


def render_svg(graph: Graph, proxies: Iterable[str] = ()) -> str:
    """The picture; services named in `proxies` (the Envoys) are drawn in blue, apps in green."""
    proxies = set(proxies)
    layer = layers(graph)
    columns = _columns(graph, layer)
    node_w = max([_NODE_MIN_W] + [text_width(n) + 2 * _GAP_PAD for n in graph.nodes])
    labels = {(e.source, e.target): edge_label(e) for e in graph.edges}

    # Column gaps: as wide as the widest label whose edge starts its run in that gap.
    gaps: list[float] = [_GAP_MIN] * max(len(columns) - 1, 0)
    for e in graph.edges:
        first = min(layer[e.source], layer[e.target])
        if first < len(gaps):
            gaps[first] = max(gaps[first], text_width(labels[(e.source, e.target)]) + 2 * _LABEL_PAD + 2 * _GAP_PAD)
    column_x = [float(_MARGIN)]
    for gap in gaps:
        column_x.append(column_x[-1] + node_w + gap)

    pitch = _NODE_H + _ROW_GAP
    tallest = max((len(c) for c in columns), default=1)
    pos: dict[str, tuple[float, float]] = {}
    for c, names in enumerate(columns):
        top = _MARGIN + _TITLE_H + (tallest - len(names)) * pitch / 2  # columns centred on the tallest
        for r, name in enumerate(names):
            pos[name] = (column_x[c], top + r * pitch)
    node_boxes = [Box(x, y, node_w, _NODE_H) for x, y in pos.values()]
    title = f"Service map: {graph.traces} traces, labels are calls and p50/p90 latency"
    taken = [Box(_MARGIN, _MARGIN - 4, text_width(title, 14), _TITLE_H - 10)]

    lines, label_parts = [], []
    bottom = max((b.y + b.h for b in node_boxes), default=_MARGIN + _TITLE_H)
    for e in graph.edges:
        (sx, sy), (tx, ty) = pos[e.source], pos[e.target]
        first = min(layer[e.source], layer[e.target])
        gap_mid = column_x[first] + node_w + (gaps[first] if first < len(gaps) else _GAP_MIN) / 2
        if layer[e.target] > layer[e.source]:
            x1, y1, x2, y2 = sx + node_w, sy + _NODE_H / 2, tx, ty + _NODE_H / 2
            lines.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555" '
                         f'marker-end="url(#arrow)"/>')
            want_x = gap_mid
            want_y = y1 + (y2 - y1) * (want_x - x1) / (x2 - x1) if x2 != x1 else y1
        elif layer[e.source] == layer[e.target] + 1:  # an app calling out through its own sidecar
            # A curve inside the column gap, bowing below the forward line: it crosses no box.
            x1, y1, x2, y2 = sx, sy + _NODE_H * 0.8, tx + node_w, ty + _NODE_H * 0.8
            gap = x1 - x2
            c1, c2 = (x1 - gap / 3, y1 + _BOW), (x2 + gap / 3, y2 + _BOW)
            lines.append(f'<path d="M{x1:.1f},{y1:.1f} C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} '
                         f'{x2:.1f},{y2:.1f}" fill="none" stroke="#999" stroke-dasharray="4 3" '
                         f'marker-end="url(#arrow)"/>')
            want_x, want_y = (x1 + 3 * c1[0] + 3 * c2[0] + x2) / 8, (y1 + 3 * c1[1] + 3 * c2[1] + y2) / 8
        else:  # a call back further, or within a layer: an arc below the boxes
            x1, y1, x2, y2 = sx + node_w / 2, sy + _NODE_H, tx + node_w / 2, ty + _NODE_H
            depth = max(y1, y2) + _ROW_GAP * 0.75
            lines.append(f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{depth:.1f} {x2:.1f},{depth:.1f} {x2:.1f},{y2:.1f}" '
                         f'fill="none" stroke="#999" stroke-dasharray="4 3" marker-end="url(#arrow)"/>')
            want_x, want_y = (x1 + x2) / 2, max(y1, y2) + _ROW_GAP * 0.75 * 0.75  # the arc's lowest point
            bottom = max(bottom, want_y + 2)
        text = labels[(e.source, e.target)]
        box = _place(Box(want_x - (text_width(text) + 2 * _LABEL_PAD) / 2, want_y - _LABEL_H / 2,
                         text_width(text) + 2 * _LABEL_PAD, _LABEL_H), node_boxes + taken)
        taken.append(box)
        bottom = max(bottom, box.y + box.h)
        label_parts.append(
            f'<g class="edge-label" data-edge="{escape(e.source)} -> {escape(e.target)}">'
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="3" '
            f'fill="#ffffff" fill-opacity="0.92" stroke="#bbbbbb"/>'
            f'<text x="{box.x + box.w / 2:.1f}" y="{box.y + box.h / 2 + FONT_PX * 0.36:.1f}" text-anchor="middle" '
            f'fill="#222">{escape(text)}</text></g>')

    width = max(b.x + b.w for b in node_boxes + taken) + _MARGIN
    height = max([b.y + b.h for b in taken] + [bottom]) + _MARGIN
    width, height = round(width), round(height)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{FONT_PX}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="{_MARGIN}" y="{_MARGIN + 10}" font-size="14" font-weight="bold">{escape(title)}</text>']
    out += lines
    for name, (x, y) in pos.items():
        fill = "#e8f0fe" if name in proxies else ("#eeeeee" if name == CLIENT else "#e6f4ea")
        out.append(f'<g class="service" data-name="{escape(name)}">'
                   f'<rect x="{x:.1f}" y="{y:.1f}" width="{node_w:.1f}" height="{_NODE_H}" rx="6" fill="{fill}" '
                   f'stroke="#444"/><text x="{x + node_w / 2:.1f}" y="{y + _NODE_H / 2 + 4:.1f}" '
                   f'text-anchor="middle">{escape(name)}</text></g>')
    out += label_parts  # last: drawn above every line and box
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _place(box: Box, obstacles: list[Box]) -> Box:
    """`box`, or the nearest free spot straight above or below it (rows of label height): labels
    sit in column gaps, where only other labels compete, so a free spot is always found."""
    step = _LABEL_H + 4
    for k in range(0, 400):
        for dy in ((0,) if k == 0 else (k * step, -k * step)):
            moved = Box(box.x, box.y + dy, box.w, box.h)
            if moved.y >= _MARGIN and not any(moved.overlaps(o, margin=2) for o in obstacles):
                return moved
    raise AssertionError("no free spot for an edge label")  # unreachable: below everything is free
