"""Merge layers against Keras 3 (values, symbolic shapes, configs, refusals, one training step),
gradients against finite differences."""
import inspect
import re
import zlib

import numpy as np
import pytest

import lamina
from gradcheck import numeric_grad, tape_grads
from keras_reference import run_keras
from lamina import layers, ops

# id -> (class name, constructor kwargs, input shapes with the batch axis)
CASES = {
    "add": ("Add", {}, [(4, 3), (4, 3)]),
    "add_three": ("Add", {}, [(4, 3), (4, 3), (4, 3)]),
    "add_broadcast": ("Add", {}, [(4, 3), (4, 1)]),
    "add_ranks": ("Add", {}, [(4, 3), (4, 2, 3)]),
    "subtract": ("Subtract", {}, [(4, 3), (4, 3)]),
    "multiply_broadcast": ("Multiply", {}, [(4, 1, 3), (4, 2, 1)]),
    "average_three": ("Average", {}, [(4, 3), (4, 3), (4, 3)]),
    "maximum_ranks": ("Maximum", {}, [(4, 2, 3), (4, 3)]),
    "minimum": ("Minimum", {}, [(4, 3), (4, 3), (4, 3)]),
    "concatenate": ("Concatenate", {}, [(4, 3), (4, 5)]),
    "concatenate_axis1": ("Concatenate", {"axis": 1}, [(4, 2, 5), (4, 1, 5)]),
    "concatenate_three": ("Concatenate", {"axis": -2}, [(4, 2, 3), (4, 1, 3), (4, 3, 3)]),
    "dot": ("Dot", {"axes": 1}, [(4, 3), (4, 3)]),
    "dot_pair": ("Dot", {"axes": (1, 2)}, [(2, 5, 3), (2, 4, 5)]),
    "dot_last": ("Dot", {"axes": -1}, [(2, 5, 3), (2, 4, 3)]),
    "dot_normalize": ("Dot", {"axes": 1, "normalize": True}, [(4, 3), (4, 3)]),
    "dot_2d_3d": ("Dot", {"axes": (1, 2), "normalize": True}, [(4, 3), (4, 5, 3)]),
}

# Keras's verdict on shapes it refuses at the symbolic call: (class, kwargs, per-sample shapes, batch sizes)
BAD = {
    "add_3_and_5": ("Add", {}, [(3,), (5,)], [None, None]),
    "multiply_2x3_and_4x3": ("Multiply", {}, [(2, 3), (4, 3)], [None, None]),
    "add_batches": ("Add", {}, [(3,), (3,)], [2, 5]),
    "concatenate_ranks": ("Concatenate", {}, [(3, 4), (5,)], [None, None]),
    "concatenate_other_axis": ("Concatenate", {"axis": -1}, [(2, 3), (4, 3)], [None, None]),
    "subtract_three": ("Subtract", {}, [(3,), (3,), (3,)], [None, None, None]),
    "dot_sizes": ("Dot", {"axes": 1}, [(3,), (4,)], [None, None]),
}

_KERAS_SCRIPT = """
import json
for case_id, (name, kwargs, shapes) in inputs["cases"].items():
    layer = getattr(keras.layers, name)(**kwargs)
    value = layer([inputs[f"{case_id}_{i}"] for i in range(len(shapes))])
    symbolic = getattr(keras.layers, name)(**kwargs)([keras.Input(s[1:]) for s in shapes])
    out[case_id] = {"value": np.asarray(value), "shape": list(symbolic.shape),
                    "config_keys": sorted(layer.get_config()),
                    "serialized": json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))}
for case_id, (name, kwargs, shapes, batches) in inputs["bad"].items():
    try:
        getattr(keras.layers, name)(**kwargs)([keras.Input(s, batch_size=b) for s, b in zip(shapes, batches)])
        out["bad_" + case_id] = "accepted"
    except ValueError:
        out["bad_" + case_id] = "ValueError"
lamina_config = inputs["lamina_serialized"]
for case_id, serialized in lamina_config.items():
    layer = keras.saving.deserialize_keras_object(serialized)
    shapes = inputs["cases"][case_id][2]
    out["from_lamina_" + case_id] = np.asarray(layer([inputs[f"{case_id}_{i}"] for i in range(len(shapes))]))
"""


def _inputs(case_id, shapes):
    rng = np.random.default_rng(zlib.crc32(case_id.encode()))
    return [rng.standard_normal(s).astype("float32") for s in shapes]


@pytest.fixture(scope="module")
def keras_results():
    arrays = {f"{case_id}_{i}": x for case_id, (_, _, shapes) in CASES.items()
              for i, x in enumerate(_inputs(case_id, shapes))}
    serialized = {case_id: lamina.saving.serialize_keras_object(getattr(layers, name)(**kwargs))
                  for case_id, (name, kwargs, _) in CASES.items()}
    return run_keras(_KERAS_SCRIPT, cases=CASES, bad=BAD, lamina_serialized=serialized, **arrays), arrays


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_values_shapes_and_configs_match_keras(keras_results, case_id):
    results, arrays = keras_results
    name, kwargs, shapes = CASES[case_id]
    expected = results[case_id]
    xs = [arrays[f"{case_id}_{i}"] for i in range(len(shapes))]
    layer = getattr(layers, name)(**kwargs)
    np.testing.assert_allclose(layer(xs).numpy(), expected["value"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(xs, training=True).numpy(), expected["value"], rtol=1e-5, atol=1e-6)
    symbolic = getattr(layers, name)(**kwargs)([lamina.Input(s[1:]) for s in shapes])
    assert list(symbolic.shape) == expected["shape"]
    assert sorted(layer.get_config()) == expected["config_keys"]
    # Keras's serialized layer builds the same layer in lamina; lamina's builds it in Keras
    rebuilt = lamina.saving.deserialize_keras_object(expected["serialized"])
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == {**layer.get_config(), "name": rebuilt.name}
    np.testing.assert_allclose(rebuilt(xs).numpy(), expected["value"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results["from_lamina_" + case_id], expected["value"], rtol=1e-5, atol=1e-6)
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("case_id", sorted(BAD))
def test_bad_shapes_are_refused_at_the_symbolic_call_naming_layer_and_shapes(keras_results, case_id):
    results, _ = keras_results
    assert results["bad_" + case_id] == "ValueError"  # Keras refuses these too
    name, kwargs, shapes, batches = BAD[case_id]
    layer = getattr(layers, name)(name=f"my_{name.lower()}", **kwargs)
    tensors = [lamina.Input(s, batch_size=b) for s, b in zip(shapes, batches)]
    shown = str([(b, *s) for s, b in zip(shapes, batches)])
    with pytest.raises(ValueError, match=rf"{name} 'my_{name.lower()}'.*{re.escape(shown)}"):
        layer(tensors)


def test_bad_shapes_are_refused_eagerly_too_even_after_a_good_call():
    layer = layers.Add(name="adder")
    layer([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"Add 'adder' cannot merge inputs of shapes \[\(1, 3\), \(2, 3\)\].*batch"):
        layer([np.ones((1, 3)), np.ones((2, 3))])  # NumPy would broadcast the batch of 1 silently
    with pytest.raises(ValueError, match=r"Concatenate 'c'.*\(2, 3\), \(2, 4, 1\).*ranks"):
        layers.Concatenate(name="c")([np.ones((2, 3)), np.ones((2, 4, 1))])
    with pytest.raises(ValueError, match=r"Dot 'd' got axes=0.*names the batch axis"):
        layers.Dot(axes=0, name="d")([np.ones((2, 3)), np.ones((2, 3))])


def test_a_merge_layer_wants_a_list():
    with pytest.raises(ValueError, match=r"Add 'add' should be called on a list of tensors.*\(None, 3\)"):
        layers.Add()(lamina.Input((3,)))
    with pytest.raises(ValueError, match=r"Subtract 'subtract' should be called on exactly 2 inputs, got 1"):
        layers.Subtract()([np.ones((2, 3))])
    with pytest.raises(TypeError, match=r"Dot 'dot' expects axes to be an int or a pair of ints, got axes='x'"):
        layers.Dot(axes="x")
    with pytest.raises(ValueError, match=r"Dot 'dot_1' expects axes to be an int or a pair.*\[1, 2, 3\]"):
        layers.Dot(axes=[1, 2, 3])


def test_function_forms_take_keras_arguments():
    a, b = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    for function, cls in [(layers.add, layers.Add), (layers.subtract, layers.Subtract),
                          (layers.multiply, layers.Multiply), (layers.average, layers.Average),
                          (layers.maximum, layers.Maximum), (layers.minimum, layers.Minimum)]:
        assert list(inspect.signature(function).parameters) == ["inputs", "kwargs"]
        np.testing.assert_array_equal(function([a, b], name=f"f_{cls.__name__}").numpy(), cls()([a, b]).numpy())
    np.testing.assert_array_equal(layers.concatenate([a, b], axis=0).numpy(), np.concatenate([a, b], axis=0))
    np.testing.assert_allclose(layers.dot([a, b], axes=1, normalize=True).numpy(),
                               (a / np.linalg.norm(a, axis=1, keepdims=True)).sum(axis=1, keepdims=True) / np.sqrt(3),
                               rtol=1e-6)
    x = lamina.Input((3,))
    assert layers.concatenate([x, x], name="joined")._keras_history[0].name == "joined"
    assert layers.dot([x, x], axes=1).shape == (None, 1)
    assert lamina.keras.layers.Concatenate is layers.Concatenate


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_gradients_match_finite_differences(float64, case_id):
    name, kwargs, shapes = CASES[case_id]
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal(s) for s in shapes]
    if name in ("Maximum", "Minimum"):  # keep the inputs apart so the winner does not flip under a step
        xs = [x + 3 * i for i, x in enumerate(xs)]
    layer = getattr(layers, name)(**kwargs)
    r = rng.standard_normal(layer(xs).shape)
    tensors = [ops.convert_to_tensor(x) for x in xs]
    grads = tape_grads(lambda: ops.sum(layer(tensors) * r), tensors)
    for x, grad in zip(xs, grads):
        expected = numeric_grad(lambda: float(np.sum(layer([v.copy() for v in xs]).numpy() * r)), x)
        np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-7)


_MODEL_SOURCE = """
def make(keras):
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    h = keras.layers.Dense(4, name="hidden")(a)
    h = keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.2), name="prelu")(h)
    joined = keras.layers.Concatenate(name="joined")([h, b])
    skip = keras.layers.Dense(6, name="skip")(joined)
    mixed = keras.layers.Add(name="mixed")([joined, skip])
    mixed = keras.layers.Multiply(name="gated")([mixed, keras.layers.Dense(6, activation="sigmoid", name="gate")(b)])
    out = keras.layers.Dense(1, name="out")(mixed)
    model = keras.Model([a, b], out)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model
"""

_TRAIN_IN_KERAS = _MODEL_SOURCE + """
model = make(keras)
model.set_weights(inputs["weights"])
loss = model.train_on_batch([inputs["a"], inputs["b"]], inputs["y"])
out["loss"] = float(np.asarray(loss).reshape(-1)[0])
out["weights"] = [np.asarray(w) for w in model.get_weights()]
out["names"] = [w.path for w in model.weights]
"""


def _make_model():
    namespace = {}
    exec(_MODEL_SOURCE, namespace)
    return namespace["make"](lamina)


def test_one_train_on_batch_step_equals_keras():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((16, 3)).astype("float32"), rng.standard_normal((16, 2)).astype("float32")
    y = (a[:, :1] * b[:, 1:] + a[:, 1:2]).astype("float32")
    model = _make_model()
    initial = model.get_weights()
    expected = run_keras(_TRAIN_IN_KERAS, weights=initial, a=a, b=b, y=y)
    assert [w.path for w in model.weights] == expected["names"]
    loss = model.train_on_batch([a, b], y)
    np.testing.assert_allclose(float(np.asarray(loss).reshape(-1)[0]), expected["loss"], rtol=1e-5)
    for mine, theirs, name in zip(model.get_weights(), expected["weights"], expected["names"]):
        np.testing.assert_allclose(mine, theirs, atol=1e-5, err_msg=name)
    assert not np.allclose(model.get_weights()[2], initial[2])  # PReLU's alpha was trained


def test_fit_lowers_the_loss_of_a_graph_of_merges():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((256, 3)).astype("float32"), rng.standard_normal((256, 2)).astype("float32")
    y = (a[:, :1] * b[:, 1:] + a[:, 1:2]).astype("float32")
    model = _make_model()
    history = model.fit([a, b], y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    x, z = lamina.Input((3,)), lamina.Input((3,))
    merged = [layers.Subtract()([x, z]), layers.Average()([x, z]), layers.Maximum()([x, z]),
              layers.Minimum()([x, z]), layers.Dot(axes=1, normalize=True)([x, z])]
    head = layers.Dense(1)(layers.Concatenate()(merged))
    other = lamina.Model([x, z], head)
    other.compile(optimizer=lamina.optimizers.Adam(0.02), loss="mse")
    target = (a[:, :1] - a[:, 1:2] * 0.5).astype("float32")
    history = other.fit([a, a[::-1].copy()], target, epochs=20, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


_EVERY_MERGE_SOURCE = """
def make_every_merge(keras):
    x, z = keras.Input((3,), name="x"), keras.Input((3,), name="z")
    h = keras.layers.Dense(3, name="h")(z)
    merged = [keras.layers.Subtract(name="sub")([x, h]), keras.layers.Average(name="avg")([x, h, z]),
              keras.layers.Maximum(name="max")([x, h]), keras.layers.Minimum(name="min")([x, h]),
              keras.layers.Dot(axes=1, normalize=True, name="cos")([x, h]),
              keras.layers.Dot(axes=(1, 1), name="dot")([x, z]),
              keras.layers.Multiply(name="mul")([x, keras.layers.Dense(1, name="scale")(z)])]
    joined = keras.layers.Concatenate(axis=-1, name="joined")(merged)
    return keras.Model([x, z], keras.layers.Dense(2, name="head")(joined))
"""

_FILES_IN_KERAS = _MODEL_SOURCE + _EVERY_MERGE_SOURCE + """
for name, model in (("first", make(keras)), ("every", make_every_merge(keras))):
    model.set_weights(inputs[name + "_weights"])
    model.save(inputs[name + "_keras_path"])
    out[name + "_keras_predictions"] = np.asarray(model.predict(inputs[name + "_x"], verbose=0))
    loaded = keras.saving.load_model(inputs[name + "_lamina_path"])
    out[name + "_lamina_file_in_keras"] = np.asarray(loaded.predict(inputs[name + "_x"], verbose=0))
    out[name + "_lamina_file_layers"] = sorted(layer.name for layer in loaded.layers)
"""


def test_keras_files_of_graphs_of_merges_load_both_ways(tmp_path):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((8, 3)).astype("float32"), rng.standard_normal((8, 2)).astype("float32")
    namespace = {}
    exec(_EVERY_MERGE_SOURCE, namespace)
    models = {"first": (_make_model(), [a, b]), "every": (namespace["make_every_merge"](lamina), [a, a[::-1].copy()])}
    models["first"][0].fit([a, b], a[:, :1], epochs=2, verbose=0)  # saved with its optimizer state
    arrays = {}
    for name, (model, x) in models.items():
        model.save(str(tmp_path / f"{name}_lamina.keras"))
        arrays.update({f"{name}_weights": model.get_weights(), f"{name}_x": x,
                       f"{name}_lamina_path": str(tmp_path / f"{name}_lamina.keras"),
                       f"{name}_keras_path": str(tmp_path / f"{name}_keras.keras")})
    expected = run_keras(_FILES_IN_KERAS, **arrays)
    for name, (model, x) in models.items():
        assert expected[f"{name}_lamina_file_layers"] == sorted(layer.name for layer in model.layers)
        mine = model.predict(x, verbose=0)
        np.testing.assert_allclose(expected[f"{name}_lamina_file_in_keras"], mine, atol=1e-6, err_msg=name)
        loaded = lamina.saving.load_model(str(tmp_path / f"{name}_keras.keras"))
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected[f"{name}_keras_predictions"], atol=1e-6,
                                   err_msg=name)
        np.testing.assert_allclose(expected[f"{name}_keras_predictions"], mine, atol=1e-6, err_msg=name)
