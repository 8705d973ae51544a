"""One finite-difference checker for every layer, activation and loss (float64)."""
from __future__ import annotations

import numpy as np


def numeric_grad(f, x: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to each entry of ``x`` (in place)."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + step
        up = f()
        flat[i] = saved - step
        down = f()
        flat[i] = saved
        gflat[i] = (up - down) / (2 * step)
    return grad


def check_layer(layer, x: np.ndarray, training: bool = False, atol: float = 1e-6, rtol: float = 1e-5, seed: int = 0):
    """Compare ``layer.backward`` with finite differences of ``sum(forward(x) * r)``.

    Checks the input gradient and the gradient of every trainable weight. The layer must be
    deterministic for the given ``training`` flag (stochastic layers: pass ``training=False``
    or reseed inside)."""
    x = np.array(x, dtype=np.float64)
    layer(x[:1], training=training)  # build
    r = np.random.default_rng(seed).standard_normal(layer.compute_output_shape(x.shape))

    def loss():
        y, _ = layer.forward(x, training)
        return float(np.sum(y * r))

    y, ctx = layer.forward(x, training)
    dx, grads = layer.backward(ctx, r.copy())
    np.testing.assert_allclose(dx, numeric_grad(loss, x), atol=atol, rtol=rtol, err_msg="input gradient")
    weights = layer.trainable_weights
    assert len(grads) == len(weights), f"{len(grads)} gradients for {len(weights)} trainable weights"
    for variable, grad in zip(weights, grads):
        np.testing.assert_allclose(grad, numeric_grad(loss, variable.value), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of {variable.path}")


def check_activation(name_or_fn, x: np.ndarray, atol: float = 1e-6, rtol: float = 1e-5):
    """Compare an activation's registered backward with finite differences."""
    from lamina import activations

    act = activations.get(name_or_fn)
    x = np.array(x, dtype=np.float64)
    r = np.random.default_rng(1).standard_normal(x.shape)

    def loss():
        return float(np.sum(act.forward(x.copy(), np.empty_like(x)) * r))

    y = act.forward(x.copy(), np.empty_like(x))
    dz = act.backward(r.copy(), y, x.copy())
    np.testing.assert_allclose(dz, numeric_grad(loss, x), atol=atol, rtol=rtol, err_msg=f"activation {act.name}")


def check_loss(loss, y_true, y_pred: np.ndarray, atol: float = 1e-6, rtol: float = 1e-5, sample_weight=None):
    """Compare ``loss.gradient`` with finite differences of the reduced loss."""
    y_pred = np.array(y_pred, dtype=np.float64)

    def value():
        return float(loss(y_true, y_pred, sample_weight))

    np.testing.assert_allclose(loss.gradient(y_true, y_pred, sample_weight), numeric_grad(value, y_pred),
                               atol=atol, rtol=rtol, err_msg=f"loss {loss.name}")
