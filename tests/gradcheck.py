"""One finite-difference checker for every layer, activation and loss (float64): the tape's
gradient against central differences of the same computation."""
from __future__ import annotations

import numpy as np

import lamina
from lamina import ops


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


def tape_grads(fn, sources):
    """The tape's gradient of the scalar ``fn()`` with respect to each of ``sources``."""
    with lamina.GradientTape(persistent=True) as tape:
        tape.watch([s for s in sources if not getattr(s, "_is_variable", False)])
        value = fn()
    return [None if g is None else g.numpy() for g in tape.gradient(value, sources)]


def check_layer(layer, x: np.ndarray, training: bool = False, atol: float = 1e-6, rtol: float = 1e-5, seed: int = 0):
    """Compare the tape's gradients of ``sum(layer(x) * r)`` (input and every trainable weight)
    with finite differences. The layer must be deterministic for the given ``training`` flag."""
    x = np.array(x, dtype=np.float64)
    layer(x[:1], training=training)  # build
    r = np.random.default_rng(seed).standard_normal(layer(x, training=training).shape)
    x_tensor = ops.convert_to_tensor(x)
    weights = layer.trainable_weights

    def loss_tensor():
        return ops.sum(layer(x_tensor, training=training) * r)

    grads = tape_grads(loss_tensor, [x_tensor, *weights])

    def loss():
        return float(np.sum(np.asarray(layer(x, training=training)) * r))
    np.testing.assert_allclose(grads[0], numeric_grad(loss, x), atol=atol, rtol=rtol, err_msg="input gradient")
    for variable, grad in zip(weights, grads[1:]):
        np.testing.assert_allclose(grad, numeric_grad(loss, variable._value), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of {variable.path}")


def check_activation(name_or_fn, x: np.ndarray, atol: float = 1e-6, rtol: float = 1e-5):
    """Compare an activation's gradient (the tape's, and its raw rule's when it has one) with
    finite differences."""
    from lamina import activations
    from lamina.ops.primitive import RAW

    act = activations.get(name_or_fn)
    x = np.array(x, dtype=np.float64)
    r = np.random.default_rng(1).standard_normal(x.shape)

    def loss():
        return float(np.sum(np.asarray(act(x.copy())) * r))
    expected = numeric_grad(loss, x)
    x_tensor = ops.convert_to_tensor(x)
    (grad,) = tape_grads(lambda: ops.sum(act(x_tensor) * r), [x_tensor])
    np.testing.assert_allclose(grad, expected, atol=atol, rtol=rtol, err_msg=f"activation {act.name} (tape)")
    if act.kernel is not None:
        y = act.into(x.copy(), np.empty_like(x))
        raw = act.vjp(RAW, r.copy(), y, x.copy())
        np.testing.assert_allclose(raw, expected, atol=atol, rtol=rtol, err_msg=f"activation {act.name} (raw rule)")


def check_loss(loss, y_true, y_pred: np.ndarray, atol: float = 1e-6, rtol: float = 1e-5, sample_weight=None):
    """Compare the tape's gradient of the reduced loss with finite differences."""
    y_pred = np.array(y_pred, dtype=np.float64)

    def value():
        return float(loss(y_true, y_pred, sample_weight))
    pred = ops.convert_to_tensor(y_pred)
    (grad,) = tape_grads(lambda: loss(y_true, pred, sample_weight), [pred])
    np.testing.assert_allclose(grad, numeric_grad(value, y_pred), atol=atol, rtol=rtol, err_msg=f"loss {loss.name}")
