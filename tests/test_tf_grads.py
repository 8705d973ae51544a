"""Tape gradients of lamina's TensorFlow names (``import lamina as tf``) against JAX's gradients of
the same functions written as closed forms (tests/tf_jax_oracle.py, run in a subprocess), and
against central differences, in float64."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import lamina as tf
from gradcheck import numeric_grad

HERE = os.path.dirname(os.path.abspath(__file__))


def _away_from_zero(rng, shape, low=0.3):
    """Random values with |x| >= low (no kink of abs, relu or where at the points checked)."""
    x = rng.uniform(low, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    return x


def _inputs():
    rng = np.random.default_rng(11)
    n = rng.normal
    labels = np.array([2, 0, 1], np.int64)
    return {
        "reduce_std": [n(size=(3, 4))],
        "reduce_variance": [n(size=(2, 3, 2))],
        "reduce_logsumexp": [n(size=(3, 4))],
        "reduce_mean_prod_max": [n(size=(3, 4))],
        "l2_normalize": [n(size=(3, 4))],
        "clip_by_norm": [n(size=(2, 3)) * 3.0],
        "clip_by_value": [np.array([-1.2, -0.3, 0.1, 0.5, 0.9, 2.0])],
        "softmax_xent": [n(size=(3, 4)), rng.dirichlet(np.ones(4), 3)],
        "sparse_softmax_xent": [n(size=(3, 4)), labels],
        "sigmoid_xent": [n(size=(3, 2)) * 2.0, rng.uniform(0, 1, (3, 2))],
        "gather_batch_dims": [n(size=(2, 3, 4)), np.array([[0, 3, 3], [2, 1, 0]])],
        "gather_nd": [n(size=(3, 4)), np.array([[0, 1], [2, 3], [0, 1]])],
        "split_sizes": [n(size=(2, 4))],
        "cumsum_exclusive_reverse": [n(size=(2, 4))],
        "matmul_transpose_b": [n(size=(2, 3)), n(size=(4, 3))],
        "tensordot": [n(size=(2, 3)), n(size=(3, 4))],
        "activations": [_away_from_zero(rng, (2, 5))],
        "softmax_axis0": [n(size=(3, 4))],
        "moments": [n(size=(4, 3))],
        "binary_math": [_away_from_zero(rng, (2, 3)), _away_from_zero(rng, (2, 3))],
        "clip_by_global_norm": [n(size=(2, 2)), n(size=(3,))],
        "top_k_values": [n(size=(3, 5))],
        "linspace": [np.array(0.5), np.array(2.0)],
        "boolean_mask_where": [_away_from_zero(rng, (2, 3)), n(size=(2, 3))],
        "shape_ops": [n(size=(2, 3, 2)), n(size=(2, 3, 2))],
        "batch_norm_l2_bias": [n(size=(3, 2)), n(size=(2,)), rng.uniform(0.5, 2, (2,)), n(size=(2,))],
        "norms": [n(size=(2, 3))],
    }


def _lamina(name, *x):
    """The case ``name`` written with lamina's TensorFlow names."""
    cases = {
        "reduce_std": lambda x: tf.math.reduce_std(x, axis=1, keepdims=True),
        "reduce_variance": lambda x: tf.math.reduce_variance(x, axis=[0, 2]),
        "reduce_logsumexp": lambda x: tf.reduce_logsumexp(x, axis=-1),
        "reduce_mean_prod_max": lambda x: (tf.reduce_mean(x, axis=0) + tf.reduce_prod(x, axis=0)
                                           + tf.reduce_max(x, axis=0)),
        "l2_normalize": lambda x: tf.nn.l2_normalize(x, axis=1),
        "clip_by_norm": lambda x: tf.clip_by_norm(x, 1.0),
        "clip_by_value": lambda x: tf.clip_by_value(x, -0.5, 0.7),
        "softmax_xent": lambda z, y: tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z),
        "sparse_softmax_xent": lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=z),
        "sigmoid_xent": lambda z, y: tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z),
        "gather_batch_dims": lambda p, i: tf.gather(p, i, axis=2, batch_dims=1),
        "gather_nd": lambda p, i: tf.gather_nd(p, i),
        "split_sizes": lambda x: tf.concat([part * w for part, w in zip(tf.split(x, [1, -1], axis=1), (2.0, 3.0))], 1),
        "cumsum_exclusive_reverse": lambda x: tf.cumsum(x, axis=1, exclusive=True, reverse=True),
        "matmul_transpose_b": lambda a, b: tf.matmul(a, b, transpose_b=True),
        "tensordot": lambda a, b: tf.tensordot(a, b, axes=[[1], [0]]),
        "activations": lambda x: (tf.nn.gelu(x) + tf.nn.silu(x, beta=2.0) + tf.nn.leaky_relu(x, alpha=0.1)
                                  + tf.nn.elu(x) + tf.nn.selu(x) + tf.nn.softplus(x) + tf.nn.relu6(x)
                                  + tf.math.log_sigmoid(x)),
        "softmax_axis0": lambda x: tf.nn.softmax(x, axis=0) + tf.nn.log_softmax(x),
        "moments": lambda x: _moments_sum(x),
        "binary_math": lambda x, y: (tf.divide(x, y) + tf.pow(tf.abs(x), 1.5) + tf.math.squared_difference(x, y)
                                     + tf.math.xlogy(x, tf.abs(y)) + tf.math.rsqrt(tf.abs(y))
                                     + tf.math.log1p(tf.abs(x)) + tf.math.atan2(x, y)),
        "clip_by_global_norm": lambda a, b: tf.concat([tf.reshape(t, [-1]) for t in
                                                       tf.clip_by_global_norm([a, b], 1.5)[0]], 0),
        "top_k_values": lambda x: tf.math.top_k(x, k=2).values,
        "linspace": lambda a, b: tf.linspace(a, b, 4),
        "boolean_mask_where": lambda x, y: tf.concat([tf.boolean_mask(x, x > 0),
                                                      tf.reshape(tf.where(x > 0, x, y), [-1])], 0),
        "shape_ops": lambda x, y: tf.concat([tf.reshape(t, [-1]) for t in (
            tf.add_n([x, y, x]), tf.transpose(x, perm=[1, 0, 2]),
            tf.tile(tf.expand_dims(x, 1), [1, 2, 1, 1]), tf.pad(x, [[1, 0], [0, 0], [0, 1]]),
            tf.reverse(x, [0, 2]), tf.stack(tf.unstack(tf.stack([x, y], 1), axis=1), 1))], 0),
        "batch_norm_l2_bias": lambda x, m, v, b: tf.nn.bias_add(
            tf.nn.batch_normalization(x, m, v, None, 2.0, 1e-3), b) + tf.nn.l2_loss(x),
        "norms": lambda x: tf.norm(x) + tf.math.reduce_euclidean_norm(x, axis=1),
    }
    return cases[name](*x)


def _moments_sum(x):
    mean, variance = tf.nn.moments(x, axes=[0])
    return mean * 2.0 + variance


CASE_NAMES = sorted(_inputs())


@pytest.fixture(scope="module")
def cases():
    """Inputs and cotangents for every case, and JAX's values and gradients for them."""
    inputs = _inputs()
    rng = np.random.default_rng(5)
    payload = {}
    for name in CASE_NAMES:
        out_shape = np.shape(_lamina(name, *[tf.constant(a) for a in inputs[name]]))
        payload[name] = (inputs[name], rng.normal(size=out_shape))
    return payload


@pytest.fixture(scope="module")
def jax_results(cases, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tf_jax")
    source, target = folder / "in.pkl", folder / "out.pkl"
    with open(source, "wb") as f:
        pickle.dump(cases, f)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run([sys.executable, os.path.join(HERE, "tf_jax_oracle.py"), str(source), str(target)],
                          env=env, timeout=600, capture_output=True, text=True)
    if done.returncode != 0:
        if "No module named 'jax'" in done.stderr:
            pytest.skip("jax is not installed: CI installs it (the test extra)")
        raise AssertionError(done.stderr[-3000:])
    with open(target, "rb") as f:
        return pickle.load(f)


def _tape(name, arrays, cotangent):
    """lamina's value and the tape's gradients of ``sum(f(*arrays) * cotangent)`` for the float arrays."""
    tensors = [tf.constant(a) for a in arrays]
    floats = [t for t, a in zip(tensors, arrays) if a.dtype.kind == "f"]
    with tf.GradientTape() as tape:
        tape.watch(floats)
        value = _lamina(name, *tensors)
        loss = tf.reduce_sum(value * cotangent)
    return value.numpy(), [g.numpy() for g in tape.gradient(loss, floats)]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_gradients_match_jax(name, cases, jax_results):
    arrays, cotangent = cases[name]
    value, grads = _tape(name, arrays, cotangent)
    jax_value, jax_grads = jax_results[name]
    np.testing.assert_allclose(value, jax_value, rtol=1e-10, atol=1e-12, err_msg=f"{name}: value")
    assert len(grads) == len(jax_grads)
    for i, (grad, expected) in enumerate(zip(grads, jax_grads)):
        np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-11, err_msg=f"{name}: gradient {i}")


@pytest.mark.parametrize("name", CASE_NAMES)
def test_gradients_match_central_differences(name, cases):
    arrays, cotangent = cases[name]
    arrays = [a.copy() for a in arrays]
    _, grads = _tape(name, arrays, cotangent)
    floats = [a for a in arrays if a.dtype.kind == "f"]
    for i, (array, grad) in enumerate(zip(floats, grads)):
        def f():
            return float(np.sum(_lamina(name, *[tf.constant(a) for a in arrays]).numpy() * cotangent))
        np.testing.assert_allclose(grad, numeric_grad(f, array), rtol=1e-6, atol=1e-7, err_msg=f"{name}: input {i}")


def test_dropout_gradient_is_the_kept_mask_scaled():
    """tf.nn.dropout with an int seed draws the same mask every call: its gradient is mask / (1 - rate)."""
    x = tf.constant(np.ones((4, 5)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.dropout(x, rate=0.4, seed=3)
        total = tf.reduce_sum(y)
    grad = tape.gradient(total, x).numpy()
    kept = y.numpy() != 0
    np.testing.assert_allclose(grad, kept / 0.6)
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.6)
    assert 0 < kept.sum() < kept.size


def test_integer_paths_and_stop_gradient_give_no_gradient():
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        through_int = tf.reduce_sum(tf.cast(tf.cast(x, tf.int32), tf.float32) * 2.0)
        stopped = tf.reduce_sum(tf.stop_gradient(x) * x)
        direct = tf.reduce_sum(x * 2.0)
    assert tape.gradient(through_int, x) is None
    np.testing.assert_allclose(tape.gradient(stopped, x).numpy(), [1.0, 2.0])
    np.testing.assert_allclose(tape.gradient(direct, x).numpy(), [2.0, 2.0])  # the tape did record


def test_custom_gradient_decorator_as_tensorflow():
    @tf.custom_gradient
    def clipped_identity(x):
        def grad(upstream):
            return tf.clip_by_value(upstream, -0.5, 0.5)
        return tf.identity(x), grad
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(clipped_identity(x) * tf.constant([3.0, -0.25]))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.5, -0.25])
