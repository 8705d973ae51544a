"""Dense: shapes, weights, config, and gradients against finite differences."""
import numpy as np
import pytest

import lamina
from gradcheck import check_layer, check_loss

ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_gradients_match_finite_differences(float64, activation):
    x = np.random.default_rng(0).standard_normal((5, 4))
    x[np.abs(x) < 0.05] = 0.3  # keep relu away from its kink
    check_layer(lamina.layers.Dense(3, activation=activation), x)


def test_dense_without_bias_gradients(float64):
    check_layer(lamina.layers.Dense(3, use_bias=False, activation="tanh"), np.ones((2, 4)) * 0.3)


def test_dense_on_3d_inputs_acts_on_last_axis(float64):
    layer = lamina.layers.Dense(2, activation="tanh")
    x = np.random.default_rng(1).standard_normal((3, 4, 5))
    assert layer(x).shape == (3, 4, 2)
    check_layer(layer, x)


@pytest.mark.parametrize("loss", [
    lamina.losses.SparseCategoricalCrossentropy(), lamina.losses.SparseCategoricalCrossentropy(from_logits=True)])
def test_sparse_crossentropy_gradient(float64, loss):
    p = lamina.activations.softmax(np.random.default_rng(2).standard_normal((4, 3)))
    check_loss(loss, np.array([0, 2, 1, 1]), p)


@pytest.mark.parametrize("loss", [
    lamina.losses.CategoricalCrossentropy(), lamina.losses.CategoricalCrossentropy(from_logits=True),
    lamina.losses.CategoricalCrossentropy(label_smoothing=0.1)])
def test_categorical_crossentropy_gradient(float64, loss):
    p = lamina.activations.softmax(np.random.default_rng(3).standard_normal((4, 3)))
    check_loss(loss, np.eye(3)[[0, 2, 1, 1]], p)


def test_mse_and_binary_crossentropy_gradients(float64):
    rng = np.random.default_rng(4)
    check_loss(lamina.losses.MeanSquaredError(), rng.standard_normal((4, 2)), rng.standard_normal((4, 2)))
    check_loss(lamina.losses.BinaryCrossentropy(), np.array([[0.0], [1.0], [1.0]]), np.array([[0.2], [0.7], [0.4]]))
    check_loss(lamina.losses.BinaryCrossentropy(from_logits=True), np.array([[0.0], [1.0]]), np.array([[0.5], [-2.0]]))
    check_loss(lamina.losses.MeanSquaredError(), rng.standard_normal((3, 2)), rng.standard_normal((3, 2)),
               sample_weight=np.array([1.0, 0.5, 2.0]))


def test_fused_softmax_crossentropy_gradient_equals_chained_gradient(float64):
    """``p - onehot`` (the fused plan's form) equals the tape's gradient through softmax."""
    rng = np.random.default_rng(5)
    z = lamina.ops.convert_to_tensor(rng.standard_normal((4, 3)))
    labels = np.array([0, 1, 2, 1])
    loss = lamina.losses.SparseCategoricalCrossentropy()
    with lamina.GradientTape() as tape:
        tape.watch(z)
        p = lamina.activations.softmax(z)
        value = loss(labels, p)
    expected = (p.numpy() - np.eye(3)[labels]) / 4
    np.testing.assert_allclose(tape.gradient(value, z).numpy(), expected, atol=1e-12)


def test_dense_weights_shapes_and_glorot_limits():
    layer = lamina.layers.Dense(300)
    layer.build((None, 784))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (784, 300) and bias.shape == (300,)
    assert kernel.dtype == np.float32
    limit = np.sqrt(6 / (784 + 300))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert not bias.any()
    assert layer.count_params() == 235_500


def test_dense_config_has_keras_keys():
    config = lamina.layers.Dense(4, activation="relu", name="hidden").get_config()
    assert config["units"] == 4 and config["activation"] == "relu" and config["name"] == "hidden"
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert config["use_bias"] is True


def test_one_sgd_step_by_hand():
    """A worked example: 1 input, 1 unit, linear, MSE, SGD(0.1)."""
    model = lamina.Sequential([lamina.layers.Dense(1, input_shape=(1,), kernel_initializer="ones")])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.train_on_batch(np.array([[2.0]]), np.array([[1.0]]))
    # prediction 2*1 + 0 = 2; dL/dy = 2*(2-1) = 2; dL/dw = 2*2 = 4; dL/db = 2
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, [[1 - 0.1 * 4]], rtol=1e-6)
    np.testing.assert_allclose(bias, [-0.1 * 2], rtol=1e-6)
