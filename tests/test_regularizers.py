"""Regularizers: Keras's penalties, their gradients (the tape's) against finite differences,
lookup and configs."""
import numpy as np
import pytest

import lamina
from gradcheck import numeric_grad, tape_grads
from lamina import regularizers

# no zero entry (L1's kink) and no two rows or columns orthogonal (the kink of |u . v|)
W = np.array([[0.5, -1.5, 2.0], [-0.25, 1.0, 0.75], [1.25, -0.5, -2.5], [0.3, 0.9, -1.3]])


def test_l1_l2_values():
    assert regularizers.L1()(W) == pytest.approx(0.01 * np.abs(W).sum())
    assert regularizers.L2()(W) == pytest.approx(0.01 * np.square(W).sum())
    assert regularizers.L1(0.3)(W) == pytest.approx(0.3 * 12.75)
    assert regularizers.L2(2.0)(np.ones((5, 5))) == 50.0
    assert regularizers.L1L2(l1=0.1, l2=0.2)(W) == pytest.approx(0.1 * 12.75 + 0.2 * np.square(W).sum())
    assert regularizers.L1L2()(W) == 0.0
    assert isinstance(regularizers.L2()(W), lamina.Tensor) and regularizers.L2()(W).shape == ()


def _orthogonal_by_hand(w, factor, mode):
    v = w if mode == "rows" else w.T
    unit = [row / np.linalg.norm(row) for row in v]
    n = len(unit)
    total = sum(abs(float(unit[i] @ unit[j])) for i in range(n) for j in range(n) if i != j)
    return factor * 0.5 * total / (n * (n - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_value(mode):
    assert regularizers.OrthogonalRegularizer(0.3, mode)(W) == pytest.approx(_orthogonal_by_hand(W, 0.3, mode))


def test_orthogonal_regularizer_is_zero_on_orthogonal_rows_and_one_vector():
    assert regularizers.OrthogonalRegularizer(1.0)(np.eye(3)) == 0.0
    assert regularizers.OrthogonalRegularizer(1.0)(np.array([[1.0, 2.0]])) == 0.0
    one = lamina.ops.convert_to_tensor(np.array([[1.0, 2.0]]))
    (grad,) = tape_grads(lambda: regularizers.OrthogonalRegularizer(1.0)(one), [one])
    np.testing.assert_array_equal(grad, [[0, 0]])


@pytest.mark.parametrize("reg", [
    regularizers.L1(0.3), regularizers.L2(0.7), regularizers.L1L2(0.2, 0.4),
    regularizers.OrthogonalRegularizer(0.5, "rows"), regularizers.OrthogonalRegularizer(0.5, "columns"),
    regularizers.Regularizer(),
], ids=lambda r: type(r).__name__ + getattr(r, "mode", ""))
def test_grad_matches_finite_differences(reg):
    w = W.copy()  # no entry at 0, where L1 has a kink
    tensor = lamina.ops.convert_to_tensor(w)
    (grad,) = tape_grads(lambda: reg(tensor), [tensor])
    expected = numeric_grad(lambda: float(reg(w)), w)
    if grad is None:  # the base class's constant penalty does not depend on the weight
        np.testing.assert_array_equal(expected, 0)
        return
    np.testing.assert_allclose(grad, expected, atol=1e-7, rtol=1e-6)


def test_orthogonal_grad_below_epsilon_norm():
    w = np.array([[1e-9, 2e-9], [1.0, 0.5], [0.2, -0.7]])
    reg = regularizers.OrthogonalRegularizer(1.0)
    tensor = lamina.ops.convert_to_tensor(w)
    (grad,) = tape_grads(lambda: reg(tensor), [tensor])
    np.testing.assert_allclose(grad, numeric_grad(lambda: float(reg(w)), w, step=1e-12), rtol=1e-4, atol=1e-3)


def test_grad_keeps_the_dtype():
    w = lamina.ops.convert_to_tensor(W.astype("float32"))
    for reg in (regularizers.L1(), regularizers.L2(), regularizers.L1L2(0.1, 0.1),
                regularizers.OrthogonalRegularizer()):
        (grad,) = tape_grads(lambda reg=reg: reg(w), [w])
        assert grad.dtype == np.float32


@pytest.mark.parametrize("make, match", [
    (lambda: regularizers.L1(-0.1), "L1 expects l1 to be a non-negative float, got l1=-0.1"),
    (lambda: regularizers.L2(-1), "L2 expects l2 to be a non-negative float, got l2=-1"),
    (lambda: regularizers.L1L2(l1=-1.0), "L1L2 expects l1 to be a non-negative float, got l1=-1.0"),
    (lambda: regularizers.L1L2(l2=float("nan")), "L1L2 expects l2 to be a non-negative float, got l2=nan"),
    (lambda: regularizers.L2("0.1"), "L2 expects l2 to be a non-negative float, got l2='0.1'"),
    (lambda: regularizers.OrthogonalRegularizer(-0.5), "OrthogonalRegularizer expects factor to be a "
                                                       "non-negative float, got factor=-0.5"),
    (lambda: regularizers.OrthogonalRegularizer(mode="diag"), "mode 'rows' or 'columns', got mode='diag'"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_orthogonal_needs_a_matrix():
    with pytest.raises(ValueError, match=r"OrthogonalRegularizer expects a weight of rank 2, got shape \(3,\)"):
        regularizers.OrthogonalRegularizer()(np.ones(3))


def test_none_means_default_for_l1_l2():
    assert regularizers.L1(None).l1 == 0.01
    assert regularizers.L1L2(None, 0.5).get_config() == {"l1": 0.0, "l2": 0.5}


def test_lowercase_aliases():
    assert regularizers.l1 is regularizers.L1
    assert regularizers.l2 is regularizers.L2
    assert regularizers.l1_l2 is regularizers.L1L2
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    assert regularizers.l2(0.5)(np.ones(2)) == 1.0


@pytest.mark.parametrize("name, cls, config", [
    ("l1", "L1", {"l1": 0.01}), ("l2", "L2", {"l2": 0.01}), ("l1_l2", "L1L2", {"l1": 0.01, "l2": 0.01}),
    ("L1L2", "L1L2", {"l1": 0.0, "l2": 0.0}), ("orthogonal_regularizer", "OrthogonalRegularizer",
                                               {"factor": 0.01, "mode": "rows"}),
])
def test_get_by_name(name, cls, config):
    reg = regularizers.get(name)
    assert type(reg).__name__ == cls and reg.get_config() == config


def test_get_none_class_instance_and_dict():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.3)
    assert regularizers.get(reg) is reg
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)
    got = regularizers.get({"class_name": "OrthogonalRegularizer", "config": {"factor": 0.2, "mode": "columns"}})
    assert got.get_config() == {"factor": 0.2, "mode": "columns"}


@pytest.mark.parametrize("reg", [regularizers.L1(0.2), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.4),
                                 regularizers.OrthogonalRegularizer(0.5, "columns")])
def test_config_round_trip(reg):
    config = regularizers.serialize(reg)
    assert config == {"module": "keras.regularizers", "class_name": type(reg).__name__,
                      "config": reg.get_config(), "registered_name": None}
    clone = regularizers.deserialize(config)
    assert type(clone) is type(reg) and clone.get_config() == reg.get_config()
    assert clone(W) == reg(W)


def test_get_rejects_unknowns():
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'. Valid names: l1, l1_l2, .*orthogonal_regularizer"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="Unknown regularizer class 'L3'. Valid classes: L1, L1L2, L2"):
        regularizers.get({"class_name": "L3", "config": {}})
    with pytest.raises(TypeError, match="regularizer must be a name, a dict or a Regularizer, got 3"):
        regularizers.get(3)


def test_a_plain_function_is_a_regularizer_differentiated_by_the_tape():
    def quartic(w):
        return 0.1 * lamina.ops.sum(w ** 4)
    assert regularizers.get(quartic) is quartic
    tensor = lamina.ops.convert_to_tensor(W)
    (grad,) = tape_grads(lambda: quartic(tensor), [tensor])
    np.testing.assert_allclose(grad, 0.4 * W ** 3, rtol=1e-6)


def test_dense_stores_regularizers_on_its_weights():
    layer = lamina.layers.Dense(4, kernel_regularizer="l2", bias_regularizer=regularizers.L1(0.5),
                                activity_regularizer={"class_name": "L2", "config": {"l2": 0.1}})
    layer.build((None, 3))
    assert isinstance(layer.kernel.regularizer, regularizers.L2) and layer.kernel.regularizer.l2 == 0.01
    assert layer.bias.regularizer is layer.bias_regularizer and layer.bias_regularizer.l1 == 0.5
    assert layer.activity_regularizer.l2 == 0.1
    config = layer.get_config()
    assert config["kernel_regularizer"] == {"module": "keras.regularizers", "class_name": "L2",
                                            "config": {"l2": 0.01}, "registered_name": None}
    assert config["activity_regularizer"]["config"] == {"l2": 0.1}
    clone = lamina.layers.Dense.from_config(config)
    assert clone.get_config() == config


def test_dense_without_regularizers_writes_none():
    config = lamina.layers.Dense(2).get_config()
    assert config["kernel_regularizer"] is None and config["bias_regularizer"] is None
    assert "activity_regularizer" not in config
