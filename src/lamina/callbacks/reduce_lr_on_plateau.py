"""``ReduceLROnPlateau``: lower the learning rate when a monitored quantity stops improving."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..utils.io_utils import print_msg
from .callback import Callback
from .monitor_callback import MonitorWarning, check_mode, improves_upward


class ReduceLROnPlateau(Callback):
    """After ``patience`` epochs without an improvement of more than ``min_delta`` in
    ``monitor``, multiply the learning rate by ``factor`` (not below ``min_lr``), then wait
    ``cooldown`` epochs before counting again. Each epoch's logs get ``learning_rate``.

    >>> import lamina
    >>> reduce_lr = lamina.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5,
    ...                                                min_lr=0.001)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword argument(s) {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = check_mode(mode, "ReduceLROnPlateau")
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._missing = MonitorWarning("Learning rate reduction is conditioned on metric `{monitor}` which is "
                                       "not available.")
        self._reset()

    def _reset(self) -> None:
        self._upward = None
        self.best: Any = None
        self.wait = 0
        self.cooldown_counter = 0
        self._missing.warned = False

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _improved(self, current) -> bool:
        if self._upward:
            return bool(np.greater(current, self.best + self.min_delta))
        return bool(np.less(current, self.best - self.min_delta))

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            logs = {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        if self._upward is None:
            self._upward = improves_upward(self.monitor, self.mode, self.model)
            self.best = -np.inf if self._upward else np.inf
        current = self._missing.value(logs, self.monitor)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):  # Keras's float32 comparison, kept for parity
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
