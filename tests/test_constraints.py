"""Constraints: Keras's projections against hand-computed values, lookup, configs, use in Dense."""
import numpy as np
import pytest

import lamina
from lamina import constraints

EPS = 1e-7
W = np.array([[3.0, 0.3, -1.0], [4.0, 0.4, 0.0]])  # column norms 5, 0.5, 1; row norms ~5.1, ~1.1


def test_max_norm_scales_long_columns_only():
    got = constraints.MaxNorm(max_value=2)(W)
    expected = W * np.array([2 / (EPS + 5), 0.5 / (EPS + 0.5), 1 / (EPS + 1)])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got[:, 0], [1.2, 1.6], rtol=1e-6)


def test_max_norm_along_rows():
    got = constraints.MaxNorm(max_value=1.0, axis=1)(W)
    norms = np.sqrt((W ** 2).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(got, W * (np.minimum(norms, 1.0) / (EPS + norms)), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), [1.0, 1.0], rtol=1e-6)


def test_max_norm_with_an_axis_list():
    w = np.ones((2, 2, 3))  # each of the 3 filters has norm 2
    np.testing.assert_allclose(constraints.MaxNorm(1.0, axis=[0, 1])(w), w * (1.0 / (EPS + 2.0)), rtol=1e-12)


def test_min_max_norm():
    got = constraints.MinMaxNorm(min_value=1.0, max_value=2.0)(W)
    np.testing.assert_allclose(got, W * np.array([2 / (EPS + 5), 1 / (EPS + 0.5), 1 / (EPS + 1)]), rtol=1e-12)
    half = constraints.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)(W)
    desired = 0.5 * np.array([2, 1, 1]) + 0.5 * np.array([5, 0.5, 1])  # 3.5, 0.75, 1
    np.testing.assert_allclose(half, W * (desired / (EPS + np.array([5, 0.5, 1]))), rtol=1e-12)


def test_min_max_norm_defaults_to_unit_ball():
    np.testing.assert_allclose(np.linalg.norm(constraints.MinMaxNorm()(W), axis=0), [1, 0.5, 1], rtol=1e-6)


def test_non_neg():
    np.testing.assert_array_equal(constraints.NonNeg()(W), [[3, 0.3, 0], [4, 0.4, 0]])


def test_unit_norm():
    got = constraints.UnitNorm()(W)
    np.testing.assert_allclose(got, W / (EPS + np.array([5, 0.5, 1])), rtol=1e-12)
    np.testing.assert_allclose(got[:, 0], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(constraints.UnitNorm(axis=1)(W), axis=1), [1, 1], rtol=1e-6)


def test_epsilon_comes_from_the_backend():
    lamina.backend.set_epsilon(0.5)
    try:
        np.testing.assert_allclose(constraints.UnitNorm()(np.array([[3.0], [4.0]])), [[3 / 5.5], [4 / 5.5]])
    finally:
        lamina.backend.set_epsilon(1e-7)


def test_float32_stays_float32():
    w = W.astype("float32")
    for c in (constraints.MaxNorm(), constraints.MinMaxNorm(), constraints.NonNeg(), constraints.UnitNorm()):
        assert c(w).dtype == np.float32


def test_base_constraint_is_the_identity():
    assert constraints.Constraint()(W) is W


def test_lowercase_aliases():
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm
    assert constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm


@pytest.mark.parametrize("name, cls", [("max_norm", "MaxNorm"), ("min_max_norm", "MinMaxNorm"),
                                       ("non_neg", "NonNeg"), ("unit_norm", "UnitNorm"), ("MaxNorm", "MaxNorm")])
def test_get_by_name(name, cls):
    assert type(constraints.get(name)).__name__ == cls


def test_defaults_and_configs():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    assert constraints.UnitNorm().get_config() == {"axis": 0}
    assert constraints.NonNeg().get_config() == {}


@pytest.mark.parametrize("c", [constraints.MaxNorm(3.0, axis=1), constraints.MinMaxNorm(0.5, 2.0, 0.3),
                               constraints.NonNeg(), constraints.UnitNorm(axis=[0, 1])])
def test_config_round_trip(c):
    config = constraints.serialize(c)
    assert config["module"] == "keras.constraints" and config["class_name"] == type(c).__name__
    clone = constraints.deserialize(config)
    assert type(clone) is type(c) and clone.get_config() == c.get_config()


def test_get_passes_through_none_instances_classes_and_functions():
    assert constraints.get(None) is None
    c = constraints.NonNeg()
    assert constraints.get(c) is c
    assert isinstance(constraints.get(constraints.UnitNorm), constraints.UnitNorm)
    fn = np.abs
    assert constraints.get(fn) is fn


def test_get_rejects_unknowns():
    with pytest.raises(ValueError, match="Unknown constraint 'maxnorm'. Valid names: .*max_norm, min_max_norm"):
        constraints.get("maxnorm")
    with pytest.raises(ValueError, match="Unknown constraint class 'Clip'. Valid classes: Constraint, MaxNorm"):
        constraints.get({"class_name": "Clip", "config": {}})
    with pytest.raises(TypeError, match="constraint must be a name, a dict or a Constraint, got 1.5"):
        constraints.get(1.5)


def test_dense_applies_constraints_after_each_step():
    model = lamina.Sequential([lamina.layers.Dense(2, input_shape=(3,), kernel_constraint="non_neg",
                                                   bias_constraint=constraints.MaxNorm(0.1))])
    layer = model.layers[0]
    assert isinstance(layer.kernel.constraint, constraints.NonNeg)
    assert layer.bias.constraint is layer.bias_constraint
    config = layer.get_config()
    assert config["kernel_constraint"]["class_name"] == "NonNeg"
    assert config["bias_constraint"]["config"] == {"max_value": 0.1, "axis": 0}
    model.compile(optimizer=lamina.optimizers.SGD(1.0), loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
    model.fit(x, -10 * np.ones((16, 2), "float32"), epochs=2, verbose=0)
    assert layer.kernel.value.min() >= 0
    assert np.linalg.norm(layer.bias.value) <= 0.1 + 1e-6
