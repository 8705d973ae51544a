"""Sequential: structure, names, weights, freezing, nesting, seeding."""
import numpy as np
import pytest

import lamina
from lamina import layers


def lesson_model():
    return lamina.Sequential([
        layers.Flatten(input_shape=[28, 28]),
        layers.Dense(300, activation="relu"),
        layers.Dense(100, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def test_lesson_model_structure_and_names():
    model = lesson_model()
    assert [layer.name for layer in model.layers] == ["flatten", "dense", "dense_1", "dense_2"]
    assert model.name == "sequential"
    assert model.count_params() == 266_610
    assert model.get_layer("dense") is model.layers[1]
    assert model.get_layer(index=-1).units == 10
    assert [w.shape for w in model.weights] == [(784, 300), (300,), (300, 100), (100,), (100, 10), (10,)]
    assert model.output_shape == (None, 10)


def test_add_with_input_layer_and_clear_session():
    model = lamina.Sequential()
    model.add(layers.InputLayer(input_shape=[28, 28]))
    model.add(layers.Flatten())
    model.add(layers.Dense(3))
    assert model.layers[0].name == "flatten" and len(model.layers) == 2
    assert model.built and model.layers[1].kernel.shape == (784, 3)
    assert lamina.Sequential().name == "sequential_1"
    lamina.backend.clear_session()
    assert layers.Dense(1).name == "dense" and lamina.Sequential().name == "sequential"


def test_input_function_and_shape_keyword():
    model = lamina.Sequential([lamina.Input(shape=(4,)), layers.Dense(2)])
    assert model.output_shape == (None, 2) and model.count_params() == 10
    assert layers.InputLayer(shape=(3,)).shape == (3,)


def test_builds_on_first_call_and_returns_tensors():
    model = lamina.Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)])
    assert not model.built
    out = model(np.ones((4, 5)))
    assert isinstance(out, lamina.Tensor) and out.shape == (4, 2) and out.dtype == np.float32
    assert isinstance(np.asarray(out), np.ndarray) and isinstance(out.numpy(), np.ndarray)
    assert model.layers[0].kernel.shape == (5, 3)
    assert model([[1, 2, 3, 4, 5]]).shape == (1, 2)  # a Python list works too


def test_pop_and_rebuild():
    model = lamina.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(4)])
    popped = model.pop()
    assert popped.units == 4 and len(model.layers) == 1
    model.add(layers.Dense(5))
    assert model.output_shape == (None, 5)


def test_get_set_weights_round_trip_and_errors():
    model = lamina.Sequential([layers.Dense(2, input_shape=(3,))])
    weights = model.get_weights()
    weights[0][:] = 7
    model.set_weights(weights)
    assert (model.layers[0].kernel.value == 7).all()
    with pytest.raises(ValueError, match=r"expects 2 weight arrays, got 1"):
        model.set_weights(weights[:1])
    with pytest.raises(ValueError, match=r"weight 'kernel' has shape \(3, 2\), got an array of shape \(2, 2\)"):
        model.layers[0].set_weights([np.zeros((2, 2)), np.zeros(2)])


def test_trainable_false_freezes_layer_and_submodel():
    inner = lamina.Sequential([layers.Dense(4, activation="relu")], name="inner")
    model = lamina.Sequential([layers.Dense(4, input_shape=(3,)), inner, layers.Dense(1)])
    assert inner.output_shape == (None, 4) and len(model.trainable_weights) == 6
    model.layers[0].trainable = False
    inner.trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    frozen = [w.numpy() for w in model.non_trainable_weights]
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 3))
    before_last = model.layers[-1].get_weights()[0].copy()
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    for before, variable in zip(frozen, model.non_trainable_weights):
        np.testing.assert_array_equal(before, variable.value)
    assert not np.array_equal(before_last, model.layers[-1].get_weights()[0])


def test_nested_sequential_trains_and_matches_flat_model():
    inner = lamina.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(3, activation="softmax")])
    nested = lamina.Sequential([layers.Flatten(input_shape=(2, 2)), inner])
    x = np.random.default_rng(0).standard_normal((10, 2, 2))
    flat = nested.layers[0](x)
    np.testing.assert_allclose(nested(x), inner(flat), rtol=1e-6)
    nested.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = nested.fit(x, np.arange(10) % 3, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3


def test_same_seed_same_weights_and_training_bit_for_bit():
    def run():
        lamina.backend.clear_session()
        lamina.random.set_seed(7)
        model = lamina.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                                   layers.Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        x = np.random.default_rng(1).standard_normal((50, 4))
        model.fit(x, np.arange(50) % 3, epochs=2, batch_size=8, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_utils_set_random_seed_is_the_same_seed():
    lamina.utils.set_random_seed(3)
    a = layers.Dense(2)
    a.build((None, 2))
    lamina.random.set_seed(3)
    b = layers.Dense(2)
    b.build((None, 2))
    np.testing.assert_array_equal(a.kernel.value, b.kernel.value)


def test_floatx_float64_computes_in_float64(float64):
    model = lamina.Sequential([layers.Dense(2, input_shape=(3,))])
    assert model.layers[0].kernel.value.dtype == np.float64
    assert model.predict(np.ones((2, 3)), verbose=0).dtype == np.float64


def test_keras_namespace_aliases():
    import lamina as tf
    from lamina.keras.datasets import mnist, fashion_mnist  # noqa: F401

    assert tf.keras.layers.Dense is lamina.layers.Dense
    assert tf.keras.Sequential is lamina.Sequential
    assert tf.keras.backend.clear_session is lamina.backend.clear_session
    assert tf.random.set_seed is lamina.backend.set_seed
    assert callable(tf.keras.utils.set_random_seed)
    assert lamina.models.Sequential is lamina.Sequential


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, lamina; print(sorted(m for m in ('scipy','matplotlib','h5py','pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
