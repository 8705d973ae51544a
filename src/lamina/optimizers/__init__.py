"""Optimizers with Keras's names and defaults; ``get("adam")`` resolves a name.

>>> import lamina
>>> type(lamina.optimizers.get("sgd")).__name__
'SGD'
"""
from .._resolve import UNRESOLVED, from_registry
from . import schedules
from ..saving.kind_configs import deserialize_optimizer as deserialize, serialize
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .ftrl import Ftrl
from .lamb import Lamb
from .lion import Lion
from .nadam import Nadam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

_REGISTRY = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adamw": AdamW, "nadam": Nadam,
             "adamax": Adamax, "adagrad": Adagrad, "adadelta": Adadelta, "lion": Lion, "ftrl": Ftrl,
             "adafactor": Adafactor}  # not "lamb": Keras's get() does not know it either


def register(name, cls) -> None:
    """Make an optimizer class resolvable by ``get(name)``."""
    _REGISTRY[name.lower()] = cls


def get(identifier) -> Optimizer:
    """An optimizer from a name (``"adam"``), a class, a serialized dict, or an instance.

    >>> get("adamw").weight_decay
    0.004
    """
    resolved = from_registry(identifier, Optimizer, _REGISTRY, "optimizer", key=str.lower)
    if resolved is not UNRESOLVED:
        return resolved
    raise TypeError(f"optimizer must be a name or an Optimizer, got {identifier!r}")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Nadam", "Adamax", "RMSprop", "Adagrad", "Adadelta", "Lion",
           "Ftrl", "Lamb", "Adafactor", "schedules", "get", "register", "serialize", "deserialize"]
