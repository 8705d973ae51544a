"""Legacy ``.h5`` files lamina did not write get the care ``.keras`` files get: damaged files, arrays
reached through links or of the wrong shape, configs naming code or asking for huge weights all
fail with a ValueError naming the file, before any weight changes; saving is atomic; the user's
classes come back only through ``custom_objects`` or registration, Lambdas only with
``safe_mode=False``; a subclassed model saves as Keras saves it and is refused when loaded, as Keras
refuses it."""
import json
import os
import shutil
import warnings

import numpy as np
import pytest

import lamina
from lamina import layers

h5py = pytest.importorskip("h5py")


@pytest.fixture(autouse=True)
def _quiet_legacy_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file")
        yield


def _model():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(5, activation="relu"), layers.BatchNormalization(),
                               layers.Dense(2)])
    model.compile(optimizer="adam", loss="mean_squared_error")
    model.fit(np.ones((8, 4)), np.zeros((8, 2)), epochs=1, verbose=0)
    return model


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "m.h5"
    _model().save(path)
    return path


def _edit_config(path, edit):
    with h5py.File(path, "a") as f:
        config = json.loads(f.attrs["model_config"])
        edit(config)
        f.attrs["model_config"] = json.dumps(config).encode()


@pytest.mark.parametrize("keep", [0, 100, 2000, 0.5, 0.9])
def test_a_truncated_file_is_a_value_error_naming_it(saved, tmp_path, keep):
    data = saved.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    with pytest.raises(ValueError, match=r"'.*cut\.h5' is not a readable HDF5 file .*truncated"):
        lamina.models.load_model(cut)
    model = _model()
    with pytest.raises(ValueError, match=r"cut\.h5"):
        model.load_weights(cut)


def test_a_file_that_is_not_hdf5_is_a_value_error_naming_it(tmp_path):
    path = tmp_path / "garbage.h5"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ValueError, match=r"'.*garbage\.h5' is not a readable HDF5 file"):
        lamina.models.load_model(path)


def test_a_weights_only_file_is_named_as_such(tmp_path):
    path = tmp_path / "m.weights.h5"
    _model().save_weights(path)
    with pytest.raises(ValueError, match=r"m\.weights\.h5': no model config found \(it holds weights only"):
        lamina.models.load_model(path)


def test_a_config_that_is_not_json_is_refused(saved):
    with h5py.File(saved, "a") as f:
        f.attrs["model_config"] = b"{not json"
    with pytest.raises(ValueError, match=r"m\.h5': attribute model_config is not valid JSON"):
        lamina.models.load_model(saved)


def test_a_training_config_that_cannot_compile_says_compile_false_loads_the_model(saved):
    with h5py.File(saved, "a") as f:
        training = json.loads(f.attrs["training_config"])
        training["optimizer_config"]["class_name"] = "NoSuchOptimizer"
        f.attrs["training_config"] = json.dumps(training).encode()
    with pytest.raises(ValueError, match=r"m\.h5': its training_config cannot compile the model .*NoSuchOptimizer"
                                         r".*compile=False\) loads it without compiling"):
        lamina.models.load_model(saved)
    assert not lamina.models.load_model(saved, compile=False).compiled


def test_a_config_attribute_past_the_bound_is_refused_before_it_is_read(saved, monkeypatch):
    # a fixed-length string declares its size (a variable-length one, as h5py writes, is bounded by
    # the file, then by its length once read)
    with h5py.File(saved, "a") as f:
        f.attrs["model_config"] = np.array(f.attrs["model_config"].encode())
    monkeypatch.setattr(lamina.saving.limits, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ValueError, match=r"m\.h5': attribute model_config stores [\d,]+ bytes, more than 100"):
        lamina.models.load_model(saved)


def test_a_class_outside_lamina_is_never_built(saved):
    _edit_config(saved, lambda c: c["config"]["layers"][1].update(class_name="os>system"))
    with pytest.raises(ValueError, match=r"m\.h5'.*Refusing to build .*system"):
        lamina.models.load_model(saved)


def test_a_config_asking_for_more_weights_than_the_file_holds_is_refused(saved):
    _edit_config(saved, lambda c: c["config"]["layers"][1]["config"].update(units=10**8))
    with pytest.raises(ValueError, match=r"m\.h5'.*would hold a weight of shape \(4, 100000000\).*refusing"):
        lamina.models.load_model(saved)


def test_a_weight_of_the_wrong_shape_changes_nothing(saved):
    with h5py.File(saved, "a") as f:
        del f["model_weights/dense_1/sequential/dense_1/kernel"]
        f["model_weights/dense_1/sequential/dense_1/kernel"] = np.zeros((6, 2), "float32")
    model = _model()
    before = [w.value.copy() for w in model.weights]
    with pytest.raises(ValueError, match=r"m\.h5'.*shape mismatch in layer #2 .*kernel.*\(5, 2\).*\(6, 2\)"):
        model.load_weights(saved)
    for w, b in zip(model.weights, before):
        np.testing.assert_array_equal(w.value, b)  # the first layers' weights, which did fit, too


def test_an_array_behind_an_external_link_is_refused(saved, tmp_path):
    with h5py.File(tmp_path / "other.h5", "w") as other:
        other["x"] = np.zeros((4, 5), "float32")
    with h5py.File(saved, "a") as f:
        del f["model_weights/dense/sequential/dense/kernel"]
        f["model_weights/dense/sequential/dense/kernel"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "x")
    with pytest.raises(ValueError, match=r"m\.h5'.*ExternalLink; links are not allowed"):
        lamina.models.load_model(saved)


def test_an_array_of_strings_is_refused_before_any_is_read(saved):
    with h5py.File(saved, "a") as f:
        del f["model_weights/dense/sequential/dense/bias"]
        f["model_weights/dense/sequential/dense/bias"] = np.array([b"1"] * 5)
    with pytest.raises(ValueError, match=r"m\.h5'.*dense/bias' holds \|S1 values, not numbers"):
        lamina.models.load_model(saved)


def test_an_optimizer_array_of_strings_is_refused_too(saved):
    with h5py.File(saved, "a") as f:
        group = f["optimizer_weights"]
        name = group.attrs["weight_names"][-1].decode()
        shape = group[name].shape
        del group[name]
        group[name] = np.full(shape, b"1")
    with pytest.raises(ValueError, match=r"m\.h5'.*holds \|S1 values, not numbers"):
        lamina.models.load_model(saved)


def test_a_layer_missing_from_the_file_is_refused(saved):
    with h5py.File(saved, "a") as f:
        names = [n for n in f["model_weights"].attrs["layer_names"] if n != b"batch_normalization"]
        f["model_weights"].attrs["layer_names"] = names
    with pytest.raises(ValueError, match=r"m\.h5'.*layer count mismatch: .*3 layers with weights, the file saves 2"):
        lamina.models.load_model(saved)


def test_optimizer_state_that_does_not_fit_leaves_a_fresh_optimizer_with_keras_s_warning(saved):
    with h5py.File(saved, "a") as f:
        names = list(f["optimizer_weights"].attrs["weight_names"])
        f["optimizer_weights"].attrs["weight_names"] = names[:-1]
    with pytest.warns(UserWarning, match="Error in loading the saved optimizer state"):
        model = lamina.models.load_model(saved)
    assert int(model.optimizer.iterations.value) == 0


def test_a_failed_save_leaves_the_previous_file(saved, monkeypatch):
    before = saved.read_bytes()

    def failing_fsync(fd):
        raise OSError("fsync failed (simulated)")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="simulated"):
        _model().save(saved)
    assert saved.read_bytes() == before
    assert sorted(os.listdir(saved.parent)) == ["m.h5"]


def test_overwrite_false_refuses_an_existing_file(saved):
    with pytest.raises(FileExistsError, match="overwrite=False"):
        _model().save(saved, overwrite=False)


def test_a_lambda_loads_only_with_safe_mode_false(tmp_path):
    path = tmp_path / "lambda.h5"
    lamina.Sequential([lamina.Input((2,)), layers.Lambda(lambda x: x * 2)]).save(path)
    with pytest.raises(ValueError, match=r"lambda\.h5'.*Refusing to load a Lambda layer .*safe_mode=False"):
        lamina.models.load_model(path, compile=False)
    model = lamina.models.load_model(path, compile=False, safe_mode=False)
    np.testing.assert_allclose(model.predict(np.ones((1, 2)), verbose=0), [[2, 2]])


@lamina.saving.register_keras_serializable(package="h5test")
class Twice(layers.Layer):
    def call(self, x):
        return x * 2


class PlusOne(layers.Layer):
    def call(self, x):
        return x + 1


def test_the_user_s_classes_come_back_registered_or_in_custom_objects(tmp_path):
    path = tmp_path / "custom.h5"
    model = lamina.Sequential([lamina.Input((2,)), Twice(), PlusOne(), layers.Dense(1)])
    model.save(path)
    with h5py.File(path) as f:
        names = [layer["class_name"] for layer in json.loads(f.attrs["model_config"])["config"]["layers"]]
    assert names == ["InputLayer", "h5test>Twice", "PlusOne", "Dense"]  # Keras's legacy names
    with pytest.raises(ValueError, match=r"custom\.h5'.*Refusing to build .*PlusOne"):
        lamina.models.load_model(path, compile=False)
    restored = lamina.models.load_model(path, compile=False, custom_objects={"PlusOne": PlusOne})
    x = np.ones((3, 2))
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


class Subclassed(lamina.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(2)

    def call(self, x):
        return self.dense(x)


def test_a_subclassed_model_saves_as_keras_saves_it_and_is_refused_when_loaded(tmp_path):
    model = Subclassed()
    model(np.ones((1, 3)))
    path = tmp_path / "sub.h5"
    model.save(path)
    with h5py.File(path) as f:
        assert json.loads(f.attrs["model_config"])["class_name"] == "Subclassed"
        assert f["model_weights"].attrs["layer_names"].tolist() == [model.dense.name.encode()]
    with pytest.raises(ValueError, match=r"sub\.h5'.*layer count mismatch.*not built: a subclassed model"):
        lamina.models.load_model(path, custom_objects={"Subclassed": Subclassed})
    other = Subclassed()
    other(np.ones((1, 3)))
    other.load_weights(path)  # a built one takes the weights, as in Keras
    np.testing.assert_array_equal(other.dense.kernel.value, model.dense.kernel.value)


def test_hdf5_suffix_and_a_copy_elsewhere_load(saved, tmp_path):
    copy = tmp_path / "copy.hdf5"
    shutil.copy(saved, copy)
    x = np.ones((2, 4))
    np.testing.assert_array_equal(lamina.models.load_model(copy).predict(x, verbose=0),
                                  lamina.models.load_model(saved).predict(x, verbose=0))


def test_names_past_hdf5_s_header_limit_are_split_as_keras_splits_them(tmp_path):
    # 300 names of 224 bytes: over the 64,512 bytes an attribute may take in an object header
    model = lamina.Sequential([lamina.Input((3,))] + [layers.Dense(3, name="n" * 220 + f"{i:04d}") for i in range(300)])
    path = tmp_path / "long.h5"
    model.save(path)
    with h5py.File(path) as f:
        assert sorted(f["model_weights"].attrs) == ["backend", "keras_version", "layer_names0", "layer_names1"]
    restored, x = lamina.models.load_model(path, compile=False), np.ones((2, 3))
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def my_loss(y_true, y_pred):
    return lamina.ops.mean((y_true - y_pred) ** 2, axis=-1)


def test_a_custom_loss_comes_back_only_through_custom_objects(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(0.1, momentum=0.5), loss=my_loss,
                  metrics=[lamina.metrics.MeanAbsoluteError()])
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    path = tmp_path / "loss.h5"
    model.save(path)
    with pytest.raises(ValueError, match=r"loss\.h5'.*Refusing to use function .*my_loss"):
        lamina.models.load_model(path)
    restored = lamina.models.load_model(path, custom_objects={"my_loss": my_loss})
    assert restored.loss is my_loss and int(restored.optimizer.iterations.value) == 1
    np.testing.assert_array_equal(restored.optimizer.variables[-1].value, model.optimizer.variables[-1].value)


def test_save_format_is_deprecated_as_in_keras_3(tmp_path):
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
    with pytest.warns(UserWarning, match=r"`save_format` argument is deprecated in Keras 3.*save_format=h5"):
        model.save(tmp_path / "m.h5", save_format="h5")
    assert h5py.is_hdf5(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"pass a file path with either `\.keras` or `\.h5` extension"):
        model.save(tmp_path / "m", save_format="h5")
    assert sorted(os.listdir(tmp_path)) == ["m.h5"]


def test_keras_models_save_model_writes_h5_as_tf_keras_programs_call_it(tmp_path):
    import lamina as tf
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    tf.keras.models.save_model(model, tmp_path / "m.h5")
    x = np.ones((1, 2))
    np.testing.assert_array_equal(tf.keras.models.load_model(tmp_path / "m.h5", compile=False).predict(x, verbose=0),
                                  model.predict(x, verbose=0))
