"""``compile`` and the training seams Keras's ``Trainer`` has: ``train_step``, ``test_step``,
``predict_step``, ``compute_loss``, ``compute_metrics`` and the ``metrics`` property.

``fit`` calls ``train_step(data)`` for each batch (``data`` is ``x``, ``(x, y)`` or ``(x, y,
sample_weight)`` as tensors: ``structures.pack_x_y_sample_weight``); users override it with a
``GradientTape`` as in Keras's guides.
The default step is the one the fused plan (``fast_plan.py``) replaces, with the same numbers,
for a chain of built-in layers. The loops themselves are in ``loops.py``.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _macros
from .. import metrics as metrics_module
from .. import ops, optimizers
from ..ops.tape import GradientTape
from . import structures
from .compile_utils import CompileLoss, CompileMetrics
from .structures import unpack_x_y_sample_weight
from .loops import Loops


class Trainer(Loops):
    """What a ``Model`` adds to train: mixed into ``Model`` (and so Sequential and Functional)."""

    # what training uses of the Model it is mixed into (declared for a type checker)
    optimizer: Any
    trainable_weights: Any
    _flatten_layers: Any
    __call__: Any

    def _init_trainer(self) -> None:
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._plan = None
        self._plan_checked = False
        self._compiled_step = None
        self._run_eagerly = False
        self._jit_compile = False

    def _invalidate(self) -> None:
        """The layers changed: rebuild the fused plan."""
        self._plan, self._plan_checked, self._compiled_step = None, False, None

    # --- compile -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, the loss (one, a list or a dict by output name) and the metrics.

        >>> import lamina
        >>> model = lamina.Sequential([lamina.layers.Dense(1, input_shape=(3,))])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        """
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        names = self._output_names_for_compile()
        self._compile_loss = None if loss is None else CompileLoss(loss, loss_weights, names)
        if loss is None and loss_weights is not None:
            raise ValueError("compile(loss_weights=...) needs a loss")
        self._check_loss_names(loss)
        self._check_metric_names(metrics)
        self._check_metric_names(weighted_metrics)
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, names) if (metrics or weighted_metrics) \
            else None
        self._compile_args = {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
                              "metrics": metrics, "weighted_metrics": weighted_metrics}
        self._run_eagerly = bool(run_eagerly)
        self._jit_compile = jit_compile  # False: fit runs train_step eagerly, as Keras does then
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.compiled = True
        self._invalidate()

    @staticmethod
    def _check_loss_names(loss) -> None:
        """An unknown loss name fails at ``compile``, not at the first batch."""
        from .. import losses
        entries = loss.values() if isinstance(loss, dict) else loss if isinstance(loss, (list, tuple)) else [loss]
        for entry in entries:
            if isinstance(entry, str) and entry.lower() not in ("crossentropy", "ce"):
                losses.get(entry)

    @staticmethod
    def _check_metric_names(metrics) -> None:
        """Unknown metric names fail at ``compile``, not at the first batch."""
        entries = metrics.values() if isinstance(metrics, dict) else metrics or []
        for entry in entries:
            for metric in entry if isinstance(entry, (list, tuple)) else [entry]:
                if isinstance(metric, str) and metric.lower() not in ("accuracy", "acc"):
                    metrics_module.get(metric)

    def _output_names_for_compile(self) -> list[str]:
        return list(getattr(self, "output_names", None) or [])

    @property
    def run_eagerly(self) -> bool:
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        self._run_eagerly = bool(value)
        self._invalidate()

    @property
    def metrics(self) -> list:
        """The loss tracker, the compiled metrics, per-output loss trackers, then the metrics of
        layers; ``fit`` and ``evaluate`` reset them all at the start of each epoch."""
        out = []
        if self.compiled:
            out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.trackers)
        # a nested model's own trackers are not this model's (Keras skips Trainers here too)
        return out + [m for layer in self._flatten_layers(include_self=False) if not isinstance(layer, Trainer)
                      for m in layer._metrics]

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    # --- the seams -------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled losses (weighted by ``loss_weights``) plus ``self.losses`` (the
        ``add_loss`` values and the weight penalties), as one scalar tensor."""
        total = []
        if self._compile_loss is not None:
            if y is None:
                raise ValueError("the compiled loss needs targets: pass y to fit/evaluate (or compile without a loss "
                                 "when the model adds its own with add_loss)")
            y_true, y_pred_list, weights = self._per_output(y, y_pred, sample_weight)
            value = self._compile_loss(y_true, y_pred_list, weights)
            if value is not None:
                total.append(value)
        total.extend(self.losses)
        if not total:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()` (or add_loss in the "
                             "model's call)")
        loss = total[0]
        for extra in total[1:]:
            loss = loss + ops.cast(extra, loss.dtype)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics with this batch; return every metric's result."""
        if self._compile_metrics is not None and y is not None:
            y_true, y_pred_list, weights = self._per_output(y, y_pred, sample_weight)
            self._compile_metrics.update_state(y_true, y_pred_list, weights)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """``{name: result}`` for every metric (a dict result, as ``compile_metrics``', merged in)."""
        logs = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = result
        return logs

    def _per_output(self, y, y_pred, sample_weight):
        """Targets, outputs and weights as lists in output order (dicts by output name)."""
        names = self._output_names_for_compile()
        outputs = list(y_pred.values()) if isinstance(y_pred, dict) else (
            list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred])
        n = len(outputs)
        return _ordered(y, names, n, "y"), outputs, _ordered(sample_weight, names, n, "sample_weight")

    def train_step(self, data) -> dict:
        """One optimizer step on one batch: forward under a tape, the loss, its gradient, the
        update, the metrics. Override it to customize ``fit`` (Keras's seam)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            self._loss_tracker.update_state(loss, sample_weight=batch_size(x))
            scaled = self.optimizer.scale_loss(loss)
        update_weights(self, tape, scaled, self.trainable_weights)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data) -> dict:
        """The loss and metrics on one batch, without training (what ``evaluate`` calls)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch (what ``predict`` calls)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _require_compiled(self, what: str) -> None:
        trace = _macros.recorder()
        if trace is not None:  # its steps write the weights and metrics outside anything a replay repeats
            trace.refuse(f"Model.{what} was called inside the function")
        if not self.compiled:
            raise ValueError(f"You must call compile() before {what}(): e.g. "
                             "model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')")


def update_weights(model, tape, scaled_loss, variables: list) -> None:
    """The default step's update: the tape's gradients of the loss to the optimizer (Keras warns
    when there is nothing to train)."""
    if variables:
        model.optimizer.apply(tape.gradient(scaled_loss, variables), variables)
    else:
        warnings.warn("The model does not have any trainable weights.", stacklevel=3)


def batch_size(x) -> int:
    """The rows of a batch: the first axis of its first array (the loss tracker's weight)."""
    first = structures.leaves(x)[0]
    return int(first.shape[0])


def _ordered(value, names: list[str], n: int, what: str) -> list:
    if value is None:
        return [None] * n
    if isinstance(value, dict):
        if names and set(value) <= set(names):
            return [value.get(name) for name in names]
        raise ValueError(f"{what} is a dict with keys {sorted(value)}, but the model's outputs are {names}")
    if isinstance(value, (list, tuple)) and n > 1:
        if len(value) != n:
            raise ValueError(f"{what} has {len(value)} entries for a model of {n} outputs {names}")
        return list(value)
    if n > 1 and what == "sample_weight":
        return [value] * n  # one weight per sample, for every output
    if n > 1:
        raise ValueError(f"the model has {n} outputs {names}: give {what} as a list or a dict by output name")
    return [value[0] if isinstance(value, (list, tuple)) and len(value) == 1 and np.ndim(value[0]) else value]
