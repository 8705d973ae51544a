"""``History``: what ``fit`` returns."""
from __future__ import annotations

import numpy as np

from .callback import Callback


class History(Callback):
    """Records each epoch's logs: ``history.history["loss"]`` is one float per epoch,
    ``history.epoch`` the epoch numbers (0-based), ``history.params`` the run's parameters.
    ``history.interrupted`` is ``(epoch, batch)`` (both from 1) when Ctrl-C stopped ``fit``."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.interrupted: tuple[int, int] | None = None

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key in sorted(logs or {}):
            value = logs[key]
            self.history.setdefault(key, []).append(float(value) if np.size(value) == 1 else value)
        self.model.history = self
