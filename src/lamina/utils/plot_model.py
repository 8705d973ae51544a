"""``plot_model``: a picture of a model's layers, drawn without Graphviz or pydot.

Keras hands a dot graph to Graphviz; lamina lays the graph out itself (``graph_layout``: layers
of boxes, branches side by side, merges below their inputs, ``rankdir`` "TB" top to bottom or
"LR" left to right) and draws it with matplotlib (PNG, JPG, PDF) or writes the SVG text directly
(no matplotlib needed). What is drawn follows Keras: one box per layer (a layer called several
times is one box with an edge for each input of each call), one edge per connection between
layers, an expanded nested model as a dashed frame around its boxes, a subclassed model (no
graph) as a single box. Each box shows what Keras's label shows: ``name (Class)``, the
activation, input and output shapes, dtype, trainable.
"""
from __future__ import annotations

import os

from ..layers.input_layer import InputLayer
from ..layers.node import map_structure
from .plot_scene import Box, Level, Line, lay_out, matplotlib_bytes, svg_text

__all__ = ["ModelPlot", "plot_model"]

_RANKDIRS = ("TB", "LR", "BT", "RL")
_FORMATS = ("png", "jpg", "jpeg", "pdf", "svg")
_SPLINES = ("ortho", "line", "polyline", "curved", "spline", "true", "false", "none", "")  # Graphviz's values


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
    pyplot backend), ``.svg`` is written as text. A Functional model is drawn as its graph (see
    the module's docstring); a Sequential starts with its InputLayer's box. Edges are straight
    segments (a long one runs beside the boxes of the layers it passes), so ``splines``
    (Graphviz's edge style) is accepted and changes nothing. ``to_file=None`` writes nothing
    (then ``format`` picks the format, PNG by default). Returns a :class:`ModelPlot`, which a
    notebook displays inline.

    >>> import lamina
    >>> model = lamina.Sequential([lamina.layers.Flatten(input_shape=[28, 28]),
    ...                            lamina.layers.Dense(10, activation="softmax")])
    >>> plot = lamina.utils.plot_model(model, None, show_shapes=True, format="svg")  # in memory
    >>> plot.format, b"<svg" in plot.data, plot.filename
    ('svg', True, None)
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
    scene = lay_out(_model_level(model, None, expand_nested, options, {}), rankdir)
    data = svg_text(scene).encode("utf-8") if fmt == "svg" else matplotlib_bytes(scene, fmt, dpi)
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


# --- which boxes and edges ---------------------------------------------------------------------
def _graph_of(layer):
    """The graph a model runs, or None (a plain layer, or a subclassed model: its ``call`` is code)."""
    current = getattr(layer, "_current_graph", None)
    return current() if callable(current) and hasattr(layer, "layers") else None


def _is_sequential(model) -> bool:
    # imported here: the models package imports this one
    from ..models.sequential import Sequential

    return isinstance(model, Sequential)


def _model_level(model, name, expand_nested: bool, options: dict, box_of: dict) -> Level:
    """``model``'s boxes (an expanded nested model as a level of its own) and the edges between
    them, as Keras's ``model_to_dot`` draws them; ``box_of`` maps ``id(layer)`` to its box."""
    level = Level(name)
    graph = _graph_of(model)
    if graph is None:  # a subclassed model: Keras draws the model itself, as one box
        box_of[id(model)] = _layer_box(model, options)
        level.units.append(box_of[id(model)])
        return level
    skip_input = name is not None and _is_sequential(model)  # a nested Sequential's InputLayer is not drawn
    for layer in graph.layers:
        if skip_input and isinstance(layer, InputLayer):
            continue
        if expand_nested and _graph_of(layer) is not None:
            level.units.append(_model_level(layer, layer.name, expand_nested, options, box_of))
        else:
            box_of[id(layer)] = _layer_box(layer, options)
            level.units.append(box_of[id(layer)])
    seen = set()
    for node in graph.nodes:
        for input_index, tensor in enumerate(node.input_tensors):
            source, _, output_index = tensor._keras_history
            target = node.operation
            if expand_nested:
                source, target = _inner_ends(source, output_index, target, input_index)
            start, end = box_of.get(id(source)), box_of.get(id(target))
            if start is None or end is None or (id(start), id(end)) in seen:
                continue  # an edge from a nested Sequential's own input; or one drawn already
            seen.add((id(start), id(end)))
            level.edges.append((start, end))
    return level


def _inner_ends(source, output_index: int, target, input_index: int) -> tuple:
    """With nested models expanded, an edge runs from the layer inside ``source`` that makes its
    output, to the layer inside ``target`` that takes that input (its InputLayer, or the first
    layer of a Sequential), however deep the nesting."""
    while _graph_of(source) is not None:
        outputs = _graph_of(source).outputs
        source, _, output_index = outputs[min(output_index, len(outputs) - 1)]._keras_history
    while _graph_of(target) is not None:
        if _is_sequential(target):
            target = target.layers[0]
        else:
            inputs = _graph_of(target).inputs
            target = inputs[min(input_index, len(inputs) - 1)]._keras_history[0]
    return source, target


# --- what each box says ------------------------------------------------------------------------
def _class_name(layer) -> str:
    # an op's class is named as Keras's operation class (ops.abs -> Absolute): layers/op_layer.py
    return type(layer).__name__


def _call_structures(layer) -> tuple:
    """The symbolic inputs and outputs of the layer's first call (Keras's ``layer.input`` and
    ``layer.output``), a model's own inputs and outputs, or ``(None, None)`` if never called."""
    graph = _graph_of(layer)
    if graph is not None:
        return graph.input_structure, graph.output_structure
    nodes = getattr(layer, "_inbound_nodes", None)
    if not nodes:
        return None, None
    inputs, outputs = nodes[0].input_tensors, nodes[0].outputs
    return (inputs[0] if len(inputs) == 1 else inputs), (outputs[0] if len(outputs) == 1 else outputs)


def _describe(structure, attribute: str) -> str:
    """``(None, 5)``, ``[(None, 5), (None, 6)]`` or ``a: (None, 5), b: ...`` as Keras writes them."""
    if structure is None:
        return "?"
    mapped = map_structure(lambda tensor: getattr(tensor, attribute, None), structure)
    text = ", ".join(f"{k}: {v}" for k, v in mapped.items()) if isinstance(mapped, dict) else f"{mapped}"
    return text.replace("{", "").replace("}", "")


def _layer_box(layer, options: dict) -> Box:
    class_name = _class_name(layer)
    header = f"{layer.name} ({class_name})" if options["show_layer_names"] else class_name
    lines = [Line(header, "header")]
    activation = getattr(layer, "activation", None)
    if options["show_layer_activations"] and activation is not None:
        name = getattr(activation, "name", None) or getattr(activation, "__name__", str(activation))
        lines.append(Line(f"Activation: {name}"))
    inputs, outputs = _call_structures(layer)
    if options["show_shapes"]:
        if not isinstance(layer, InputLayer):
            lines.append(Line(f"Input shape: {_describe(inputs, 'shape')}"))
        lines.append(Line(f"Output shape: {_describe(outputs, 'shape')}"))
    if options["show_dtype"]:
        lines.append(Line(f"Output dtype: {_describe(outputs, 'dtype')}"))
    if options["show_trainable"] and layer.weights:
        lines.append(Line("Trainable", "trainable") if layer.trainable else Line("Non-trainable", "frozen"))
    return Box(lines)
