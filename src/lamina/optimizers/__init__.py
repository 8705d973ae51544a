"""Optimizers with Keras's names and defaults; ``get("adam")`` resolves a name.

>>> import lamina
>>> type(lamina.optimizers.get("sgd")).__name__
'SGD'
"""
from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .ftrl import Ftrl
from .lion import Lion
from .nadam import Nadam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

_REGISTRY = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adamw": AdamW, "nadam": Nadam,
             "adamax": Adamax, "adagrad": Adagrad, "adadelta": Adadelta, "lion": Lion, "ftrl": Ftrl}


def register(name, cls):
    """Make an optimizer class resolvable by ``get(name)``."""
    _REGISTRY[name.lower()] = cls


def get(identifier) -> Optimizer:
    """An optimizer from a name (``"adam"``), a class, a serialized dict, or an instance.

    >>> get("adamw").weight_decay
    0.004
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict):
        cls = _REGISTRY.get(str(identifier.get("class_name", "")).lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer class {identifier.get('class_name')!r}. "
                             f"Valid names: {', '.join(sorted(_REGISTRY))}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        cls = _REGISTRY.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer {identifier!r}. Valid names: {', '.join(sorted(_REGISTRY))}")
        return cls()
    raise TypeError(f"optimizer must be a name or an Optimizer, got {identifier!r}")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Nadam", "Adamax", "RMSprop", "Adagrad", "Adadelta", "Lion",
           "Ftrl", "schedules", "get", "register"]
