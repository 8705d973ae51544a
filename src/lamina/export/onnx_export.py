"""``export_onnx(model, filepath)``: a Sequential or Functional model as an ONNX file.

The model's graph is walked twice. First every layer is checked (a nested model's too), and
all that cannot be exported are refused together, by name, before anything is built or
written. Then each node becomes ONNX nodes (``onnx_layers``), the weights initializers; the
model is checked with ``onnx.checker`` and written atomically (``lamina._atomic``): a failed
export leaves no file, and an existing one untouched.

Inputs are float32 with a dynamic batch dimension named ``batch``, named after the model's
``Input`` layers; outputs are named after ``model.output_names``. The file describes inference:
``Dropout`` and the noise layers are identities, ``BatchNormalization`` uses its moving
statistics.
"""
from __future__ import annotations

from typing import Any

import os

from .._atomic import atomic_write
from .._optional import require
from . import onnx_layers
from .onnx_builder import FEATURE, OnnxBuilder

DEFAULT_OPSET = 17
MIN_OPSET = 13


def _graph_of(model):
    graph = model._current_graph()
    if graph is None:
        why = ("a subclassed model (its call is Python code, not a graph of layers)"
               if type(model).__name__ not in ("Sequential", "Functional") else "a model with no known input shape")
        raise ValueError(f"model.export(format='onnx') cannot export '{model.name}': it is {why}. Export a "
                         "Sequential or Functional model whose input shape is known: start it with "
                         "Input(shape=...), or call it on data first")
    return graph


def _refusals(graph, where: str = "") -> list[str]:
    """One line for each layer of ``graph`` (and of the models nested in it) that cannot be exported."""
    lines = []
    for node in graph.nodes:
        layer = node.operation
        if _is_nested_model(layer):
            lines += _refusals(_graph_of(layer), f"{where}{layer.name}/")
            continue
        reason = onnx_layers.unsupported(layer, node)
        if reason:
            lines.append(f"layer '{where}{layer.name}' ({type(layer).__name__}): {reason}")
    return lines


def _is_nested_model(layer) -> bool:
    from ..models.model import Model
    return isinstance(layer, Model)


def _convert(g: OnnxBuilder, graph, names: dict) -> None:
    """Add ``graph``'s nodes to ``g``; ``names`` maps each symbolic tensor (id) to its ONNX name."""
    for node in graph.nodes:
        layer = node.operation
        inputs = [names[id(t)] for t in node.input_tensors]
        if _is_nested_model(layer):
            inner = _graph_of(layer)
            inner_names = {id(t): name for t, name in zip(inner.inputs, inputs)}
            _convert(g, inner, inner_names)
            for tensor, inner_output in zip(node.outputs, inner.outputs):
                names[id(tensor)] = inner_names[id(inner_output)]
            continue
        shapes = [tuple(t.shape) for t in node.input_tensors]
        outputs = onnx_layers.converter_for(layer)(g, layer, node, inputs, shapes)
        for tensor, name in zip(node.outputs, outputs):
            names[id(tensor)] = name


def _check_opset(opset_version) -> int:
    newest = require("onnx.defs", FEATURE).onnx_opset_version()
    if opset_version is None:
        return DEFAULT_OPSET
    if isinstance(opset_version, bool) or not isinstance(opset_version, int) \
            or not MIN_OPSET <= opset_version <= newest:
        raise ValueError(f"model.export(format='onnx', opset_version=...) expects an int from {MIN_OPSET} to {newest} "
                         f"(the installed onnx's newest), got opset_version={opset_version!r}")
    return opset_version


def build_onnx_model(model, opset_version=None) -> Any:
    """The ``onnx.ModelProto`` of ``model`` (refusing, by name, every layer it cannot export)."""
    graph = _graph_of(model)
    refused = _refusals(graph)
    if refused:
        raise ValueError(f"model.export(format='onnx') cannot export '{model.name}': " + "; ".join(refused)
                         + ". Nothing was written")
    g = OnnxBuilder(_check_opset(opset_version))
    names, inputs = {}, []
    for tensor in graph.inputs:
        name = g.name(tensor._keras_history[0].name)
        names[id(tensor)] = name
        inputs.append(g.value_info(name, tensor.shape))
    _convert(g, graph, names)
    outputs = []
    for tensor, output_name in zip(graph.outputs, model.output_names):
        name = g.name(output_name)
        g.nodes.append(g.helper.make_node("Identity", [names[id(tensor)]], [name], name=g.name(f"{name}/output")))
        outputs.append(g.value_info(name))
    return g.model(inputs, outputs, model.name, f"lamina model '{model.name}'")


def export_onnx(model, filepath, verbose=None, input_signature=None, opset_version=None) -> None:
    """Write ``model`` to ``filepath`` in ONNX format (Keras's ``model.export(filepath,
    format="onnx")``); ``verbose`` (default True, as Keras) prints where it went."""
    if input_signature is not None:
        raise ValueError("model.export(format='onnx', input_signature=...) is not supported: lamina exports the "
                         "model's own input shapes (the batch dimension stays dynamic); pass input_signature=None")
    path = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"model.export({path!r}, format='onnx'): the folder {folder!r} does not exist; "
                                "create it first (os.makedirs)")
    onnx_model = build_onnx_model(model, opset_version)
    data = onnx_model.SerializeToString()
    with atomic_write(path, "wb") as file:
        file.write(data)
    if verbose is None or verbose:
        print(f"Saved artifact at '{path}'.")


__all__ = ["build_onnx_model", "export_onnx"]
