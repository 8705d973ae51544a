"""Configs in Keras's legacy HDF5 layout, to and from the native one lamina deserializes.

Keras writes an ``.h5`` model's ``model_config`` with its legacy serializer: the model and each
layer are ``{"class_name": <registered name>, "config": <get_config()>}`` (a Functional model's
layers also keep ``name`` and ``inbound_nodes``), with no ``module`` or ``registered_name``; the
objects inside a layer's config (initializers, dtype policies) stay as the layer's ``get_config``
returns them, in the native layout (tf.keras 2 wrote them without a module: they are looked up).
``training_config`` holds the compile arguments with the optimizer as ``optimizer_config``. Going
back, each legacy entry gets the ``module`` under which lamina's registries look its class up, so
loading builds only what ``.keras`` loading builds.

>>> to_legacy({"module": "keras.layers", "class_name": "Dense", "config": {"units": 2},
...            "registered_name": None, "build_config": {"input_shape": [None, 3]}})
{'class_name': 'Dense', 'config': {'units': 2}}
>>> from_legacy({"class_name": "Dense", "config": {"units": 2}})["module"]
'keras.layers'
"""
from __future__ import annotations

from typing import Any

from . import registries

# Where a legacy model class name is looked up (Keras 3 writes "Functional", Keras 2 "Model").
_MODEL_MODULES = {"Sequential": "keras", "Functional": registries.FUNCTIONAL_MODULE, "Model": "keras.models"}
# Where an object with no module may come from, tried in turn (Keras's legacy "passive" objects).
_SEARCHED = ("keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints",
             "keras.optimizers.schedules", "keras.optimizers", "keras.losses", "keras.metrics")
_GRAPH_KEYS = ("name", "inbound_nodes")  # what a Functional model's layer entries keep beside the config
_PASSIVE = "__passive_serialization__"  # Keras's legacy mark on an object serialized inside a config


def _is_entry(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


# --- native -> legacy (saving) -----------------------------------------------------------------
def to_legacy(entry: dict) -> dict:
    """A natively serialized layer or model (``serialize_keras_object``) as Keras's legacy
    serializer writes it: the registered name as ``class_name``, a model's layers in turn."""
    name = entry.get("registered_name") or entry["class_name"]
    config = entry["config"]
    if name in _MODEL_MODULES and isinstance(config, dict) and isinstance(config.get("layers"), list):
        config = {**config, "layers": [_legacy_layer(layer) for layer in config["layers"]]}
    return {"class_name": name, "config": config}


def _legacy_layer(layer: dict) -> dict:
    legacy = to_legacy(layer)
    legacy.update({key: layer[key] for key in _GRAPH_KEYS if key in layer})
    return legacy


def model_config(model) -> dict:
    """The ``model_config`` attribute Keras writes: the model's class name and legacy config."""
    from .serialization_lib import serialize_keras_object
    serialized = serialize_keras_object(model)
    return {"class_name": type(model).__name__, "config": to_legacy(serialized)["config"]}


def training_config(model) -> dict | None:
    """The ``training_config`` attribute: the compile arguments, the optimizer apart as
    ``optimizer_config`` (``{"class_name", "config"}``); None for a model not compiled."""
    from .serialization_lib import serialize_keras_object
    compile_config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if not compile_config:
        return None
    config = {key: value for key, value in compile_config.items() if key != "optimizer"}
    optimizer = serialize_keras_object(model.optimizer)
    config["optimizer_config"] = {"class_name": optimizer.get("registered_name") or optimizer["class_name"],
                                  "config": optimizer["config"]}
    return config


# --- legacy -> native (loading) ----------------------------------------------------------------
def from_legacy(entry: Any, module: str = "keras.layers") -> Any:
    """A legacy entry in the native layout, ``module`` (or a model's module) added: the classes
    lamina has are found there; any other name becomes a ``registered_name`` that only
    ``custom_objects`` or ``register_keras_serializable`` can resolve. Anything that is not a
    legacy entry comes back as it is, for the deserializer to accept or refuse."""
    if not _is_entry(entry) or "module" in entry or not isinstance(entry["class_name"], str):
        return entry
    class_name, config = entry["class_name"], entry["config"]
    if class_name.startswith("__"):
        return entry  # Keras's reserved values (__numpy__, __lambda__...), handled by the deserializer
    registered = None
    if class_name in _MODEL_MODULES:
        module = _MODEL_MODULES[class_name]
        if isinstance(config, dict) and isinstance(config.get("layers"), list):
            config = {**config, "layers": [_native_layer(layer) for layer in config["layers"]]}
    elif ">" in class_name or registries.find_class(module, class_name) is None:
        module, registered, class_name = None, class_name, class_name.split(">")[-1]  # type: ignore[assignment]
    if isinstance(config, dict) and class_name not in _MODEL_MODULES:
        config = _keras2_layer_config(class_name, {key: _moduleless(value) for key, value in config.items()})
    return {"module": module, "class_name": class_name, "config": config, "registered_name": registered}


def _keras2_layer_config(class_name: str, config: dict) -> dict:
    """What Keras 2 (tf.keras) wrote differently in a layer's config, as Keras 3's loader reads it:
    ``batch_input_shape`` (an InputLayer's ``batch_shape``, another layer's input shape with the
    batch), and an ``axis`` of one element as a list."""
    config = dict(config)
    batch_input_shape = config.pop("batch_input_shape", None)
    if isinstance(batch_input_shape, list) and batch_input_shape:
        if class_name == "InputLayer":
            config.setdefault("batch_shape", batch_input_shape)
        else:
            config.setdefault("input_shape", batch_input_shape[1:])
    axis = config.get("axis")
    if isinstance(axis, list) and len(axis) == 1 and isinstance(axis[0], int):
        config["axis"] = axis[0]
    return config


def _native_layer(layer: Any) -> Any:
    native = from_legacy(layer)
    if isinstance(native, dict) and native is not layer and isinstance(layer, dict):
        native.update({key: layer[key] for key in _GRAPH_KEYS if key in layer})
    return native


def _moduleless(value: Any) -> Any:
    """An object written inside a config without a module (Keras's legacy serializer marks it
    passive; Keras 2 wrote initializers so): found in the first of lamina's modules that has its
    class."""
    if not (_is_entry(value) and "module" not in value):
        return value
    unmarked = {key: item for key, item in value.items() if key != _PASSIVE}
    name = unmarked["class_name"]
    for module in _SEARCHED:
        if isinstance(name, str) and registries.find_class(module, name) is not None:
            return from_legacy(unmarked, module)
    return from_legacy(unmarked, _SEARCHED[0])


def compile_config(training: Any) -> dict:
    """The native compile config of a legacy ``training_config``, for ``compile_from_config``."""
    if not isinstance(training, dict) or not isinstance(training.get("optimizer_config"), (dict, str)):
        raise ValueError(f"training_config must be a dict with an optimizer_config, got {training!r:.200}")
    return {"optimizer": from_legacy(training["optimizer_config"], "keras.optimizers"),
            "loss": _nested(training.get("loss"), "keras.losses"),
            "metrics": _nested(training.get("metrics"), "keras.metrics"),
            "weighted_metrics": _nested(training.get("weighted_metrics"), "keras.metrics"),
            "loss_weights": training.get("loss_weights")}


def _nested(value: Any, module: str) -> Any:
    """Losses or metrics as compile takes them (one, a list, a dict by output), each converted."""
    if _is_entry(value):
        return from_legacy(value, module)
    if isinstance(value, dict):
        return {key: _nested(item, module) for key, item in value.items()}
    if isinstance(value, list):
        return [_nested(item, module) for item in value]
    return value
