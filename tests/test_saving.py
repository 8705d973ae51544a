"""Saving and loading in Keras's native formats: file layout, round trips, resuming training,
atomic writes (configs and the user's classes: test_saving_configs.py)."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import lamina
from lamina import layers

from saving_models import data, small_model, trained

h5py = pytest.importorskip("h5py")


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
        model.load_weights(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"add '\.keras' for Keras's native format .* or '\.h5'"):
        model.save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"load_model reads '\.keras' files and legacy '\.h5'"):
        lamina.saving.load_model(tmp_path / "m.npz")
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



def test_missing_h5py_is_an_install_hint(tmp_path, monkeypatch):
    import sys

    model = lamina.Sequential([layers.Dense(2, input_shape=(3,))])
    monkeypatch.setitem(sys.modules, "h5py", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"needs h5py, which is not installed: pip install 'lamina\[files\]'"):
        model.save(str(tmp_path / "m.keras"))
