"""``LearningRateScheduler``: set the optimizer's learning rate at the start of each epoch."""
from __future__ import annotations

import inspect
from typing import Callable

import numpy as np

from ..utils.io_utils import print_msg
from .callback import Callback


def _takes_lr(schedule) -> bool:
    """Keras calls ``schedule(epoch, lr)``, or ``schedule(epoch)`` for the older one-argument form."""
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: assume the current form
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in parameters)


class LearningRateScheduler(Callback):
    """At each epoch's start, ``schedule(epoch, lr)`` (epoch 0-based, ``lr`` the current rate)
    gives the new rate, set on ``model.optimizer.learning_rate``; each epoch's logs then hold
    ``learning_rate``.

    >>> import math, lamina
    >>> def schedule(epoch, lr):
    ...     return lr if epoch < 10 else lr * math.exp(-0.1)
    >>> callback = lamina.callbacks.LearningRateScheduler(schedule)
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler expects schedule to be a function (epoch, lr) -> lr, "
                            f"got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if _takes_lr(self.schedule):
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        else:
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.floating)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate!r}")
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
