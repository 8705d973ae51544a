"""JAX's gradients of the closed forms that tests/test_tf_grads.py holds lamina's TensorFlow names to.

Run as a separate process (``python tf_jax_oracle.py IN.pkl OUT.pkl``), so JAX never loads into
the test process. IN holds ``{case: (arrays, cotangent)}``; OUT gets ``{case: (value, grads)}``
with the gradient of ``sum(f(*arrays) * cotangent)`` for every float array, in float64. Each
function here is written from the mathematics (NumPy-style), not from lamina or TensorFlow.
"""
import os
import pickle
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)


def _gather_batch(p, idx):  # params (B, M, N), indices (B, I), axis 2, batch_dims 1 -> (B, M, I)
    return jnp.stack([p[b][:, idx[b]] for b in range(p.shape[0])])


def _global_clip(a, b):
    norm = jnp.sqrt(jnp.sum(a * a) + jnp.sum(b * b))
    scale = 1.5 / jnp.maximum(norm, 1.5)
    return jnp.concatenate([(a * scale).ravel(), (b * scale).ravel()])


def _exclusive_reverse_cumsum(x):  # along axis 1
    total = jnp.cumsum(x[:, ::-1], axis=1)[:, ::-1]
    return total - x


def _gelu_exact(x):
    return x * 0.5 * (1.0 + jax.scipy.special.erf(x / jnp.sqrt(2.0)))


def _selu(x):
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return scale * jnp.where(x > 0, x, alpha * (jnp.exp(x) - 1))


FUNCTIONS = {
    "reduce_std": lambda x: jnp.std(x, axis=1, keepdims=True),
    "reduce_variance": lambda x: jnp.var(x, axis=(0, 2)),
    "reduce_logsumexp": lambda x: jnp.log(jnp.sum(jnp.exp(x), axis=-1)),
    "reduce_mean_prod_max": lambda x: jnp.mean(x, axis=0) + jnp.prod(x, axis=0) + jnp.max(x, axis=0),
    "l2_normalize": lambda x: x / jnp.sqrt(jnp.maximum(jnp.sum(x * x, axis=1, keepdims=True), 1e-12)),
    "clip_by_norm": lambda x: x * 1.0 / jnp.maximum(jnp.sqrt(jnp.sum(x * x)), 1.0),
    "clip_by_value": lambda x: jnp.clip(x, -0.5, 0.7),
    "softmax_xent": lambda z, y: -jnp.sum(y * jax.nn.log_softmax(z, axis=-1), axis=-1),
    "sparse_softmax_xent": lambda z, labels: (jax.scipy.special.logsumexp(z, axis=-1)
                                              - jnp.take_along_axis(z, labels[:, None], axis=-1)[:, 0]),
    "sigmoid_xent": lambda z, y: -(y * jnp.log(jax.nn.sigmoid(z)) + (1 - y) * jnp.log(1 - jax.nn.sigmoid(z))),
    "gather_batch_dims": _gather_batch,
    "gather_nd": lambda p, idx: p[idx[:, 0], idx[:, 1]],
    "split_sizes": lambda x: jnp.concatenate([x[:, :1] * 2.0, x[:, 1:] * 3.0], axis=1),
    "cumsum_exclusive_reverse": _exclusive_reverse_cumsum,
    "matmul_transpose_b": lambda a, b: a @ b.T,
    "tensordot": lambda a, b: jnp.tensordot(a, b, axes=[[1], [0]]),
    "activations": lambda x: (_gelu_exact(x) + x * jax.nn.sigmoid(2.0 * x) + jnp.where(x > 0, x, 0.1 * x)
                              + jnp.where(x > 0, x, jnp.exp(x) - 1) + _selu(x) + jnp.log1p(jnp.exp(x))
                              + jnp.clip(x, 0, 6) + jnp.log(jax.nn.sigmoid(x))),
    "softmax_axis0": lambda x: jax.nn.softmax(x, axis=0) + jax.nn.log_softmax(x, axis=-1),
    "moments": lambda x: jnp.mean(x, axis=0) * 2.0 + jnp.var(x, axis=0),
    "binary_math": lambda x, y: (x / y + jnp.abs(x) ** 1.5 + (x - y) ** 2 + x * jnp.log(jnp.abs(y))
                                 + 1 / jnp.sqrt(jnp.abs(y)) + jnp.log1p(jnp.abs(x)) + jnp.arctan2(x, y)),
    "clip_by_global_norm": _global_clip,
    "top_k_values": lambda x: -jnp.sort(-x, axis=-1)[:, :2],
    "linspace": lambda a, b: a + (b - a) * jnp.arange(4.0) / 3.0,
    "boolean_mask_where": lambda x, y: jnp.concatenate([x[x > 0], jnp.where(x > 0, x, y).ravel()]),
    "shape_ops": lambda x, y: jnp.concatenate([
        (x + y + x).ravel(), jnp.transpose(x, (1, 0, 2)).ravel(), jnp.tile(x[:, None], (1, 2, 1, 1)).ravel(),
        jnp.pad(x, ((1, 0), (0, 0), (0, 1))).ravel(), x[::-1, :, ::-1].ravel(), jnp.stack([x, y], 1).ravel()]),
    "batch_norm_l2_bias": lambda x, m, v, b: ((x - m) / jnp.sqrt(v + 1e-3) * 2.0 + b + 0.5 * jnp.sum(x * x)),
    "norms": lambda x: jnp.sqrt(jnp.sum(x * x)) + jnp.sqrt(jnp.sum(x * x, axis=1)),
}


def main(source, target):
    with open(source, "rb") as f:
        cases = pickle.load(f)
    results = {}
    for name, (arrays, cotangent) in cases.items():
        floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]

        def f(*values, arrays=arrays, floats=floats, name=name):
            full = list(arrays)
            for i, v in zip(floats, values):
                full[i] = v
            return FUNCTIONS[name](*full)
        value, pullback = jax.vjp(f, *[jnp.asarray(arrays[i]) for i in floats])
        grads = pullback(jnp.asarray(cotangent, value.dtype))
        results[name] = (np.asarray(value), [np.asarray(g) for g in grads])
    with open(target, "wb") as f:
        pickle.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
