"""Losses written as one tape node with a hand-written backward (mean squared error) give the
gradients of the same loss written in ops, first and second order, and still work on symbolic
tensors."""
import numpy as np

import lamina
from lamina import GradientTape, ops
from lamina.losses import functions


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
