"""lamina's files in real Keras 3 and Keras's files in lamina, compared to 1e-5.

Keras runs in a subprocess (JAX backend), so lamina's tests never import it in-process. The
interpreters tried are this one and any listed in ``LAMINA_KERASPYTHONS`` (separated by
``os.pathsep``; e.g. a virtual environment holding ``keras==3.8.0``).
"""
import json

import numpy as np
import pytest

import lamina
from lamina import layers

from keras_subprocess import NEEDS_KERAS, PYTHONS, run_keras

# activations where Keras 3.15 is wrong and lamina is not (tests/test_ops_grad.py holds them to a reference)
KERAS_BUGS = {"sparsemax"}

pytest.importorskip("h5py")

pytestmark = NEEDS_KERAS

_OPTIMIZERS = {"sgd_momentum": lambda: lamina.optimizers.SGD(0.05, momentum=0.9),
               "adam": lambda: lamina.optimizers.Adam(0.01),
               "adamw": lambda: lamina.optimizers.AdamW(0.01),
               "rmsprop": lambda: lamina.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
               # the base's own state: every average, then every accumulator, in Keras's order
               "adam_ema_accumulated": lambda: lamina.optimizers.Adam(0.01, use_ema=True,
                                                                      gradient_accumulation_steps=2)}


def _lamina_models():
    """name -> (model, input batch): every layer and optimizer the interop covers, trained a little."""
    rng = np.random.default_rng(0)
    models = {}
    for opt_name, make in _OPTIMIZERS.items():
        norm = layers.Normalization()
        norm.adapt(rng.normal(2, 3, size=(64, 6)).astype("float32"))
        model = lamina.Sequential([
            lamina.Input((6,)), norm, layers.Rescaling(0.5, offset=0.25), layers.Dense(8, activation="relu"),
            layers.BatchNormalization(), layers.Dropout(0.3), layers.LayerNormalization(),
            layers.Reshape((2, 4)), layers.Flatten(), layers.Dense(3, activation="softmax")])
        model.compile(optimizer=make(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(rng.normal(size=(64, 6)), rng.integers(0, 3, 64), epochs=2, batch_size=16, verbose=0)
        models[f"stack_{opt_name}"] = (model, rng.normal(size=(5, 6)).astype("float32"))
    names = sorted({a.name for a in lamina.activations._REGISTRY.values() if a is not None} - KERAS_BUGS)
    for name in names:
        model = lamina.Sequential([lamina.Input((2, 3)), layers.Flatten(), layers.Dense(4, activation=name)])
        models[f"activation_{name}"] = (model, rng.normal(size=(5, 2, 3)).astype("float32"))
    return models


_LOAD_IN_KERAS = """
    import json, sys, numpy as np, keras
    spec = json.load(open(sys.argv[1]))
    results = {"version": keras.__version__}
    for name, item in spec.items():
        activation = item.get("activation")
        if activation and not hasattr(keras.activations, activation):
            results[name] = "unknown activation"
            continue
        model = keras.saving.load_model(item["path"])
        x = np.load(item["x"])
        error = float(np.max(np.abs(model.predict(x, verbose=0) - np.load(item["expected"]))))
        state = np.load(item["optimizer"])
        saved = [state[f"arr_{i}"] for i in range(len(state.files))]
        has_optimizer = getattr(model, "optimizer", None) is not None
        current = [np.asarray(v) for v in model.optimizer.variables] if has_optimizer else []
        same_state = len(saved) == len(current) and all(
            a.shape == b.shape and np.allclose(a, b, rtol=0, atol=1e-7) for a, b in zip(saved, current))
        results[name] = {"error": error, "same_state": same_state, "compiled": model.compiled,
                         "optimizer": type(model.optimizer).__name__ if has_optimizer else None}
    print(json.dumps(results))
"""


@pytest.mark.parametrize("python", PYTHONS)
def test_keras_loads_lamina_files(tmp_path, python):
    spec = {}
    for name, (model, x) in _lamina_models().items():
        path = tmp_path / f"{name}.keras"
        model.save(path)
        np.save(tmp_path / f"{name}_x.npy", x)
        np.save(tmp_path / f"{name}_y.npy", model.predict(x, verbose=0))
        state = [v.value for v in model.optimizer.variables] if model.compiled else []
        np.savez(tmp_path / f"{name}_opt.npz", *state)
        spec[name] = {"path": str(path), "x": str(tmp_path / f"{name}_x.npy"),
                      "expected": str(tmp_path / f"{name}_y.npy"), "optimizer": str(tmp_path / f"{name}_opt.npz"),
                      "activation": name.removeprefix("activation_") if name.startswith("activation_") else None}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    results = run_keras(python, _LOAD_IN_KERAS, str(tmp_path / "spec.json"))
    version = results.pop("version")
    checked = {name: r for name, r in results.items() if r != "unknown activation"}
    assert {f"stack_{o}" for o in _OPTIMIZERS} <= set(checked), f"Keras {version}"
    assert len(checked) >= len(_OPTIMIZERS) + 10, f"Keras {version} knew too few activations: {results}"
    for name, r in checked.items():
        assert r["error"] <= 1e-5, f"Keras {version}, {name}: predictions differ by {r['error']}"
        assert r["same_state"], f"Keras {version}, {name}: optimizer variables differ"
    for opt_name, make in _OPTIMIZERS.items():
        r = checked[f"stack_{opt_name}"]
        assert r["compiled"] and r["optimizer"] == type(make()).__name__


_SAVE_IN_KERAS = """
    import json, sys, os, numpy as np, keras
    folder = sys.argv[1]
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    optimizers = {"sgd_momentum": lambda: keras.optimizers.SGD(0.05, momentum=0.9),
                  "adam": lambda: keras.optimizers.Adam(0.01), "adamw": lambda: keras.optimizers.AdamW(0.01),
                  "rmsprop": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
                  "adam_ema_accumulated": lambda: keras.optimizers.Adam(0.01, use_ema=True,
                                                                        gradient_accumulation_steps=2)}
    activations = json.loads(sys.argv[2])
    models = {}
    for opt_name, make in optimizers.items():
        norm = keras.layers.Normalization()
        norm.adapt(rng.normal(2, 3, size=(64, 6)).astype("float32"))
        model = keras.Sequential([
            keras.Input((6,)), norm, keras.layers.Rescaling(0.5, offset=0.25),
            keras.layers.Dense(8, activation="relu"), keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.3), keras.layers.LayerNormalization(), keras.layers.Reshape((2, 4)),
            keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=make(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(rng.normal(size=(64, 6)), rng.integers(0, 3, 64), epochs=2, batch_size=16, verbose=0)
        models[f"stack_{opt_name}"] = (model, rng.normal(size=(5, 6)).astype("float32"))
    for name in activations:
        if not hasattr(keras.activations, name):
            continue
        model = keras.Sequential([keras.Input((2, 3)), keras.layers.Flatten(), keras.layers.Dense(4, activation=name)])
        models[f"activation_{name}"] = (model, rng.normal(size=(5, 2, 3)).astype("float32"))
    spec = {}
    for name, (model, x) in models.items():
        path = os.path.join(folder, name + ".keras")
        model.save(path)
        # read before predict: Keras 3.15 on JAX frees an EMA model's optimizer arrays in predict
        has_optimizer = getattr(model, "optimizer", None) is not None
        state = [np.asarray(v) for v in model.optimizer.variables] if has_optimizer else []
        np.save(os.path.join(folder, name + "_x.npy"), x)
        np.save(os.path.join(folder, name + "_y.npy"), model.predict(x, verbose=0))
        np.savez(os.path.join(folder, name + "_opt.npz"), *state)
        spec[name] = path
    print(json.dumps({"version": keras.__version__, "models": spec}))
"""


@pytest.mark.parametrize("python", PYTHONS)
def test_lamina_loads_keras_files(tmp_path, python):
    names = sorted({a.name for a in lamina.activations._REGISTRY.values() if a is not None} - KERAS_BUGS)
    results = run_keras(python, _SAVE_IN_KERAS, str(tmp_path), json.dumps(names))
    version, spec = results["version"], results["models"]
    assert len(spec) >= len(_OPTIMIZERS) + 10
    for name, path in spec.items():
        model = lamina.saving.load_model(path)
        x = np.load(tmp_path / f"{name}_x.npy")
        error = np.max(np.abs(model.predict(x, verbose=0) - np.load(tmp_path / f"{name}_y.npy")))
        assert error <= 1e-5, f"Keras {version}, {name}: predictions differ by {error}"
        with np.load(tmp_path / f"{name}_opt.npz") as state:
            saved = [state[f"arr_{i}"] for i in range(len(state.files))]
        if name.startswith("stack_"):
            current = [v.value for v in model.optimizer.variables]
            assert len(saved) == len(current) > 2, f"Keras {version}, {name}"
            for a, b in zip(saved, current):
                np.testing.assert_allclose(b, a, rtol=0, atol=1e-7, err_msg=f"Keras {version}, {name}")
    x, y = np.ones((4, 6), "float32"), np.zeros(4, "int64")
    resumed = lamina.saving.load_model(spec["stack_adam"])
    resumed.fit(x, y, epochs=1, verbose=0)  # a Keras model trains on in lamina
    assert int(resumed.optimizer.iterations.value) == 9


_SAVE_UNTRAINED_IN_KERAS = """
    import json, sys, numpy as np, keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.save(sys.argv[1])
    x = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    print(json.dumps({"version": keras.__version__, "y": model.predict(x, verbose=0).tolist(),
                      "saved": len(model.optimizer.variables)}))
"""


@pytest.mark.parametrize("python", PYTHONS)
def test_a_keras_model_compiled_but_never_trained_loads_with_a_fresh_optimizer(tmp_path, python):
    results = run_keras(python, _SAVE_UNTRAINED_IN_KERAS, str(tmp_path / "untrained.keras"))
    assert results["saved"] == 2, results  # Keras's optimizer before a step: iteration and learning rate
    with pytest.warns(UserWarning, match=r"Skipping variable loading for optimizer 'adam', because it has 10 "
                                         r"variables whereas the saved optimizer has 2 variables"):
        model = lamina.saving.load_model(tmp_path / "untrained.keras")
    x = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), results["y"], rtol=1e-6, atol=1e-7)
    assert model.optimizer.learning_rate == pytest.approx(0.01) and int(model.optimizer.iterations.value) == 0
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0)
    assert int(model.optimizer.iterations.value) == 1
