"""``summary()`` of graph models printed beside Keras 3's own (JAX, one subprocess for the module):
the same text line by line for the same models: the "Connected to" column with its
``layer[node][tensor]`` entries, several inputs and outputs, shared layers, ops, nested models with
``expand_nested``, ``show_trainable``, ``line_length``, ``positions``, ``layer_range``, and the
optimizer line of a trained model."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from functional_architectures import ARCHITECTURES, inputs, make_data

import lamina

_HERE = os.path.dirname(os.path.abspath(__file__))
_VARIANTS = {
    "default": {},
    "expanded": {"expand_nested": True},
    "trainable": {"show_trainable": True, "expand_nested": True},
    "narrow": {"line_length": 80},
    "positions": {"positions": [0.25, 0.5, 0.7, 1.0], "line_length": 120},
}
_RANGES = {"multi_io": ["e", "inner"], "wide_deep": ["h2", "aux"], "shared_depth": ["mid", "mean"]}

_KERAS_SIDE = """
import json, os, sys
import numpy as np
import keras
sys.path.insert(0, sys.argv[1])
from functional_architectures import ARCHITECTURES, inputs, make_data
variants, ranges = json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {}
def prepare(model, name):
    if name in ("multi_io", "graph_in_sequential"):
        (model.get_layer("d") if name == "multi_io" else model.layers[0]).trainable = False
    return model
for name, build in ARCHITECTURES.items():
    keras.backend.clear_session()
    model = prepare(build(keras), name)
    texts = {}
    for variant, kwargs in variants.items():
        model.summary(print_fn=lambda text: texts.__setitem__(variant, text), **kwargs)
    if name in ranges:
        model.summary(print_fn=lambda text: texts.__setitem__("range", text), layer_range=ranges[name])
    out[name] = texts
keras.backend.clear_session()
model = ARCHITECTURES["wide_deep"](keras)
model.compile(optimizer="adam", loss=["mse", "mse"])
data = make_data()
model.fit(inputs("wide_deep", data), [data["y_main"], data["y_aux"]], epochs=1, verbose=0)
model.summary(print_fn=lambda text: out.__setitem__("trained", text))
print(json.dumps(out))
"""


def _prepare(model, name):
    if name in ("multi_io", "graph_in_sequential"):
        (model.get_layer("d") if name == "multi_io" else model.layers[0]).trainable = False
    return model


@pytest.fixture(scope="module")
def keras_summaries():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3",
           "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(_KERAS_SIDE), _HERE, json.dumps(_VARIANTS),
                             json.dumps(_RANGES)], capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        if "No module named 'keras'" in result.stderr or "No module named 'jax'" in result.stderr:
            pytest.skip("the Keras interop tests need keras and jax: CI must install them")
        raise AssertionError(f"Keras subprocess failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def wide_terminal(monkeypatch):
    """A 200-column terminal on both sides, so the default widths (88, or 108 for graphs) apply."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a, **k: os.terminal_size((200, 50)))


def _summary(model, **kwargs) -> str:
    texts = []
    model.summary(print_fn=texts.append, **kwargs)
    assert len(texts) == 1
    return texts[0]


@pytest.mark.parametrize("variant", list(_VARIANTS))
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_summary_prints_what_keras_prints(keras_summaries, wide_terminal, name, variant):
    lamina.backend.clear_session()
    model = _prepare(ARCHITECTURES[name](lamina), name)
    assert _summary(model, **_VARIANTS[variant]).splitlines() == keras_summaries[name][variant].splitlines()


@pytest.mark.parametrize("name", list(_RANGES))
def test_layer_range_of_a_graph(keras_summaries, wide_terminal, name):
    lamina.backend.clear_session()
    model = _prepare(ARCHITECTURES[name](lamina), name)
    assert _summary(model, layer_range=_RANGES[name]).splitlines() == keras_summaries[name]["range"].splitlines()


def test_trained_graph_shows_optimizer_params(keras_summaries, wide_terminal):
    lamina.backend.clear_session()
    model = ARCHITECTURES["wide_deep"](lamina)
    model.compile(optimizer="adam", loss=["mse", "mse"])
    data = make_data()
    model.fit(inputs("wide_deep", data), [data["y_main"], data["y_aux"]], epochs=1, verbose=0)
    text = _summary(model)
    ours, theirs = text.splitlines(), keras_summaries["trained"].splitlines()
    assert ours[:-4] == theirs[:-4]
    # the counts agree; the byte sizes may not: Keras on JAX keeps the iteration count in int32
    assert [line.split(" (")[0] for line in ours[-4:]] == [line.split(" (")[0] for line in theirs[-4:]]
    assert "Optimizer params: 2,416" in text  # two Adam slots per weight, iterations and learning rate


def test_connected_to_names_node_and_tensor_indices(wide_terminal):
    """The entries themselves: a shared layer lists both calls, a nested model called twice is
    read as ``inner[1][0]``, and inputs show ``-``."""
    lamina.backend.clear_session()
    text = _summary(ARCHITECTURES["nested_twice"](lamina))
    rows = {line.split("│")[1].split()[0]: line.split("│")[4].strip() for line in text.splitlines()
            if line.startswith("│") and line.split("│")[1].strip()}
    assert rows == {"y": "-", "inner": "y[0][0], inner[0][0]", "o": "inner[1][0]"}
    assert "Connected to" in text.splitlines()[2]


def test_chains_keep_three_columns(wide_terminal):
    lamina.backend.clear_session()
    text = _summary(ARCHITECTURES["chain"](lamina))
    assert "Connected to" not in text and len(text.splitlines()[1]) == 88
    assert np.isclose(ARCHITECTURES["chain"](lamina).count_params(), 4 * 8 + 8 + 8 * 2 + 2)
