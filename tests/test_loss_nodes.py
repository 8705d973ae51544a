"""Losses written as one tape node with a hand-written backward (mean squared error) give the
gradients of the same loss written in ops, first and second order, and still work on symbolic
tensors."""
import importlib.util

import numpy as np
import pytest

import lamina
from lamina import GradientTape, ops
from lamina.losses import functions
from lamina.ops import nn_composite as nc
from lamina.optimizers import kernels


def _grads(fn, y_true, y_pred):
    """First-order gradients (the node's own backward: no tape records it), the second-order one
    (a recording outer tape: the node's composite), and the value."""
    t, p = lamina.Variable(y_true), lamina.Variable(y_pred)
    weights = np.arange(1.0, 1.0 + y_pred.shape[0])
    with GradientTape() as tape:
        value = ops.sum(fn(t, p) * weights)
    first = tape.gradient(value, [t, p])
    with GradientTape() as outer:
        with GradientTape() as inner:
            inner_value = ops.sum(fn(t, p) * weights)
        d_pred = inner.gradient(inner_value, p)
        norm = ops.sum(d_pred * d_pred)
    second = outer.gradient(norm, p)
    return [g.numpy() for g in first], second.numpy(), value.numpy()


def test_mean_squared_error_node_matches_the_ops_form_first_and_second_order():
    rng = np.random.default_rng(0)
    for shape_true, shape_pred in (((5, 3), (5, 3)), ((5, 1), (5, 3)), ((5,), (5, 1))):
        y_true, y_pred = rng.standard_normal(shape_true), rng.standard_normal(shape_pred)
        fused = _grads(functions.mean_squared_error, y_true, y_pred)

        def in_ops(t, p):
            t, p = functions._align(t, p)
            return ops.mean(ops.square(t - p), axis=-1)
        reference = _grads(in_ops, y_true, y_pred)
        for a, b in zip(fused[0], reference[0]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(fused[1], reference[1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(fused[2], reference[2], rtol=1e-12)


def test_mean_squared_error_on_symbolic_tensors_builds_a_graph():
    inputs = lamina.Input((3,))
    output = lamina.layers.Dense(3)(inputs)
    loss = lamina.losses.mean_squared_error(inputs, output)
    assert tuple(loss.shape) == (None,)
    model = lamina.Model(inputs, loss)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.mean((model.layers[1](x).numpy() - x) ** 2, -1),
                               rtol=1e-6)


def _sparse_reference(labels, output, from_logits):
    """The sparse crossentropy as the one-hot vectors it stands for, in ops (an out-of-range
    label is an all-zero vector)."""
    encoded = ops.one_hot(labels, output.shape[-1], dtype=output.dtype)
    return ops.categorical_crossentropy(encoded, output, from_logits=from_logits)


def _value_and_grads(fn, output):
    """The weighted loss, its first-order gradient (the node's backward: no other tape records)
    and the second-order one (a recording outer tape: the composite) with respect to ``output``."""
    p = ops.convert_to_tensor(output)
    weights = np.arange(1.0, 1.0 + output.shape[0])
    with GradientTape() as tape:
        tape.watch(p)
        value = ops.sum(fn(p) * weights)
    first = tape.gradient(value, p)
    with GradientTape() as outer:
        outer.watch(p)
        with GradientTape() as inner:
            inner.watch(p)
            inner_value = ops.sum(fn(p) * weights)
        d_p = inner.gradient(inner_value, p)
        norm = ops.sum(d_p * d_p)
    return value.numpy(), first.numpy(), outer.gradient(norm, p).numpy()


@pytest.fixture(params=["compiled", "numpy"])
def kernel_mode(request):
    """The node's compiled loops (numba) and its NumPy form, each in turn."""
    if request.param == "compiled" and importlib.util.find_spec("numba") is None:
        pytest.skip("numba not installed")  # the NumPy form is tested either way
    kernels.use_compiled(request.param == "compiled")
    yield request.param
    kernels.use_compiled(True)


def test_sparse_crossentropy_node_matches_the_one_hot_form_first_and_second_order(kernel_mode):
    rng = np.random.default_rng(1)
    labels = np.array([0, 3, 4, 2, -1, 5, 1])  # -1 and 5: outside [0, 5), a loss of 0 and no gradient
    for from_logits in (False, True):
        output = rng.standard_normal((7, 5)) if from_logits else rng.random((7, 5)) + 0.05
        if not from_logits:
            output[0, 0] = 1e-12  # the label's probability under the clip: no gradient through it
        got = _value_and_grads(lambda p, fl=from_logits: ops.sparse_categorical_crossentropy(labels, p, from_logits=fl),
                               output)
        want = _value_and_grads(lambda p, fl=from_logits: _sparse_reference(labels, p, fl), output)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-15)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(got[2], want[2], rtol=1e-10, atol=1e-12)
        assert np.all(got[1][[4, 5]] == 0) and np.all(got[1][0] == 0) != from_logits


def test_sparse_crossentropy_is_one_tape_node():
    output = ops.convert_to_tensor(np.full((4, 3), 1 / 3))
    with GradientTape() as tape:
        tape.watch(output)
        ops.sparse_categorical_crossentropy(np.array([0, 1, 2, 0]), output)
    assert [node.prim.name for node in tape._nodes] == ["sparse_categorical_crossentropy"]


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba not installed")
def test_sparse_crossentropy_compiled_and_numpy_forms_agree_in_float32():
    rng = np.random.default_rng(2)
    labels = rng.integers(-1, 11, 64)  # some outside [0, 10)
    for from_logits in (False, True):
        output = (rng.standard_normal((64, 10)) if from_logits else rng.random((64, 10))).astype(np.float32)
        output[3, labels[3] % 10] = 1e-9  # under the clip
        results = []
        for enabled in (True, False):
            kernels.use_compiled(enabled)
            g = np.linspace(0.5, 1.5, 64, dtype=np.float32)
            results.append((nc._sparse_cce_forward(labels, output, from_logits),
                            nc._sparse_cce_vjp(g, None, labels, output, from_logits)[1]))
        kernels.use_compiled(True)
        for compiled, numpy_form in zip(*results):
            assert compiled.dtype == numpy_form.dtype == np.float32
            np.testing.assert_allclose(compiled, numpy_form, rtol=2e-6, atol=1e-7)
