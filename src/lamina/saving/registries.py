"""Which classes a model file may name: Keras's public modules mapped onto lamina's registries.

A config says ``{"module": "keras.layers", "class_name": "Dense"}``. The only classes that can
come back are those a fixed lamina module exports (or registers) under that name and that
derive from the module's base class; any other module or name is refused. Nothing named by
a file is imported: the lamina modules below are a fixed list.

>>> find_class("keras.layers", "Dense").__name__
'Dense'
>>> find_class("os", "system") is None
True
"""
from __future__ import annotations

import importlib
import types

# Keras's public module -> (lamina module, its base class). Order matters for ``keras_module_of``:
# the first module whose base class an object derives from names it.
_MODULES = {
    "keras.layers": ("lamina.layers", "Layer"),
    "keras.initializers": ("lamina.initializers", "Initializer"),
    "keras.regularizers": ("lamina.regularizers", "Regularizer"),
    "keras.constraints": ("lamina.constraints", "Constraint"),
    "keras.optimizers.schedules": ("lamina.optimizers.schedules", "LearningRateSchedule"),
    "keras.optimizers": ("lamina.optimizers", "Optimizer"),
    "keras.losses": ("lamina.losses", "Loss"),
    "keras.metrics": ("lamina.metrics", "Metric"),
}
# modules whose plain functions a file may name with ``"class_name": "function"``
_FUNCTION_MODULES = {"keras.losses": "lamina.losses", "keras.metrics": "lamina.metrics",
                     "keras.activations": "lamina.activations"}
MODEL_MODULES = ("keras", "keras.models")
FUNCTIONAL_MODULE = "keras.src.models.functional"  # where Keras 3 writes a Functional model's class
DTYPE_POLICY_MODULES = ("keras", "keras.dtype_policies", "keras.mixed_precision")
DTYPE_POLICY_CLASSES = ("DTypePolicy", "FloatDTypePolicy", "Policy")


def _module(name: str):
    try:
        return importlib.import_module(name)  # only names from the fixed tables above
    except ModuleNotFoundError:
        return None


def _base(keras_module: str):
    lamina_name, base_name = _MODULES[keras_module]
    module = _module(lamina_name)
    return module, getattr(module, base_name, None) if module is not None else None


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    return list(names) if names is not None else [n for n in vars(module) if not n.startswith("_")]


def find_class(keras_module: str, class_name: str):
    """The lamina class a file may build for ``keras_module.class_name``, else None."""
    if keras_module in MODEL_MODULES and class_name == "Sequential":
        from ..models.sequential import Sequential
        return Sequential
    if keras_module in (*MODEL_MODULES, FUNCTIONAL_MODULE) and class_name in ("Functional", "Model"):
        from ..models import Functional, Model
        return Functional if class_name == "Functional" else Model
    if keras_module not in _MODULES or not isinstance(class_name, str):
        return None
    module, base = _base(keras_module)
    if module is None or base is None:
        return None
    registry = getattr(module, "_REGISTRY", {})
    candidates = [registry.get(class_name), registry.get(class_name.lower())]
    if class_name in _public_names(module):
        candidates.insert(0, getattr(module, class_name, None))
    for cls in candidates:
        if isinstance(cls, type) and issubclass(cls, base) and cls.__name__ == class_name:
            return cls
    return None


def find_function(keras_module: str, name: str | None):
    """The lamina function a file may name (a loss, metric or activation), else None."""
    lamina_name = _FUNCTION_MODULES.get(keras_module)
    if lamina_name is None or not isinstance(name, str):
        return None
    module = _module(lamina_name)
    if keras_module == "keras.activations":
        activation = getattr(module, "_REGISTRY", {}).get(name)
        return None if activation is None else activation.function
    if name not in _public_names(module) or name.startswith("_"):
        return None
    fn = getattr(module, name, None)
    # only the per-sample functions the module pairs with a class (``mean_squared_error`` with
    # ``MeanSquaredError``): its helpers (``get``, ``register``...) are public but no loss or metric
    is_loss_or_metric = isinstance(fn, types.FunctionType) and fn in getattr(module, "_FUNCTION_CLASSES", {})
    return fn if is_loss_or_metric else None


def keras_module_of(obj) -> str | None:
    """The Keras module under which a lamina object is saved (``"keras.layers"`` for a Dense),
    or None when its class is not one of lamina's own (a user subclass, say)."""
    cls = type(obj)
    if cls.__name__ == "Sequential" and find_class("keras", "Sequential") is cls:
        return "keras"
    if cls.__name__ == "Functional" and find_class(FUNCTIONAL_MODULE, "Functional") is cls:
        return FUNCTIONAL_MODULE
    for keras_module in _MODULES:
        _, base = _base(keras_module)
        if base is not None and isinstance(obj, base) and find_class(keras_module, cls.__name__) is cls:
            return keras_module
    return None


def keras_module_of_function(fn) -> str | None:
    """``"keras.losses"`` for ``lamina.losses.mean_squared_error`` and the like, else None."""
    name = getattr(fn, "__name__", None)
    for keras_module in _FUNCTION_MODULES:
        if find_function(keras_module, name) is fn:
            return keras_module
    return None


def registered_classes() -> dict[str, list[type]]:
    """Every class a file may name, by Keras module (what the round-trip tests walk)."""
    found: dict[str, list[type]] = {}
    for keras_module in _MODULES:
        module, base = _base(keras_module)
        if module is None or base is None:
            continue
        names = set(_public_names(module)) | set(getattr(module, "_REGISTRY", {}))
        classes = {find_class(keras_module, getattr(getattr(module, n, None), "__name__", n)) for n in names}
        classes |= {find_class(keras_module, getattr(c, "__name__", ""))
                    for c in getattr(module, "_REGISTRY", {}).values()}
        found[keras_module] = sorted((c for c in classes if c is not None), key=lambda c: c.__name__)
    return found
