"""Functional models through ``.keras`` files, both ways with real Keras 3 (JAX, one subprocess for
the module): lamina's files load in Keras and Keras's in lamina with predictions equal to 1e-5,
configs list the same layers, nodes and tensors as Keras's, and a compiled model's optimizer state
survives the file (training resumes where it stopped)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from functional_architectures import (
    ARCHITECTURES,
    FUNCTIONAL,
    flat_predictions,
    inputs,
    make_data,
    subclassed_classes,
)

import lamina

pytest.importorskip("h5py")
_HERE = os.path.dirname(os.path.abspath(__file__))
_FIT = dict(epochs=1, batch_size=8, shuffle=False, verbose=0)
_COMPILE = dict(loss=["mse", "mse"], loss_weights=[0.9, 0.1])

_KERAS_SIDE = """
import json, os, sys
import numpy as np
import keras
sys.path.insert(0, sys.argv[2])
from functional_architectures import ARCHITECTURES, FUNCTIONAL, as_lists, inputs
work = sys.argv[1]
data = dict(np.load(os.path.join(work, "data.npz")))
fit = dict(epochs=1, batch_size=8, shuffle=False, verbose=0)
targets = [data["y_main"], data["y_aux"]]
out = {"lamina_in_keras": {}, "keras": {}, "configs": {}}
for name, build in ARCHITECTURES.items():
    loaded = keras.models.load_model(os.path.join(work, f"lamina_{name}.keras"))
    out["lamina_in_keras"][name] = as_lists(loaded.predict(inputs(name, data), verbose=0))
    keras.backend.clear_session()
    model = build(keras)
    model.save(os.path.join(work, f"keras_{name}.keras"))
    out["keras"][name] = as_lists(model.predict(inputs(name, data), verbose=0))
    if name in FUNCTIONAL:
        out["configs"][name] = model.get_config()
# a compiled, trained lamina model: Keras goes on training it
resumed = keras.models.load_model(os.path.join(work, "lamina_trained.keras"))
resumed.fit(inputs("wide_deep", data), targets, **fit)
out["lamina_trained_resumed"] = as_lists(resumed.predict(inputs("wide_deep", data), verbose=0))
# a compiled, trained Keras model, saved, then trained one epoch more
keras.backend.clear_session()
model = ARCHITECTURES["wide_deep"](keras)
model.compile(optimizer=keras.optimizers.Adam(0.01), loss=["mse", "mse"], loss_weights=[0.9, 0.1])
model.fit(inputs("wide_deep", data), targets, **fit)
model.save(os.path.join(work, "keras_trained.keras"))
model.fit(inputs("wide_deep", data), targets, **fit)
out["keras_trained_resumed"] = as_lists(model.predict(inputs("wide_deep", data), verbose=0))
# subclassed models: lamina's files (compiled and trained) go on training in Keras; Keras's load in lamina
from functional_architectures import subclassed_classes
Mlp, Plain, Wide = subclassed_classes(keras)
for name, cls in (("mlp", Mlp), ("plain", Plain), ("wide", Wide)):
    custom = {"Plain": Plain} if cls is Plain else None
    loaded = keras.models.load_model(os.path.join(work, f"lamina_{name}.keras"), custom_objects=custom)
    out[f"lamina_{name}"] = as_lists(loaded.predict(data["x3"], verbose=0))
    loaded.fit(data["x3"], data["y2"], **fit)
    out[f"lamina_{name}_resumed"] = as_lists(loaded.predict(data["x3"], verbose=0))
    model = cls(5, name=f"keras_{name}")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(data["x3"], data["y2"], **fit)
    model.save(os.path.join(work, f"keras_{name}.keras"))
    out[f"keras_{name}"] = as_lists(model.predict(data["x3"], verbose=0))
    model.fit(data["x3"], data["y2"], **fit)
    out[f"keras_{name}_resumed"] = as_lists(model.predict(data["x3"], verbose=0))
print(json.dumps(out, default=str))
"""


def _close(got, expected, atol=1e-5):
    got = flat_predictions(got)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e), atol=atol, rtol=1e-5)


def _train_lamina(data):
    lamina.backend.clear_session()
    model = ARCHITECTURES["wide_deep"](lamina)
    model.compile(optimizer=lamina.optimizers.Adam(0.01), **_COMPILE)
    model.fit(inputs("wide_deep", data), [data["y_main"], data["y_aux"]], **_FIT)
    return model


@pytest.fixture(scope="module")
def interop(tmp_path_factory):
    """Every architecture saved by lamina and by Keras, and what Keras made of lamina's files."""
    work = str(tmp_path_factory.mktemp("functional"))
    data = make_data()
    np.savez(os.path.join(work, "data.npz"), **data)
    models = {}
    for name, build in ARCHITECTURES.items():
        lamina.backend.clear_session()
        models[name] = build(lamina)
        models[name].save(os.path.join(work, f"lamina_{name}.keras"))
    trained = _train_lamina(data)
    trained.save(os.path.join(work, "lamina_trained.keras"))
    subclassed = {}
    for name, cls in zip(("mlp", "plain", "wide"), subclassed_classes(lamina)):
        model = subclassed[name] = cls(5, name=f"lamina_{name}")
        model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="mse")
        model.fit(data["x3"], data["y2"], **_FIT)
        model.save(os.path.join(work, f"lamina_{name}.keras"))
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(_KERAS_SIDE), work, _HERE], capture_output=True,
                            text=True, env=env, timeout=600)
    if result.returncode != 0:
        if "No module named 'keras'" in result.stderr or "No module named 'jax'" in result.stderr:
            pytest.skip("the Keras interop tests need keras and jax: CI must install them")
        raise AssertionError(f"Keras subprocess failed:\n{result.stderr[-4000:]}")
    keras_side = json.loads(result.stdout.strip().splitlines()[-1])
    return {"work": work, "data": data, "models": models, "trained": trained, "keras": keras_side,
            "subclassed": subclassed}


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_lamina_file_predicts_the_same_in_keras(interop, name):
    model, data = interop["models"][name], interop["data"]
    _close(model.predict(inputs(name, data), verbose=0), interop["keras"]["lamina_in_keras"][name])


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_keras_file_predicts_the_same_in_lamina(interop, name):
    loaded = lamina.saving.load_model(os.path.join(interop["work"], f"keras_{name}.keras"))
    predictions = loaded.predict(inputs(name, interop["data"]), verbose=0)
    _close(predictions, interop["keras"]["keras"][name])
    # and it saves again into a file lamina reads back to the same numbers
    path = os.path.join(interop["work"], f"again_{name}.keras")
    loaded.save(path)
    _close(lamina.saving.load_model(path).predict(inputs(name, interop["data"]), verbose=0),
           [a.tolist() for a in flat_predictions(predictions)], atol=0)


def _graph_facts(config: dict) -> dict:
    """What must agree with Keras: the layers in order with their class and calls, and the
    model's inputs and outputs (layer configs differ in keys newer Keras versions add)."""
    layers = []
    for entry in config["layers"]:
        fact = [entry["name"], entry["class_name"], entry["inbound_nodes"]]
        if entry["module"].startswith("keras.src.ops"):
            fact += [entry["module"], entry["config"], entry["registered_name"]]
        layers.append(fact)
    return {"layers": layers, "input_layers": config["input_layers"], "output_layers": config["output_layers"],
            "name": config["name"], "trainable": config["trainable"]}


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_config_lists_what_keras_lists(interop, name):
    lamina.backend.clear_session()
    config = json.loads(json.dumps(ARCHITECTURES[name](lamina).get_config()))
    assert _graph_facts(config) == _graph_facts(interop["keras"]["configs"][name])


def test_keras_resumes_training_a_lamina_file_where_lamina_would(interop):
    data, trained = interop["data"], interop["trained"]
    reloaded = lamina.saving.load_model(os.path.join(interop["work"], "lamina_trained.keras"))
    assert reloaded.optimizer.iterations.numpy() == trained.optimizer.iterations.numpy() == 2
    for model in (trained, reloaded):
        model.fit(inputs("wide_deep", data), [data["y_main"], data["y_aux"]], **_FIT)
    expected = trained.predict(inputs("wide_deep", data), verbose=0)
    _close(reloaded.predict(inputs("wide_deep", data), verbose=0), expected, atol=1e-7)
    _close(expected, interop["keras"]["lamina_trained_resumed"])


def test_lamina_resumes_training_a_keras_file_where_keras_did(interop):
    data = interop["data"]
    model = lamina.saving.load_model(os.path.join(interop["work"], "keras_trained.keras"))
    assert model.optimizer.iterations.numpy() == 2
    model.fit(inputs("wide_deep", data), [data["y_main"], data["y_aux"]], **_FIT)
    _close(model.predict(inputs("wide_deep", data), verbose=0), interop["keras"]["keras_trained_resumed"])


def test_weights_file_keeps_keras_layer_order(interop):
    """Keras's folder names for a graph: per class, in its graph order (InputLayers included)."""
    import zipfile

    import h5py
    with zipfile.ZipFile(os.path.join(interop["work"], "lamina_multi_io.keras")) as archive, \
            h5py.File(archive.open("model.weights.h5"), "r") as h5:
        names = {path: h5[path].attrs["name"] for path in ("layers/input_layer/vars", "layers/input_layer_1/vars",
                                                           "layers/dense/vars", "layers/dense_1/vars",
                                                           "layers/functional/vars", "layers/sequential/vars",
                                                           "layers/functional/layers/dense/vars")}
        assert sorted(h5["layers"]) == ["dense", "dense_1", "functional", "input_layer", "input_layer_1",
                                        "sequential"]
    assert names == {"layers/input_layer/vars": "b", "layers/input_layer_1/vars": "a", "layers/dense/vars": "e",
                     "layers/dense_1/vars": "d", "layers/functional/vars": "inner",
                     "layers/sequential/vars": "seq", "layers/functional/layers/dense/vars": "inner_d"}


@pytest.mark.parametrize("name", ["mlp", "plain", "wide"])
def test_subclassed_model_files_both_ways(interop, name):
    """A Model subclass with get_config: registered (``mlp``, and ``wide``, which builds a graph in
    its __init__) or passed in custom_objects (``plain``); the weights of its layers sit where
    Keras's attribute walk puts them."""
    data, keras_side = interop["data"], interop["keras"]
    _, plain, _ = subclassed_classes(lamina)
    custom = {"Plain": plain} if name == "plain" else None
    ours = interop["subclassed"][name]
    _close(ours.predict(data["x3"], verbose=0), keras_side[f"lamina_{name}"])
    reloaded = lamina.saving.load_model(os.path.join(interop["work"], f"lamina_{name}.keras"), custom_objects=custom)
    assert type(reloaded).__name__ == type(ours).__name__ and reloaded.get_config() == ours.get_config()
    reloaded.fit(data["x3"], data["y2"], **_FIT)
    _close(reloaded.predict(data["x3"], verbose=0), keras_side[f"lamina_{name}_resumed"])
    theirs = lamina.saving.load_model(os.path.join(interop["work"], f"keras_{name}.keras"), custom_objects=custom)
    _close(theirs.predict(data["x3"], verbose=0), keras_side[f"keras_{name}"])
    theirs.fit(data["x3"], data["y2"], **_FIT)
    _close(theirs.predict(data["x3"], verbose=0), keras_side[f"keras_{name}_resumed"])


def test_unregistered_subclass_is_refused_without_custom_objects(interop):
    with pytest.raises(ValueError, match="Plain.*not registered.*custom_objects"):
        lamina.saving.load_model(os.path.join(interop["work"], "keras_plain.keras"))


# --- configs are untrusted: every malformed or hostile graph is refused, naming what is wrong ---
def _tensor(name, node=0, index=0, shape=(None, 3)):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(shape), "dtype": "float32", "keras_history": [name, node, index]}}


def _input(name="x", width=3):
    return {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None, "name": name,
            "config": {"batch_shape": [None, width], "dtype": "float32", "name": name}, "inbound_nodes": []}


def _dense(name, source, units=2, node=0, module="keras.layers", class_name="Dense"):
    return {"module": module, "class_name": class_name, "registered_name": None, "name": name,
            "config": {"name": name, "units": units},
            "inbound_nodes": [{"args": [_tensor(source, node)], "kwargs": {}}]}


def _graph(layers, outputs, inputs=("x", 0, 0)):
    return {"name": "hostile", "trainable": True, "layers": layers, "input_layers": list(inputs),
            "output_layers": outputs}


def test_a_valid_hand_written_config_builds():
    model = lamina.Model.from_config(_graph([_input(), _dense("d", "x")], ["d", 0, 0]))
    x = np.ones((2, 3), "float32")
    kernel, bias = model.get_layer("d").get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ kernel + bias, rtol=1e-6)


def test_the_older_list_form_of_nodes_builds():
    layer = _dense("d", "x")
    layer["inbound_nodes"] = [[["x", 0, 0, {}]]]
    model = lamina.Model.from_config(_graph([_input(), layer], ["d", 0, 0]))
    assert model.output_shape == (None, 2)


def test_layers_listed_out_of_order_still_build():
    """A layer shared at two depths, its uses listed before the layers they read."""
    shared = _dense("s", "x", units=3)
    shared["inbound_nodes"].append({"args": [_tensor("m")], "kwargs": {}})
    config = _graph([_dense("m", "s", units=3), shared, _input()], ["s", 1, 0])
    model = lamina.Model.from_config(config)
    (ws, bs), (wm, bm) = model.get_layer("s").get_weights(), model.get_layer("m").get_weights()
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), ((x @ ws + bs) @ wm + bm) @ ws + bs, rtol=1e-5)


@pytest.mark.parametrize("layers, outputs, message", [
    ([_input(), _dense("d", "nowhere")], ["d", 0, 0], "reads a tensor of layer 'nowhere', which the config"),
    ([_input(), _dense("a", "b"), _dense("b", "a")], ["a", 0, 0], "read tensors no call makes"),
    ([_input(), _dense("d", "x", node=5)], ["d", 0, 0], "read tensors no call makes"),
    ([_input(), _dense("d", "x")], ["d", 3, 0], "names node 3 of layer 'd', which has 1"),
    ([_input(), _dense("d", "x")], ["d", 0, 7], "names output 7 of layer 'd', which has 1"),
    ([_input(), _dense("d", "x")], ["ghost", 0, 0], "names layer 'ghost'"),
    ([_input(), _dense("d", "x", module="os", class_name="system")], ["d", 0, 0], "Refusing to build os.system"),
    ([_input(), _dense("d", "x", module="keras.src.ops.numpy", class_name="Einsum")], ["d", 0, 0],
     "op keras.src.ops.numpy.Einsum, which lamina cannot rebuild"),
    ([_input(), _input()], ["x", 0, 0], "two layers named 'x'"),
    ([_input(), {**_dense("d", "x"), "inbound_nodes": [{"args": [1.0], "kwargs": {}}]}], ["d", 0, 0],
     "reads no tensor"),
    ([_input(), {**_dense("d", "x"), "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                                                 "config": {"keras_history": ["x", -1, 0]}}],
                                                       "kwargs": {}}]}], ["d", 0, 0], "needs keras_history"),
    ([_input(), {**_dense("d", "x"), "inbound_nodes": "lots"}], ["d", 0, 0], "inbound_nodes must be a list"),
    ([_input(), "Dense"], ["x", 0, 0], "must be a dict with a string 'name'"),
])
def test_malformed_graph_configs_are_refused(layers, outputs, message):
    with pytest.raises(ValueError, match=message):
        lamina.Model.from_config(_graph(layers, outputs))


def test_op_configs_outside_the_table_or_with_unknown_keys_are_refused():
    op = {"module": "keras.src.ops.numpy", "class_name": "Mean", "registered_name": "Mean", "name": "mean",
          "config": {"name": "mean", "axis": -1, "keepdims": False, "where": "rm -rf"},
          "inbound_nodes": [{"args": [_tensor("x")], "kwargs": {}}]}
    with pytest.raises(ValueError, match=r"Mean got config keys \['where'\]"):
        lamina.Model.from_config(_graph([_input(), op], ["mean", 0, 0]))
    op["config"] = {"name": "mean", "axis": {"class_name": "__lambda__"}, "keepdims": False}
    with pytest.raises(ValueError, match="An op argument must be"):
        lamina.Model.from_config(_graph([_input(), op], ["mean", 0, 0]))
    op["config"] = {"name": "mean", "axis": -1, "keepdims": True}
    model = lamina.Model.from_config(_graph([_input(), op], ["mean", 0, 0]))
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), x.mean(-1, keepdims=True))


def test_layer_count_cap_applies_to_graph_configs(monkeypatch):
    from lamina.saving import limits
    monkeypatch.setattr(limits, "MAX_LAYERS", 3)
    chain = [_input()] + [_dense(f"d{i}", "x" if i == 0 else f"d{i - 1}", units=3) for i in range(4)]
    with pytest.raises(ValueError, match="more than 3 layers"):
        lamina.Model.from_config(_graph(chain, ["d3", 0, 0]))


def test_call_count_cap_applies_to_graph_configs(monkeypatch):
    from lamina.models import functional_config
    monkeypatch.setattr(functional_config, "MAX_NODES", 3)
    shared = _dense("s", "x", units=3)
    shared["inbound_nodes"] += [{"args": [_tensor("s", i)], "kwargs": {}} for i in range(4)]
    with pytest.raises(ValueError, match="more than 3 layer calls"):
        lamina.Model.from_config(_graph([_input(), shared], ["s", 0, 0]))


def test_weights_a_graph_config_asks_for_are_bounded():
    with pytest.raises(ValueError, match="refusing to build it"):
        lamina.Model.from_config(_graph([_input(width=1 << 14), _dense("d", "x", units=1 << 14)], ["d", 0, 0]))


def test_saving_an_op_keras_has_no_config_for_is_refused(tmp_path):
    x = lamina.Input((3,), name="x")
    model = lamina.Model(x, lamina.layers.Dense(2)(lamina.ops.log1p(x)))
    with pytest.raises(ValueError, match="The op 'log1p'.*cannot be saved in a Keras config.*Layer subclass"):
        model.save(str(tmp_path / "m.keras"))
    assert not (tmp_path / "m.keras").exists()


def _weight_paths(path: str) -> dict:
    import zipfile

    import h5py
    found = {}
    with zipfile.ZipFile(path) as archive, h5py.File(archive.open("model.weights.h5"), "r") as h5:
        h5.visititems(lambda name, node: found.__setitem__(name, node.shape)
                      if isinstance(node, h5py.Dataset) and not name.startswith("optimizer") else None)
    return found


def test_subclassed_weights_sit_where_keras_puts_them(interop):
    ours = _weight_paths(os.path.join(interop["work"], "lamina_mlp.keras"))
    theirs = _weight_paths(os.path.join(interop["work"], "keras_mlp.keras"))
    assert ours == theirs
    assert "_gate/vars/0" not in ours and "layers/dense_4/vars/0" in ours and "extras/dense_1/vars/0" in ours
