"""``LambdaCallback``: a callback made of plain functions, one per hook you name."""
from __future__ import annotations

from typing import Callable

from .callback import Callback


class LambdaCallback(Callback):
    """Each function given becomes that hook; hooks not given stay the do-nothing defaults.

    ``on_epoch_begin``/``on_epoch_end`` get ``(epoch, logs)``, ``on_train_begin``/``on_train_end``
    get ``(logs)``, the batch hooks ``(batch, logs)``; any other hook of ``Callback`` can be passed
    by name (``on_test_end=...``). Functions are set on the instance, so ``fit`` builds per-batch
    logs only when a batch hook is given.

    >>> import lamina
    >>> losses = []
    >>> callback = lamina.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None, on_train_batch_end: Callable | None = None,
                 **kwargs):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_train_begin": on_train_begin,
                 "on_train_end": on_train_end, "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **kwargs}
        for name, function in hooks.items():
            if not (name.startswith("on_") and callable(getattr(Callback, name, None))):
                raise TypeError(f"LambdaCallback got an unknown hook {name!r}; hooks are the on_* methods of "
                                "Callback, e.g. on_epoch_end")
            if function is None:
                continue
            if not callable(function):
                raise TypeError(f"LambdaCallback expects {name} to be a function, got {function!r}")
            setattr(self, name, function)
