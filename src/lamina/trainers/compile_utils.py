"""What ``compile(loss=..., loss_weights=..., metrics=..., weighted_metrics=...)`` turns into,
for models of one output or several (Keras's ``CompileLoss`` and ``CompileMetrics``).

Both are resolved on the first batch, when the targets' and outputs' shapes are known
(``"accuracy"`` and ``"crossentropy"`` pick their binary, categorical or sparse form from
them). Several outputs are handled as a list in the model's output order: a loss or metric
given as a list follows that order, a dict names outputs (``None`` for an output without a
loss), a single loss applies to every output. With several losses, each gets a ``Mean``
tracker named ``<output>_loss``; metrics are named ``<output>_<name>`` (Keras's names).
"""
from __future__ import annotations

from typing import Any

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import ops


def _is_binary_or_sparse(y_true, y_pred) -> tuple[bool, bool]:
    t_shape, p_shape = tuple(y_true.shape), tuple(y_pred.shape)
    is_binary = p_shape[-1:] == (1,)
    is_sparse = len(t_shape) < len(p_shape) or (t_shape[-1:] == (1,) and p_shape[-1:] != (1,))
    return is_binary, is_sparse


def get_loss(identifier, y_true, y_pred) -> Any:
    """A ``Loss`` for one output (None stays None; ``"crossentropy"`` chosen from the shapes)."""
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        binary, sparse = _is_binary_or_sparse(y_true, y_pred)
        identifier = ("binary_crossentropy" if binary else
                      "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy")
    return losses_module.get(identifier)


def get_metric(identifier, y_true, y_pred) -> Any:
    """A ``Metric`` for one output, named as Keras names it (the string given, else its own name)."""
    if identifier is None:
        raise ValueError("a metric of compile(metrics=...) is None: remove it or name a metric")
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        binary, sparse = _is_binary_or_sparse(y_true, y_pred)
        cls = (metrics_module.BinaryAccuracy if binary else
               metrics_module.SparseCategoricalAccuracy if sparse else metrics_module.CategoricalAccuracy)
        return cls(name=identifier)
    metric = metrics_module.get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


def per_output(spec, output_names: list[str], what: str) -> list:
    """``spec`` (one value, a list in output order, or a dict by output name) as one entry per output."""
    n = len(output_names)
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(output_names))
        if unknown:
            raise ValueError(f"compile({what}=...) names unknown output(s) {unknown}; the model's outputs are "
                             f"{output_names}")
        return [spec.get(name) for name in output_names]
    if isinstance(spec, (list, tuple)) and n > 1:
        if len(spec) != n:
            raise ValueError(f"compile({what}=...) has {len(spec)} entries for a model of {n} outputs "
                             f"{output_names}: give one per output, or a dict by output name")
        return list(spec)
    return [spec] * n if n > 1 else [spec]


class CompileLoss:
    """The compiled loss: ``sum(weight_i * loss_i(y_true_i, y_pred_i, sample_weight_i))``."""

    def __init__(self, loss: Any, loss_weights: Any = None, output_names: list[str] | None = None):
        self._user_loss, self._user_weights = loss, loss_weights
        self.output_names = list(output_names or [])
        self.built = False
        self.losses: list = []
        self.weights: list = []
        self.trackers: list = []
        # a compiled step's trace updates the trackers itself, after the forward pass, from
        # these (value, batch size) pairs (reading a value inside the trace would stop it)
        self.defer_trackers = False
        self._deferred: list = []

    def take_deferred(self) -> list:
        """The per-output ``(loss value, batch size)`` pairs of the last deferred call."""
        deferred, self._deferred = self._deferred, []
        return deferred

    def build(self, y_true: list, y_pred: list) -> None:
        names = self.output_names if len(self.output_names) == len(y_pred) else \
            [f"output_{i}" for i in range(len(y_pred))]
        loss = self._user_loss
        if isinstance(loss, (list, tuple)) and len(y_pred) == 1 and len(loss) == 1:
            loss = loss[0]
        specs = per_output(loss, names, "loss")
        self.losses = [get_loss(spec, t, p) for spec, t, p in zip(specs, y_true, y_pred)]
        if all(loss is None for loss in self.losses):
            raise ValueError(f"compile(loss=...) gives no loss for any of the outputs {names}")
        weights = self._user_weights
        if weights is None:
            self.weights = [None] * len(y_pred)
        elif isinstance(weights, (int, float)) and len(y_pred) == 1:
            self.weights = [float(weights)]
        else:
            self.weights = per_output(list(weights) if isinstance(weights, tuple) else weights, names,
                                      "loss_weights")
        active = [i for i, loss in enumerate(self.losses) if loss is not None]
        self.trackers = [metrics_module.Mean(name=f"{names[i]}_loss") for i in active] if len(active) > 1 else []
        self._active = active
        self.built = True

    def __call__(self, y_true: list, y_pred: list, sample_weight: list):
        if not self.built:
            self.build(y_true, y_pred)
        total = None
        for k, i in enumerate(self._active):
            if y_true[i] is None:
                raise ValueError(f"output {self.output_names[i] if i < len(self.output_names) else i} has a loss but "
                                 "no target was given for it")
            value = self.losses[i](y_true[i], y_pred[i], sample_weight[i])
            if self.trackers and self.defer_trackers:
                self._deferred.append((value, ops.shape(y_pred[i])[0]))
            elif self.trackers:
                self.trackers[k].update_state(value, sample_weight=ops.shape(y_pred[i])[0])
            if self.weights[i] is not None:
                value = value * self.weights[i]
            total = value if total is None else total + value
        return total


class CompileMetrics(metrics_module.Metric):
    """All compiled metrics as one metric named ``compile_metrics`` whose result is a dict."""

    def __init__(self, metrics: Any, weighted_metrics: Any, output_names: list[str] | None = None):
        super().__init__(name="compile_metrics")
        for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(f"compile({argument}=...) expects a list, tuple or dict, got {value!r} "
                                 f"(for one metric write {argument}=[{value!r}])")
        self._user_metrics, self._user_weighted = metrics, weighted_metrics
        self.output_names = list(output_names or [])
        self.built = False
        self._flat: list = []  # (output index, metric, weighted?)

    def build(self, y_true: list, y_pred: list) -> None:
        n = len(y_pred)
        names = self.output_names if len(self.output_names) == n else [f"output_{i}" for i in range(n)]
        self._prefixes = names if n > 1 else [None]
        for specs, weighted in ((self._user_metrics, False), (self._user_weighted, True)):
            if not specs:
                continue
            per = [specs] if n == 1 else per_output(specs, names, "weighted_metrics" if weighted else "metrics")
            for i, entry in enumerate(per):
                if n == 1 and isinstance(entry, dict):
                    entry = list(entry.values())
                for spec in ([] if entry is None else entry if isinstance(entry, (list, tuple)) else [entry]):
                    self._flat.append((i, get_metric(spec, y_true[i], y_pred[i]), weighted))
        self.built = True

    @property
    def metrics(self) -> list:
        return [m for _, m, _ in self._flat]

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _as_list(y_true), _as_list(y_pred)
        if not self.built:
            self.build(y_true, y_pred)
        weights = _as_list(sample_weight) if sample_weight is not None else [None] * len(y_pred)
        if len(weights) < len(y_pred):
            weights = weights * len(y_pred)
        for i, metric, weighted in self._flat:
            metric.update_state(y_true[i], y_pred[i], sample_weight=weights[i] if weighted else None)

    def result(self) -> dict:
        """Keras's names: ``<output>_<metric>``; a repeated name gets ``_1``, ``_2``; a weighted
        metric whose name is taken becomes ``<output>_weighted_<metric>`` first."""
        results, counts = {}, {}

        def unique(name: str) -> str:
            if name not in counts:
                counts[name] = 1
                return name
            counts[name] += 1
            return f"{name}_{counts[name] - 1}"

        for i, metric, weighted in self._flat:
            prefix = self._prefixes[i]
            name = f"{prefix}_{metric.name}" if prefix else metric.name
            if weighted and name in counts:
                name = f"{prefix}_weighted_{metric.name}" if prefix else f"weighted_{metric.name}"
            results[unique(name)] = metric.result()
        return results

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    @property
    def variables(self) -> list:
        return [v for m in self.metrics for v in m.variables]


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]
