"""Activation and Identity: values, gradients against finite differences, config, training."""
import numpy as np
import pytest

import lamina
from gradcheck import check_layer
from lamina import layers


@pytest.mark.parametrize("name", ["linear", "relu", "sigmoid", "tanh", "softmax"])
def test_activation_gradients_match_finite_differences(float64, name):
    x = np.random.default_rng(0).standard_normal((4, 5))
    x[np.abs(x) < 0.05] = 0.3  # keep relu away from its kink
    check_layer(layers.Activation(name), x)


def test_activation_values_and_input_left_intact():
    x = np.array([[-1.0, 0.5, 2.0]], dtype="float32")
    saved = x.copy()
    y = layers.Activation("relu")(x)
    np.testing.assert_array_equal(y, [[0.0, 0.5, 2.0]])
    np.testing.assert_array_equal(x, saved)  # a previous layer's output must survive for its backward
    np.testing.assert_allclose(layers.Activation(lamina.activations.tanh)(x), np.tanh(saved), rtol=1e-6)


def test_activation_config_round_trip():
    layer = layers.Activation("sigmoid", name="act")
    config = layer.get_config()
    assert config["activation"] == "sigmoid" and config["name"] == "act"
    clone = layers.Activation.from_config(config)
    assert clone.activation.name == "sigmoid" and clone.name == "act"


def test_activation_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown activation 'relux'"):
        layers.Activation("relux")


def test_identity_passes_values_and_gradients(float64):
    x = np.random.default_rng(1).standard_normal((3, 2, 4))
    layer = layers.Identity()
    np.testing.assert_array_equal(layer(x), x)
    assert layer.compute_output_shape((None, 2, 4)) == (None, 2, 4)
    check_layer(layer, x)
    assert layers.Identity.from_config(layer.get_config()).name == layer.name


def test_sequential_with_activation_and_identity_trains():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 3)).astype("float32")
    y = (np.sin(x[:, :1]) + x[:, 1:2] * x[:, 2:3]).astype("float32")
    model = lamina.Sequential([layers.Dense(16, input_shape=(3,)), layers.Activation("tanh"),
                               layers.Identity(), layers.Dense(1)])
    assert model.output_shape == (None, 1)
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.02), loss="mse")
    losses = model.fit(x, y, epochs=8, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.7 * losses[0]
