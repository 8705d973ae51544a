"""The chain of layers a model runs, for the fused plan: a graph model's nodes, or what a
subclassed model's ``call`` does when traced.

Keras compiles ``train_step`` (``jit_compile``, ``tf.function``): the model's ``call`` is traced
once and its Python control flow is frozen into the trace; ``run_eagerly=True`` turns that off.
lamina does the same for the one case it compiles, a chain of built-in layers: ``call`` runs on
a symbolic input, once with ``training=True`` and once with ``training=False``, and when both
traces are the same chain of layer calls (the training one may hold extra Dropout calls), the
fused plan trains the model. Anything else in ``call`` (an op on the tensors, a branch on their
values, several inputs, ``add_loss``) makes the trace fail or differ, and the model takes the
general path, which runs ``call`` as written.
"""
from __future__ import annotations

import inspect

from ..backend.keras_tensor import KerasTensor
from ..layers import call_context
from ..layers.input_layer import InputLayer


def _chain(graph_inputs, graph_outputs, nodes, training=None) -> list | None:
    """The layers of nodes that feed each other in one line from the input to the output."""
    if len(graph_inputs) != 1 or len(graph_outputs) != 1:
        return None
    previous = graph_inputs[0]
    for node in nodes:
        kwargs = dict(node.call_kwargs)
        if training is not None and kwargs.get("training", None) is training:
            kwargs.pop("training")  # the model passing its own flag on, as traced
        if kwargs or len(node.call_args) != 1 or node.call_args[0] is not previous or len(node.outputs) != 1:
            return None
        previous = node.outputs[0]
    return [node.operation for node in nodes] if previous is graph_outputs[0] else None


def graph_chain(graph) -> list | None:
    """The chain of layers a Functional ``graph`` runs (see the module docstring), or None."""
    return _chain(graph.inputs, graph.outputs, graph.nodes)


def traced_chain(model) -> list | None:
    """The chain a subclassed ``model``'s ``call`` runs (see the module docstring), or None."""
    spec = getattr(model, "_traced_input", None)
    if spec is None or model.run_eagerly:
        return None
    chains = [_trace(model, spec, training) for training in (True, False)]
    in_training, in_inference = chains
    if in_training is None or in_inference is None:
        return None
    without_dropout = [layer for layer in in_training if layer.fused_role() != "dropout"]
    if in_inference != without_dropout and in_inference != in_training:
        return None
    return in_training


def build(model) -> None:
    """Build a subclassed ``model`` before its first batch by one symbolic ``call``, as Keras's
    ``fit`` does: its weights draw their initial values before the data is shuffled, whichever
    path then trains it. A ``call`` the trace cannot follow builds on the first batch instead."""
    spec = getattr(model, "_traced_input", None)
    if spec is None or model._current_graph() is not None or all(layer.built for layer in model._flatten_layers()):
        return
    if _symbolic_call(model, spec, False) is not None:
        model.built = True


def _symbolic_call(model, spec, training: bool):
    """``model.call`` on a symbolic input of ``spec``: ``(input, output)``, or None when ``call``
    does what a trace cannot follow (reads values, returns something else, adds losses)."""
    shape, dtype = spec
    source = InputLayer(shape=shape, dtype=dtype, name="traced_input")
    takes_training = "training" in inspect.signature(type(model).call).parameters
    kwargs = {"training": training} if takes_training else {}
    losses_before = [len(layer._losses) for layer in model._flatten_layers()]
    added_losses = False
    try:
        with call_context.entered(call_context.CallContext(model, training)), call_context.shape_inference():
            output = model.call(source.output, **kwargs)
    except Exception:  # any Python the trace cannot follow: the general path runs ``call`` itself
        return None
    finally:
        for layer, count in zip(model._flatten_layers(), losses_before):
            added_losses |= len(layer._losses) > count
            del layer._losses[count:]
    return (source.output, output) if isinstance(output, KerasTensor) and not added_losses else None


def _trace(model, spec, training: bool) -> list | None:
    from ..models.graph import Graph
    traced = _symbolic_call(model, spec, training)
    if traced is None:
        return None
    try:
        traced_input, traced_output = traced
        graph = Graph(traced_input, traced_output, model.name)
    except (ValueError, TypeError):  # outputs that do not come from the input alone
        return None
    return _chain(graph.inputs, graph.outputs, graph.nodes, training)
