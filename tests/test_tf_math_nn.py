"""lamina's ``tf.reduce_*``, ``tf.math``, ``tf.nn``, ``tf.function`` and ``tf.print``: values against
NumPy closed forms, and TensorFlow's own rules (each named in the test's docstring)."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest

import lamina as tf

X = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])


@pytest.mark.parametrize("name, reference", [
    ("reduce_sum", np.sum), ("reduce_mean", np.mean), ("reduce_max", np.max), ("reduce_min", np.min),
    ("reduce_prod", np.prod), ("reduce_std", np.std), ("reduce_variance", np.var),
    ("reduce_logsumexp", lambda x, axis=None, keepdims=False: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
])
def test_reductions_take_axis_and_keepdims(name, reference):
    fn = getattr(tf, name)
    assert fn is getattr(tf.math, name)
    for axis in (None, 0, 1, -1, [0, 1]):
        for keepdims in (False, True):
            ref_axis = tuple(axis) if isinstance(axis, list) else axis
            np.testing.assert_allclose(fn(X, axis=axis, keepdims=keepdims).numpy(),
                                       reference(X, axis=ref_axis, keepdims=keepdims), rtol=1e-12)
    np.testing.assert_allclose(fn(input_tensor=X, axis=tf.constant(1)).numpy(), reference(X, axis=1), rtol=1e-12)


def test_reduce_mean_of_integers_stays_integer_rounding_towards_zero():
    """TensorFlow divides an integer sum by the count in integers: mean([1, 2]) is 1, mean([-1, -2]) is -1."""
    assert tf.reduce_mean(tf.constant([1, 2])).dtype == "int32" and int(tf.reduce_mean([1, 2])) == 1
    assert int(tf.reduce_mean([-1, -2])) == -1 and tf.reduce_mean([[1, 2], [4, 7]], axis=1).numpy().tolist() == [1, 5]
    assert float(tf.reduce_mean([1.0, 2.0])) == 1.5


def test_reduce_std_and_variance_are_population_forms_of_floats_only():
    """ddof 0 (not the sample form), and TensorFlow refuses integer input."""
    assert float(tf.reduce_std([1.0, 3.0])) == 1.0 and float(tf.reduce_variance([1.0, 2.0, 3.0, 4.0])) == 1.25
    with pytest.raises(TypeError, match="floating-point"):
        tf.math.reduce_std(tf.constant([1, 2]))
    with pytest.raises(TypeError, match="floating-point"):
        tf.math.reduce_variance([1, 2])


def test_reduce_any_all_and_count_nonzero():
    b = [[True, False], [True, True]]
    assert tf.reduce_any(b, axis=1).numpy().tolist() == [True, True]
    assert tf.reduce_all(b, axis=1).numpy().tolist() == [False, True] and not bool(tf.reduce_all(b))
    counts = tf.math.count_nonzero([[0, 1, 2], [0, 0, 3]], axis=1)
    assert counts.dtype == "int64" and counts.numpy().tolist() == [2, 1]
    assert int(tf.math.count_nonzero([0.0, 0.5])) == 1


def test_argmax_defaults_to_axis_0_and_int64():
    """Unlike NumPy and Keras (which flatten), TensorFlow's argmax reduces axis 0 when axis is None."""
    out = tf.argmax(X)
    assert out.dtype == "int64" and out.numpy().tolist() == [1, 1, 0]
    assert tf.argmin(X, axis=1).numpy().tolist() == [1, 2]
    assert tf.argmax([1, 3, 3]).numpy() == 1  # the first of equal values
    assert tf.math.argmax(X, axis=1, output_type=tf.int32).dtype == "int32"


def test_top_k_and_in_top_k():
    """top_k: largest first, the lower index first among equals; in_top_k(targets, predictions, k):
    classes tied at the boundary count in, a non-finite prediction never does."""
    values, indices = tf.math.top_k([[1.0, 3.0, 3.0, 2.0], [0.0, -1.0, 5.0, 4.0]], k=2)
    assert values.numpy().tolist() == [[3.0, 3.0], [5.0, 4.0]] and indices.numpy().tolist() == [[1, 2], [2, 3]]
    assert indices.dtype == "int32" and tf.nn.top_k is tf.math.top_k
    predictions = [[0.1, 0.8, 0.1], [0.4, 0.3, 0.3], [0.2, 0.2, np.nan]]
    assert tf.math.in_top_k([1, 2, 0], predictions, 1).numpy().tolist() == [True, False, False]
    assert tf.math.in_top_k([1, 2, 0], predictions, 2).numpy().tolist() == [True, True, False]
    assert tf.math.in_top_k(targets=[0], predictions=[[0.5, 0.5, 0.1]], k=1).numpy().tolist() == [True]
    with pytest.raises(ValueError, match="targets must be in"):
        tf.math.in_top_k([3], [[0.1, 0.2, 0.7]], 1)


def test_cumsum_exclusive_reverse_and_integer_dtype():
    assert tf.cumsum([1, 2, 3]).numpy().tolist() == [1, 3, 6] and tf.cumsum([1, 2, 3]).dtype == "int32"
    assert tf.cumsum([1, 2, 3], exclusive=True).numpy().tolist() == [0, 1, 3]
    assert tf.cumsum([1, 2, 3], reverse=True).numpy().tolist() == [6, 5, 3]
    assert tf.cumsum([1, 2, 3], exclusive=True, reverse=True).numpy().tolist() == [5, 3, 0]
    assert tf.math.cumprod([[1, 2], [3, 4]], axis=1).numpy().tolist() == [[1, 2], [3, 12]]


def test_math_namespace_elementwise_functions():
    x = np.array([0.5, 1.0, 2.0])
    cases = {"log": np.log, "log1p": np.log1p, "exp": np.exp, "sqrt": np.sqrt, "rsqrt": lambda v: 1 / np.sqrt(v),
             "square": np.square, "abs": np.abs, "softplus": lambda v: np.log1p(np.exp(v)),
             "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh, "reciprocal": np.reciprocal,
             "expm1": np.expm1, "sin": np.sin, "cos": np.cos, "floor": np.floor, "ceil": np.ceil,
             "erf": np.vectorize(math.erf), "log_sigmoid": lambda v: -np.log1p(np.exp(-v)),
             "negative": np.negative}
    for name, reference in cases.items():
        np.testing.assert_allclose(getattr(tf.math, name)(x).numpy(), reference(x), rtol=1e-12, err_msg=name)
    np.testing.assert_array_equal(tf.math.round([0.5, 1.5, 2.5, -0.5]).numpy(), [0.0, 2.0, 2.0, -0.0])  # half to even
    odd = [np.nan, np.inf, 1.0]
    assert tf.math.is_nan(odd).numpy().tolist() == [True, False, False]
    assert tf.math.is_finite(odd).numpy().tolist() == [False, False, True]
    assert tf.math.is_inf(odd).numpy().tolist() == [False, True, False]
    confusion = tf.math.confusion_matrix([0, 1, 2, 1], [0, 2, 2, 1], num_classes=3)
    assert confusion.numpy().tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_nn_activations_against_closed_forms():
    x = np.linspace(-3, 3, 13)
    erf = np.vectorize(math.erf)
    cases = {
        "relu": (tf.nn.relu, np.maximum(x, 0)), "relu6": (tf.nn.relu6, np.clip(x, 0, 6)),
        "elu": (tf.nn.elu, np.where(x > 0, x, np.expm1(x))),
        "selu": (tf.nn.selu, 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
        "gelu exact (TF's default)": (tf.nn.gelu, x * 0.5 * (1 + erf(x / np.sqrt(2)))),
        "gelu tanh": (lambda v: tf.nn.gelu(v, approximate=True),
                      0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
        "silu": (tf.nn.silu, x / (1 + np.exp(-x))), "swish beta 2": (lambda v: tf.nn.swish(v, beta=2.0),
                                                                     x / (1 + np.exp(-2 * x))),
        "leaky_relu (alpha 0.2)": (tf.nn.leaky_relu, np.where(x > 0, x, 0.2 * x)),
        "sigmoid": (tf.nn.sigmoid, 1 / (1 + np.exp(-x))), "tanh": (tf.nn.tanh, np.tanh(x)),
        "softplus": (tf.nn.softplus, np.log1p(np.exp(x))), "softsign": (tf.nn.softsign, x / (1 + np.abs(x))),
    }
    for label, (fn, expected) in cases.items():
        np.testing.assert_allclose(fn(x).numpy(), expected, rtol=1e-7, atol=1e-12, err_msg=label)


def test_nn_softmax_moments_l2_normalize():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(tf.nn.softmax(logits).numpy(), exp / exp.sum(-1, keepdims=True))
    np.testing.assert_allclose(tf.nn.softmax(logits, axis=0).numpy(), np.exp(logits) / np.exp(logits).sum(0))
    np.testing.assert_allclose(tf.nn.log_softmax(logits).numpy(), np.log(exp / exp.sum(-1, keepdims=True)))
    mean, variance = tf.nn.moments(X, axes=[0])
    np.testing.assert_allclose(mean.numpy(), X.mean(0)) and np.testing.assert_allclose(variance.numpy(), X.var(0))
    mean, variance = tf.nn.moments(X, axes=[0, 1], keepdims=True)
    assert mean.shape == (1, 1) and float(variance[0, 0]) == pytest.approx(X.var())
    np.testing.assert_allclose(tf.nn.l2_normalize(X, axis=1).numpy(), X / np.linalg.norm(X, axis=1, keepdims=True))
    np.testing.assert_allclose(tf.nn.l2_normalize(X).numpy(), X / np.linalg.norm(X))  # axis None: all of it
    np.testing.assert_array_equal(tf.nn.l2_normalize([0.0, 0.0]).numpy(), [0.0, 0.0])  # epsilon: no 0/0


def test_cross_entropies_with_logits_per_example():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    labels = np.array([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits).numpy(),
                               -(labels * log_p).sum(-1))
    np.testing.assert_allclose(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 1], logits=logits).numpy(),
                               -log_p[[0, 1], [0, 1]])
    z, x = np.array([0.0, 1.0, 1.0]), np.array([-50.0, 0.3, 40.0])
    np.testing.assert_allclose(tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x).numpy(),
                               np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x))))
    def log_sigmoid(v):
        return -np.logaddexp(0.0, -v)
    np.testing.assert_allclose(tf.nn.weighted_cross_entropy_with_logits(z, x, pos_weight=3.0).numpy(),
                               -(3.0 * z * log_sigmoid(x) + (1 - z) * log_sigmoid(-x)), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="labels must be in"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[3, 0], logits=logits)
    with pytest.raises(ValueError, match="same shape"):
        tf.nn.softmax_cross_entropy_with_logits(labels=labels[:1], logits=logits)
    with pytest.raises(TypeError, match="integer labels"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0.0, 1.0], logits=logits)


def test_nn_training_loop_helpers():
    losses = tf.constant([1.0, 2.0, 3.0, 6.0])
    assert float(tf.nn.compute_average_loss(losses)) == 3.0
    assert float(tf.nn.compute_average_loss(losses, global_batch_size=8)) == 1.5
    assert float(tf.nn.compute_average_loss(losses, sample_weight=[1.0, 0.0, 0.0, 0.0])) == 0.25
    assert float(tf.nn.l2_loss([3.0, 4.0])) == 12.5
    np.testing.assert_allclose(tf.nn.bias_add(np.zeros((2, 3)), [1.0, 2.0, 3.0]).numpy(), [[1, 2, 3], [1, 2, 3]])
    np.testing.assert_allclose(tf.nn.embedding_lookup(np.eye(3) * 5, [2, 0]).numpy(), [[0, 0, 5], [5, 0, 0]])


def test_nn_dropout_scales_the_kept_and_refuses_rate_one():
    x = tf.ones((200, 50))
    y = tf.nn.dropout(x, rate=0.25, seed=0).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02 and np.allclose(y[kept], 1 / 0.75)
    np.testing.assert_array_equal(tf.nn.dropout(x, rate=0.25, seed=0).numpy(), y)  # an int seed repeats
    shared = tf.nn.dropout(tf.ones((4, 6)), rate=0.5, noise_shape=[1, 6], seed=2).numpy()
    assert (shared == shared[0]).all()
    with pytest.raises(ValueError, match="rate"):
        tf.nn.dropout(x, rate=1.0)


def test_function_runs_the_python_as_written_with_or_without_arguments():
    calls = []

    @tf.function
    def plain(x):
        calls.append(1)
        return x + 1

    @tf.function(jit_compile=True, input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float32)])
    def configured(x):
        """Doubles."""
        calls.append(2)
        return x * 2

    assert float(plain(tf.constant(1.0))) == 2.0 and float(plain(1.0)) == 2.0
    assert configured([1.0]).numpy().tolist() == [2.0] and configured.__doc__ == "Doubles."
    assert calls == [1, 1, 2]  # side effects at every call: nothing is traced
    assert plain.python_function(3) == 4 and tf.function(lambda v: v * 3)(2) == 6

    class Model:
        scale = 5

        @tf.function
        def call(self, x):
            return x * self.scale
    assert Model().call(2) == 10
    with pytest.raises(TypeError, match="unexpected keyword"):
        tf.function(experimental_nonsense=True)
    spec = tf.TensorSpec([None, 3])
    assert spec.is_compatible_with(tf.zeros((5, 3))) and not spec.is_compatible_with(tf.zeros((5, 2)))


def test_function_with_input_signature_converts_and_checks_its_inputs():
    """As TensorFlow: with an input_signature, arguments become tensors of the spec's dtype, and an
    argument that does not fit the spec is refused."""
    @tf.function(input_signature=[tf.TensorSpec(shape=[None, 2], dtype=tf.float64)])
    def total(x):
        return tf.reduce_sum(x), x.dtype

    value, dtype = total([[1, 2], [3, 4]])
    assert float(value) == 10.0 and dtype == "float64"
    with pytest.raises(ValueError, match="TensorSpec"):
        total([1.0, 2.0])
    with pytest.raises(TypeError, match="2 arguments"):
        total([[1.0, 2.0]], [[3.0, 4.0]])


def test_print_formats_tensors_as_tensorflow():
    """``[0 1 2 ... 7 8 9]``: the first and last ``summarize`` (3) entries per axis, floats as %g."""
    out = io.StringIO()
    tf.print("tensors:", tf.range(10), {2: tf.range(10) * 2}, output_stream=out)
    tf.print(tf.range(2), tf.range(2) * 2, sep=",", output_stream=out)
    tf.print(tf.constant([1.0, 2.5]), [tf.constant(3)], output_stream=out, end="!\n")
    tf.print(tf.range(10), summarize=-1, output_stream=out)
    assert out.getvalue().splitlines() == ["tensors: [0 1 2 ... 7 8 9] {2: [0 2 4 ... 14 16 18]}", "[0 1],[0 2]",
                                           "[1 2.5] [3]!", "[0 1 2 3 4 5 6 7 8 9]"]


def test_print_defaults_to_stderr(capsys):
    tf.print(tf.constant([[1, 2], [3, 4]]))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "[[1 2]\n [3 4]]\n"


def test_device_name_scope_and_config():
    with tf.device("/CPU:0"), tf.name_scope("block"):
        y = tf.constant(1.0) + 1
    assert float(y) == 2.0 and tf.executing_eagerly()
    assert [d.device_type for d in tf.config.list_physical_devices()] == ["CPU"]
    assert tf.config.list_physical_devices("GPU") == [] and tf.config.floatx() == "float32"


def test_tensor_shape_and_the_logger_scripts_quiet():
    shape = tf.TensorShape([None, 3])
    assert shape == (None, 3) and shape.as_list() == [None, 3] and tf.keras.Input((3,)).shape == shape
    logger = tf.get_logger()
    logger.setLevel("ERROR")
    assert logger.name == "lamina" and logger.getEffectiveLevel() == 40
    logger.setLevel("NOTSET")
