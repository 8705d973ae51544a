"""``EarlyStopping``: stop training when a monitored quantity stops improving.

Also home to what the monitoring callbacks share (``ModelCheckpoint``, ``ReduceLROnPlateau``):
which way a quantity improves, and the once-per-fit warning for a missing quantity.
"""
from __future__ import annotations

import warnings

import numpy as np

from .callback import Callback

# Metric names that improve upwards. Keras 3 reads a metric's direction from the metric object;
# lamina's metrics carry none, so the name decides: these go up, everything else goes down.
_UPWARD = ("acc", "auc", "precision", "recall", "f1_score", "fbeta_score", "r2_score", "iou")


def check_mode(mode: str, who: str) -> str:
    """Keras warns about an unknown mode and falls back to ``"auto"``."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def improves_upward(monitor: str, mode: str, model=None) -> bool:
    """True when larger values of ``monitor`` are better (``mode="max"``, or ``"auto"`` and
    the name is an accuracy-like metric); ``loss`` and ``val_loss`` go down."""
    if mode != "auto":
        return mode == "max"
    name = monitor.removeprefix("val_")
    if name == "loss":
        return False
    for metric in getattr(model, "metrics", None) or ():
        direction = getattr(metric, "_direction", None)
        if getattr(metric, "name", None) == name and direction in ("up", "down"):
            return direction == "up"
    return any(word in name for word in _UPWARD)


class MonitorWarning:
    """Warns once per fit that ``monitor`` is not in the logs, listing the keys that are."""

    def __init__(self, message: str):
        self.message = message
        self.warned = False

    def value(self, logs, monitor: str):
        logs = logs or {}
        current = logs.get(monitor)
        if current is None and not self.warned:
            self.warned = True
            warnings.warn(self.message.format(monitor=monitor) +
                          f" Available metrics are: {','.join(logs)}", stacklevel=4)
        return current


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    An improvement is a change of more than ``min_delta`` in the right direction (``mode``:
    ``"min"``, ``"max"``, or ``"auto"`` from the name). With ``baseline``, the wait only restarts
    when the value also beats the baseline. ``restore_best_weights`` puts back, at the end of
    training, the weights of the best epoch seen (``best_epoch``), whether training stopped early
    or ran out of epochs, as Keras 3 does. The first ``start_from_epoch`` epochs are not watched.
    ``stopped_epoch`` is the (0-based) epoch training stopped at, 0 if it did not stop.

    >>> import numpy as np, lamina
    >>> model = lamina.Sequential([lamina.layers.Dense(1, input_shape=(2,))])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> stop = lamina.callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    >>> _ = model.fit(np.ones((8, 2)), np.ones(8), epochs=5, verbose=0, callbacks=[stop])
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = check_mode(mode, "EarlyStopping")
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None
        self._upward = None
        self._missing = MonitorWarning("Early stopping conditioned on metric `{monitor}` which is not available.")

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_epoch, self.best_weights = 0, 0, None, 0, None
        self._missing.warned = False

    def _is_improvement(self, value, reference) -> bool:
        if reference is None:
            return True
        if self._upward:
            return bool(np.greater(value - self.min_delta, reference))
        return bool(np.less(value + self.min_delta, reference))

    def on_epoch_end(self, epoch, logs=None):
        if self._upward is None:  # the metrics exist only once fit has run a batch
            self._upward = improves_upward(self.monitor, self.mode, self.model)
        current = self._missing.value(logs, self.monitor)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
