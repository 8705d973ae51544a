"""``SwapEMAWeights``: evaluate (and optionally checkpoint) with the optimizer's moving averages."""
from __future__ import annotations

from .callback import Callback


class SwapEMAWeights(Callback):
    """Swap the optimizer's moving averages of the weights (``use_ema=True``) into the model for
    evaluation, and the trained weights back after it; with ``swap_on_epoch=True`` also from each
    epoch's end to the next epoch's start, so callbacks after this one (``ModelCheckpoint``) see
    the averages. At the last epoch's end the averages are set to what the model then holds, so
    ``fit``'s final write of the averages leaves the model as it is.

    ``predict`` swaps back at its end too. (Keras 3.15 does not: it tests the wrong flag in
    ``on_predict_end`` and leaves the averages in the model; see the README, "Where lamina
    differs from Keras on purpose".)

    >>> import lamina
    >>> callback = lamina.callbacks.SwapEMAWeights(swap_on_epoch=True)
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizer(self):
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if not (getattr(optimizer, "use_ema", False) and optimizer.built):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                             f"Received: use_ema={getattr(optimizer, 'use_ema', False)}")
        return optimizer

    def _swap_variables(self) -> None:
        optimizer = self._optimizer()
        for variable, average in zip(optimizer._trainable_variables, optimizer._averages):
            weights = variable._value.copy()
            variable.assign(average._value)
            average.assign(weights)

    def _finalize_ema_values(self) -> None:
        optimizer = self._optimizer()
        for variable, average in zip(optimizer._trainable_variables, optimizer._averages):
            average.assign(variable._value)

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            if epoch == self.params["epochs"] - 1:  # fit writes the averages into the model next
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False
