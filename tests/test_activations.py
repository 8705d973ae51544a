"""Activations: values against Keras's formulas, derivatives against finite differences."""
import math

import numpy as np
import pytest

from gradcheck import check_activation
from lamina import activations

# points away from every kink (0, -3, 3, 6) so central differences are exact enough
X = np.array([[-7.5, -4.2, -2.9, -1.3, -0.4], [0.3, 1.1, 2.7, 4.4, 7.9]])

ALL_NAMES = ["linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish",
             "sigmoid", "hard_sigmoid", "hard_silu", "hard_swish", "softplus", "softsign", "tanh",
             "exponential", "softmax", "log_softmax"]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_registered_derivative_matches_finite_differences(name):
    check_activation(name, X)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_forward_in_place_matches_public_function(name):
    """Dense applies its activation into the product's own array: ``into(z, z)`` must be right."""
    act = activations.get(name)
    z = X.copy()
    expected = np.asarray(act(X.copy()))
    np.testing.assert_allclose(act.into(z, z), expected, rtol=1e-12)
    np.testing.assert_allclose(act.into(X.copy(), np.empty_like(X)), expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "linear"])
def test_in_place_derivative_matches_the_vjp(name):
    """What the fused plan uses for a hidden activation: the derivative from the output, in place."""
    from lamina.ops.primitive import RAW
    act = activations.get(name)
    y = np.asarray(act(X))
    dy = np.random.default_rng(2).standard_normal(X.shape)
    np.testing.assert_allclose(act.derivative_into(dy.copy(), y), act.vjp(RAW, dy, y, X), rtol=1e-12)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_float32_in_float32_out(name):
    assert activations.get(name)(X.astype("float32")).dtype == np.float32


def _phi(v):
    return 0.5 * math.erfc(-v / math.sqrt(2))


def _sig(v):
    return 1 / (1 + math.exp(-v))


def _sp(v):
    return math.log1p(math.exp(v))


FORMULAS = {
    "linear": lambda v: v,
    "relu": lambda v: max(v, 0.0),
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "leaky_relu": lambda v: v if v >= 0 else 0.2 * v,
    "elu": lambda v: v if v > 0 else math.expm1(v),
    "selu": lambda v: 1.0507009873554805 * (v if v > 0 else 1.6732632423543772 * math.expm1(v)),
    "gelu": lambda v: v * _phi(v),
    "silu": lambda v: v * _sig(v),
    "mish": lambda v: v * math.tanh(_sp(v)),
    "sigmoid": _sig,
    "hard_sigmoid": lambda v: min(max(v + 3, 0.0), 6.0) / 6,
    "hard_silu": lambda v: v * min(max(v + 3, 0.0), 6.0) / 6,
    "softplus": _sp,
    "softsign": lambda v: v / (1 + abs(v)),
    "tanh": math.tanh,
    "exponential": math.exp,
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_values_follow_keras_formulas(name):
    expected = np.vectorize(FORMULAS[name])(X)
    np.testing.assert_allclose(activations.get(name)(X), expected, rtol=1e-12, atol=1e-300)


def test_gelu_exact_is_the_default_and_approximate_uses_tanh():
    x = np.linspace(-6, 6, 101)
    exact = np.array([v * _phi(v) for v in x])
    np.testing.assert_allclose(activations.gelu(x), exact, rtol=1e-12, atol=1e-15)
    approx = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(activations.gelu(x, approximate=True), approx, rtol=1e-14)
    assert np.max(np.abs(activations.gelu(x, approximate=True) - exact)) < 1e-3


def test_gelu_erf_is_accurate_in_both_tails():
    x = np.linspace(-37, 37, 20001)
    expected = np.array([_phi(v) for v in x])
    from lamina.ops.math_ops import normal_cdf
    got = normal_cdf(x)
    assert np.max(np.abs(got - expected) / expected) < 1e-10


def test_relu_options_follow_keras():
    x = np.array([-10.0, -5.0, 0.0, 5.0, 10.0])
    np.testing.assert_array_equal(activations.relu(x), [0, 0, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, negative_slope=0.5), [-5, -2.5, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, max_value=5.0), [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(activations.relu(x, threshold=5.0), [0, 0, 0, 0, 10])
    np.testing.assert_allclose(activations.relu(x, negative_slope=0.1, max_value=7.0, threshold=2.0),
                               [-1.2, -0.7, -0.2, 5, 7], rtol=1e-12)


def test_leaky_relu_and_elu_arguments():
    np.testing.assert_allclose(activations.leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.5), [-1, 3])
    np.testing.assert_allclose(activations.elu(np.array([-1.0, 3.0]), alpha=2.0), [2 * math.expm1(-1), 3])


def test_softmax_and_log_softmax_along_an_axis():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    e = np.exp(x)
    np.testing.assert_allclose(activations.softmax(x, axis=0), e / e.sum(axis=0))
    np.testing.assert_allclose(activations.log_softmax(x, axis=0), np.log(e / e.sum(axis=0)))
    np.testing.assert_allclose(activations.log_softmax(x), np.log(e / e.sum(axis=1, keepdims=True)))


def test_no_overflow_on_large_inputs():
    x = np.array([-1e4, -800.0, 800.0, 1e4])
    np.testing.assert_array_equal(activations.sigmoid(x), [0, 0, 1, 1])
    np.testing.assert_array_equal(activations.softplus(x), [0, 0, 800, 1e4])
    np.testing.assert_array_equal(activations.elu(x), [-1, -1, 800, 1e4])
    np.testing.assert_array_equal(activations.gelu(x), [0, 0, 800, 1e4])
    np.testing.assert_array_equal(activations.exponential(x), [0, 0, np.inf, np.inf])
    np.testing.assert_allclose(activations.softmax(np.array([1e4, 0.0])), [1, 0])
    np.testing.assert_allclose(activations.log_softmax(np.array([1e4, 0.0])), [0, -1e4])


def test_ints_become_float32():
    assert activations.relu([-1, 2]).dtype == np.float32


def test_aliases_serialize_to_the_keras_name():
    assert activations.get("swish") is activations.get("silu")
    assert activations.serialize(activations.swish) == "silu"
    assert activations.serialize(activations.hard_swish) == "hard_silu"
    assert activations.serialize("gelu") == "gelu"
    assert activations.serialize(None) == "linear"
    assert activations.deserialize("mish").name == "mish"


def test_get_accepts_functions_and_keras_dicts():
    assert activations.get(activations.elu).name == "elu"
    assert activations.get({"class_name": "function", "config": "softsign"}).name == "softsign"


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown activation 'relu7'. Valid names: .*hard_silu.*log_softmax.*"
                                         "Did you mean 'relu'"):
        activations.get("relu7")


def test_any_function_is_an_activation_differentiated_by_the_tape(float64):
    """A user's function in ops (no registered derivative) works, its gradient exact."""
    import lamina

    def cube(x):
        return lamina.ops.power(x, 3.0)
    check_activation(cube, X)
    layer = lamina.layers.Dense(2, activation=cube)
    assert layer.activation.name == "cube" and not layer.fused
    with pytest.raises(TypeError, match="activation must be a name or a function, got 3"):
        activations.get(3)


def test_dense_uses_a_new_activation():
    import lamina

    layer = lamina.layers.Dense(3, activation="mish")
    assert layer.get_config()["activation"] == "mish"
