"""Keras's legacy HDF5 model format (``.h5``): Keras 3's files in lamina and lamina's in Keras 3.

Keras runs in a subprocess (JAX backend), as in ``test_saving_interop.py``: it saves models to
``.h5`` with their predictions, optimizer variables and the predictions after one more training
step; lamina loads each and must agree to 1e-5 (and the other way round). The models cover a
Sequential (Normalization, BatchNormalization, Dropout) and a two-input Functional model, compiled
with Adam and metrics.
"""
import json
import warnings

import numpy as np
import pytest

import lamina
from lamina import layers

from keras_subprocess import NEEDS_KERAS, PYTHONS, run_keras

pytest.importorskip("h5py")

pytestmark = NEEDS_KERAS


# The same models, written once over a module K (lamina or keras): the data, then the models.
_MODELS = """
rng = np.random.default_rng(0)
xs, ys = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 3, 32)
xa, xb, yf = (rng.normal(size=(32, 3)).astype("float32"), rng.normal(size=(32, 2)).astype("float32"),
              rng.normal(size=(32, 1)).astype("float32"))
def sequential():
    norm = K.layers.Normalization()
    norm.adapt(rng.normal(2, 3, size=(64, 4)).astype("float32"))
    model = K.Sequential([K.Input((4,)), norm, K.layers.Dense(8, activation="relu"), K.layers.BatchNormalization(),
                          K.layers.Dropout(0.3), K.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=K.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xs, ys, epochs=2, batch_size=16, verbose=0)
    return model, xs[:5], (xs, ys)
def functional():
    a, b = K.Input((3,), name="a"), K.Input((2,), name="b")
    h = K.layers.BatchNormalization()(K.layers.Dense(4, activation="tanh")(a))
    out = K.layers.Dense(1, name="out")(K.layers.Concatenate()([h, b]))
    model = K.Model([a, b], out)
    # "mean_squared_error", not "mse": Keras 3.15 cannot load an .h5 file compiled with "mse", its own
    # files included ("Could not deserialize 'keras.metrics.mse'"); lamina can
    model.compile(optimizer=K.optimizers.Adam(0.01), loss="mean_squared_error", metrics=["mae"])
    model.fit([xa, xb], yf, epochs=2, batch_size=16, verbose=0)
    return model, [xa[:5], xb[:5]], ([xa, xb], yf)
def record(model, x, train, path):
    # what the other side must find: predictions, optimizer state, predictions after one more step
    before = model.predict(x, verbose=0)
    state = [np.asarray(v) for v in model.optimizer.variables] if model.compiled else []
    model.fit(*train, epochs=1, batch_size=32, shuffle=False, verbose=0)
    return {"path": path, "y": before.tolist(), "state": [s.tolist() for s in state],
            "after": model.predict(x, verbose=0).tolist()}
"""

_SAVE_IN_KERAS = """
import json, sys, os, numpy as np, keras as K
folder = sys.argv[1]
K.utils.set_random_seed(0)
""" + _MODELS + """
spec = {}
for name, make in (("sequential", sequential), ("functional", functional)):
    model, x, train = make()
    path = os.path.join(folder, name + (".hdf5" if name == "functional" else ".h5"))
    model.save(path)
    spec[name] = record(model, x, train, path)
print(json.dumps({"version": K.__version__, "models": spec}))
"""


def _assert_agrees(model, x, expected, train, where):
    """Predictions and optimizer state as Keras saved them; one more step as Keras took it (where
    no Dropout draws its own random mask) or at least one more step counted."""
    np.testing.assert_allclose(model.predict(x, verbose=0), expected["y"], rtol=1e-5, atol=1e-5, err_msg=where)
    state = [np.asarray(v.value) for v in model.optimizer.variables]
    assert len(state) == len(expected["state"]) > 2, where
    for ours, theirs in zip(state, expected["state"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7, err_msg=f"{where}: optimizer state")
    model.fit(*train, epochs=1, batch_size=32, shuffle=False, verbose=0)
    assert int(model.optimizer.iterations.value) == int(expected["state"][0]) + 1, where
    if not any(isinstance(layer, layers.Dropout) for layer in model.layers):
        np.testing.assert_allclose(model.predict(x, verbose=0), expected["after"], rtol=1e-5, atol=1e-5,
                                   err_msg=f"{where}: after one more training step")


def _data(name):
    namespace = {"K": lamina, "np": np}
    exec(compile(_MODELS, "<models>", "exec"), namespace)  # noqa: S102  (the test's own code)
    model, x, train = namespace[name]()
    return namespace, model, x, train


@pytest.mark.parametrize("python", PYTHONS)
def test_lamina_loads_keras_h5_files_and_trains_on(tmp_path, python):
    results = run_keras(python, _SAVE_IN_KERAS, str(tmp_path))
    version = results["version"]
    for name, expected in results["models"].items():
        _, _, x, train = _data(name)
        model = lamina.models.load_model(expected["path"])
        assert model.compiled and type(model.optimizer).__name__ == "Adam", f"Keras {version}, {name}"
        _assert_agrees(model, x, expected, train, f"Keras {version}, {name}")
        assert "accuracy" in str(model.get_compile_config()["metrics"]) or name == "functional"


@pytest.mark.parametrize("python", PYTHONS)
def test_keras_h5_weights_load_into_a_lamina_model(tmp_path, python):
    results = run_keras(python, _SAVE_IN_KERAS, str(tmp_path))
    for name, expected in results["models"].items():
        _, fresh, x, _ = _data(name)  # same architecture, other weights
        fresh.load_weights(expected["path"])
        np.testing.assert_allclose(fresh.predict(x, verbose=0), expected["y"], rtol=1e-5, atol=1e-5, err_msg=name)


# Keras 3.15 (JAX) cannot train a compiled model it loads from .h5, its own files included: it builds
# the optimizer for no variables, so the saved state does not fit (it warns, "Error in loading the
# saved optimizer state") and fit fails. Keras is asked for what it can give: predictions, the
# compile settings, and load_weights into a model of its own.
_LOAD_IN_KERAS = """
import json, sys, numpy as np, keras as K
spec = json.load(open(sys.argv[1]))
""" + _MODELS + """
results = {"version": K.__version__}
for name, item in spec.items():
    model = K.saving.load_model(item["path"])
    x = [np.asarray(v, "float32") for v in item["x"]] if name == "functional" else np.asarray(item["x"], "float32")
    results[name] = {"y": model.predict(x, verbose=0).tolist(), "compiled": model.compiled,
                     "optimizer": type(model.optimizer).__name__,
                     "learning_rate": float(np.asarray(model.optimizer.learning_rate))}
    if item.get("weights_into"):
        other, _, _ = sequential() if name == "sequential" else functional()
        other.load_weights(item["path"])
        results[name]["weights"] = other.predict(x, verbose=0).tolist()
print(json.dumps(results))
"""


def _lamina_spec(tmp_path):
    """What Keras is told about lamina's files, and lamina's predictions for each."""
    spec, expected = {}, {}
    for name in ("sequential", "functional"):
        _, model, x, _ = _data(name)
        path = str(tmp_path / f"{name}.h5")
        with pytest.warns(UserWarning, match=r"saving your model as an HDF5 file .* considered legacy"):
            model.save(path)
        xs = [v.tolist() for v in x] if isinstance(x, list) else x.tolist()
        spec[name] = {"path": path, "x": xs, "weights_into": True}
        expected[name] = model.predict(x, verbose=0)
    return spec, expected


@pytest.mark.parametrize("python", PYTHONS)
def test_keras_loads_lamina_h5_files(tmp_path, python):
    spec, expected = _lamina_spec(tmp_path)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    results = run_keras(python, _LOAD_IN_KERAS, str(tmp_path / "spec.json"))
    version = results.pop("version")
    assert sorted(results) == ["functional", "sequential"]
    for name, theirs in results.items():
        where = f"Keras {version}, {name}"
        np.testing.assert_allclose(theirs["y"], expected[name], rtol=1e-5, atol=1e-5, err_msg=where)
        np.testing.assert_allclose(theirs["weights"], expected[name], rtol=1e-5, atol=1e-5, err_msg=f"{where}: weights")
        assert theirs["compiled"] and theirs["optimizer"] == "Adam", where
        assert theirs["learning_rate"] == pytest.approx(0.01), where


@pytest.mark.parametrize("python", PYTHONS)
def test_model_checkpoint_writes_h5_files_keras_loads(tmp_path, python):
    _, model, x, train = _data("sequential")
    path = tmp_path / "best-{epoch}.h5"
    checkpoint = lamina.callbacks.ModelCheckpoint(str(path), monitor="loss", save_best_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras's legacy-format warning, once per save
        model.fit(*train, epochs=2, verbose=0, callbacks=[checkpoint])
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved and all(name.endswith(".h5") for name in saved)
    last = str(tmp_path / saved[-1])
    (tmp_path / "spec.json").write_text(json.dumps({"sequential": {"path": last, "x": x.tolist()}}))
    theirs = run_keras(python, _LOAD_IN_KERAS, str(tmp_path / "spec.json"))["sequential"]
    np.testing.assert_allclose(theirs["y"], lamina.models.load_model(last).predict(x, verbose=0), rtol=1e-5,
                               atol=1e-5)
    assert theirs["compiled"]


def test_a_round_trip_in_lamina_keeps_everything(tmp_path):
    _, model, x, train = _data("functional")
    path = tmp_path / "m.h5"
    with pytest.warns(UserWarning, match="legacy"):
        lamina.saving.save_model(model, path)
    restored = lamina.saving.load_model(path)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [v.path for v in restored.optimizer.variables] == [v.path for v in model.optimizer.variables]
    for a, b in zip(restored.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a.value, b.value)
    uncompiled = lamina.saving.load_model(path, compile=False)
    assert not uncompiled.compiled
    np.testing.assert_array_equal(uncompiled.predict(x, verbose=0), model.predict(x, verbose=0))


def test_include_optimizer_false_leaves_out_the_optimizer(tmp_path):
    import h5py
    _, model, x, _ = _data("sequential")
    path = tmp_path / "m.h5"
    with pytest.warns(UserWarning, match="legacy"):
        model.save(path, include_optimizer=False)
    with h5py.File(path) as f:
        assert "optimizer_weights" not in f and "training_config" not in f.attrs
        assert json.loads(f.attrs["model_config"])["class_name"] == "Sequential"
    with pytest.warns(UserWarning, match=r"No training configuration found .* \*not\* compiled"):
        restored = lamina.saving.load_model(path)
    assert not restored.compiled


def test_the_file_layout_is_keras_s(tmp_path):
    import h5py
    _, model, _, _ = _data("sequential")
    path = tmp_path / "m.h5"
    with pytest.warns(UserWarning, match="legacy"):
        model.save(path)
    with h5py.File(path) as f:
        assert sorted(f.attrs) == ["backend", "keras_version", "model_config", "training_config"]
        config = json.loads(f.attrs["model_config"])
        assert [layer["class_name"] for layer in config["config"]["layers"]] == [
            "InputLayer", "Normalization", "Dense", "BatchNormalization", "Dropout", "Dense"]
        assert all(set(layer) == {"class_name", "config"} for layer in config["config"]["layers"])
        assert json.loads(f.attrs["training_config"])["optimizer_config"]["class_name"] == "Adam"
        weights = f["model_weights"]
        assert [n.decode() for n in weights.attrs["layer_names"]] == [layer.name for layer in model.layers]
        assert [n.decode() for n in weights["batch_normalization"].attrs["weight_names"]] == [
            f"sequential/batch_normalization/{w}" for w in ("gamma", "beta", "moving_mean", "moving_variance")]
        assert weights["dense/sequential/dense/kernel"].shape == (4, 8)
        names = [n.decode() for n in f["optimizer_weights"].attrs["weight_names"]]
        assert names[:2] == ["adam/iteration", "adam/learning_rate"] and len(names) == 2 + 2 * 6


def _write_keras2_file(path, rng):
    """An .h5 file in the layout tf.keras 2.x wrote (as its published model configs show): an
    InputLayer with ``batch_input_shape``, dtypes as strings, initializers without a module, an
    ``axis`` as a list, ``activity_regularizer``, weights named ``dense/kernel:0``. Keras 3's own
    loader is the reference for what it means."""
    import h5py
    init = {"kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    layers_config = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "dense_input"}},
        {"class_name": "Dense", "config": {"name": "dense", "trainable": True, "batch_input_shape": [None, 4],
                                           "dtype": "float32", "units": 5, "activation": "relu", "use_bias": True,
                                           **init}},
        {"class_name": "BatchNormalization", "config": {
            "name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [1], "momentum": 0.99,
            "epsilon": 0.001, "center": True, "scale": True,
            **{f"{w}_initializer": {"class_name": c, "config": {}} for w, c in (
                ("beta", "Zeros"), ("gamma", "Ones"), ("moving_mean", "Zeros"), ("moving_variance", "Ones"))},
            "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}},
        {"class_name": "Dropout", "config": {"name": "dropout", "trainable": True, "dtype": "float32", "rate": 0.2,
                                             "noise_shape": None, "seed": None}},
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "dtype": "float32", "units": 3,
                                           "activation": "softmax", "use_bias": True, **init}}]
    weights = {"dense": {"kernel:0": (4, 5), "bias:0": (5,)},
               "batch_normalization": {"gamma:0": (5,), "beta:0": (5,), "moving_mean:0": (5,),
                                       "moving_variance:0": (5,)},
               "dropout": {}, "dense_1": {"kernel:0": (5, 3), "bias:0": (3,)}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"], f.attrs["backend"] = "2.12.0", "tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {
            "name": "sequential", "layers": layers_config}})
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [name.encode() for name in weights]
        for layer, arrays in weights.items():
            layer_group = group.create_group(layer)
            layer_group.attrs["weight_names"] = [f"{layer}/{w}".encode() for w in arrays]
            for w, shape in arrays.items():
                value = np.abs(rng.normal(size=shape)) + 0.5 if "variance" in w else rng.normal(size=shape)
                layer_group[f"{layer}/{w}"] = value.astype("float32")


_PREDICT_IN_KERAS = """
import json, sys, numpy as np, keras
model = keras.saving.load_model(sys.argv[1], compile=False)
x = np.load(sys.argv[2])
print(json.dumps({"y": model.predict(x, verbose=0).tolist()}))
"""


@pytest.mark.parametrize("python", PYTHONS)
def test_a_tf_keras_2_file_loads_as_keras_3_loads_it(tmp_path, python):
    rng = np.random.default_rng(3)
    path = tmp_path / "tf2.h5"
    _write_keras2_file(path, rng)
    x = rng.normal(size=(6, 4)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    theirs = run_keras(python, _PREDICT_IN_KERAS, str(path), str(tmp_path / "x.npy"))["y"]
    model = lamina.models.load_model(path, compile=False)
    np.testing.assert_allclose(model.predict(x, verbose=0), theirs, rtol=1e-5, atol=1e-6)
    fresh = lamina.Sequential([lamina.Input((4,)), layers.Dense(5, activation="relu"), layers.BatchNormalization(),
                               layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
    fresh.load_weights(path)
    np.testing.assert_allclose(fresh.predict(x, verbose=0), theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("python", PYTHONS)
def test_load_weights_by_name_and_skip_mismatch_as_in_keras(tmp_path, python):
    path = run_keras(python, _SAVE_IN_KERAS, str(tmp_path))["models"]["sequential"]["path"]
    full = lamina.models.load_model(path, compile=False)
    dense, head = full.layers[1], full.layers[-1]
    # by_name: the layers named as saved ones take their weights, the others keep theirs
    partial = lamina.Sequential([lamina.Input((4,)), layers.Dense(8, activation="relu", name=dense.name),
                                 layers.Dense(3, name="new_head")])
    kept = partial.layers[-1].kernel.value.copy()
    partial.load_weights(path, by_name=True)
    np.testing.assert_array_equal(partial.layers[0].kernel.value, dense.kernel.value)
    np.testing.assert_array_equal(partial.layers[-1].kernel.value, kept)
    # skip_mismatch: a head of another shape is skipped with a warning, everything else loads
    other = lamina.Sequential([lamina.Input((4,)), layers.Normalization(), layers.Dense(8, activation="relu"),
                               layers.BatchNormalization(), layers.Dropout(0.3), layers.Dense(4)])
    with pytest.raises(ValueError, match=r"sequential\.h5'.*shape mismatch in layer #3 .*\(8, 4\).*\(8, 3\)"):
        other.load_weights(path)
    with pytest.warns(UserWarning, match=r"Skipping loading weights for layer #3 .*shape mismatch"):
        other.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(other.layers[1].kernel.value, dense.kernel.value)
    assert other.layers[-1].kernel.shape == (8, 4) and head.kernel.shape == (8, 3)
    with pytest.warns(UserWarning, match=r"Skipping loading of weights for layer #\d \(named dense\) due to mismatch"):
        lamina.Sequential([lamina.Input((4,)), layers.Dense(8, use_bias=False, name=dense.name)]).load_weights(
            path, by_name=True, skip_mismatch=True)


def test_by_name_and_skip_mismatch_are_refused_for_other_files(tmp_path):
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
    model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match=r"`by_name` and `skip_mismatch` only support loading legacy '\.h5'"):
        model.load_weights(tmp_path / "w.weights.h5", by_name=True)
    with pytest.raises(ValueError, match=r"only support loading legacy"):
        model.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    with pytest.raises(ValueError, match=r"Invalid keyword arguments: \{'by_nam': True\}"):
        model.load_weights(tmp_path / "w.weights.h5", by_nam=True)
