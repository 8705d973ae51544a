"""``Callback`` (every Keras hook) and ``CallbackList`` (what the training loop calls)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models.model import Model


class Callback:
    """Subclass and override the hooks you need; ``self.model`` is set by ``fit``.

    >>> import lamina
    >>> class Stop(lamina.callbacks.Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.model.stop_training = logs["loss"] < 0.1
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


def overrides(callback, hook: str) -> bool:
    """Whether ``callback`` defines its own ``hook`` (on its class or the instance), so it must be called."""
    if hook in vars(callback):  # a hook set on the instance, as LambdaCallback does
        return True
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)


class CallbackList:
    """Calls each hook on every callback in order. ``wants_batch_logs(mode)`` says whether any
    callback overrides a batch hook, so the loop can skip building per-batch logs otherwise."""

    def __init__(self, callbacks: Iterable[Callback], model: Model, params: dict):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def wants_batch_logs(self, mode: str) -> bool:
        return any(overrides(cb, hook) for cb in self.callbacks for hook in _BATCH_HOOKS[mode])

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        # Keras passes logs to every hook, (logs) or (epoch|batch, logs): a dict, empty when there
        # are none (the guide's on_train_begin prints list(logs.keys()))
        arity = 2 if "epoch" in hook or "batch" in hook else 1

        def call(*args):
            args = args + (None,) * (arity - len(args))
            if args[-1] is None:
                args = args[:-1] + ({},)
            for callback in self.callbacks:
                getattr(callback, hook)(*args)
        return call
