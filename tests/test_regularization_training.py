"""Weight and activity regularization in training: the loss Keras shows and its gradient."""
import numpy as np
import pytest

import lamina
from lamina import layers, regularizers
from gradcheck import numeric_grad


def test_kernel_regularizer_penalty_is_in_the_loss_and_its_gradient_in_the_step(float64):
    x = np.random.default_rng(0).standard_normal((6, 3))
    y = np.random.default_rng(1).standard_normal((6, 2))
    model = lamina.Sequential([layers.Dense(2, input_shape=(3,), kernel_regularizer=regularizers.L2(0.1),
                                            activity_regularizer=regularizers.L1(0.01))])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
    kernel, bias = (v.numpy() for v in model.weights)

    def total_loss():  # Keras 3.14+ divides the activity penalty by the batch size (keras PR #22021)
        out = x @ kernel + bias
        return float(np.mean((out - y) ** 2) + 0.1 * np.sum(kernel ** 2) + 0.01 * np.sum(np.abs(out)) / len(x))

    expected_loss = total_loss()
    g_kernel = numeric_grad(total_loss, kernel)
    g_bias = numeric_grad(total_loss, bias)
    k0, b0 = kernel.copy(), bias.copy()
    loss = model.train_on_batch(x, y)
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    np.testing.assert_allclose(model.weights[0].numpy(), k0 - 0.1 * g_kernel, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.weights[1].numpy(), b0 - 0.1 * g_bias, rtol=1e-5, atol=1e-7)


def test_regularized_softmax_output_is_not_fused():
    model = lamina.Sequential([layers.Dense(3, activation="softmax", input_shape=(2,),
                                            activity_regularizer="l2")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert model._fast_plan() is None


def test_constraint_applies_after_each_step():
    model = lamina.Sequential([layers.Dense(4, input_shape=(3,), kernel_constraint=lamina.constraints.NonNeg())])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=1.0), loss="mse")
    model.fit(np.ones((8, 3)), -np.ones((8, 4)) * 10, epochs=2, verbose=0)
    assert (model.layers[0].kernel.numpy() >= 0).all()


def test_activity_regularization_layer_penalty_is_in_the_training_loss():
    x = np.ones((4, 3))
    model = lamina.Sequential([layers.Dense(2, input_shape=(3,), kernel_initializer="ones"),
                               layers.ActivityRegularization(l1=0.5)])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.0), loss="mse")
    loss = model.train_on_batch(x, np.zeros((4, 2)))
    # mse of 3s, plus 0.5 * sum|y| over 4x2 outputs divided by the batch of 4: Keras 3.15.1 gives 12.0
    assert loss == pytest.approx(9.0 + 0.5 * 3.0 * 8 / 4)


def test_evaluate_loss_includes_the_penalties_as_in_keras():
    x, y = np.ones((4, 3)), np.zeros((4, 2))
    model = lamina.Sequential([layers.Dense(2, input_shape=(3,), kernel_initializer="ones",
                                            kernel_regularizer=regularizers.L2(0.1))])
    model.compile(optimizer="sgd", loss="mse")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(9.0 + 0.1 * 6)
