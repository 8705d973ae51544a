"""Lambda against Keras 3 (values, shapes, configs, files both ways), its gradients, and safe
mode: a lambda stored in a file never runs unless the user opts in."""
import json
import marshal
import os
import zipfile

import numpy as np
import pytest

import lamina
from gradcheck import numeric_grad, tape_grads
from keras_reference import run_keras
from lamina import layers, ops
from lamina.saving import safe_mode



def shifted(offset):
    """A lambda with a closure (``offset``) and a default (``k``)."""
    return lambda t, k=3.0: t * k + offset

_KERAS_SCRIPT = """
import json
x = inputs["x"]
square = keras.layers.Lambda(lambda t: t ** 2 + 1.0)
out["square"] = np.asarray(square(x))
out["square_config"] = json.loads(json.dumps(square.get_config()))
def shifted(offset):
    return lambda t, k=3.0: t * k + offset
closure = keras.layers.Lambda(shifted(0.5), output_shape=(5,))
out["closure"] = np.asarray(closure(x))
out["closure_config"] = json.loads(json.dumps(closure.get_config()))
out["shapes"] = [list(keras.layers.Lambda(lambda t: keras.ops.sum(t, axis=-1, keepdims=True))(keras.Input((5,))).shape),
                 list(keras.layers.Lambda(lambda t: t[:, :2], output_shape=(2,))(keras.Input((5,))).shape),
                 list(keras.layers.Lambda(lambda t: t, output_shape=lambda s: (s[0], 7))(keras.Input((5,))).shape)]
import copy
rebuilt = keras.layers.Lambda.from_config(copy.deepcopy(inputs["lamina_config"]), safe_mode=False)
out["from_lamina"] = np.asarray(rebuilt(x))
try:
    keras.layers.Lambda.from_config(copy.deepcopy(inputs["lamina_config"]))
    out["keras_refuses"] = False
except ValueError:
    out["keras_refuses"] = True
model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, name="d"),
                          keras.layers.Lambda(lambda t: t * 2.0 - 1.0, name="affine")])
model.set_weights(inputs["weights"])
model.save(inputs["keras_path"])
out["keras_predictions"] = np.asarray(model.predict(x, verbose=0))
summed = keras.Sequential([keras.Input((5,)), keras.layers.Lambda(lambda t: keras.ops.sum(t, axis=-1, keepdims=True))])
summed.save(inputs["keras_ops_path"])
out["keras_ops_predictions"] = np.asarray(summed.predict(x, verbose=0))
loaded = keras.saving.load_model(inputs["lamina_path"], safe_mode=False)
out["lamina_file_in_keras"] = np.asarray(loaded.predict(x, verbose=0))
"""


def _lamina_model():
    return lamina.Sequential([lamina.Input((5,)), layers.Dense(3, name="d"),
                              layers.Lambda(lambda t: t * 2.0 - 1.0, name="affine")])


@pytest.fixture(scope="module")
def keras_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lambda")
    x = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    model = _lamina_model()
    model.save(str(folder / "lamina.keras"))
    # no default arguments here: Keras 3.15 cannot load a lambda's defaults from JSON (a list, not a tuple)
    offset = 0.5
    config = layers.Lambda(lambda t: t * 3.0 + offset, output_shape=(5,)).get_config()
    results = run_keras(_KERAS_SCRIPT, x=x, weights=model.get_weights(), lamina_config=json.loads(json.dumps(config)),
                        keras_path=str(folder / "keras.keras"), lamina_path=str(folder / "lamina.keras"),
                        keras_ops_path=str(folder / "keras_ops.keras"))
    return results, x, model, folder


@pytest.fixture
def restore_safe_mode():
    yield
    safe_mode._UNSAFE_FOR_PROCESS[0] = False


def test_values_and_symbolic_shapes_match_keras(keras_results):
    results, x, _, _ = keras_results
    np.testing.assert_allclose(layers.Lambda(lambda t: t ** 2 + 1.0)(x).numpy(), results["square"], rtol=1e-6)
    closure = layers.Lambda(shifted(0.5), output_shape=(5,))
    np.testing.assert_allclose(closure(x).numpy(), results["closure"], rtol=1e-6)
    np.testing.assert_allclose(closure(x, training=True).numpy(), results["closure"], rtol=1e-6)
    shapes = [layers.Lambda(lambda t: ops.sum(t, axis=-1, keepdims=True))(lamina.Input((5,))).shape,
              layers.Lambda(lambda t: t[:, :2], output_shape=(2,))(lamina.Input((5,))).shape,
              layers.Lambda(lambda t: t, output_shape=lambda s: (s[0], 7))(lamina.Input((5,))).shape]
    assert [list(s) for s in shapes] == results["shapes"]


def test_config_is_keras_layout_and_loads_both_ways(keras_results):
    results, x, _, _ = keras_results
    mine = layers.Lambda(shifted(0.5), output_shape=(5,)).get_config()
    theirs = results["closure_config"]
    assert sorted(mine) == sorted(theirs)
    assert mine["function"]["class_name"] == theirs["function"]["class_name"] == "__lambda__"
    assert sorted(mine["function"]["config"]) == sorted(theirs["function"]["config"]) == ["closure", "code", "defaults"]
    assert mine["function"]["config"]["defaults"] == theirs["function"]["config"]["defaults"] == [3.0]
    assert mine["function"]["config"]["closure"] == theirs["function"]["config"]["closure"] == [0.5]
    assert mine["output_shape"] == theirs["output_shape"] == [5]
    assert sorted(layers.Lambda(lambda t: t).get_config()) == sorted(results["square_config"])
    assert results["keras_refuses"]  # Keras's safe mode refuses lamina's config too
    np.testing.assert_allclose(results["from_lamina"], results["closure"], rtol=1e-6)
    rebuilt = layers.Lambda.from_config(theirs, safe_mode=False)  # Keras's bytecode, run by lamina
    np.testing.assert_allclose(rebuilt(x).numpy(), results["closure"], rtol=1e-6)


def test_keras_files_load_in_lamina_and_back(keras_results):
    results, x, model, folder = keras_results
    np.testing.assert_allclose(results["lamina_file_in_keras"], model.predict(x, verbose=0), atol=1e-6)
    loaded = lamina.saving.load_model(str(folder / "keras.keras"), safe_mode=False)
    assert [type(layer).__name__ for layer in loaded.layers] == ["Dense", "Lambda"]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), results["keras_predictions"], atol=1e-6)
    # a lambda written with keras.ops: its global `keras` is lamina here (Keras itself cannot reload it)
    summed = lamina.saving.load_model(str(folder / "keras_ops.keras"), safe_mode=False)
    np.testing.assert_allclose(summed.predict(x, verbose=0), results["keras_ops_predictions"], rtol=1e-6)


def test_loading_a_lambda_is_refused_unless_the_user_opts_in(keras_results, restore_safe_mode):
    _, x, model, folder = keras_results
    for path in (folder / "lamina.keras", folder / "keras.keras"):
        with pytest.raises(ValueError, match=r"Refusing to load a Lambda layer whose function is a Python lambda.*"
                                             r"safe_mode=False.*lamina.config.enable_unsafe_deserialization\(\)"):
            lamina.saving.load_model(str(path))
    config = layers.Lambda(lambda t: t + 1.0).get_config()
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.Lambda.from_config(config)
    with pytest.raises(ValueError, match="safe_mode=False"):
        lamina.saving.deserialize_keras_object(lamina.saving.serialize_keras_object(layers.Lambda(lambda t: t)))
    with pytest.raises(ValueError, match="safe_mode=False"):
        lamina.Sequential.from_config(model.get_config())
    with safe_mode.SafeModeScope(False):  # an enclosing load's choice reaches from_config
        assert float(layers.Lambda.from_config(config)(np.zeros((1, 1)))[0, 0]) == 1.0
    lamina.config.enable_unsafe_deserialization()
    np.testing.assert_allclose(lamina.saving.load_model(str(folder / "lamina.keras")).predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)
    assert lamina.keras.config.enable_unsafe_deserialization is lamina.config.enable_unsafe_deserialization


def test_a_hostile_lambda_in_a_file_runs_nothing_and_is_not_even_decoded(keras_results, tmp_path, monkeypatch):
    _, _, model, folder = keras_results
    calls, decoded = [], []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args))
    real_loads = marshal.loads
    monkeypatch.setattr(marshal, "loads", lambda data: decoded.append(data) or real_loads(data))
    hostile = layers.Lambda(lambda t: __import__("os").system("echo pwned") or t, name="affine")
    with zipfile.ZipFile(folder / "lamina.keras") as source:
        contents = {name: source.read(name) for name in source.namelist()}
    config = json.loads(contents["config.json"])
    config["config"]["layers"][-1]["config"]["function"] = hostile.get_config()["function"]
    contents["config.json"] = json.dumps(config).encode()
    path = tmp_path / "hostile.keras"
    with zipfile.ZipFile(path, "w") as target:
        for name, data in contents.items():
            target.writestr(name, data)
    with pytest.raises(ValueError, match=r"hostile\.keras.*Refusing to load a Lambda layer"):
        lamina.saving.load_model(str(path))
    assert calls == [] and decoded == []
    opted_in = lamina.saving.load_model(str(path), safe_mode=False)  # the user said they trust it: it runs
    opted_in.predict(np.ones((1, 5)), verbose=0)
    assert len(decoded) == 1 and ("echo pwned",) in calls


def test_named_functions_load_only_when_registered_or_given():
    def doubled(t):
        return t * 2.0
    config = layers.Lambda(doubled).get_config()
    assert config["function"]["class_name"] == "function" and config["function"]["config"] == "doubled"
    with pytest.raises(ValueError, match=r"Refusing to use function .*doubled"):
        layers.Lambda.from_config(config)
    rebuilt = layers.Lambda.from_config(config, custom_objects={"doubled": doubled})
    assert float(rebuilt(np.ones((1, 1)))[0, 0]) == 2.0
    with lamina.saving.custom_object_scope({"doubled": doubled}):
        assert lamina.saving.deserialize_keras_object(lamina.saving.serialize_keras_object(layers.Lambda(doubled))) \
            .function is doubled


def test_arguments_training_and_gradients(float64):
    def scaled(t, factor, training=None):
        return t * factor * (2.0 if training else 1.0)
    layer = layers.Lambda(scaled, arguments={"factor": 3.0})
    assert float(layer(np.ones((1, 1)))[0, 0]) == 3.0
    assert float(layer(np.ones((1, 1)), training=True)[0, 0]) == 6.0
    assert layers.Lambda.from_config(layer.get_config(), custom_objects={"scaled": scaled}).arguments == {"factor": 3.0}
    x = np.random.default_rng(1).standard_normal((3, 4))
    wavy = layers.Lambda(lambda t: ops.sin(t) * ops.sum(t * t, axis=-1, keepdims=True))
    r = np.random.default_rng(2).standard_normal(x.shape)
    tensor = ops.convert_to_tensor(x)
    (grad,) = tape_grads(lambda: ops.sum(wavy(tensor) * r), [tensor])
    np.testing.assert_allclose(grad, numeric_grad(lambda: float(np.sum(wavy(x).numpy() * r)), x), rtol=1e-6)


def test_a_lambda_trains_inside_a_functional_model():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 3)).astype("float32")
    y = (x[:, :1] ** 2).astype("float32")
    inputs = lamina.Input((3,))
    squares = layers.Lambda(lambda t: ops.concatenate([t, t * t], axis=-1))(inputs)
    model = lamina.Model(inputs, layers.Dense(1)(squares))
    model.compile(optimizer=lamina.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


def test_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match=r"Lambda 'l' got mask=.*lamina has no mask propagation.*mask=None"):
        layers.Lambda(lambda t: t, mask=lambda t, m: m, name="l")
    with pytest.raises(TypeError, match=r"Lambda 'lambda' expects a callable function, got 3"):
        layers.Lambda(3)
    with pytest.raises(TypeError, match=r"Lambda 'lambda_1' expects output_shape to be None, a shape tuple"):
        layers.Lambda(lambda t: t, output_shape="big")
    with pytest.raises(TypeError, match=r"Lambda 'lambda_2' expects arguments to be a dict"):
        layers.Lambda(lambda t: t, arguments=[1])


def test_a_functional_model_with_a_lambda_saves_and_loads_only_when_opted_in(tmp_path):
    inputs = lamina.Input((3,))
    model = lamina.Model(inputs, layers.Dense(2)(layers.Lambda(lambda t: t * t + 1.0)(inputs)))
    path = str(tmp_path / "graph.keras")
    model.save(path)
    with pytest.raises(ValueError, match=r"graph\.keras.*Refusing to load a Lambda layer.*safe_mode=False"):
        lamina.saving.load_model(path)
    loaded = lamina.saving.load_model(path, safe_mode=False)
    x = np.random.default_rng(3).standard_normal((4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert safe_mode.in_safe_mode() is None  # the opt-in lasted for that load only
    with pytest.raises(ValueError, match="Refusing to load a Lambda layer"):
        lamina.saving.load_model(path)
