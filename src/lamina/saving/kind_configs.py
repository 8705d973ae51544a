"""``keras.metrics``/``losses``/``optimizers``/``initializers``' ``serialize`` and ``deserialize``:
``serialize_keras_object`` and ``deserialize_keras_object`` under the rules of a model file
(only lamina's classes and the user's registered or passed ones are built), plus what each of
Keras's takes besides a config dict: a name, and for optimizers a class name in any case.

Its imports wait for the first call: the metrics, losses and optimizers packages import this
module, and the saving code would add ~40 ms to each of them.

>>> import lamina
>>> config = serialize(lamina.metrics.AUC(name="auc"))
>>> type(deserialize_metric(config)).__name__
'AUC'
"""
from __future__ import annotations

from typing import Any


def serialize(obj: Any) -> Any:
    """Keras's serialized dict of a metric, loss or optimizer (a function by its name).

    >>> import lamina
    >>> serialize(lamina.losses.Huber())["class_name"]
    'Huber'
    """
    from .serialization_lib import serialize_keras_object
    return serialize_keras_object(obj)


def _build(config, custom_objects: dict | None, kind: str):
    from .serialization_lib import deserialize_keras_object
    if not isinstance(config, dict):
        raise TypeError(f"{kind}s.deserialize expects a config dict (or a name), got {type(config).__name__}")
    return deserialize_keras_object(config, custom_objects=custom_objects)


def _checked(obj, base: type, kind: str, functions_ok: bool):
    """``obj`` when it is a ``base`` (or a loss or metric function): a config naming a layer or
    another kind of object is refused rather than handed back as a metric."""
    import types
    if isinstance(obj, base) or (functions_ok and isinstance(obj, types.FunctionType)):
        return obj
    raise ValueError(f"{kind}s.deserialize built a {type(obj).__name__}, not a {kind}")


def deserialize_metric(config: Any, custom_objects: dict | None = None) -> Any:
    """A metric from ``serialize``'s dict, or from a name (``"mse"`` gives a new
    ``MeanSquaredError``, under its own default name as in Keras)."""
    from .. import metrics
    if isinstance(config, str):
        if custom_objects and config in custom_objects:
            return custom_objects[config]
        if config not in metrics._REGISTRY:
            raise ValueError(f"Unknown metric {config!r}")
        return metrics._REGISTRY[config]()
    return _checked(_build(config, custom_objects, "metric"), metrics.Metric, "metric", functions_ok=True)


def deserialize_loss(config: Any, custom_objects: dict | None = None) -> Any:
    """A loss from ``serialize``'s dict, or from a name: a function's name gives the function
    (``"mean_squared_error"``), a class's gives a new instance (``"MeanSquaredError"``), as in
    Keras."""
    from .. import losses
    if isinstance(config, str):
        if custom_objects and config in custom_objects:
            return custom_objects[config]
        function = next((fn for fn in losses._FUNCTION_CLASSES if fn.__name__ == config), None)
        if function is not None:
            return function
        cls = losses._REGISTRY.get(config)
        if cls is None or cls.__name__ != config:
            raise ValueError(f"Unknown loss {config!r}")
        return cls()
    return _checked(_build(config, custom_objects, "loss"), losses.Loss, "loss", functions_ok=True)


def deserialize_optimizer(config: Any, custom_objects: dict | None = None) -> Any:
    """An optimizer from ``serialize``'s dict; the class name of a built-in optimizer may be in
    any case (``"sgd"``), as Keras allows. The caller's dict is not changed."""
    from .. import optimizers
    if isinstance(config, dict) and isinstance(config.get("class_name"), str):
        builtin = optimizers._REGISTRY.get(config["class_name"].lower())
        if builtin is not None:
            config = {**config, "class_name": builtin.__name__}
    return _checked(_build(config, custom_objects, "optimizer"), optimizers.Optimizer, "optimizer",
                    functions_ok=False)


def deserialize_initializer(config: Any, custom_objects: dict | None = None) -> Any:
    """An initializer from ``serialize``'s dict, or a new one from a name (``"he_normal"`` or
    ``"HeNormal"``), as Keras's ``initializers.deserialize``."""
    from .. import initializers
    if isinstance(config, str):
        if custom_objects and config in custom_objects:
            return custom_objects[config]
        return initializers.get(config)
    return _checked(_build(config, custom_objects, "initializer"), initializers.Initializer, "initializer",
                    functions_ok=False)
