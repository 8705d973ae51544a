"""Functional models trained side by side with Keras 3 (JAX, in one subprocess for the module):
same weights, same batches; the losses, metrics, their names and order, and the weights after
training must agree to 1e-5."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lamina as keras
from lamina import layers, ops

_KERAS_SIDE = """
import json, sys
import numpy as np
import keras
from keras import layers
data = dict(np.load(sys.argv[1]))
def build(kind):
    if kind == "wide_deep":
        a = keras.Input((5,), name="wide"); b = keras.Input((6,), name="deep")
        h = layers.Dense(30, activation="relu", name="h1")(b)
        h = layers.Dense(30, activation="relu", name="h2")(h)
        c = layers.concatenate([a, h])
        return keras.Model([a, b], [layers.Dense(1, name="main")(c), layers.Dense(1, name="aux")(h)])
    x = keras.Input((4,), name="x")
    h = layers.Dense(6, activation="tanh", name="h")(x)
    r = layers.add([layers.Dense(6, name="r")(h), h])
    return keras.Model({"x": x}, {"cls": layers.Dense(3, activation="softmax", name="cls")(r),
                                  "reg": layers.Dense(1, name="reg")(r)})
out = {}
for kind, compile_args, x, y, sw in [
    ("wide_deep", dict(loss=["mse", "mse"], loss_weights=[0.9, 0.1], metrics=[["mae"], ["mae", "mse"]],
                       weighted_metrics=[["mae"], []]),
     [data["xa"], data["xb"]], [data["ya"], data["yb"]], [data["sw"], data["sw"] * 0 + 1]),
    ("dict_io", dict(loss={"cls": "sparse_categorical_crossentropy", "reg": "mae"},
                     loss_weights={"cls": 1.0, "reg": 0.5},
                     metrics={"cls": ["accuracy"], "reg": ["mse"]}),
     {"x": data["x4"]}, {"cls": data["ycls"], "reg": data["yreg"]}, None)]:
    model = build(kind)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([data[f"{kind}/{layer.name}/{i}"] for i in range(len(layer.weights))])
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.5), **compile_args)
    steps = []
    for _ in range(3):
        logs = model.train_on_batch(x, y, sample_weight=sw, return_dict=True)
        steps.append({k: float(v) for k, v in logs.items()})
    evaluated = model.evaluate(x, y, sample_weight=sw, verbose=0)
    as_dict = model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    history = model.fit(x, y, sample_weight=sw, epochs=2, batch_size=16, shuffle=False, verbose=0,
                        validation_data=(x, y, sw) if sw is not None else (x, y))
    pred = model.predict(x, verbose=0)
    pred = {k: v.tolist() for k, v in pred.items()} if isinstance(pred, dict) else [p.tolist() for p in pred]
    out[kind] = {"steps": steps, "evaluate": [float(v) for v in evaluated], "evaluate_keys": list(as_dict),
                 "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
                 "history_keys": list(history.history), "predict": pred,
                 "weights": {w.path: np.asarray(w).tolist() for w in model.weights}}
print(json.dumps(out))
"""


def _data():
    rng = np.random.default_rng(7)
    return {"xa": rng.normal(size=(48, 5)).astype("f4"), "xb": rng.normal(size=(48, 6)).astype("f4"),
            "ya": rng.normal(size=(48, 1)).astype("f4"), "yb": rng.normal(size=(48, 1)).astype("f4"),
            "sw": rng.uniform(0.5, 2, size=48).astype("f4"), "x4": rng.normal(size=(48, 4)).astype("f4"),
            "ycls": rng.integers(0, 3, size=48), "yreg": rng.normal(size=(48, 1)).astype("f4")}


def _wide_deep():
    a, b = keras.Input((5,), name="wide"), keras.Input((6,), name="deep")
    h = layers.Dense(30, activation="relu", name="h1")(b)
    h = layers.Dense(30, activation="relu", name="h2")(h)
    c = ops.concatenate([a, h], axis=-1)
    return keras.Model([a, b], [layers.Dense(1, name="main")(c), layers.Dense(1, name="aux")(h)])


def _dict_io():
    x = keras.Input((4,), name="x")
    h = layers.Dense(6, activation="tanh", name="h")(x)
    r = ops.add(layers.Dense(6, name="r")(h), h)
    return keras.Model({"x": x}, {"cls": layers.Dense(3, activation="softmax", name="cls")(r),
                                  "reg": layers.Dense(1, name="reg")(r)})


_CASES = {
    "wide_deep": (_wide_deep, dict(loss=["mse", "mse"], loss_weights=[0.9, 0.1], metrics=[["mae"], ["mae", "mse"]],
                                   weighted_metrics=[["mae"], []]),
                  lambda d: ([d["xa"], d["xb"]], [d["ya"], d["yb"]], [d["sw"], d["sw"] * 0 + 1])),
    "dict_io": (_dict_io, dict(loss={"cls": "sparse_categorical_crossentropy", "reg": "mae"},
                               loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mse"]}),
                lambda d: ({"x": d["x4"]}, {"cls": d["ycls"], "reg": d["yreg"]}, None)),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Both sides of every case: lamina's here, Keras's in one subprocess."""
    data = _data()
    mine = {}
    for kind, (build, compile_args, batches) in _CASES.items():
        keras.backend.clear_session()
        model = build()
        for layer in model.layers:
            for i, w in enumerate(layer.get_weights()):
                data[f"{kind}/{layer.name}/{i}"] = w
        mine[kind] = (model, compile_args, batches)
    path = tmp_path_factory.mktemp("functional") / "data.npz"
    np.savez(path, **data)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_KERAS_SIDE), str(path)], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    return data, mine, theirs


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, "f8"), np.asarray(b, "f8"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(_CASES))
def test_training_steps_agree_with_keras(runs, kind):
    data, mine, theirs = runs
    model, compile_args, batches = mine[kind]
    x, y, sw = batches(data)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.5), **compile_args)
    for expected in theirs[kind]["steps"]:
        logs = model.train_on_batch(x, y, sample_weight=sw, return_dict=True)
        assert list(logs) == list(expected)
        _close([logs[k] for k in expected], list(expected.values()))
    evaluated = model.evaluate(x, y, sample_weight=sw, verbose=0)
    _close(evaluated, theirs[kind]["evaluate"])
    assert list(model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)) == theirs[kind]["evaluate_keys"]
    history = model.fit(x, y, sample_weight=sw, epochs=2, batch_size=16, shuffle=False, verbose=0,
                        validation_data=(x, y, sw) if sw is not None else (x, y))
    assert list(history.history) == theirs[kind]["history_keys"]
    for key, values in theirs[kind]["history"].items():
        _close(history.history[key], values)
    predicted = model.predict(x, verbose=0)
    if isinstance(predicted, dict):
        assert sorted(predicted) == sorted(theirs[kind]["predict"])
        for key in predicted:
            _close(predicted[key], theirs[kind]["predict"][key])
    else:
        for got, expected in zip(predicted, theirs[kind]["predict"]):
            _close(got, expected)
    weights = {w.path: w.numpy() for w in model.weights}
    for path, value in theirs[kind]["weights"].items():
        _close(weights[path], value)
