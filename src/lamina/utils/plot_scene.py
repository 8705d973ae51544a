"""Where ``plot_model``'s boxes and arrows go, and how they are drawn (SVG text or matplotlib).

A model is a tree of levels: a level holds units (a layer's box, or an expanded nested model,
itself a level, drawn as a dashed frame) and the edges drawn at that level (between leaf boxes,
which may sit inside nested frames). Each level is laid out by ``graph_layout.layered_layout``
with its nested levels as rigid blocks, inside out; then every position is made absolute.
"""
from __future__ import annotations

import html
import io
from dataclasses import dataclass, field

from .._optional import require
from .graph_layout import Placement, layered_layout

__all__ = ["Box", "Level", "Line", "Scene", "lay_out", "matplotlib_bytes", "svg_text"]

# Sizes in points (1/72 inch), so the SVG and the matplotlib figure share one layout.
_HEADER_SIZE, _BODY_SIZE = 12.0, 10.0
_HEADER_LINE, _BODY_LINE = 19.0, 15.0
_PAD = 8.0  # inside a box, around its text
_GAP = 30.0  # between two layers: room for the arrow
_GAP_ACROSS = 24.0  # between two boxes of one layer
_CLUSTER_PAD = 10.0  # between a nested model's dashed frame and its boxes
_CLUSTER_LABEL = 16.0  # the frame's title band
_MARGIN = 12.0
_LOOP = 12.0  # a self-loop (a layer fed by itself) bulges out of its box by 1.5 times this: less than _GAP_ACROSS
# Average glyph widths as a fraction of the font size, generous for DejaVu Sans (matplotlib's
# default) and Helvetica, so text never spills out of its box.
_WIDTH_BODY, _WIDTH_BOLD = 0.62, 0.68
_MAX_PIXELS = 32000  # matplotlib refuses images wider or taller than 2**16 pixels
_HEADER_FILL, _BODY_FILL, _INK = "#202020", "#ffffff", "#202020"
_TRAINABLE_FILL, _FROZEN_FILL = "#228b22", "#b22222"  # Keras's forestgreen and firebrick


@dataclass
class Line:
    """One row of a box's label."""
    text: str
    kind: str = "body"  # "header", "body", "trainable" or "frozen"

    @property
    def size(self) -> float:
        return _HEADER_SIZE if self.kind == "header" else _BODY_SIZE

    @property
    def row_height(self) -> float:
        return (_HEADER_LINE + _PAD * 1.25) if self.kind == "header" else (_BODY_LINE + _PAD * 0.6)

    @property
    def width(self) -> float:
        return len(self.text) * self.size * (_WIDTH_BODY if self.kind == "body" else _WIDTH_BOLD)


@dataclass(eq=False)
class Box:
    """One layer's box; ``x, y, w, h`` are set by ``lay_out`` (points, y downwards)."""
    lines: list[Line]
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0

    def measure(self) -> None:
        self.w = max(line.width for line in self.lines) + 2 * _PAD
        self.h = sum(line.row_height for line in self.lines)


@dataclass(eq=False)
class Level:
    """A model's boxes and nested models, and the edges (source box, target box) drawn at it."""
    name: str | None
    units: list = field(default_factory=list)
    edges: list[tuple[Box, Box]] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    placement: Placement | None = None

    def leaves(self) -> list[Box]:
        return [leaf for unit in self.units for leaf in (unit.leaves() if isinstance(unit, Level) else [unit])]


@dataclass
class Scene:
    """Everything to draw: boxes, dashed frames ``(name, (x, y, w, h))``, edges as point lists."""
    boxes: list[Box]
    clusters: list[tuple[str, tuple[float, float, float, float]]]
    edges: list[tuple[list[tuple[float, float]], bool]]  # (points, is a self-loop drawn as a curve)
    width: float
    height: float


def lay_out(top: Level, rankdir: str) -> Scene:
    """Sizes and places every level inside out, then makes positions absolute and routes edges."""
    vertical = rankdir in ("TB", "BT")
    _measure(top, vertical, label_first=rankdir != "BT", nested=False)
    boxes: list[Box] = []
    clusters: list[tuple[str, tuple[float, float, float, float]]] = []
    routed: list[tuple[Box, Box, list[tuple[float, float]]]] = []
    _place(top, _MARGIN, _MARGIN, vertical, rankdir != "BT", boxes, clusters, routed)
    width, height = top.w + 2 * _MARGIN, top.h + 2 * _MARGIN
    if rankdir in ("BT", "RL"):
        _flip(boxes, clusters, routed, width if rankdir == "RL" else height, axis=0 if rankdir == "RL" else 1)
    edges = _attach(routed, vertical)
    for points, curved in edges:  # a self-loop bulges out of the laid-out area: make room for it
        if curved:
            width = max(width, max(x for x, _ in points) + _MARGIN)
            height = max(height, max(y for _, y in points) + _MARGIN)
    return Scene(boxes, clusters, edges, width, height)


def _unit_edges(level: Level) -> list[tuple[int, int]]:
    where = {}
    for i, unit in enumerate(level.units):
        for leaf in (unit.leaves() if isinstance(unit, Level) else [unit]):
            where[id(leaf)] = i
    return [(where[id(a)], where[id(b)]) for a, b in level.edges]


def _measure(level: Level, vertical: bool, label_first: bool, nested: bool) -> None:
    for unit in level.units:
        if isinstance(unit, Level):
            _measure(unit, vertical, label_first, nested=True)
        else:
            unit.measure()
    edges = _unit_edges(level)

    def sizes():
        return [(u.w, u.h) if vertical else (u.h, u.w) for u in level.units]
    placement = layered_layout(sizes(), edges, gap_along=_GAP, gap_across=_GAP_ACROSS)
    leaves = [u for u in level.units if isinstance(u, Box)]
    if len(set(placement.layers)) == len(level.units) and leaves:  # a chain: one column (row) of equal boxes
        across = max(b.w if vertical else b.h for b in leaves)
        for box in leaves:
            box.w, box.h = (across, box.h) if vertical else (box.w, across)
        placement = layered_layout(sizes(), edges, gap_along=_GAP, gap_across=_GAP_ACROSS)
    level.placement = placement
    across, along = placement.size
    level.w, level.h = (across, along) if vertical else (along, across)
    if nested:
        level.w += 2 * _CLUSTER_PAD
        level.h += 2 * _CLUSTER_PAD + _CLUSTER_LABEL


def _place(level: Level, x: float, y: float, vertical: bool, label_first: bool, boxes, clusters, routed) -> None:
    """Put ``level`` at ``(x, y)`` (its top-left corner) and everything in it, recursively."""
    level.x, level.y = x, y
    if level.name is not None:
        clusters.append((level.name, (x, y, level.w, level.h)))
        x, y = x + _CLUSTER_PAD, y + _CLUSTER_PAD + (_CLUSTER_LABEL if label_first else 0.0)

    def absolute(point):
        across, along = point
        return (x + across, y + along) if vertical else (x + along, y + across)
    placement = level.placement
    assert placement is not None  # _measure set it
    for unit, center in zip(level.units, placement.centers):
        cx, cy = absolute(center)
        if isinstance(unit, Level):
            _place(unit, cx - unit.w / 2, cy - unit.h / 2, vertical, label_first, boxes, clusters, routed)
        else:
            unit.x, unit.y = cx - unit.w / 2, cy - unit.h / 2
            boxes.append(unit)
    for (source, target), route in zip(level.edges, placement.routes):
        routed.append((source, target, [absolute(p) for p in route]))


def _flip(boxes, clusters, routed, extent: float, axis: int) -> None:
    """Mirror the picture along ``axis`` (0: x for "RL", 1: y for "BT")."""
    for box in boxes:
        if axis:
            box.y = extent - box.y - box.h
        else:
            box.x = extent - box.x - box.w
    for i, (name, (x, y, w, h)) in enumerate(clusters):
        clusters[i] = (name, (x, extent - y - h, w, h) if axis else (extent - x - w, y, w, h))
    for i, (source, target, points) in enumerate(routed):
        routed[i] = (source, target, [(px, extent - py) if axis else (extent - px, py) for px, py in points])


def _attach(routed, vertical: bool) -> list[tuple[list[tuple[float, float]], bool]]:
    """Each edge from a side of its source box to a side of its target box: the sides facing each
    other along the layers; several edges on one side are spread along it, ordered so they do
    not cross there."""
    def along_center(box):
        return box.y + box.h / 2 if vertical else box.x + box.w / 2

    ends: dict[tuple[int, str], list] = {}  # (box id, side) -> [(across of the other end, edge, which end, box)]
    plans: list[list | None] = []
    for e, (source, target, points) in enumerate(routed):
        if source is target:
            plans.append(None)
            continue
        forward = along_center(target) >= along_center(source)
        sides = ("far", "near") if forward else ("near", "far")
        nearest = [points[0] if points else _center(target), points[-1] if points else _center(source)]
        for end, (box, side) in enumerate(zip((source, target), sides)):
            other = nearest[end][0] if vertical else nearest[end][1]
            ends.setdefault((id(box), side), []).append((other, e, end, box))
        plans.append([None, None])
    for (_, side), items in ends.items():
        items.sort(key=lambda item: (item[0], item[1]))
        for k, (_, e, end, box) in enumerate(items):
            fraction = (k + 1) / (len(items) + 1)
            if vertical:
                plans[e][end] = (box.x + box.w * fraction, box.y + (box.h if side == "far" else 0.0))
            else:
                plans[e][end] = (box.x + (box.w if side == "far" else 0.0), box.y + box.h * fraction)
    edges = []
    for (source, _, points), plan in zip(routed, plans):
        if plan is None:
            edges.append((_loop(source, vertical), True))
        else:
            edges.append(([plan[0], *points, plan[1]], False))
    return edges


def _center(box) -> tuple[float, float]:
    return box.x + box.w / 2, box.y + box.h / 2


def _loop(box, vertical: bool) -> list[tuple[float, float]]:
    """A cubic curve out of the box's side and back in: start, two control points, end."""
    if vertical:
        x, top, bottom = box.x + box.w, box.y + box.h / 3, box.y + 2 * box.h / 3
        return [(x, top), (x + _LOOP * 2, top - _LOOP / 2), (x + _LOOP * 2, bottom + _LOOP / 2), (x, bottom)]
    y, left, right = box.y + box.h, box.x + box.w / 3, box.x + 2 * box.w / 3
    return [(left, y), (left - _LOOP / 2, y + _LOOP * 2), (right + _LOOP / 2, y + _LOOP * 2), (right, y)]


def _line_rows(box):
    """``(line, top, bottom, middle)`` for each row of the box."""
    top = box.y
    for line in box.lines:
        bottom = top + line.row_height
        yield line, top, bottom, (top + bottom) / 2
        top = bottom


def _fills(line):
    return {"header": (_HEADER_FILL, "#ffffff"), "trainable": (_TRAINABLE_FILL, "#ffffff"),
            "frozen": (_FROZEN_FILL, "#ffffff")}.get(line.kind, (_BODY_FILL, "#000000"))


def svg_text(scene: Scene) -> str:
    """The picture as an SVG document (coordinates in points): a box is a ``rect`` of class
    ``box`` over its rows' rects and texts, an edge a ``line``, ``polyline`` or ``path`` of class
    ``edge``, a nested model's frame a dashed ``rect`` of class ``cluster``."""
    w, h = scene.width, scene.height
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}pt" height="{h:.0f}pt" '
           f'viewBox="0 0 {w:.1f} {h:.1f}" font-family="Helvetica, Arial, DejaVu Sans, sans-serif">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#202020"/></marker></defs>',
           f'<rect width="{w:.1f}" height="{h:.1f}" fill="#ffffff"/>']
    for name, (x, y, cw, ch) in scene.clusters:
        out.append(f'<rect class="cluster" x="{x:.1f}" y="{y:.1f}" width="{cw:.1f}" height="{ch:.1f}" '
                   'fill="none" stroke="#606060" stroke-dasharray="6,4"/>')
        out.append(f'<text x="{x + 6:.1f}" y="{y + _CLUSTER_LABEL - 4:.1f}" font-size="{_BODY_SIZE}" '
                   f'fill="#404040">{html.escape(name)}</text>')
    for box in scene.boxes:
        for line, top, bottom, middle in _line_rows(box):
            fill, ink = _fills(line)
            out.append(f'<rect x="{box.x:.1f}" y="{top:.1f}" width="{box.w:.1f}" '
                       f'height="{bottom - top:.1f}" fill="{fill}"/>')
            weight = ' font-weight="bold"' if line.kind != "body" else ""
            out.append(f'<text x="{box.x + box.w / 2:.1f}" y="{middle:.1f}" text-anchor="middle" '
                       f'dominant-baseline="central" font-size="{line.size}" fill="{ink}"{weight}>'
                       f'{html.escape(line.text)}</text>')
        out.append(f'<rect class="box" x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" '
                   f'fill="none" stroke="{_INK}" stroke-width="1.2"/>')
    style = f'fill="none" stroke="{_INK}" stroke-width="1.6" marker-end="url(#arrow)"'
    for points, curved in scene.edges:
        if curved:
            (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
            out.append(f'<path class="edge" d="M{x0:.1f},{y0:.1f} C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} '
                       f'{x3:.1f},{y3:.1f}" {style}/>')
        elif len(points) == 2:
            (x0, y0), (x1, y1) = points
            out.append(f'<line class="edge" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" {style}/>')
        else:
            joined = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            out.append(f'<polyline class="edge" points="{joined}" {style}/>')
    out.append("</svg>\n")
    return "\n".join(out)


def matplotlib_bytes(scene: Scene, fmt: str, dpi: float) -> bytes:
    """The picture drawn on a bare matplotlib Figure (pyplot and its backend stay untouched)."""
    Figure = require("matplotlib.figure", "plot_model to a PNG or PDF file (an .svg needs nothing)").Figure
    from matplotlib.patches import FancyArrowPatch, Rectangle
    from matplotlib.path import Path

    w, h = scene.width, scene.height
    dpi = min(float(dpi), _MAX_PIXELS * 72.0 / max(w, h))  # a very long model still fits
    figure = Figure(figsize=(w / 72.0, h / 72.0), dpi=dpi)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, w)
    axes.set_ylim(h, 0)  # y grows downwards, as in the layout and the SVG
    axes.axis("off")
    for name, (x, y, cw, ch) in scene.clusters:
        axes.add_patch(Rectangle((x, y), cw, ch, fill=False, edgecolor="#606060", linestyle=(0, (6, 4))))
        axes.text(x + 6, y + _CLUSTER_LABEL - 4, name, fontsize=_BODY_SIZE, color="#404040")
    for box in scene.boxes:
        for line, top, bottom, middle in _line_rows(box):
            fill, ink = _fills(line)
            axes.add_patch(Rectangle((box.x, top), box.w, bottom - top, facecolor=fill, edgecolor="none"))
            axes.text(box.x + box.w / 2, middle, line.text, ha="center", va="center", fontsize=line.size,
                      color=ink, fontweight="normal" if line.kind == "body" else "bold")
        axes.add_patch(Rectangle((box.x, box.y), box.w, box.h, fill=False, edgecolor=_INK, linewidth=1.2))
    for points, curved in scene.edges:
        codes = [Path.MOVETO] + [Path.CURVE4 if curved else Path.LINETO] * (len(points) - 1)
        axes.add_patch(FancyArrowPatch(path=Path(points, codes), arrowstyle="-|>", mutation_scale=14,
                                       color=_INK, linewidth=1.6, shrinkA=0, shrinkB=0))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="jpeg" if fmt == "jpg" else fmt, dpi=dpi, facecolor="white")
    return buffer.getvalue()
