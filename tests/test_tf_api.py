"""lamina's TensorFlow names (``import lamina as tf``): values against NumPy closed forms, and the
TensorFlow rules that differ from Keras's or NumPy's (each documented in the test's docstring)."""
from __future__ import annotations


import numpy as np
import pytest

import lamina
import lamina as tf


def test_top_level_exposes_tf_names_next_to_keras():
    for name in ("constant", "Variable", "reduce_mean", "GradientTape", "function", "print", "math", "nn", "float32",
                 "newaxis", "range", "shape"):
        assert name in lamina.__all__, name
    for name in ("Model", "Sequential", "Input", "ops", "keras", "layers", "random", "backend"):
        assert name in lamina.__all__, name
    assert all(hasattr(lamina, name) for name in lamina.__all__)
    assert lamina.keras.Variable is lamina.variables.Variable  # lamina.keras stays Keras's namespace
    assert not hasattr(lamina.keras, "reduce_mean")
    from lamina.math import reduce_sum  # the namespaces import as modules too
    assert reduce_sum is tf.math.reduce_sum and tf.newaxis is None


TOP_LEVEL = """constant Variable convert_to_tensor cast float16 float32 float64 int8 int16 int32 int64 uint8 bool
newaxis shape size rank reshape transpose concat stack unstack split squeeze expand_dims gather where range zeros
ones zeros_like ones_like fill eye linspace matmul tensordot add subtract multiply divide add_n abs exp sqrt square
pow maximum minimum clip_by_value clip_by_norm sign reduce_sum reduce_mean reduce_max reduce_min reduce_prod
reduce_std reduce_variance reduce_logsumexp reduce_any reduce_all argmax argmin equal not_equal greater
greater_equal less less_equal GradientTape custom_gradient stop_gradient function print""".split()
MATH = """log log1p exp sqrt rsqrt square abs softplus sigmoid tanh reduce_sum reduce_mean reduce_max reduce_min
reduce_prod reduce_std reduce_variance reduce_logsumexp reduce_any reduce_all top_k in_top_k is_nan is_finite
count_nonzero""".split()
NN = """relu relu6 elu selu gelu silu leaky_relu sigmoid tanh softmax log_softmax softplus dropout moments
l2_normalize softmax_cross_entropy_with_logits sparse_softmax_cross_entropy_with_logits
sigmoid_cross_entropy_with_logits""".split()


def test_every_name_tf_keras_programs_use_exists():
    """The names issue 11 lists, at lamina's top level and in tf.math, tf.nn and tf.random."""
    missing = ([n for n in TOP_LEVEL if not hasattr(tf, n)] + [f"math.{n}" for n in MATH if not hasattr(tf.math, n)]
               + [f"nn.{n}" for n in NN if not hasattr(tf.nn, n)]
               + [f"random.{n}" for n in ("normal", "uniform", "set_seed") if not hasattr(tf.random, n)])
    assert not missing, missing
    assert all(isinstance(getattr(tf, n), tf.DType) for n in TOP_LEVEL if n in tf.dtypes.__all__)


def test_dtypes_are_objects_with_names_equal_to_strings_and_numpy():
    assert tf.float32.name == "float32" and repr(tf.int64) == "tf.int64"
    assert tf.float32 == "float32" and tf.float32 == np.float32 and tf.float32 == np.dtype("float32")
    assert tf.float32 != tf.float64 and tf.bool == np.bool_
    assert tf.constant([1.0]).dtype == tf.float32 and tf.constant([1]).dtype == tf.int32
    assert tf.float16.is_floating and tf.uint8.is_unsigned and tf.int8.is_integer and tf.bool.is_bool
    assert (tf.int8.min, tf.int8.max, tf.uint8.max, tf.float16.size) == (-128, 127, 255, 2)
    assert tf.float64.as_numpy_dtype is np.float64 and tf.as_dtype("int16") is tf.int16
    assert tf.dtypes.as_dtype(np.float64) is tf.float64 and tf.as_dtype(float) is tf.float32
    assert np.zeros(2, dtype=tf.int16).dtype == np.int16
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.as_dtype("complex64")


def test_constant_follows_tensorflow_dtype_inference():
    """Python floats give float32 and ints int32 (int64 when too big); NumPy arrays keep their dtype;
    a scalar fills ``shape``; a non-integral float refuses an integer dtype."""
    assert tf.constant(1.5).dtype == "float32" and tf.constant(7).dtype == "int32"
    assert tf.constant(2**40).dtype == "int64" and tf.constant(True).dtype == "bool"
    assert tf.constant(np.arange(3.0)).dtype == "float64" and tf.constant([1, 2.5]).dtype == "float32"
    np.testing.assert_array_equal(tf.constant(7.0, shape=[2, 3]).numpy(), np.full((2, 3), 7.0))
    np.testing.assert_array_equal(tf.constant([1, 2, 3, 4], shape=(2, 2)).numpy(), [[1, 2], [3, 4]])
    assert tf.constant(3, dtype=tf.float64).dtype == "float64"
    with pytest.raises(TypeError, match="fractional"):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(TypeError, match="cannot be given shape"):
        tf.constant([1, 2, 3], shape=(2, 2))
    stacked = tf.constant([tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])])
    assert stacked.shape == (2, 2)


def test_convert_to_tensor_never_casts_a_tensor_and_cast_truncates():
    x = tf.constant([1.7, -1.7])
    assert tf.convert_to_tensor(x) is x
    with pytest.raises(ValueError, match="tf.cast"):
        tf.convert_to_tensor(x, dtype=tf.int32)
    assert tf.convert_to_tensor([1, 2], dtype_hint=tf.float32).dtype == "float32"
    np.testing.assert_array_equal(tf.cast(x, tf.int32).numpy(), [1, -1])
    np.testing.assert_array_equal(tf.cast([0.0, 2.0], tf.bool).numpy(), [False, True])


def test_variable_takes_tensorflow_and_keras_arguments():
    v = tf.Variable([1.0, 2.0], False, name="v")
    assert not v.trainable and v.name == "v" and v.dtype == "float32"
    assert tf.Variable(3).dtype == "int32" and tf.Variable(1.0, trainable=True).trainable
    assert tf.Variable(0.0, synchronization=tf.VariableSynchronization.ON_READ).trainable is False
    np.testing.assert_array_equal(tf.Variable("ones", (2, 2)).numpy(), np.ones((2, 2)))
    np.testing.assert_array_equal(tf.Variable(initializer="zeros", shape=(3,), dtype="float64").numpy(), np.zeros(3))
    assert float(v.value()[1]) == 2.0 and float(v.value[1]) == 2.0 and float(v.read_value()[0]) == 1.0
    assert v.assign([5.0, 6.0]) is v and v.assign_add([1.0, 1.0], read_value=False) is None
    np.testing.assert_array_equal(v.numpy(), [6.0, 7.0])
    v.assign_sub([6.0, 7.0])
    np.testing.assert_array_equal(v.numpy(), [0.0, 0.0])
    dense = lamina.keras.layers.Dense(2)
    dense.build((None, 3))
    assert isinstance(dense.kernel, tf.Variable) and issubclass(lamina.keras.Variable, tf.Variable)
    assert not isinstance(tf.constant(1.0), tf.Variable)


def test_shape_size_rank_are_int32_tensors():
    x = tf.zeros((2, 3, 4))
    assert x.dtype == "float32" and tf.shape(x).dtype == "int32"
    assert tf.shape(x).numpy().tolist() == [2, 3, 4] and int(tf.size(x)) == 24 and int(tf.rank(x)) == 3
    assert tf.reshape(x, [tf.shape(x)[0], -1]).shape == (2, 12)  # shapes may hold scalar tensors


def test_range_infers_its_dtype_from_the_arguments():
    """int32 for Python ints, float32 once a float appears, the widest of NumPy dtypes otherwise."""
    assert tf.range(5).dtype == "int32" and tf.range(5).numpy().tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(tf.range(3, 1, -0.5).numpy(), [3.0, 2.5, 2.0, 1.5])
    assert tf.range(3, 1, -0.5).dtype == "float32" and tf.range(np.float64(2.0)).dtype == "float64"
    assert tf.range(np.int64(4)).dtype == "int64" and tf.range(1, 4, dtype=tf.float64).dtype == "float64"
    assert tf.range(3, 18, 3).numpy().tolist() == [3, 6, 9, 12, 15] and tf.range(5, 2).shape == (0,)
    with pytest.raises(ValueError, match="delta"):
        tf.range(0, 3, 0)


def test_creation_functions():
    assert tf.zeros([2]).dtype == "float32" and tf.ones(3, dtype=tf.int8).dtype == "int8"
    assert tf.zeros_like(tf.constant([1, 2])).dtype == "int32"
    assert tf.ones_like([1.0], dtype="float64").dtype == "float64"
    assert tf.fill([2, 2], 9).numpy().tolist() == [[9, 9], [9, 9]] and tf.fill([1], 0.5).dtype == "float32"
    np.testing.assert_array_equal(tf.eye(2, 3, batch_shape=[4]).numpy(), np.broadcast_to(np.eye(2, 3), (4, 2, 3)))
    np.testing.assert_allclose(tf.linspace(10.0, 12.0, 3).numpy(), [10.0, 11.0, 12.0])
    np.testing.assert_allclose(tf.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1).numpy(), [[0, 0.5, 1], [1, 2, 3]])
    integers = tf.linspace(0, 100, 5)  # TensorFlow: float64, its integers' true division
    assert integers.dtype == "float64" and integers.numpy().tolist() == [0.0, 25.0, 50.0, 75.0, 100.0]
    np.testing.assert_array_equal(tf.one_hot([0, 2, -1, 5], 3).numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(tf.one_hot([1], 2, on_value=5, off_value=-1, axis=0).numpy(), [[-1], [5]])


def test_split_takes_a_count_or_sizes_with_one_minus_one():
    x = tf.reshape(tf.range(12), (2, 6))
    assert [p.numpy().tolist() for p in tf.split(x, 3, axis=1)] == [[[0, 1], [6, 7]], [[2, 3], [8, 9]],
                                                                     [[4, 5], [10, 11]]]
    assert [p.shape for p in tf.split(x, [1, -1, 2], axis=1)] == [(2, 1), (2, 3), (2, 2)]
    with pytest.raises(ValueError, match="do not divide"):
        tf.split(x, 4, axis=1)
    with pytest.raises(ValueError, match="add up"):
        tf.split(x, [1, 2], axis=1)
    with pytest.raises(ValueError, match="at most one"):
        tf.split(x, [-1, -1], axis=1)


def test_gather_axis_and_batch_dims():
    """Output shape ``params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis+1:]``;
    ``axis`` defaults to ``batch_dims``; negative or too-large indices raise, as TF on the CPU."""
    p = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(tf.gather(p, [1, 0]).numpy(), p[[1, 0]])
    np.testing.assert_array_equal(tf.gather(p, [[0, 2], [1, 1]], axis=1).numpy(), np.take(p, [[0, 2], [1, 1]], axis=1))
    idx = np.array([[3, 0], [1, 1]])
    out = tf.gather(p, idx, axis=2, batch_dims=1)
    assert out.shape == (2, 3, 2)
    np.testing.assert_array_equal(out.numpy(), np.stack([p[b][:, idx[b]] for b in range(2)]))
    rows = tf.gather(p, np.array([2, 0]), axis=1, batch_dims=1)  # axis 1 with one batch axis: row per batch
    np.testing.assert_array_equal(rows.numpy(), np.stack([p[0, 2], p[1, 0]]))
    np.testing.assert_array_equal(tf.gather(p, np.array([[1, 0], [2, 2]]), batch_dims=1).numpy(),
                                  np.stack([p[0][[1, 0]], p[1][[2, 2]]]))
    with pytest.raises(ValueError, match="out of range"):
        tf.gather(p, [-1])
    with pytest.raises(ValueError, match="out of range"):
        tf.gather(p, [3], axis=1)
    np.testing.assert_array_equal(tf.gather_nd(p, [[1, 2], [0, 0]]).numpy(), [p[1, 2], p[0, 0]])
    np.testing.assert_array_equal(tf.gather_nd(p, [[[1], [0]], [[2], [2]]], batch_dims=1).numpy(),
                                  [[p[0, 1], p[0, 0]], [p[1, 2], p[1, 2]]])


def test_where_with_one_and_three_arguments():
    coords = tf.where([[True, False], [False, True]])
    assert coords.dtype == "int64" and coords.numpy().tolist() == [[0, 0], [1, 1]]
    np.testing.assert_array_equal(tf.where([True, False], [1.0, 2.0], [[9.0], [8.0]]).numpy(), [[1, 9], [1, 8]])
    with pytest.raises(ValueError, match="both x and y"):
        tf.where([True], [1.0])


def test_shape_ops():
    x = tf.reshape(tf.range(6), (2, 3))
    assert tf.transpose(x).shape == (3, 2) and tf.transpose(tf.zeros((1, 2, 3)), perm=[2, 0, 1]).shape == (3, 1, 2)
    assert tf.concat([x, x], axis=0).shape == (4, 3) and tf.stack([x, x], axis=1).shape == (2, 2, 3)
    assert [t.numpy().tolist() for t in tf.unstack(x, axis=1)] == [[0, 3], [1, 4], [2, 5]]
    assert tf.expand_dims(x, 1).shape == (2, 1, 3) and tf.squeeze(tf.zeros((1, 2, 1))).shape == (2,)
    assert tf.squeeze(tf.zeros((1, 2, 1)), axis=[2]).shape == (1, 2)
    with pytest.raises(ValueError, match="does not have size 1"):
        tf.squeeze(tf.zeros((1, 2)), axis=1)
    assert tf.tile(x, [2, 1]).shape == (4, 3) and tf.reverse(x, [1]).numpy().tolist() == [[2, 1, 0], [5, 4, 3]]
    assert tf.boolean_mask(x, [True, False]).numpy().tolist() == [[0, 1, 2]]
    assert tf.boolean_mask(x, [[True, False, True], [False, False, True]]).numpy().tolist() == [0, 2, 5]
    assert tf.pad(x, [[0, 1], [1, 0]]).numpy().tolist() == [[0, 0, 1, 2], [0, 3, 4, 5], [0, 0, 0, 0]]
    assert tf.pad([[1, 2]], [[0, 0], [1, 1]], mode="REFLECT").numpy().tolist() == [[2, 1, 2, 1]]
    assert tf.sort([3, 1, 2], direction="DESCENDING").numpy().tolist() == [3, 2, 1]
    assert tf.argsort([1, 3, 3, 0], direction="DESCENDING").numpy().tolist() == [1, 2, 0, 3]  # ties in order


def test_arithmetic_and_tensorflow_division():
    """``divide`` of integers gives float64 for 32/64-bit and float32 for 8/16-bit, as TF's truediv."""
    assert tf.divide(7, 2).dtype == "float64" and float(tf.divide(7, 2)) == 3.5
    assert tf.divide(tf.constant([3], tf.int16), tf.constant([2], tf.int16)).dtype == "float32"
    assert tf.divide(tf.constant([1.0]), 4).dtype == "float32" and tf.truediv(1, 2).dtype == "float64"
    np.testing.assert_allclose(tf.add([1.0, 2.0], 1.0).numpy(), [2.0, 3.0])
    np.testing.assert_allclose(tf.subtract(5.0, [1.0]).numpy(), [4.0])
    np.testing.assert_allclose(tf.multiply([2.0], [3.0]).numpy(), [6.0])
    np.testing.assert_allclose(tf.pow([2.0, 3.0], 2).numpy(), [4.0, 9.0])
    np.testing.assert_allclose(tf.add_n([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).numpy(), [9.0, 12.0])
    with pytest.raises(ValueError, match="one shape"):
        tf.add_n([tf.ones(2), tf.ones(3)])
    assert tf.sign([-2.0, 0.0, 3.0]).numpy().tolist() == [-1.0, 0.0, 1.0] and tf.abs(-3).numpy() == 3
    assert float(tf.sqrt(4.0)) == 2.0 and float(tf.exp(0.0)) == 1.0 and float(tf.square(-3.0)) == 9.0
    assert tf.maximum([1, 5], [3, 2]).numpy().tolist() == [3, 5] and tf.minimum([1, 5], 2).numpy().tolist() == [1, 2]
    assert tf.math.floordiv(-7, 2).numpy() == -4 and tf.math.floormod(-7, 2).numpy() == 1
    np.testing.assert_allclose(tf.math.xlogy([0.0, 2.0], [0.0, np.e]).numpy(), [0.0, 2.0])
    np.testing.assert_allclose(tf.math.divide_no_nan([1.0, 1.0], [0.0, 2.0]).numpy(), [0.0, 0.5])
    np.testing.assert_allclose(tf.math.multiply_no_nan([np.inf, 2.0], [0.0, 3.0]).numpy(), [0.0, 6.0])
    np.testing.assert_allclose(tf.math.atan2(1.0, -1.0).numpy(), np.arctan2(1.0, -1.0), rtol=1e-6)


def test_comparisons_return_bool():
    a, b = tf.constant([1, 2, 3]), tf.constant([3, 2, 1])
    for fn, expected in ((tf.equal, [False, True, False]), (tf.not_equal, [True, False, True]),
                         (tf.greater, [False, False, True]), (tf.greater_equal, [False, True, True]),
                         (tf.less, [True, False, False]), (tf.less_equal, [True, True, False])):
        out = fn(a, b)
        assert out.dtype == "bool" and out.numpy().tolist() == expected, fn.__name__


def test_clipping():
    x = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(tf.clip_by_value(x, 0.35, 3.5).numpy(), np.clip(x, 0.35, 3.5))
    np.testing.assert_allclose(tf.clip_by_norm(x, 2.0).numpy(), x * 2.0 / np.linalg.norm(x))
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.0, axes=[1]).numpy(), [[0.6, 0.8], [0.3, 0.4]])
    np.testing.assert_array_equal(tf.clip_by_norm(tf.zeros(2), 1.0).numpy(), [0.0, 0.0])  # no 0/0
    clipped, norm = tf.clip_by_global_norm([x[0], None, x[1]], 1.0)
    total = np.sqrt(np.sum(x ** 2))
    assert clipped[1] is None and float(norm) == pytest.approx(total)
    np.testing.assert_allclose(clipped[0].numpy(), x[0] / total)


def test_matmul_and_tensordot():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(tf.matmul(a, b).numpy(), a @ b)
    np.testing.assert_allclose(tf.matmul(a, a, transpose_b=True).numpy(), a @ a.T)
    np.testing.assert_allclose(tf.matmul(a, a, transpose_a=True).numpy(), a.T @ a)
    batch = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_allclose(tf.matmul(batch, b.T).numpy(), batch @ b.T)
    with pytest.raises(ValueError, match="rank >= 2"):
        tf.matmul([1.0, 2.0], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="inner dimensions"):
        tf.matmul(a, a)
    np.testing.assert_allclose(tf.tensordot(a, b, axes=1).numpy(), a @ b)
    np.testing.assert_allclose(tf.linalg.matvec(a, [1.0, 0.0, 1.0]).numpy(), a @ [1, 0, 1])
    assert float(tf.linalg.trace(np.eye(3))) == 3.0 and float(tf.norm([3.0, 4.0])) == 5.0
