"""Activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax) against Keras 3: values, shapes,
configs both ways, a training step, .keras files both ways; gradients against finite differences."""
import zlib

import numpy as np
import pytest

import lamina
from gradcheck import check_layer
from keras_reference import run_keras
from lamina import layers

# id -> (class name, kwargs, input shape)
CASES = {
    "relu": ("ReLU", {}, (4, 5)),
    "relu6": ("ReLU", {"max_value": 6.0}, (4, 5)),
    "relu_all": ("ReLU", {"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.5}, (4, 5)),
    "relu_threshold": ("ReLU", {"threshold": 1.0}, (4, 5)),
    "relu_slope": ("ReLU", {"negative_slope": 0.2}, (4, 5)),
    "leaky": ("LeakyReLU", {}, (4, 5)),
    "leaky_slope": ("LeakyReLU", {"negative_slope": 0.05}, (4, 2, 3)),
    "prelu": ("PReLU", {}, (4, 5)),
    "prelu_shared": ("PReLU", {"shared_axes": [1]}, (4, 2, 3)),
    "prelu_options": ("PReLU", {"alpha_initializer": "ones", "alpha_regularizer": "l2",
                                "alpha_constraint": "non_neg"}, (4, 5)),
    "elu": ("ELU", {}, (4, 5)),
    "elu_alpha": ("ELU", {"alpha": 0.5}, (4, 5)),
    "softmax": ("Softmax", {}, (4, 5)),
    "softmax_axis1": ("Softmax", {"axis": 1}, (4, 3, 5)),
    "softmax_axes": ("Softmax", {"axis": [1, 2]}, (4, 3, 5)),
}

_KERAS_SCRIPT = """
import json
for case_id, (name, kwargs, shape) in inputs["cases"].items():
    layer = getattr(keras.layers, name)(**kwargs)
    x = inputs[case_id]
    layer.build(x.shape)
    if name == "PReLU":
        layer.set_weights([inputs[case_id + "_alpha"]])
    out[case_id] = {"value": np.asarray(layer(x)), "train": np.asarray(layer(x, training=True)),
                    "shape": list(getattr(keras.layers, name)(**kwargs)(keras.Input(shape[1:])).shape),
                    "config_keys": sorted(layer.get_config()),
                    "serialized": json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))}
masked = keras.layers.Softmax()(inputs["softmax"], mask=inputs["mask"])
out["masked"] = np.asarray(masked)
out["leaky_alpha"] = keras.layers.LeakyReLU(alpha=0.1).get_config()["negative_slope"]
for case_id, serialized in inputs["lamina_serialized"].items():
    layer = keras.saving.deserialize_keras_object(serialized)
    layer.build(inputs[case_id].shape)
    if case_id.startswith("prelu"):
        layer.set_weights([inputs[case_id + "_alpha"]])
    out["from_lamina_" + case_id] = np.asarray(layer(inputs[case_id]))
"""


def _data(case_id, shape):
    rng = np.random.default_rng(zlib.crc32(case_id.encode()))
    return (rng.standard_normal(shape) * 3).astype("float32")


def _alpha(case_id):
    layer = _layer(case_id)
    layer.build((None, *CASES[case_id][2][1:]))
    return np.random.default_rng(7).uniform(0.05, 0.5, layer.alpha.shape).astype("float32")


def _layer(case_id):
    name, kwargs, _ = CASES[case_id]
    return getattr(layers, name)(**kwargs)


@pytest.fixture(scope="module")
def keras_results():
    arrays = {case_id: _data(case_id, shape) for case_id, (_, _, shape) in CASES.items()}
    arrays.update({f"{case_id}_alpha": _alpha(case_id) for case_id in CASES if case_id.startswith("prelu")})
    arrays["mask"] = np.random.default_rng(5).uniform(size=CASES["softmax"][2]) > 0.4
    serialized = {case_id: lamina.saving.serialize_keras_object(_layer(case_id)) for case_id in CASES}
    return run_keras(_KERAS_SCRIPT, cases=CASES, lamina_serialized=serialized, **arrays), arrays


def _prepared(case_id, arrays):
    layer = _layer(case_id)
    layer.build((None, *CASES[case_id][2][1:]))
    if case_id.startswith("prelu"):
        layer.set_weights([arrays[case_id + "_alpha"]])
    return layer


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_values_shapes_and_configs_match_keras(keras_results, case_id):
    results, arrays = keras_results
    expected, x = results[case_id], arrays[case_id]
    layer = _prepared(case_id, arrays)
    np.testing.assert_allclose(layer(x).numpy(), expected["value"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(x, training=True).numpy(), expected["train"], rtol=1e-5, atol=1e-6)
    assert list(_layer(case_id)(lamina.Input(CASES[case_id][2][1:])).shape) == expected["shape"]
    keys = set(expected["config_keys"]) | ({"alpha"} if case_id.startswith("elu") else set())
    assert sorted(layer.get_config()) == sorted(keys)  # ELU: lamina keeps alpha, which Keras drops
    rebuilt = lamina.saving.deserialize_keras_object(expected["serialized"])
    assert type(rebuilt) is type(layer)
    if case_id != "elu_alpha":  # Keras's config forgets ELU's alpha
        assert rebuilt.get_config() == {**layer.get_config(), "name": rebuilt.name}
    np.testing.assert_allclose(results["from_lamina_" + case_id], expected["value"], rtol=1e-5, atol=1e-6)
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def test_softmax_mask_and_leaky_alpha_match_keras(keras_results):
    results, arrays = keras_results
    masked = layers.Softmax()(arrays["softmax"], mask=arrays["mask"]).numpy()
    np.testing.assert_allclose(masked, results["masked"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(layers.Softmax()(arrays["softmax"], mask=arrays["mask"].astype("float32")).numpy(),
                               results["masked"], rtol=1e-5, atol=1e-7)
    with pytest.warns(UserWarning, match="alpha.*deprecated.*negative_slope"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.get_config()["negative_slope"] == results["leaky_alpha"] == 0.1
    x, mask = lamina.Input((5,)), lamina.Input((5,))  # a float mask: > 0.5 counts, as in Keras
    model = lamina.Model([x, mask], layers.Softmax()(x, mask=mask))
    assert model.layers[-1].output.shape == (None, 5)
    np.testing.assert_allclose(model.predict([arrays["softmax"], arrays["mask"].astype("float32")], verbose=0),
                               results["masked"],
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_gradients_match_finite_differences(float64, case_id):
    x = _data(case_id, CASES[case_id][2]).astype("float64")
    layer = _layer(case_id)
    if case_id.startswith("prelu"):
        layer.build(x.shape)
        layer.set_weights([_alpha(case_id).astype("float64") * np.sign(np.random.default_rng(2).standard_normal(
            layer.alpha.shape))])
    check_layer(layer, x)


def test_masked_softmax_gradient_matches_finite_differences(float64):
    from gradcheck import numeric_grad, tape_grads
    x = np.random.default_rng(0).standard_normal((3, 4))
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 0, 0]], bool)
    r = np.random.default_rng(1).standard_normal(x.shape)
    layer = layers.Softmax()
    tensor = lamina.ops.convert_to_tensor(x)
    (grad,) = tape_grads(lambda: lamina.ops.sum(layer(tensor, mask=mask) * r), [tensor])
    np.testing.assert_allclose(grad, numeric_grad(lambda: float(np.sum(layer(x, mask=mask).numpy() * r)), x),
                               atol=1e-7)


def test_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match=r"ReLU 're' expects max_value to be None or a number >= 0, got max_value=-1"):
        layers.ReLU(max_value=-1, name="re")
    with pytest.raises(ValueError, match=r"ReLU 're_lu' expects negative_slope to be a number >= 0, got negative_slo"):
        layers.ReLU(negative_slope=None)
    with pytest.raises(ValueError, match=r"ReLU 're_lu_1' expects threshold to be a number >= 0, got threshold=-0.5"):
        layers.ReLU(threshold=-0.5)
    with pytest.raises(ValueError, match=r"LeakyReLU 'leaky_re_lu' expects negative_slope.*got negative_slope=-0.1"):
        layers.LeakyReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match=r"PReLU 'p' expects shared_axes to be None or axes >= 1.*\[0\]"):
        layers.PReLU(shared_axes=0, name="p")
    with pytest.raises(ValueError, match=r"PReLU 'p2' got shared_axes=\[3\], but its inputs of shape \(None, 4\)"):
        layers.PReLU(shared_axes=3, name="p2")(lamina.Input((4,)))
    prelu = layers.PReLU(name="p3")
    prelu(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"PReLU 'p3' was built for inputs of shape \(None, \*\(4,\)\).*\(2, 1\)"):
        prelu(np.ones((2, 1)))  # alpha of shape (4,) would broadcast the input silently
    with pytest.raises(ValueError, match=r"Softmax 's' expects a mask broadcastable.*\(2, 3\).*\(2, 4\)"):
        layers.Softmax(name="s")(np.ones((2, 3)), mask=np.ones((2, 4), bool))
    with pytest.raises(TypeError, match=r"Softmax 'softmax' expects axis to be an int or a list of ints, got axis='x'"):
        layers.Softmax(axis="x")
    with pytest.raises(TypeError, match=r"ELU 'elu' expects alpha to be a number, got alpha='big'"):
        layers.ELU(alpha="big")


_MODEL_SOURCE = """
def make(keras):
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(6, name="d1"),
        keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25),
                           alpha_regularizer=keras.regularizers.L2(0.01), name="prelu"),
        keras.layers.Dense(6, name="d2"),
        keras.layers.LeakyReLU(0.1, name="leaky"),
        keras.layers.Dense(6, name="d3"),
        keras.layers.ELU(name="elu"),
        keras.layers.ReLU(max_value=3.0, negative_slope=0.05, threshold=0.1, name="relu"),
        keras.layers.Dense(3, name="d4"),
        keras.layers.Softmax(name="probs"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.5), loss="sparse_categorical_crossentropy")
    return model
"""

_TRAIN_IN_KERAS = _MODEL_SOURCE + """
model = make(keras)
model.set_weights(inputs["weights"])
losses = [float(np.asarray(model.train_on_batch(inputs["x"], inputs["y"])).reshape(-1)[0]) for _ in range(2)]
out["losses"] = losses
out["weights"] = [np.asarray(w) for w in model.get_weights()]
model.save(inputs["keras_path"])
out["keras_predictions"] = np.asarray(model.predict(inputs["x"], verbose=0))
loaded = keras.saving.load_model(inputs["lamina_path"])
out["loaded_lamina_predictions"] = np.asarray(loaded.predict(inputs["x"], verbose=0))
"""


def _make_model():
    namespace = {}
    exec(_MODEL_SOURCE, namespace)
    return namespace["make"](lamina)


def test_train_steps_equal_keras_and_keras_files_both_ways(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)).astype("float32"), rng.integers(0, 3, 16)
    model = _make_model()
    initial = model.get_weights()
    lamina_path = str(tmp_path / "lamina.keras")
    trained = _make_model()
    trained.set_weights(initial)
    trained.fit(x, y, epochs=3, verbose=0)
    trained.save(lamina_path)
    expected = run_keras(_TRAIN_IN_KERAS, weights=initial, x=x, y=y, keras_path=str(tmp_path / "keras.keras"),
                         lamina_path=lamina_path)
    losses = [float(np.asarray(model.train_on_batch(x, y)).reshape(-1)[0]) for _ in range(2)]
    np.testing.assert_allclose(losses, expected["losses"], rtol=1e-5)
    for mine, theirs in zip(model.get_weights(), expected["weights"]):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
    np.testing.assert_allclose(expected["loaded_lamina_predictions"], trained.predict(x, verbose=0), atol=1e-6)
    loaded = lamina.saving.load_model(str(tmp_path / "keras.keras"))
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected["keras_predictions"], atol=1e-6)
    history = loaded.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
