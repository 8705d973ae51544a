"""Objects to Keras's serialized dicts and back: ``serialize_keras_object`` /
``deserialize_keras_object``.

An object becomes ``{"module", "class_name", "config", "registered_name"}`` (plus
``build_config`` for a built layer and ``compile_config`` for a compiled model), exactly as
Keras 3 writes it. Going back is the dangerous direction, since a file is untrusted: a class
is built only when lamina's registries (``registries.py``), ``register_keras_serializable`` or
the caller's ``custom_objects`` provide it. Nothing is imported, evaluated or unpickled.

>>> import lamina
>>> config = serialize_keras_object(lamina.initializers.HeNormal(seed=3))
>>> config["module"], config["class_name"], config["config"]
('keras.initializers', 'HeNormal', {'seed': 3})
>>> type(deserialize_keras_object(config)).__name__
'HeNormal'
"""
from __future__ import annotations

from typing import Any

import functools
import inspect
import types

import numpy as np

from . import limits, object_registration, registries
from . import safe_mode as safe_mode_lib

_PLAIN = (str, int, float, bool)
_NUMPY_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                 "float16", "float32", "float64")
# Keys newer Keras versions add to configs; lamina drops them when they hold the value that
# means "feature unused", and refuses them otherwise (the class would not behave as saved).
_NEWER_KERAS_DEFAULTS = {"quantization_config": None, "lora_rank": None, "lora_alpha": None,
                         "input_axes": None, "output_axes": None, "ragged": False, "optional": False,
                         "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99}


def serialize_keras_object(obj) -> Any:
    """Keras's serialized form of ``obj`` (plain values pass through).

    >>> import lamina
    >>> serialize_keras_object(lamina.losses.mean_squared_error)["class_name"]
    'function'
    """
    if obj is None or isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    activation = _activation_name(obj)
    if activation is not None:
        return activation
    if isinstance(obj, types.FunctionType):
        return _serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r} of type {type(obj).__name__}: it has no get_config()")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"{type(obj).__name__}.get_config() must return a dict, got {config!r}")
    config = {key: serialize_keras_object(value) for key, value in config.items()}
    _layer_dtype_as_policy(obj, config)
    registered = object_registration.registered_name_or_none(type(obj))
    module = None if registered else registries.keras_module_of(obj)
    if module == registries.FUNCTIONAL_MODULE:
        registered = "Functional"  # as Keras writes it
    elif module is None and registered is None:
        registered = type(obj).__name__  # a user's class not registered: Keras names it so (custom_objects)
    serialized = {"module": module, "class_name": type(obj).__name__,
                  "config": config, "registered_name": registered}
    build_config = _build_config(obj)
    if build_config is not None:
        serialized["build_config"] = serialize_keras_object(build_config)
    compile_config = obj.get_compile_config() if hasattr(obj, "get_compile_config") else None
    if compile_config is not None:
        serialized["compile_config"] = serialize_keras_object(compile_config)
    return serialized


def _activation_name(obj) -> str | None:
    from ..activations import Activation
    return obj.name if isinstance(obj, Activation) else None


def _serialize_function(fn) -> dict:
    module = registries.keras_module_of_function(fn)
    if module is not None:
        return {"module": module, "class_name": "function", "config": fn.__name__,
                "registered_name": fn.__name__}
    name = object_registration.get_registered_name(fn)
    return {"module": fn.__module__, "class_name": "function", "config": name, "registered_name": name}


def _layer_dtype_as_policy(obj, config: dict) -> None:
    """Keras 3 writes a layer's dtype as a ``DTypePolicy`` (an ``InputLayer``'s as a string)."""
    from ..layers.input_layer import InputLayer
    from ..layers.layer import Layer
    if isinstance(obj, Layer) and not isinstance(obj, InputLayer) and isinstance(config.get("dtype"), str):
        config["dtype"] = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": config["dtype"]},
                           "registered_name": None}


def _build_config(obj) -> dict | None:
    if hasattr(obj, "get_build_config"):
        return obj.get_build_config()
    from ..layers.input_layer import InputLayer
    from ..layers.layer import Layer
    if isinstance(obj, Layer) and not isinstance(obj, InputLayer) and obj.built and obj.input_spec_shape is not None:
        return {"input_shape": [None, *obj.input_spec_shape]}
    return None


# --- loading ----------------------------------------------------------------------------------
def deserialize_keras_object(config, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs):
    """Rebuild what :func:`serialize_keras_object` wrote, building only known classes.

    A config naming any other module or class raises ``ValueError``. ``custom_objects`` maps
    class names (or ``"Package>Name"``) to the user's own classes and functions. Python code a
    config stores (a ``Lambda`` layer's lambda) is refused unless ``safe_mode=False`` or
    ``lamina.config.enable_unsafe_deserialization()`` (see ``safe_mode.py``); an enclosing
    load's choice holds for the objects nested in it.

    >>> deserialize_keras_object({"module": "builtins", "class_name": "eval", "config": {}})
    Traceback (most recent call last):
    ...
    ValueError: Refusing to build builtins.eval from a config: it is not a lamina class, not registered with register_keras_serializable, and not in custom_objects
    """  # noqa: E501  (a doctest's expected error message is one line)
    if kwargs:
        raise TypeError(f"deserialize_keras_object got unexpected keyword argument(s) {sorted(kwargs)}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict, got {custom_objects!r}")
    custom_objects = {**object_registration.scoped_objects(), **(custom_objects or {})}
    scoped = safe_mode_lib.in_safe_mode()
    with limits.loading(), object_registration.CustomObjectScope(custom_objects), \
            safe_mode_lib.SafeModeScope(safe_mode if scoped is None else scoped):
        return _deserialize(config, custom_objects)


def _deserialize(config, custom_objects):
    with limits.loading() as budget, budget.nested():
        return _deserialize_value(config, custom_objects, budget)


def _deserialize_value(config, custom_objects, budget):
    if config is None or isinstance(config, _PLAIN):
        if isinstance(config, str) and config in custom_objects:
            return custom_objects[config]
        return config
    if isinstance(config, (list, tuple)):
        return [_deserialize(x, custom_objects) for x in config]
    if not isinstance(config, dict):
        raise ValueError(f"Cannot deserialize {type(config).__name__} {config!r}: expected a dict, list or value")
    if "class_name" not in config or "config" not in config:
        return {key: _deserialize(value, custom_objects) for key, value in config.items()}
    class_name, module = config["class_name"], config.get("module")
    registered_name = config.get("registered_name")
    inner = config["config"]
    if not isinstance(class_name, str) or not isinstance(module, (str, type(None))) \
            or not isinstance(registered_name, (str, type(None))):
        raise ValueError(f"Invalid serialized object: class_name, module and registered_name must be strings, "
                         f"got {config!r:.200}")
    special = _special(class_name, module, inner)
    if special is not _NOT_SPECIAL:
        return special
    if class_name == "function":
        return _find_function(module, inner, registered_name, custom_objects)
    cls = _find_class(module, class_name, registered_name, custom_objects)
    if isinstance(cls, types.FunctionType):
        return cls
    if not hasattr(cls, "from_config"):
        raise ValueError(f"Cannot build {class_name}: {cls!r} has no from_config()")
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise ValueError(f"The config of {class_name} must be a dict, got {type(inner).__name__}")
    from ..layers.input_layer import InputLayer
    from ..layers.layer import Layer
    from ..models.model import Model
    if isinstance(cls, type) and issubclass(cls, Layer) and not issubclass(cls, (Model, InputLayer)):
        budget.count_layer()  # the layers models hold; the models and their inputs are not counted
    if isinstance(cls, type) and _from_config_takes_custom_objects(cls):
        # Keras's rule: a from_config taking custom_objects deserializes its own config
        # (a Lambda's stored function must reach it undecoded, to be refused or rebuilt there)
        instance = cls.from_config(inner, custom_objects=custom_objects)
    elif isinstance(cls, type) and issubclass(cls, Model):
        instance = cls.from_config(inner)  # a user's own from_config(cls, config): the file's config, as in Keras
    else:
        inner = _without_newer_defaults(cls, {key: _nested(value, custom_objects) for key, value in inner.items()})
        instance = cls.from_config(inner)
    build_from_config(instance, config.get("build_config"))
    compile_config = config.get("compile_config")
    if compile_config and hasattr(instance, "compile_from_config"):
        instance.compile_from_config(compile_config)
    return instance


_NOT_SPECIAL = object()


def _special(class_name, module, inner):
    """The values Keras encodes with reserved class names, and dtype policies."""
    if class_name in ("__numpy__", "__tensor__"):
        if not isinstance(inner, dict) or inner.get("dtype") not in _NUMPY_DTYPES:
            raise ValueError(f"A serialized array needs a dtype among {_NUMPY_DTYPES}, got {inner!r:.200}")
        value = inner.get("value")
        if not isinstance(value, (list, int, float, bool)):
            raise ValueError(f"A serialized array needs a list of numbers, got {type(value).__name__}")
        return np.array(value, dtype=inner["dtype"])
    if class_name == "__lambda__":  # Keras's layout: {"value": [code, defaults, closure]}
        return safe_mode_lib.load_function(inner.get("value") if isinstance(inner, dict) else None)
    if class_name.startswith("__") and class_name.endswith("__"):
        raise ValueError(f"Unsupported serialized value {class_name!r} (lamina builds MLPs from plain configs)")
    if class_name in registries.DTYPE_POLICY_CLASSES and module in registries.DTYPE_POLICY_MODULES:
        name = inner.get("name") if isinstance(inner, dict) else None
        if not isinstance(name, str):
            raise ValueError(f"A DTypePolicy config needs a name, got {inner!r:.200}")
        return name
    return _NOT_SPECIAL


def _find_class(module, class_name, registered_name, custom_objects):
    return _find(module, class_name, registered_name, custom_objects, registries.find_class,
                 f"Refusing to build {module}.{class_name} from a config: it is not a lamina class, "
                 "not registered with register_keras_serializable, and not in custom_objects")


def _find_function(module, name, registered_name, custom_objects):
    return _find(module, name, registered_name, custom_objects, registries.find_function,
                 f"Refusing to use function {module}.{name} from a config: it is not one of lamina's "
                 "losses, metrics or activations, not registered, and not in custom_objects")


def _find(module, name, registered_name, custom_objects, find_in_lamina, refusal: str):
    """The object a config names: the caller's ``custom_objects`` first, then classes registered
    with ``register_keras_serializable``, then lamina's own; anything else is refused, since
    a model file is untrusted and nothing it names is imported."""
    for key in (registered_name, name):
        if isinstance(key, str) and key in custom_objects:
            return custom_objects[key]
    for key in (registered_name, name):  # a function's registered name is its config ("package>name")
        found = object_registration.get_registered_object(key) if isinstance(key, str) else None
        if found is not None:
            return found
    found = find_in_lamina(module, name)
    if found is None:
        raise ValueError(refusal)
    return found


def _nested(value, custom_objects):
    """Serialized objects inside a config (initializers, schedules...) become objects."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        return _deserialize(value, custom_objects)
    if isinstance(value, list):
        with limits.loading() as budget, budget.nested():
            return [_nested(x, custom_objects) for x in value]
    return value


def _without_newer_defaults(cls, config: dict) -> dict:
    accepted = _init_parameters(cls)
    if accepted is None:
        return config
    return {key: value for key, value in config.items()
            if key in accepted or key not in _NEWER_KERAS_DEFAULTS or value != _NEWER_KERAS_DEFAULTS[key]}


@functools.lru_cache(maxsize=512)
def _from_config_takes_custom_objects(cls) -> bool:
    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return False


@functools.lru_cache(maxsize=512)
def _init_parameters(cls) -> frozenset | None:
    """The parameter names of ``cls.__init__`` (looked up once per class: a long stack of
    layers would otherwise spend most of its loading time in ``inspect``)."""
    try:
        return frozenset(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):
        return None


def build_from_config(instance, build_config) -> None:
    """Build a deserialized layer from its ``build_config`` (its own ``build_from_config`` if it has
    one), unless there is none or it is built already."""
    from ..layers.layer import Layer
    if not build_config or not isinstance(instance, Layer) or instance.built:
        return
    if hasattr(instance, "build_from_config"):
        instance.build_from_config(build_config)
        return
    shape = build_config.get("input_shape") if isinstance(build_config, dict) else None
    if shape is None:
        return
    shape = limits.check_shape(shape, f"the build_config of {type(instance).__name__} '{instance.name}'")
    if hasattr(instance, "build_for"):
        instance.build_for(shape[1:])
    else:
        instance.build(shape)


def serialize_layer(layer) -> dict:
    """``keras.layers.serialize``: a layer (or model) as its serialized dict.

    >>> import lamina
    >>> lamina.layers.serialize(lamina.layers.Dense(2, name="d"))["config"]["units"]
    2
    """
    from ..layers.layer import Layer
    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize expects a layer, got {type(layer).__name__}")
    return serialize_keras_object(layer)


def deserialize_layer(config, custom_objects: dict | None = None):
    """``keras.layers.deserialize``: a new layer (or model) from ``layers.serialize`` output,
    built under the same rules as a file (only lamina's and the caller's classes).

    >>> import lamina
    >>> lamina.layers.deserialize(lamina.layers.serialize(lamina.layers.Dense(2, name="d"))).name
    'd'
    """
    from ..layers.layer import Layer
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"layers.deserialize expects a dict from layers.serialize, got {str(config)[:200]}")
    layer = deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(layer, Layer):
        raise ValueError(f"layers.deserialize built a {type(layer).__name__}, not a layer: the config names "
                         f"{config.get('class_name')!r}")
    return layer
