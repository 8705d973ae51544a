"""The Functional API's structure: layers and operations, nesting, building, and its errors."""
import numpy as np
import pytest

import lamina as keras
from lamina import layers, ops


class _Mlp(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(4, activation="relu")
        self.out = layers.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))


def test_ops_are_operations_not_layers_and_named_as_keras_names_them():
    a, b = keras.Input((3,), name="a"), keras.Input((4,), name="b")
    model = keras.Model([a, b], layers.Dense(1, name="d")(ops.concatenate([a, b], axis=-1)))
    assert [layer.name for layer in model.layers] == ["a", "b", "d"]
    assert [op.name for op in model.operations] == ["a", "b", "concatenate", "d"]
    assert type(model.operations[2]).__name__ == "Concatenate"
    lines = []
    model.summary(print_fn=lines.append)
    assert "(Concatenate)" in lines[0] and "concatenate[0][0]" in lines[0]  # Keras wraps the name as here


def test_a_nested_models_own_trackers_are_not_the_outer_models_metrics():
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    inner.compile(loss="mse", metrics=["mae"])
    x = keras.Input((3,))
    outer = keras.Model(x, layers.Dense(1)(inner(x)))
    outer.compile(loss="mse", metrics=["mae"], optimizer="sgd")
    outer.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
    assert [m.name for m in outer.metrics] == ["loss", "compile_metrics"]  # as Keras 3.15


def test_build_creates_a_subclassed_models_weights():
    model = _Mlp()
    model.build((None, 3))
    assert [tuple(w.shape) for w in model.weights] == [(3, 4), (4,), (4, 2), (2,)]
    assert model.count_params() == 26
    model.compile(loss="mse", optimizer="sgd")
    before = [w.numpy().copy() for w in model.weights]
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.weights))


def test_a_subclassed_model_called_on_a_symbolic_tensor_is_a_graph_node():
    x = keras.Input((3,))
    sub = _Mlp()
    model = keras.Model(x, layers.Dense(1)(sub(x)))
    assert model.output_shape == (None, 1)
    np.testing.assert_allclose(model.predict(np.ones((2, 3)), verbose=0),
                               model.layers[-1](sub(np.ones((2, 3)))).numpy(), rtol=1e-6)


def test_feature_extraction_sub_graph_returns_every_layers_output():
    x = keras.Input((3,))
    h1 = layers.Dense(4, name="h1")(x)
    base = keras.Model(x, layers.Dense(2, name="h2")(h1))
    features = keras.Model(base.inputs, [layer.output for layer in base.layers])
    outs = features.predict(np.ones((5, 3)), verbose=0)
    assert [o.shape for o in outs] == [(5, 3), (5, 4), (5, 2)]
    np.testing.assert_allclose(outs[2], base.predict(np.ones((5, 3)), verbose=0), rtol=1e-6)


def test_an_ensemble_averages_its_members():
    def member():
        i = keras.Input((3,))
        return keras.Model(i, layers.Dense(1)(i))
    members = [member() for _ in range(3)]
    x = keras.Input((3,))
    ensemble = keras.Model(x, ops.mean(ops.stack([m(x) for m in members]), axis=0))
    data = np.random.default_rng(0).normal(size=(4, 3))
    expected = np.mean([m.predict(data, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict(data, verbose=0), expected, rtol=1e-5)


def test_a_shared_layer_holds_one_set_of_weights():
    shared = layers.Dense(4)
    i1, i2 = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([i1, i2], ops.add(shared(i1), shared(i2)))
    assert len(model.weights) == 2
    a, b = np.ones((2, 3)), np.full((2, 3), 2.0)
    np.testing.assert_allclose(model.predict([a, b], verbose=0), (shared(a) + shared(b)).numpy(), rtol=1e-6)


def test_sequential_in_a_graph_and_a_graph_in_a_sequential():
    inner = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)])
    x = keras.Input((3,))
    graph = keras.Model(x, layers.Dense(1)(inner(x)))
    outer = keras.Sequential([keras.Input((3,)), graph, layers.Dense(2)])
    data = np.ones((4, 3))
    np.testing.assert_allclose(outer.predict(data, verbose=0),
                               outer.layers[-1](graph.predict(data, verbose=0)).numpy(), rtol=1e-6)


def test_a_model_subclass_that_passes_its_graph_to_super():
    class Graphy(keras.Model):
        def __init__(self):
            i = keras.Input((3,))
            super().__init__(i, layers.Dense(2)(i))

    model = Graphy()
    assert isinstance(model, Graphy) and model.predict(np.ones((2, 3)), verbose=0).shape == (2, 2)


@pytest.mark.parametrize("build, match", [
    (lambda i: keras.Model([keras.Input((3,)), i], layers.Dense(1)(i)), "is not used by any of the outputs"),
    (lambda i: keras.Model(keras.Input((3,)), layers.Dense(1)(i)), "disconnected"),
    (lambda i: keras.Model(i, layers.Dense(2, name="d")(layers.Dense(2, name="d")(i))),
     "two different layers named 'd'"),
])
def test_bad_graphs_are_refused_at_model(build, match):
    with pytest.raises(ValueError, match=match):
        build(keras.Input((3,)))


def test_inputs_of_the_wrong_count_or_names_list_the_expected_inputs():
    a, b = keras.Input((3,), name="wide"), keras.Input((4,), name="deep")
    model = keras.Model({"wide": a, "deep": b}, ops.concatenate([a, b], axis=-1))
    with pytest.raises(ValueError, match=r"expects inputs named \['wide', 'deep'\], got \['dep', 'wide'\]"):
        model.predict({"wide": np.ones((2, 3)), "dep": np.ones((2, 4))}, verbose=0)
    listed = keras.Model([a, b], ops.concatenate([a, b], axis=-1))
    with pytest.raises(ValueError, match=r"expects 2 inputs \['wide', 'deep'\], got 1"):
        listed.predict([np.ones((2, 3))], verbose=0)


def test_a_loss_dict_naming_an_unknown_output_lists_the_outputs():
    x = keras.Input((3,))
    model = keras.Model(x, {"main": layers.Dense(1, name="main")(x), "aux": layers.Dense(1, name="aux")(x)})
    model.compile(loss={"mian": "mse"}, optimizer="sgd")
    with pytest.raises(ValueError, match=r"unknown output\(s\) \['mian'\]; the model's outputs are \['main', 'aux'\]"):
        model.fit(np.ones((4, 3)), {"main": np.ones((4, 1)), "aux": np.ones((4, 1))}, verbose=0)


def test_a_list_of_one_output_gives_the_array_as_keras():
    x = keras.Input((3,))
    model = keras.Model(x, [layers.Dense(2)(x)])
    assert isinstance(model.predict(np.ones((2, 3)), verbose=0), np.ndarray)
    model.compile(loss=["mse"], optimizer="sgd")
    assert np.isfinite(model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0).history["loss"][0])


def test_slicing_a_symbolic_tensor_is_a_graph_node():
    x = keras.Input((4,))
    model = keras.Model(x, x[:, 1:3] * 2.0)
    assert model.output_shape == (None, 2)
    np.testing.assert_allclose(model.predict(np.arange(8.0).reshape(2, 4), verbose=0), [[2, 4], [10, 12]])


def test_layers_and_weights_are_in_keras_order_for_several_inputs():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    e = layers.Dense(2, name="e")(b)
    model = keras.Model([a, b], layers.Dense(2, name="d")(layers.concatenate([a, e])))
    # Keras 3.15 lists them by depth from the outputs: ['b', 'a', 'e', 'concatenate', 'd']
    assert [layer.name for layer in model.layers] == ["b", "a", "e", "concatenate", "d"]
    assert [w.path for w in model.weights] == ["e/kernel", "e/bias", "d/kernel", "d/bias"]
