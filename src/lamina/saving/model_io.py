"""``ModelIO``: what a model adds to be saved and rebuilt (``save``, ``save_weights``,
``load_weights``, ``get_config`` / ``from_config``, ``to_json``, the compile and build configs).

``Sequential`` mixes it in; the work happens in ``saving_lib`` and ``serialization_lib``.

>>> import lamina
>>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
>>> [layer["class_name"] for layer in model.get_config()["layers"]]
['InputLayer', 'Dense']
"""
from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any
import json

from . import limits
from .serialization_lib import build_from_config, deserialize_keras_object, serialize_keras_object


class ModelIO:
    """Saving, loading and configs for a model of stacked layers."""

    # what saving uses of the Model it is mixed into (declared for a type checker)
    name: Any
    dtype: Any
    trainable: Any
    built: Any
    layers: Any
    optimizer: Any
    trainable_weights: Any
    input_spec_shape: Any
    _input_layer: Any
    _traced_input: Any
    add: Any
    build: Any
    compile: Any

    if TYPE_CHECKING:
        def __init__(self, *args: Any, **kwargs: Any) -> None:  # the Model's (for from_config's cls(...))
            ...

    # --- files ---------------------------------------------------------------------------------
    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True,
             save_format: str | None = None) -> None:
        """Save architecture, weights, compile settings and optimizer state to a ``.keras`` file,
        or to Keras's legacy HDF5 format for a name ending in ``.h5`` / ``.hdf5`` (Keras warns
        that it is legacy; ``include_optimizer=False`` leaves the optimizer out of it; tf.keras's
        ``save_format`` is deprecated as in Keras 3: the name decides).

        >>> import os, tempfile, lamina
        >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
        >>> model.save(os.path.join(tempfile.mkdtemp(), "model.keras"))
        """
        from . import saving_lib  # zipfile and the archive code: loaded when a file is first written or read

        saving_lib.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer,
                              save_format=save_format)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights (and optimizer state) to a file whose name ends in ``.weights.h5``."""
        from . import saving_lib

        saving_lib.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False, **kwargs: Any) -> None:
        """Load weights saved by ``save_weights`` (or from a ``.keras`` or legacy ``.h5`` file) into
        this model; for a legacy ``.h5`` file ``by_name=True`` matches layers by name and
        ``skip_mismatch=True`` skips, with a warning, what does not fit (as in Keras)."""
        from . import saving_lib

        saving_lib.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    # --- configs -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras's config: a Sequential's layers, a Functional model's graph (layers with their
        ``inbound_nodes``, ``input_layers``, ``output_layers``), or for a subclassed model the
        base ``name``, ``trainable`` and ``dtype`` its own ``get_config`` adds to."""
        from ..models import functional_config
        from ..models.sequential import Sequential
        if isinstance(self, Sequential):
            return self._sequential_config()
        if getattr(self, "_graph", None) is not None and functional_config.functional_like_constructor(type(self)):
            return functional_config.get_config(self)
        from ..layers.layer import Layer
        return Layer.get_config(self)  # type: ignore[arg-type]  # ModelIO is mixed into a Layer

    def _sequential_config(self) -> dict:
        """Keras's Sequential config: name, trainable, dtype, the serialized layers (an
        ``InputLayer`` first when the input shape is known) and ``build_input_shape``."""
        layers = []
        if self._input_layer is not None:
            layers.append(serialize_keras_object(self._input_layer))
        elif self.input_spec_shape is not None:
            layers.append({"module": "keras.layers", "class_name": "InputLayer",
                           "config": {"batch_shape": [None, *self.input_spec_shape], "dtype": self.dtype,
                                      "sparse": False, "name": "input_layer"},
                           "registered_name": None})
        layers += [serialize_keras_object(layer) for layer in self.layers]
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype, "layers": layers}
        if self.input_spec_shape is not None:
            config["build_input_shape"] = [None, *self.input_spec_shape]
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """A new model from ``get_config()`` output (a Keras config works too): a Sequential, a
        Functional model (fresh weights), or ``cls(**config)`` for a subclassed model.

        >>> import lamina
        >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
        >>> lamina.Sequential.from_config(model.get_config()).output_shape
        (None, 2)
        """
        from ..models import functional_config
        from ..models.sequential import Sequential
        if issubclass(cls, Sequential):
            return cls._sequential_from_config(config, custom_objects)
        if not isinstance(config, dict):
            raise ValueError(f"{cls.__name__}.from_config expects a dict, got {config!r:.200}")
        with limits.loading(), _scope(custom_objects):
            if functional_config.is_functional_config(config) and functional_config.functional_like_constructor(cls):
                return functional_config.from_config(cls, config, custom_objects)
            try:
                return cls(**config)
            except TypeError as error:
                raise TypeError(f"Unable to revive model {cls.__name__} from config {str(config)[:200]}: {error}. "
                                "When overriding get_config, return every argument __init__ needs, or define "
                                "from_config(cls, config)") from None

    @classmethod
    def _sequential_from_config(cls, config: dict, custom_objects: dict | None = None):
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError(f"{cls.__name__}.from_config expects a dict with a 'layers' list, got {config!r:.200}")
        with limits.loading(), _scope(custom_objects):
            input_layer, layers, first_build_shape = _deserialize_layers(cls.__name__, config["layers"],
                                                                         custom_objects)
            dtype = deserialize_keras_object(config.get("dtype"), custom_objects)
            shape = _input_shape(input_layer, config.get("build_input_shape"), first_build_shape)
            model = cls(name=config.get("name"), trainable=config.get("trainable", True),
                        **({"dtype": dtype} if isinstance(dtype, str) else {}))
            model._adopt_layers(input_layer, layers)
            if shape is not None and layers and not model.built:
                model.build(shape)
        return model

    def _adopt_layers(self, input_layer, layers: list) -> None:
        """Take the loaded layers: each ``add`` extends the chain by one symbolic call, so a long
        stack loads in time linear in its length (a Keras 2 ``batch_input_shape`` on the first
        layer sets the input as ``add`` reads it)."""
        if input_layer is not None:
            self.add(input_layer)
        for layer in layers:
            self.add(layer)

    def to_json(self, **kwargs) -> str:
        """The serialized model as JSON (``json.dumps`` options pass through).

        >>> import lamina
        >>> lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)]).to_json()[:30]
        '{"module": "keras", "class_nam'
        """
        return json.dumps(serialize_keras_object(self), **kwargs)

    def get_build_config(self) -> dict | None:
        """``{"input_shape": [None, ...]}`` once built, as Keras writes it."""
        shape = self.input_spec_shape
        if shape is None and _is_subclassed(self) and getattr(self, "_traced_input", None) is not None:
            shape = self._traced_input[0]  # trained before ever being called: the shape fit traced it for
        if shape is None:
            return None
        return {"input_shape": [None, *shape]}

    def build_from_config(self, config: dict) -> None:
        """Build for ``config["input_shape"]`` (a ``get_build_config()`` dict)."""
        if config and config.get("input_shape") is not None:
            shape = limits.check_shape(config["input_shape"], f"the build_config of model '{self.name}'")
            with limits.loading():
                if _is_subclassed(self):
                    _build_by_calling(self, shape)
                else:
                    self.build(shape)

    def get_compile_config(self) -> dict | None:
        """The arguments ``compile`` got, serialized (the optimizer as the object in use)."""
        if not getattr(self, "compiled", False):
            return None
        args = getattr(self, "_compile_args", {})
        return {"optimizer": serialize_keras_object(self.optimizer),
                "loss": serialize_keras_object(args.get("loss")),
                "loss_weights": serialize_keras_object(args.get("loss_weights")),
                "metrics": serialize_keras_object(args.get("metrics") or None),
                "weighted_metrics": serialize_keras_object(args.get("weighted_metrics")),
                "run_eagerly": False, "steps_per_execution": 1, "jit_compile": "auto"}

    def compile_from_config(self, config: dict) -> None:
        """``compile`` with a ``get_compile_config()`` dict; the optimizer is built so saved
        state can be loaded into it."""
        if not isinstance(config, dict):
            raise ValueError(f"compile_config must be a dict, got {config!r:.200}")
        config = deserialize_keras_object(config)
        accepted = inspect.signature(self.compile).parameters
        self.compile(**{key: value for key, value in config.items() if key in accepted})
        if self.built:
            self.optimizer.build(self.trainable_weights)


def _is_subclassed(model) -> bool:
    return getattr(model, "_graph", None) is None and not hasattr(model, "add")


def _build_by_calling(model, shape: tuple) -> None:
    """A subclassed model makes its weights in its ``call``: call it once on one sample of zeros
    of the saved shape (Keras builds it by calling it too); the sample must fit the budget of a
    config."""
    import math

    import numpy as np
    sample = tuple(1 if d is None else d for d in shape[1:])
    if math.prod(sample) > limits.MAX_CONFIG_ELEMENTS:
        raise ValueError(f"The build_config of model '{model.name}' asks for inputs of shape {shape}: more than "
                         f"{limits.MAX_CONFIG_ELEMENTS:,} numbers per sample; refusing to build it")
    if model.built and model.weights:
        return
    model(np.zeros((1, *sample), dtype=model.dtype))


def _deserialize_layers(owner: str, configs: list, custom_objects):
    """The InputLayer (or None), the other layers (unbuilt) and the first one's build shape."""
    from ..layers.input_layer import InputLayer
    from ..layers.layer import Layer
    from ..layers.layer_graph import GraphSide
    layers: list = []
    input_layer, first_build_shape = None, None
    for layer_config in configs:
        if not isinstance(layer_config, dict):
            raise ValueError(f"{owner}.from_config: each layer must be a serialized dict, got {layer_config!r:.200}")
        if not layers and isinstance(layer_config.get("build_config"), dict):
            first_build_shape = layer_config["build_config"].get("input_shape")
        unbuilt = {k: v for k, v in layer_config.items() if k != "build_config"}
        layer = deserialize_keras_object(unbuilt, custom_objects)
        if not isinstance(layer, Layer):
            raise ValueError(f"{owner}.from_config: each layer must be a layer, got {type(layer).__name__}")
        if type(layer).build_from_config is not GraphSide.build_from_config:
            # a layer with its own build_from_config (a build that takes more than a shape) builds
            # from its build_config, as Keras builds every layer; the others build in the chain below
            build_from_config(layer, layer_config.get("build_config"))
        if isinstance(layer, InputLayer):
            if input_layer is not None or layers:
                raise ValueError(f"{owner} can take an InputLayer only as its first layer")
            input_layer = layer
        else:
            layers.append(layer)
    return input_layer, layers, first_build_shape


def _input_shape(input_layer, build_input_shape, first_build_shape):
    if input_layer is not None:
        return (None, *input_layer.shape)
    for shape, what in ((build_input_shape, "build_input_shape"),
                        (first_build_shape, "the first layer's build_config")):
        if shape is not None:
            return limits.check_shape(shape, what)
    return None


def _scope(custom_objects):
    from .object_registration import CustomObjectScope
    return CustomObjectScope(custom_objects)
