"""``TerminateOnNaN``: stop training at the batch whose loss is NaN or infinite."""
from __future__ import annotations

import math

from ..utils.io_utils import print_msg
from .callback import Callback


class TerminateOnNaN(Callback):
    """At the end of each training batch, stop (``model.stop_training = True``) when the loss is
    NaN or infinite; with ``raise_error=True``, raise ``RuntimeError`` instead (skipping
    ``on_train_end``, as Keras does).

    >>> import lamina
    >>> callback = lamina.callbacks.TerminateOnNaN()
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                               "Terminating training immediately.")
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
