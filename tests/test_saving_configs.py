"""Saving: configs of every registered class, functions by name, JSON, and classes of the user's
own (registered or passed as custom_objects)."""
import inspect
import json

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.saving import registries

from saving_models import small_model

h5py = pytest.importorskip("h5py")


# --- configs -------------------------------------------------------------------------------------
_SAMPLE_ARGS = {"units": 3, "scale": 0.5, "target_shape": (2, 2), "rate": 0.25, "stddev": 0.1,
                "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9, "boundaries": [5],
                "values": [0.1, 0.01], "first_decay_steps": 10, "activation": "tanh", "value": 0.5,
                "thresholds": 0.5, "num_classes": 3, "axes": 1, "input_dim": 4, "output_dim": 2,
                "num_tokens": 3,
                "recall": 0.6, "precision": 0.7, "sensitivity": 0.8, "specificity": 0.9, "target_class_ids": [0, 2]}
# wrappers around a Python function: their config cannot hold the function (Keras saves those
# only for registered functions), so they have no from_config round trip
_FUNCTION_WRAPPERS = {"CustomLoss", "LossFunctionWrapper", "MeanMetricWrapper"}


_CLASS_ARGS = {"InputLayer": {"shape": (3,)},
               "Lambda": {"function": lamina.activations.relu}}  # a named function a file may name


def _instance(cls):
    if cls.__name__ in _CLASS_ARGS:
        return cls(**_CLASS_ARGS[cls.__name__])
    try:
        return cls()
    except TypeError:
        pass
    required = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.default is inspect.Parameter.empty and p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self"]
    missing = [name for name in required if name not in _SAMPLE_ARGS]
    if missing:
        pytest.fail(f"{cls.__name__} needs arguments {missing}: add sample values to _SAMPLE_ARGS")
    return cls(**{name: _SAMPLE_ARGS[name] for name in required})


def _registered():
    return [(module, cls) for module, classes in registries.registered_classes().items() for cls in classes
            if not inspect.isabstract(cls) and cls.__name__ not in _FUNCTION_WRAPPERS
            and cls.__name__ not in ("Optimizer", "LearningRateSchedule")]


@pytest.mark.parametrize("module,cls", _registered(), ids=lambda v: getattr(v, "__name__", v))
def test_every_registered_class_round_trips_through_its_config(module, cls):
    obj = _instance(cls)
    config = json.loads(json.dumps(lamina.saving.serialize_keras_object(obj)))
    assert (config["module"], config["class_name"], config["registered_name"]) == (module, cls.__name__, None)
    rebuilt = lamina.saving.deserialize_keras_object(config)
    assert type(rebuilt) is cls
    again = json.loads(json.dumps(lamina.saving.serialize_keras_object(rebuilt)))
    assert again["config"] == config["config"]


def test_functions_serialize_by_name():
    config = lamina.saving.serialize_keras_object(lamina.losses.mean_squared_error)
    assert config == {"module": "keras.losses", "class_name": "function", "config": "mean_squared_error",
                      "registered_name": "mean_squared_error"}
    assert lamina.saving.deserialize_keras_object(config) is lamina.losses.mean_squared_error
    relu = lamina.saving.deserialize_keras_object({"module": "keras.activations", "class_name": "function",
                                                   "config": "relu", "registered_name": "relu"})
    assert relu is lamina.activations.relu


def test_every_layer_in_a_model_survives_save_and_load(tmp_path):
    norm = layers.Normalization()
    norm.adapt(np.random.default_rng(0).normal(3, 2, size=(50, 6)))
    model = lamina.Sequential([
        lamina.Input((6,)), norm, layers.Rescaling(0.5, offset=0.1), layers.Dense(8, activation="elu"),
        layers.BatchNormalization(), layers.Dropout(0.2), layers.LayerNormalization(),
        layers.Reshape((2, 4)), layers.Flatten(), layers.Dense(2, activation="sigmoid")])
    model.compile(optimizer="adamw", loss="binary_crossentropy")
    rng = np.random.default_rng(3)
    model.fit(rng.normal(size=(32, 6)), rng.integers(0, 2, (32, 2)), epochs=1, verbose=0)
    path = tmp_path / "all.keras"
    model.save(path)
    restored = lamina.saving.load_model(path)
    x = rng.normal(size=(7, 6))
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=0, atol=0)
    assert [type(layer).__name__ for layer in restored.layers] == [type(layer).__name__ for layer in model.layers]


def test_to_json_and_model_from_json():
    model = small_model()
    text = model.to_json()
    assert json.loads(text)["class_name"] == "Sequential"
    clone = lamina.models.model_from_json(text)
    assert [layer.name for layer in clone.layers] == ["hidden_a", "out"]
    assert clone.output_shape == (None, 3) and clone.compiled
    with pytest.raises(ValueError, match="model_from_json got invalid JSON"):
        lamina.models.model_from_json("{not json")
    with pytest.raises(TypeError, match="expects a JSON string"):
        lamina.models.model_from_json(42)


def test_get_config_from_config_round_trip():
    model = small_model()
    config = model.get_config()
    assert config["build_input_shape"] == [None, 4]
    clone = lamina.Sequential.from_config(config)
    assert clone.get_config() == config
    assert clone.get_build_config() == {"input_shape": [None, 4]}
    assert model.get_compile_config()["loss"] == "sparse_categorical_crossentropy"
    with pytest.raises(ValueError, match="expects a dict with a 'layers' list"):
        lamina.Sequential.from_config({"name": "x"})


# --- user classes ----------------------------------------------------------------------------------
@lamina.saving.register_keras_serializable(package="Tests")
class Doubler(layers.Layer):
    """Multiplies by ``factor``."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def forward(self, x, training=False):
        return x * self.factor, None

    def backward(self, ctx, dy):
        return dy * self.factor, []

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Tripler(Doubler):
    """Not registered: loading needs ``custom_objects``."""


def test_registered_class_saves_with_its_registered_name(tmp_path):
    assert lamina.saving.get_registered_name(Doubler) == "Tests>Doubler"
    assert lamina.saving.get_registered_object("Tests>Doubler") is Doubler
    model = lamina.Sequential([lamina.Input((2,)), Doubler(3.0), layers.Dense(1)])
    config = lamina.saving.serialize_keras_object(model)["config"]["layers"][1]
    assert (config["class_name"], config["registered_name"]) == ("Doubler", "Tests>Doubler")
    path = tmp_path / "custom.keras"
    model.save(path)
    restored = lamina.saving.load_model(path)
    assert type(restored.layers[0]) is Doubler and restored.layers[0].factor == 3.0


def test_unregistered_class_needs_custom_objects(tmp_path):
    model = lamina.Sequential([lamina.Input((2,)), Tripler(1.5), layers.Dense(1)])
    path = tmp_path / "custom.keras"
    model.save(path)
    with pytest.raises(ValueError, match=r"Refusing to build .*Tripler"):
        lamina.saving.load_model(path)
    restored = lamina.saving.load_model(path, custom_objects={"Tripler": Tripler})
    assert type(restored.layers[0]) is Tripler
    with lamina.saving.custom_object_scope({"Tripler": Tripler}):
        assert type(lamina.saving.load_model(path).layers[0]) is Tripler


def test_register_checks_its_arguments():
    with pytest.raises(ValueError, match="package to be a str without '>'"):
        lamina.saving.register_keras_serializable(package="a>b")
    with pytest.raises(ValueError, match="must implement get_config"):
        lamina.saving.register_keras_serializable()(type("NoConfig", (), {}))
