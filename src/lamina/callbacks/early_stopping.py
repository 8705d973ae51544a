"""``EarlyStopping``: stop training when a monitored quantity stops improving."""
from __future__ import annotations

import numpy as np

from ..utils.io_utils import print_msg
from .callback import Callback
from .monitor_callback import MonitorWarning, check_mode, improves_upward


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
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
