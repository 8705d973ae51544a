"""``plot_model``: a picture of a model's layers, drawn without Graphviz or pydot.

Keras hands a dot graph to Graphviz; a Sequential model is a chain, so lamina lays the boxes out
itself (one column for ``rankdir="TB"``, one row for ``"LR"``) and draws them with matplotlib
(PNG, PDF) or writes the SVG text directly (no matplotlib needed). Each box shows what Keras's
label shows: ``name (Class)``, the activation, input and output shapes, dtype, trainable.
"""
from __future__ import annotations

import html
import io
import os
from dataclasses import dataclass, field

from .._optional import require

__all__ = ["ModelPlot", "plot_model"]

# Sizes in points (1/72 inch), so the SVG and the matplotlib figure share one layout.
_HEADER_SIZE, _BODY_SIZE = 12.0, 10.0
_HEADER_LINE, _BODY_LINE = 19.0, 15.0
_PAD = 8.0  # inside a box, around its text
_GAP = 30.0  # between two boxes: room for the arrow
_CLUSTER_PAD = 10.0  # between a nested model's dashed frame and its boxes
_CLUSTER_LABEL = 16.0  # the frame's title band
_MARGIN = 12.0
# Average glyph widths as a fraction of the font size, generous for DejaVu Sans (matplotlib's
# default) and Helvetica, so text never spills out of its box.
_WIDTH_BODY, _WIDTH_BOLD = 0.62, 0.68
_MAX_PIXELS = 32000  # matplotlib refuses images wider or taller than 2**16 pixels

_HEADER_FILL, _BODY_FILL, _EDGE = "#202020", "#ffffff", "#202020"
_TRAINABLE_FILL, _FROZEN_FILL = "#228b22", "#b22222"  # Keras's forestgreen and firebrick
_RANKDIRS = ("TB", "LR", "BT", "RL")
_FORMATS = ("png", "jpg", "jpeg", "pdf", "svg")
_SPLINES = ("ortho", "line", "polyline", "curved", "spline", "true", "false", "none", "")  # Graphviz's values


@dataclass
class _Line:
    text: str
    kind: str = "body"  # "header", "body", "trainable" or "frozen"

    @property
    def size(self) -> float:
        return _HEADER_SIZE if self.kind == "header" else _BODY_SIZE

    @property
    def height(self) -> float:
        return _HEADER_LINE if self.kind == "header" else _BODY_LINE

    @property
    def row_height(self) -> float:
        return self.height + (_PAD * 1.25 if self.kind == "header" else _PAD * 0.6)

    @property
    def width(self) -> float:
        bold = self.kind != "body"
        return len(self.text) * self.size * (_WIDTH_BOLD if bold else _WIDTH_BODY)


@dataclass
class _Box:
    lines: list[_Line]
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


@dataclass
class _Cluster:
    """A nested model drawn expanded: a dashed frame around boxes ``first..last``."""
    name: str
    first: int
    last: int
    depth: int
    rect: tuple = field(default=(0.0, 0.0, 0.0, 0.0))


@dataclass
class _Layout:
    boxes: list[_Box]
    clusters: list[_Cluster]
    width: float
    height: float
    rankdir: str


class ModelPlot:
    """The picture ``plot_model`` made; a notebook shows it inline (as ``IPython.display.Image``).

    ``data`` holds the file's bytes, ``format`` is ``"png"``, ``"jpg"``, ``"pdf"`` or ``"svg"``.

    >>> import lamina
    >>> model = lamina.Sequential([lamina.layers.Dense(2, input_shape=(3,))])
    >>> picture = lamina.utils.plot_model(model, to_file=None, format="svg", show_layer_names=True)
    >>> picture.format, "dense" in picture.data.decode()
    ('svg', True)
    """

    def __init__(self, data: bytes, format: str, filename: str | None = None):
        self.data = data
        self.format = format
        self.filename = filename

    def _repr_png_(self) -> bytes | None:
        return self.data if self.format == "png" else None

    def _repr_jpeg_(self) -> bytes | None:
        return self.data if self.format == "jpg" else None

    def _repr_svg_(self) -> str | None:
        return self.data.decode("utf-8") if self.format == "svg" else None

    def __repr__(self) -> str:
        where = f", filename={self.filename!r}" if self.filename else ""
        return f"<ModelPlot format={self.format!r}, {len(self.data)} bytes{where}>"


def plot_model(model, to_file: str | os.PathLike | None = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, splines: str = "ortho", *, format: str | None = None,
               **kwargs) -> ModelPlot:
    """Draw ``model`` as boxes joined by arrows and save it to ``to_file``, as Keras does.

    Keras 3.15's arguments and defaults (``show_layer_names=False``); the file's extension picks
    the format: ``.png``, ``.jpg`` and ``.pdf`` are drawn with matplotlib (without touching the
    pyplot backend), ``.svg`` is written as text. A chain's arrows are straight, so ``splines``
    (Graphviz's edge style) is accepted and changes nothing. ``to_file=None`` writes nothing
    (then ``format`` picks the format, PNG by default). Returns a :class:`ModelPlot`, which a
    notebook displays inline.

    >>> import lamina
    >>> model = lamina.Sequential([lamina.layers.Flatten(input_shape=[28, 28]),
    ...                            lamina.layers.Dense(10, activation="softmax")])
    >>> lamina.utils.plot_model(model, "model.svg", show_shapes=True)  # doctest: +SKIP
    <ModelPlot format='svg', ... bytes, filename='model.svg'>
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("plot_model does not support layer_range (Keras 3 does not either)")
    if kwargs:
        raise ValueError(f"plot_model got unrecognized keyword arguments: {sorted(kwargs)}")
    if splines not in _SPLINES:
        raise ValueError(f"plot_model expects splines to be one of Graphviz's {list(_SPLINES)}, got {splines!r}")
    fmt = _choose_format(to_file, format)
    if rankdir not in _RANKDIRS:
        raise ValueError(f"plot_model expects rankdir to be one of {list(_RANKDIRS)}, got {rankdir!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or dpi <= 0:
        raise ValueError(f"plot_model expects dpi to be a positive number, got {dpi!r}")
    if not getattr(model, "built", False) or not hasattr(model, "layers"):
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    boxes, clusters = [], []
    input_layer = _input_box(model, options)
    if input_layer is not None:
        boxes.append(input_layer)
    _add_layers(model, expand_nested, options, boxes, clusters, depth=0)
    layout = _lay_out(boxes, clusters, rankdir)
    data = _svg(layout).encode("utf-8") if fmt == "svg" else _matplotlib(layout, fmt, dpi)
    fmt = "jpg" if fmt == "jpeg" else fmt
    if to_file is not None:
        with open(to_file, "wb") as f:
            f.write(data)
    return ModelPlot(data, fmt, None if to_file is None else os.fspath(to_file))


def _choose_format(to_file, format) -> str:
    if to_file is None:
        fmt = (format or "png").lower()
    else:
        extension = os.path.splitext(os.fspath(to_file))[1].lstrip(".").lower()
        fmt = extension or "png"
    if fmt not in _FORMATS:
        raise ValueError(f"plot_model can write {', '.join('.' + f for f in _FORMATS)} files; "
                         f"got to_file={to_file!r}" + ("" if to_file is not None else f", format={format!r}"))
    return fmt


# --- what each box says ------------------------------------------------------------------------
def _shape_text(shape) -> str:
    return "?" if shape is None else str(tuple(shape))


def _input_box(model, options) -> _Box | None:
    """The InputLayer box Keras draws on top of a Sequential model."""
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return None
    declared = getattr(model, "_input_layer", None)
    name = declared.name if declared is not None else "input_layer"
    dtype = declared.dtype if declared is not None else getattr(model, "dtype", None)
    lines = [_Line(f"{name} (InputLayer)" if options["show_layer_names"] else "InputLayer", "header")]
    if options["show_shapes"]:
        lines.append(_Line(f"Output shape: {_shape_text(shape)}"))
    if options["show_dtype"]:
        lines.append(_Line(f"Output dtype: {dtype or '?'}"))
    return _Box(lines)


def _layer_box(layer, options) -> _Box:
    class_name = type(layer).__name__
    header = f"{layer.name} ({class_name})" if options["show_layer_names"] else class_name
    lines = [_Line(header, "header")]
    activation = getattr(layer, "activation", None)
    if options["show_layer_activations"] and activation is not None:
        name = getattr(activation, "name", None) or getattr(activation, "__name__", str(activation))
        lines.append(_Line(f"Activation: {name}"))
    if options["show_shapes"]:
        sample = getattr(layer, "input_spec_shape", None)
        lines.append(_Line(f"Input shape: {_shape_text(None if sample is None else (None, *sample))}"))
        lines.append(_Line(f"Output shape: {_shape_text(getattr(layer, 'output_shape', None))}"))
    if options["show_dtype"]:
        lines.append(_Line(f"Output dtype: {getattr(layer, 'dtype', None) or '?'}"))
    if options["show_trainable"] and layer.weights:
        lines.append(_Line("Trainable", "trainable") if layer.trainable else _Line("Non-trainable", "frozen"))
    return _Box(lines)


def _add_layers(model, expand_nested, options, boxes, clusters, depth) -> None:
    for layer in model.layers:
        if expand_nested and hasattr(layer, "layers"):
            first = len(boxes)
            _add_layers(layer, expand_nested, options, boxes, clusters, depth + 1)
            if len(boxes) > first:
                clusters.append(_Cluster(layer.name, first, len(boxes) - 1, depth))
        else:
            boxes.append(_layer_box(layer, options))


# --- where each box goes -----------------------------------------------------------------------
def _lay_out(boxes, clusters, rankdir) -> _Layout:
    for box in boxes:
        box.w = max(line.width for line in box.lines) + 2 * _PAD
        box.h = sum(line.row_height for line in box.lines)
    vertical = rankdir in ("TB", "BT")
    if vertical:  # one column of equally wide boxes reads as a stack
        width = max(box.w for box in boxes)
        for box in boxes:
            box.w = width
    else:  # one row of equally tall boxes
        height = max(box.h for box in boxes)
        for box in boxes:
            box.h = height
    # Each frame a step crosses needs room for its padding and title band.
    frame_room = _CLUSTER_PAD + _CLUSTER_LABEL
    along = 0.0
    for i, box in enumerate(boxes):
        if i:
            crossed = sum(c.first == i for c in clusters) + sum(c.last == i - 1 for c in clusters)
            along += _GAP + crossed * frame_room
        box.x, box.y = (0.0, along) if vertical else (along, 0.0)
        along += box.h if vertical else box.w
    if rankdir in ("BT", "RL"):
        for box in boxes:
            if vertical:
                box.y = along - box.y - box.h
            else:
                box.x = along - box.x - box.w
    for cluster in clusters:
        members = boxes[cluster.first:cluster.last + 1]
        inner = max((c.depth for c in clusters if c.first >= cluster.first and c.last <= cluster.last),
                    default=cluster.depth) - cluster.depth
        pad = _CLUSTER_PAD * (1 + inner)
        left = min(b.x for b in members) - pad
        top = min(b.y for b in members) - pad - _CLUSTER_LABEL
        right = max(b.x + b.w for b in members) + pad
        bottom = max(b.y + b.h for b in members) + pad
        cluster.rect = (left, top, right - left, bottom - top)
    left = min([b.x for b in boxes] + [c.rect[0] for c in clusters]) - _MARGIN
    top = min([b.y for b in boxes] + [c.rect[1] for c in clusters]) - _MARGIN
    right = max([b.x + b.w for b in boxes] + [c.rect[0] + c.rect[2] for c in clusters]) + _MARGIN
    bottom = max([b.y + b.h for b in boxes] + [c.rect[1] + c.rect[3] for c in clusters]) + _MARGIN
    for box in boxes:
        box.x, box.y = box.x - left, box.y - top
    for cluster in clusters:
        x, y, w, h = cluster.rect
        cluster.rect = (x - left, y - top, w, h)
    return _Layout(boxes, clusters, right - left, bottom - top, rankdir)


def _arrows(layout):
    """``(x0, y0, x1, y1)`` for each step from one box to the next, edge to edge."""
    vertical = layout.rankdir in ("TB", "BT")
    for a, b in zip(layout.boxes, layout.boxes[1:]):
        if vertical:
            forward = b.y > a.y
            yield (a.x + a.w / 2, a.y + a.h if forward else a.y,
                   b.x + b.w / 2, b.y if forward else b.y + b.h)
        else:
            forward = b.x > a.x
            yield (a.x + a.w if forward else a.x, a.y + a.h / 2,
                   b.x if forward else b.x + b.w, b.y + b.h / 2)


def _line_rows(box):
    """``(line, top, bottom, middle)`` for each row of the box, in layout coordinates."""
    top = box.y
    for line in box.lines:
        bottom = top + line.row_height
        yield line, top, bottom, (top + bottom) / 2
        top = bottom


def _fills(line):
    return {"header": (_HEADER_FILL, "#ffffff"), "trainable": (_TRAINABLE_FILL, "#ffffff"),
            "frozen": (_FROZEN_FILL, "#ffffff")}.get(line.kind, (_BODY_FILL, "#000000"))


# --- drawing -----------------------------------------------------------------------------------
def _svg(layout) -> str:
    """The picture as an SVG document (coordinates in points)."""
    w, h = layout.width, layout.height
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}pt" height="{h:.0f}pt" '
           f'viewBox="0 0 {w:.1f} {h:.1f}" font-family="Helvetica, Arial, DejaVu Sans, sans-serif">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#202020"/></marker></defs>',
           f'<rect width="{w:.1f}" height="{h:.1f}" fill="#ffffff"/>']
    for cluster in layout.clusters:
        x, y, cw, ch = cluster.rect
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{cw:.1f}" height="{ch:.1f}" fill="none" '
                   'stroke="#606060" stroke-dasharray="6,4"/>')
        out.append(f'<text x="{x + 6:.1f}" y="{y + _CLUSTER_LABEL - 4:.1f}" font-size="{_BODY_SIZE}" '
                   f'fill="#404040">{html.escape(cluster.name)}</text>')
    for box in layout.boxes:
        for line, top, bottom, middle in _line_rows(box):
            fill, ink = _fills(line)
            out.append(f'<rect x="{box.x:.1f}" y="{top:.1f}" width="{box.w:.1f}" '
                       f'height="{bottom - top:.1f}" fill="{fill}"/>')
            weight = ' font-weight="bold"' if line.kind != "body" else ""
            out.append(f'<text x="{box.x + box.w / 2:.1f}" y="{middle:.1f}" text-anchor="middle" '
                       f'dominant-baseline="central" font-size="{line.size}" fill="{ink}"{weight}>'
                       f'{html.escape(line.text)}</text>')
        out.append(f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" '
                   f'fill="none" stroke="{_EDGE}" stroke-width="1.2"/>')
    for x0, y0, x1, y1 in _arrows(layout):
        out.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="#202020" '
                   'stroke-width="1.6" marker-end="url(#arrow)"/>')
    out.append("</svg>\n")
    return "\n".join(out)


def _matplotlib(layout, fmt: str, dpi: float) -> bytes:
    """The picture drawn on a bare matplotlib Figure (pyplot and its backend stay untouched)."""
    Figure = require("matplotlib.figure", "plot_model to a PNG or PDF file (an .svg needs nothing)").Figure
    from matplotlib.patches import FancyArrowPatch, Rectangle

    w, h = layout.width, layout.height
    dpi = min(float(dpi), _MAX_PIXELS * 72.0 / max(w, h))  # a very long model still fits
    figure = Figure(figsize=(w / 72.0, h / 72.0), dpi=dpi)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, w)
    axes.set_ylim(h, 0)  # y grows downwards, as in the layout and the SVG
    axes.axis("off")
    for cluster in layout.clusters:
        x, y, cw, ch = cluster.rect
        axes.add_patch(Rectangle((x, y), cw, ch, fill=False, edgecolor="#606060", linestyle=(0, (6, 4))))
        axes.text(x + 6, y + _CLUSTER_LABEL - 4, cluster.name, fontsize=_BODY_SIZE, color="#404040")
    for box in layout.boxes:
        for line, top, bottom, middle in _line_rows(box):
            fill, ink = _fills(line)
            axes.add_patch(Rectangle((box.x, top), box.w, bottom - top, facecolor=fill, edgecolor="none"))
            axes.text(box.x + box.w / 2, middle, line.text, ha="center", va="center", fontsize=line.size,
                      color=ink, fontweight="normal" if line.kind == "body" else "bold")
        axes.add_patch(Rectangle((box.x, box.y), box.w, box.h, fill=False, edgecolor=_EDGE, linewidth=1.2))
    for x0, y0, x1, y1 in _arrows(layout):
        axes.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14,
                                       color="#202020", linewidth=1.6, shrinkA=0, shrinkB=0))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="jpeg" if fmt == "jpg" else fmt, dpi=dpi, facecolor="white")
    return buffer.getvalue()
