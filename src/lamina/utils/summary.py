"""``model.summary()``: the table Keras 3 prints, drawn by hand.

Keras 3 builds the summary as a ``rich`` table (heavy-headed box, a line
between rows, one space of padding in each cell) and lets ``rich`` lay it
out.  This module fills that table: the rows (name and type, output shape,
parameter count, connections, trainable) and the footer's counts and sizes;
lamina.utils.summary_table lays it out as ``rich`` would (column widths, word
wrapping and ``…`` truncation) and lamina.utils.summary_graph reads a
Functional model's graph.  Output to a terminal is styled with ANSI codes as Keras styles it; anything
else (a pipe, a file, ``print_fn``) gets plain text.
"""

import os
import re
import shutil
import sys
from typing import Any

from . import io_utils
from .summary_graph import graph_view, sublayers, type_name
from .summary_table import _BOLD, _NONE, _NUMBER, _SYMBOL, _ansi, _console_width, _is_tty, _render_table, _Text

__all__ = ["print_summary", "count_params", "weight_memory_size",
           "readable_memory_size", "get_layer_index_bound_by_layer_name"]


# --------------------------------------------------------------- numbers
def _array_of(variable):
    value = getattr(variable, "value", variable)
    if callable(value) and not hasattr(value, "size"):
        value = value()
    return value


def _unique(weights):
    seen = {}
    for w in weights:
        seen.setdefault(id(w), w)
    return list(seen.values())


def count_params(weights) -> int:
    """The number of scalars in a list of variables (each counted once)."""
    total = 0
    for w in _unique(weights):
        total += int(_array_of(w).size)
    return total


def weight_memory_size(weights) -> int:
    """The memory footprint of variables in bytes (each counted once)."""
    total = 0
    for w in _unique(weights):
        value = _array_of(w)
        total += int(value.size) * int(value.dtype.itemsize)
    return total


def readable_memory_size(size) -> str:
    """``266610 * 4`` bytes -> ``'1.02 MB'`` (units of 1024, two decimals)."""
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return "{:.2f} {}".format(size, unit)
        size /= 1024
    return "{:.2f} {}".format(size, units[-1])


def get_layer_index_bound_by_layer_name(layers, layer_range=None) -> list[int]:
    """``[first, last + 1]`` of the layers whose names match ``layer_range``."""
    if layer_range is None:
        return [0, len(layers)]
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    if not isinstance(layer_range[0], str) or not isinstance(
        layer_range[1], str
    ):
        raise ValueError(
            f"layer_range should contain string type only. Received: {layer_range}"
        )
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(
            "Passed layer_names do not match the layer names in the model. "
            f"Received: {layer_range}"
        )
    if min(lower) > max(upper):
        return [min(upper), max(lower) + 1]
    return [min(lower), max(upper) + 1]


# ------------------------------------------------------------ layer rows
def _format_shape(layer):
    if not getattr(layer, "built", True):
        return _Text("?")
    try:
        shape = layer.output_shape
    except (AttributeError, ValueError, RuntimeError):
        return _Text("?")
    if shape is None:
        return _Text("?")
    if isinstance(shape, list) or (
        isinstance(shape, tuple) and shape and isinstance(shape[0], (tuple, list))
    ):
        parts = [_format_shape_tuple(s) for s in shape]
        text = _Text("[" if isinstance(shape, list) else "(")
        for k, part in enumerate(parts):
            if k:
                text.add(", ")
            text.chars += part.chars
            text.styles = text.styles + part.styles
        close = "]" if isinstance(shape, list) else ")"
        return text.add(close)
    return _format_shape_tuple(shape)


def _format_shape_tuple(shape):
    text = _Text("(")
    for k, dim in enumerate(shape):
        if k:
            text.add(", ")
        text.add(str(dim), _NONE if dim is None else _NUMBER)
    return text.add(")")


def _layer_fields(layer, prefix, show_trainable, view=None):
    name = _Text(f"{prefix}{layer.name} (")
    name.add(type_name(layer), _SYMBOL).add(")")
    if not hasattr(layer, "built"):
        params = _Text("0", [_NUMBER])
    elif not layer.built:
        params = _Text("0", [_NUMBER]).add(" (unbuilt)")
    else:
        count = f"{layer.count_params():,}"
        params = _Text(count, [_NUMBER] * len(count))
    fields = [name, _format_shape(layer), params]
    if view is not None and not view.sequential_like:
        fields.append(_connections(view.connections(layer)))
    if show_trainable:
        if len(getattr(layer, "weights", None) or []) > 0:
            fields.append(
                _Text("Y", [(True, 34)]) if layer.trainable
                else _Text("N", [(True, 9)])
            )
        else:
            fields.append(_Text("-", [_BOLD]))
    return fields


def _connections(text):
    """Keras highlights the node and tensor indices of ``name[0][0]`` as numbers."""
    out = _Text()
    for piece in re.split(r"(\[\d+\])", text):
        if re.fullmatch(r"\[\d+\]", piece):
            out.add("[").add(piece[1:-1], _NUMBER).add("]")
        else:
            out.add(piece)
    return out


def _layer_rows(layer, expand_nested, show_trainable, nested_level=0, view=None):
    prefix = "   " * nested_level + "\u2514 " if nested_level else ""
    rows = [_layer_fields(layer, prefix, show_trainable, view)]
    nested = sublayers(layer) if expand_nested else None
    if nested:
        for sub in nested:
            rows.extend(
                _layer_rows(sub, expand_nested, show_trainable, nested_level + 1, view)
            )
    return rows


def _model_weights(model, attr):
    weights = getattr(model, attr, None)
    if weights is not None:
        return list(weights)
    out = []
    for layer in model.layers:
        out.extend(getattr(layer, attr, None) or [])
    return out


def _count_line(label, count, size):
    text = _Text(label, [_BOLD] * len(label))
    number = f"{count:,}"
    text.add(number, _NUMBER)
    return text.add(f" ({readable_memory_size(size)})")


# ------------------------------------------------------------------ API
def print_summary(
    model,
    line_length=None,
    positions=None,
    print_fn=None,
    expand_nested=False,
    show_trainable=False,
    layer_range=None,
) -> None:
    """Prints a summary of a model, as Keras 3's ``model.summary()``.

    Args:
        model: The model (something with ``name`` and ``layers``).
        line_length: Total width of the table. Defaults to 88 (100 with
            ``show_trainable``), or the terminal width less 4 if smaller.
        positions: Right edges of the columns as fractions of
            ``line_length``. Defaults to ``[0.45, 0.80, 1.0]``.
        print_fn: Called once with the whole summary (a string ending in a
            newline), as Keras does. Defaults to writing to ``sys.stdout``.
        expand_nested: Whether to list the layers of nested models.
        show_trainable: Whether to add a "Trainable" column.
        layer_range: Two names (or regexes): the first and last layer shown.
    """
    view = graph_view(model)
    layers = list(model.layers) if view is None else view.operations
    header, alignment, positions, default_line_length = _columns(view, positions, show_trainable)
    default_line_length = min(default_line_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_line_length
    column_widths = _column_widths(positions, line_length)[:len(header)]  # Keras: a column per header
    bounds = get_layer_index_bound_by_layer_name(layers, layer_range)
    rows = []
    for layer in layers[bounds[0]:bounds[1]]:
        rows.extend(_layer_rows(layer, expand_nested, show_trainable, view=view))
    title = f'Model: "{model.name}"'
    lines = [_Text(title, [_BOLD] * len(title))]
    lines += _render_table(header, alignment, column_widths, line_length, rows)
    lines += _count_lines(model)
    _write(lines, print_fn)


def _columns(view, positions, show_trainable: bool) -> tuple:
    """The header, alignments, right edges and default width: three columns for a Sequential-like
    model, four (with "Connected to") for a graph, and "Trainable" when asked."""
    if view is None or view.sequential_like:
        default_line_length = 88
        positions = list(positions or [0.45, 0.80, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #"]
        alignment = ["left", "left", "right"]
    else:
        default_line_length = 108
        positions = list(positions or [0.3, 0.56, 0.74, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        alignment = ["left", "left", "right", "left"]
    if show_trainable:
        default_line_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignment.append("center")
    return header, alignment, positions, default_line_length


def _column_widths(positions, line_length: int) -> list:
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    return widths


def _count_lines(model) -> list:
    """The footer: total, trainable, non-trainable and (once built) optimizer parameters."""
    trainable = _model_weights(model, "trainable_weights")
    non_trainable = _model_weights(model, "non_trainable_weights")
    counts = [(count_params(trainable), weight_memory_size(trainable)),
              (count_params(non_trainable), weight_memory_size(non_trainable))]
    optimizer: Any = getattr(model, "optimizer", None)
    if getattr(model, "compiled", False) and optimizer is not None and getattr(optimizer, "built", False):
        variables = list(optimizer.variables)
        counts.append((count_params(variables), weight_memory_size(variables)))
    lines = [_count_line(" Total params: ", sum(c for c, _ in counts), sum(size for _, size in counts)),
             _count_line(" Trainable params: ", *counts[0]),
             _count_line(" Non-trainable params: ", *counts[1])]
    if len(counts) == 3:
        lines.append(_count_line(" Optimizer params: ", *counts[2]))
    return lines


def _write(lines: list, print_fn) -> None:
    """To ``print_fn`` (the log when interactive logging is off, as Keras), else to stdout,
    styled when it is a terminal."""
    console_width = _console_width()
    if print_fn is None and not io_utils.is_interactive_logging_enabled():
        print_fn = io_utils.print_msg  # Keras: the table goes to the log then
    if print_fn is not None:
        print_fn("".join(line.chars[:console_width] + "\n" for line in lines))
        return
    stream = sys.stdout
    if _is_tty(stream) and os.environ.get("TERM") != "dumb":
        color_ok = "NO_COLOR" not in os.environ
        text = "".join(_ansi(line.slice(0, console_width), color_ok) + "\n" for line in lines)
    else:
        text = "".join(line.chars[:console_width] + "\n" for line in lines)
    stream.write(text)
    try:
        stream.flush()
    except (AttributeError, ValueError, OSError):
        pass
