"""Saving and loading in Keras's native formats: file layout, round trips, resuming training,
configs of every registered class, custom classes, atomic writes."""
import inspect
import io
import json
import os
import zipfile

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.saving import registries

h5py = pytest.importorskip("h5py")


def small_model(optimizer="adam"):
    model = lamina.Sequential([
        lamina.Input((4,)),
        layers.Dense(5, activation="relu", name="hidden_a"),
        layers.Dense(3, activation="softmax", name="out"),
    ])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n)


def trained(optimizer="adam"):
    model = small_model(optimizer)
    model.fit(*data(), epochs=1, batch_size=8, verbose=0)
    return model


def read_entries(path):
    with zipfile.ZipFile(path) as zf:
        return {info.filename: (info.compress_type, zf.read(info)) for info in zf.infolist()}


# --- the file ------------------------------------------------------------------------------------
def test_keras_file_entries_are_stored_uncompressed(tmp_path):
    path = tmp_path / "m.keras"
    trained().save(path)
    entries = read_entries(path)
    assert list(entries) == ["metadata.json", "config.json", "model.weights.h5"]
    assert {kind for kind, _ in entries.values()} == {zipfile.ZIP_STORED}
    metadata = json.loads(entries["metadata.json"][1])
    assert metadata["keras_version"] == "3.8.0"
    assert set(metadata) == {"keras_version", "date_saved"}


def test_config_is_keras_serialized(tmp_path):
    path = tmp_path / "m.keras"
    trained().save(path)
    config = json.loads(read_entries(path)["config.json"][1])
    assert (config["module"], config["class_name"], config["registered_name"]) == ("keras", "Sequential", None)
    assert config["build_config"] == {"input_shape": [None, 4]}
    inner = config["config"]
    assert inner["dtype"] == {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                              "registered_name": None}
    first, dense = inner["layers"][0], inner["layers"][1]
    assert first["class_name"] == "InputLayer" and first["config"]["batch_shape"] == [None, 4]
    assert "build_config" not in first
    assert (dense["module"], dense["class_name"], dense["registered_name"]) == ("keras.layers", "Dense", None)
    assert dense["build_config"] == {"input_shape": [None, 4]}
    assert dense["config"]["activation"] == "relu"
    assert dense["config"]["kernel_initializer"] == {"module": "keras.initializers", "class_name": "GlorotUniform",
                                                     "config": {"seed": None}, "registered_name": None}
    compile_config = config["compile_config"]
    assert compile_config["optimizer"]["module"] == "keras.optimizers"
    assert compile_config["optimizer"]["class_name"] == "Adam"
    assert compile_config["loss"] == "sparse_categorical_crossentropy"
    assert compile_config["metrics"] == ["accuracy"]


def test_weights_layout_is_named_from_classes(tmp_path):
    path = tmp_path / "m.keras"
    model = trained()
    model.save(path)
    with h5py.File(io.BytesIO(read_entries(path)["model.weights.h5"][1])) as f:
        assert f["vars"].attrs["name"] == "sequential" and len(f["vars"]) == 0
        assert sorted(f["layers"]) == ["dense", "dense_1"]
        assert f["layers/dense/vars"].attrs["name"] == "hidden_a"
        np.testing.assert_array_equal(f["layers/dense/vars/0"][()], model.layers[0].kernel.value)
        np.testing.assert_array_equal(f["layers/dense_1/vars/1"][()], model.layers[1].bias.value)
        saved = [f[f"optimizer/vars/{i}"][()] for i in range(len(f["optimizer/vars"]))]
    current = [v.value for v in model.optimizer.variables]
    assert len(saved) == len(current) == 2 + 2 * 4  # iteration, learning rate, (momentum, velocity) x 4
    assert int(saved[0]) == 4 and saved[1] == np.float32(0.001)
    for a, b in zip(saved, current):
        np.testing.assert_array_equal(a, b)


def test_nested_sequential_has_its_own_layers_folder(tmp_path):
    inner = lamina.Sequential([layers.Dense(3), layers.BatchNormalization()], name="inner")
    model = lamina.Sequential([lamina.Input((4,)), inner, layers.Dense(2)])
    path = tmp_path / "nested.keras"
    model.save(path)
    with h5py.File(io.BytesIO(read_entries(path)["model.weights.h5"][1])) as f:
        names = []
        f.visit(names.append)
    assert "layers/sequential/layers/dense/vars/1" in names
    assert "layers/sequential/layers/batch_normalization/vars/3" in names
    assert "layers/dense/vars/0" in names
    restored = lamina.models.load_model(path)
    x = np.random.default_rng(1).normal(size=(5, 4))
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unbuilt_optimizer_is_saved_as_built_with_zero_slots(tmp_path):
    model = small_model(lamina.optimizers.SGD(momentum=0.9))
    path = tmp_path / "m.keras"
    model.save(path)
    assert not model.optimizer.built  # saving did not touch the model's optimizer
    with h5py.File(io.BytesIO(read_entries(path)["model.weights.h5"][1])) as f:
        assert len(f["optimizer/vars"]) == 2 + 4
        assert not f["optimizer/vars/5"][()].any()


# --- round trips -----------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["adam", "sgd", lamina.optimizers.SGD(momentum=0.9), "rmsprop"])
def test_load_model_restores_weights_compile_and_optimizer_state(tmp_path, optimizer):
    model = trained(optimizer)
    path = tmp_path / "m.keras"
    model.save(path)
    restored = lamina.saving.load_model(path)
    assert restored.compiled and type(restored.optimizer) is type(model.optimizer)
    assert [layer.name for layer in restored.layers] == ["hidden_a", "out"]
    for a, b in zip(restored.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(restored.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a.value, b.value)
    x, y = data(8, seed=5)
    np.testing.assert_allclose(restored.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0))


def test_load_model_without_compile(tmp_path):
    path = tmp_path / "m.keras"
    trained().save(path)
    restored = lamina.models.load_model(path, compile=False)
    assert not restored.compiled and restored.optimizer is None
    with pytest.raises(ValueError, match="compile"):
        restored.fit(*data(), verbose=0)


@pytest.mark.parametrize("optimizer", [lambda: lamina.optimizers.Adam(0.01),
                                       lambda: lamina.optimizers.SGD(0.05, momentum=0.9),
                                       lambda: lamina.optimizers.RMSprop(0.01, momentum=0.5, centered=True)])
def test_training_resumes_exactly_after_loading(tmp_path, optimizer):
    x, y = data(64)
    model = small_model(optimizer())
    lamina.random.set_seed(7)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    restored = lamina.saving.load_model(path)
    lamina.random.set_seed(99)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    lamina.random.set_seed(99)
    restored.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(restored.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(restored.optimizer.iterations.value) == int(model.optimizer.iterations.value) == 8


def test_learning_rate_schedule_round_trips(tmp_path):
    schedule = lamina.optimizers.schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)
    model = trained(lamina.optimizers.SGD(learning_rate=schedule))
    path = tmp_path / "m.keras"
    model.save(path)
    restored = lamina.saving.load_model(path)
    assert type(restored.optimizer._learning_rate).__name__ == "ExponentialDecay"
    assert restored.optimizer.learning_rate == pytest.approx(model.optimizer.learning_rate)
    assert len(restored.optimizer.variables) == 1  # iteration only: a schedule is not a variable


def test_save_weights_and_load_weights(tmp_path):
    model = trained()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    other = small_model()
    other.load_weights(path)
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    keras_path = tmp_path / "m.keras"
    model.save(keras_path)
    third = small_model()
    third.load_weights(keras_path)
    np.testing.assert_array_equal(third.layers[0].kernel.value, model.layers[0].kernel.value)


def test_weights_file_names_are_checked(tmp_path):
    model = small_model()
    with pytest.raises(ValueError, match=r"must end in '\.weights\.h5', got '.*m\.h5'"):
        model.save_weights(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"load_weights reads a file ending in '\.weights\.h5'"):
        model.load_weights(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"filepath must end in '\.keras'"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"load_model reads '\.keras' files"):
        lamina.saving.load_model(tmp_path / "m.weights.h5")
    with pytest.raises(TypeError, match="custom_objects must be a dict"):
        lamina.saving.load_model(tmp_path / "m.keras", custom_objects=["Dense"])
    with pytest.raises(TypeError, match="filepath must be a path"):
        model.save(42)


def test_load_weights_refuses_a_different_architecture_and_changes_nothing(tmp_path):
    path = tmp_path / "m.weights.h5"
    trained().save_weights(path)
    other = lamina.Sequential([lamina.Input((4,)), layers.Dense(5), layers.Dense(4)])
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"'layers/dense_1/vars/0' has shape \(5, 3\) but weight 0 of Dense"):
        other.load_weights(path)
    for a, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="is not built"):
        lamina.Sequential([layers.Dense(2)]).load_weights(path)


def test_overwrite_false_keeps_the_file(tmp_path):
    path = tmp_path / "m.keras"
    small_model().save(path)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        small_model().save(path, overwrite=False)
    weights = tmp_path / "m.weights.h5"
    small_model().save_weights(weights)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        small_model().save_weights(weights, overwrite=False)


# --- atomic writes -------------------------------------------------------------------------------
def test_a_failed_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    small_model().save(path)
    before = path.read_bytes()
    original = zipfile.ZipFile.writestr

    def failing(self, name, data, *args, **kwargs):
        if str(getattr(name, "filename", name)) == "model.weights.h5":
            raise OSError("disk full (simulated)")
        return original(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="simulated"):
        trained().save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]


def test_a_failed_save_weights_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.weights.h5"
    small_model().save_weights(path)
    before = path.read_bytes()

    def failing_fsync(fd):
        raise OSError("fsync failed (simulated)")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="simulated"):
        trained().save_weights(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.weights.h5"]


# --- configs -------------------------------------------------------------------------------------
_SAMPLE_ARGS = {"units": 3, "scale": 0.5, "target_shape": (2, 2), "rate": 0.25, "stddev": 0.1,
                "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9, "boundaries": [5],
                "values": [0.1, 0.01], "first_decay_steps": 10, "activation": "tanh", "value": 0.5,
                "thresholds": 0.5, "num_classes": 3, "axes": 1}
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


def test_missing_h5py_is_an_install_hint(tmp_path, monkeypatch):
    import sys

    model = lamina.Sequential([layers.Dense(2, input_shape=(3,))])
    monkeypatch.setitem(sys.modules, "h5py", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"needs h5py, which is not installed: pip install 'lamina\[files\]'"):
        model.save(str(tmp_path / "m.keras"))
