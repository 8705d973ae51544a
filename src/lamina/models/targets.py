"""Targets checked against a graph model's outputs before training starts: the loss's shape
expectations and, for sparse crossentropy, the label range (clear errors instead of NumPy's or
wrong numbers halfway through an epoch)."""
from __future__ import annotations

import numpy as np

from .. import losses
from ..trainers import data
from ..trainers.compile_utils import get_loss, per_output


def check_targets(model, y) -> None:
    """A ValueError, naming the model's outputs, when ``y`` does not match them (count or names)."""
    names = model.output_names
    outputs = model.outputs
    if len(outputs) > 1 and not isinstance(y, (list, tuple, dict)):
        raise ValueError(f"Model '{model.name}' has {len(outputs)} outputs {names}: pass y as a list (in that order) "
                         "or a dict by output name")
    if isinstance(y, dict):
        unknown = sorted(set(y) - set(names))
        if unknown:
            raise ValueError(f"y names unknown output(s) {unknown}; the model's outputs are {names}")
        ys = [y.get(name) for name in names]
    else:
        ys = list(y) if isinstance(y, (list, tuple)) and len(outputs) > 1 else [y]
    if len(ys) != len(outputs):
        raise ValueError(f"Model '{model.name}' has {len(outputs)} outputs {names}, got {len(ys)} targets")
    specs = per_output(model._compile_loss._user_loss, names, "loss") if len(outputs) > 1 else \
        [model._compile_loss._user_loss[0] if isinstance(model._compile_loss._user_loss, (list, tuple))
         and len(model._compile_loss._user_loss) == 1 else model._compile_loss._user_loss]
    for target, output, spec in zip(ys, outputs, specs):
        if target is None or spec is None:
            continue
        loss = get_loss(spec, np.asarray(target), output)
        _check_one(target, output.shape, loss)


def _is_builtin(loss) -> bool:
    from ..losses.loss import LossFunctionWrapper
    if type(loss) is LossFunctionWrapper:
        return getattr(loss.fn, "__module__", "").startswith("lamina.")
    return type(loss).__module__.startswith("lamina.losses")


def _check_one(y, output_shape: tuple, loss) -> None:
    if not _is_builtin(loss):  # a user's function or Loss decides its own shapes
        return
    if isinstance(loss, losses.Circle):  # one integer label per embedding, of any width (1 too)
        if output_shape[-1] != 1:
            data.check_target_shape(np.asarray(y), output_shape, True, loss.name)
        return
    # the generalized crossentropy takes integer labels too; one outside the classes counts as p = 0
    sparse = isinstance(loss, (losses.SparseCategoricalCrossentropy, losses.CategoricalGeneralizedCrossEntropy))
    data.check_target_shape(np.asarray(y), output_shape, sparse, loss.name)
    if isinstance(loss, losses.SparseCategoricalCrossentropy) and output_shape[-1] is not None:
        losses.check_sparse_labels(y, output_shape[-1], ignore_class=loss.ignore_class)
