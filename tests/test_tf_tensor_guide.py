"""TensorFlow's "Introduction to Tensors" and "Customization basics" guides under ``import lamina as tf``:
their printed values, dtypes and shapes, their errors, and the refusals of what lamina leaves out
(string, ragged and sparse tensors). Numeric results are also held to jax.numpy, run in a subprocess
so JAX never loads into the test process."""
import json
import subprocess
import sys

import numpy as np
import pytest

import lamina as tf

RANK_3 = [[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]], [[10, 11, 12, 13, 14], [15, 16, 17, 18, 19]],
          [[20, 21, 22, 23, 24], [25, 26, 27, 28, 29]]]
JAX_CASES = """
import json, os
os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax, jax.numpy as jnp
c = jnp.array([[4.0, 5.0], [10.0, 1.0]], jnp.float32)
a, b = jnp.array([[1, 2], [3, 4]]), jnp.array([[1, 1], [1, 1]])
print(json.dumps({"softmax": jax.nn.softmax(c, axis=-1).tolist(), "matmul": (a @ b).tolist(),
                  "argmax": jnp.argmax(c, axis=0).tolist(), "reduce_max": float(jnp.max(c)),
                  "outer": (jnp.array([[1], [2], [3]]) * jnp.arange(1, 5)).tolist()}))
"""


@pytest.fixture(scope="module")
def jax_reference():
    pytest.importorskip("jax")
    done = subprocess.run([sys.executable, "-c", JAX_CASES], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_basics_dtypes_and_math(jax_reference):
    assert tf.constant(4).dtype == "int32" and tf.constant([2.0, 3.0, 4.0]).dtype == "float32"
    r2 = tf.constant([[1, 2], [3, 4], [5, 6]], dtype=tf.float16)
    assert r2.dtype == "float16" and np.array(r2).dtype == np.float16
    assert r2.numpy().tolist() == [[1, 2], [3, 4], [5, 6]]
    a, b = tf.constant([[1, 2], [3, 4]]), tf.constant([[1, 1], [1, 1]])
    assert tf.add(a, b).numpy().tolist() == (a + b).numpy().tolist() == [[2, 3], [4, 5]]
    assert tf.multiply(a, b).numpy().tolist() == [[1, 2], [3, 4]]
    assert tf.matmul(a, b).numpy().tolist() == (a @ b).numpy().tolist() == jax_reference["matmul"]
    assert jax_reference["matmul"] == [[3, 3], [7, 7]]
    c = tf.constant([[4.0, 5.0], [10.0, 1.0]])
    assert float(tf.reduce_max(c)) == jax_reference["reduce_max"] == 10.0
    assert tf.argmax(c).dtype == "int64" and tf.argmax(c).numpy().tolist() == jax_reference["argmax"] == [1, 0]
    soft = tf.nn.softmax(c)
    np.testing.assert_allclose(soft.numpy(), jax_reference["softmax"], rtol=1e-6)
    guide = [[2.6894143e-01, 7.3105860e-01], [9.9987662e-01, 1.2339458e-04]]  # TensorFlow prints these
    np.testing.assert_allclose(soft.numpy(), guide, rtol=1e-6)


def test_shapes_indexing_and_reshape():
    r4 = tf.zeros([3, 2, 4, 5])
    assert (r4.dtype, r4.ndim, r4.shape, r4.shape[0], r4.shape[-1]) == ("float32", 4, (3, 2, 4, 5), 3, 5)
    assert int(tf.size(r4).numpy()) == 120 and int(tf.rank(r4)) == 4 and tf.rank(r4).dtype == "int32"
    assert tf.shape(r4).numpy().tolist() == [3, 2, 4, 5] and tf.shape(r4).dtype == "int32"
    r1 = tf.constant([0, 1, 1, 2, 3, 5, 8, 13, 21, 34])
    assert (int(r1[0]), int(r1[1]), int(r1[-1])) == (0, 1, 34) and r1[0].shape == ()
    assert r1[:4].numpy().tolist() == [0, 1, 1, 2] and r1[2:7].numpy().tolist() == [1, 2, 3, 5, 8]
    assert r1[::2].numpy().tolist() == [0, 1, 3, 8, 21] and r1[::-1].numpy().tolist()[:3] == [34, 21, 13]
    r2 = tf.constant([[1, 2], [3, 4], [5, 6]], dtype=tf.float16)
    assert float(r2[1, 1]) == 4.0 and r2[:, 1].numpy().tolist() == [2, 4, 6] and r2[1:, :].shape == (2, 2)
    r3 = tf.constant(RANK_3)
    assert r3[:, :, 4].numpy().tolist() == [[4, 9], [14, 19], [24, 29]]
    x = tf.constant([[1], [2], [3]])
    assert x.shape.as_list() == [3, 1] and tf.reshape(x, [1, 3]).shape == (1, 3)
    assert tf.reshape(r3, [-1]).numpy().tolist() == list(range(30))
    assert tf.reshape(r3, [3 * 2, 5]).shape == (6, 5) and tf.reshape(r3, [3, -1]).shape == (3, 10)
    assert tf.reshape(r3, [5, 6]).numpy()[1].tolist() == [6, 7, 8, 9, 10, 11]
    with pytest.raises(tf.errors.InvalidArgumentError, match="30 values.*multiple of 7"):
        tf.reshape(r3, [7, -1])
    assert issubclass(tf.errors.InvalidArgumentError, ValueError)


def test_casts_and_broadcasting(jax_reference):
    f64 = tf.constant([2.2, 3.3, 4.4], dtype=tf.float64)
    u8 = tf.cast(tf.cast(f64, dtype=tf.float16), dtype=tf.uint8)
    assert u8.dtype == "uint8" and u8.numpy().tolist() == [2, 3, 4]
    x, y, z = tf.constant([1, 2, 3]), tf.constant(2), tf.constant([2, 2, 2])
    for out in (tf.multiply(x, 2), x * y, x * z):
        assert out.dtype == "int32" and out.numpy().tolist() == [2, 4, 6]
    outer = tf.multiply(tf.reshape(x, [3, 1]), tf.range(1, 5))
    assert outer.shape == (3, 4) and outer.numpy().tolist() == jax_reference["outer"]
    assert tf.broadcast_to(tf.constant([1, 2, 3]), [3, 3]).numpy().tolist() == [[1, 2, 3]] * 3
    assert tf.reduce_max([1, 2, 3]).dtype == "int32" and tf.reduce_max(np.array([1, 2, 3])).dtype == "int64"


def test_mixed_dtypes_raise_as_in_tensorflow():
    ints, floats = tf.constant([1, 2]), tf.constant([1.0, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32 and float32"):
        tf.add(ints, floats)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.multiply(floats, np.array([1.0, 2.0]))  # a float64 array is a float64 tensor
    with pytest.raises(TypeError, match="fraction"):
        tf.add(ints, 1.5)
    with pytest.raises(TypeError, match="does not fit"):
        tf.add(ints, 2 ** 40)
    assert tf.add(floats, 1).dtype == "float32" and tf.add(ints, 2.0).numpy().tolist() == [3, 4]
    assert tf.divide(ints, 2).dtype == "float64" and tf.divide(ints, 2).numpy().tolist() == [0.5, 1.0]
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.equal(tf.argmax(floats), tf.constant(1))  # int64 against int32, as TensorFlow refuses


def test_customization_basics():
    assert int(tf.add(1, 2)) == 3 and tf.add([1, 2], [3, 4]).numpy().tolist() == [4, 6]
    assert int(tf.square(5)) == 25 and int(tf.reduce_sum([1, 2, 3])) == 6
    assert int(tf.square(2) + tf.square(3)) == 13
    x = tf.matmul([[1]], [[2, 3]])
    assert x.numpy().tolist() == [[2, 3]] and x.shape == (1, 2) and x.dtype == "int32"
    tensor = tf.multiply(np.ones([3, 3]), 42)
    assert tensor.dtype == "float64" and np.add(tensor, 1).tolist() == [[43.0] * 3] * 3
    assert tf.config.experimental.list_physical_devices("GPU") == []
    with tf.device("CPU:0"):
        r = tf.random.uniform([4, 4])
        assert r.device.endswith("CPU:0") and not r.device.endswith("GPU:0")
    squares = tf.data.Dataset.from_tensor_slices([1, 2, 3, 4, 5, 6]).map(tf.square).shuffle(2).batch(2)
    assert sorted(v for batch in squares for v in batch.numpy().tolist()) == [1, 4, 9, 16, 25, 36]


@pytest.mark.parametrize("name", ["strings", "ragged", "sparse", "io", "string", "RaggedTensor", "SparseTensor"])
def test_out_of_scope_names_are_refused_saying_why(name):
    with pytest.raises(AttributeError, match=f"lamina has no tf.{name}: .*(scope|lamina does not hold)"):
        getattr(tf, name)


def test_refusals_of_data_lamina_does_not_hold():
    with pytest.raises(ValueError, match="non-rectangular"):
        tf.constant([[0, 1, 2, 3], [4, 5], [6, 7, 8], [9]])
    with pytest.raises(TypeError, match="string tensors"):
        tf.constant("Gray wolf")
    with pytest.raises(AttributeError, match="TextLineDataset: it yields string"):
        tf.data.TextLineDataset("lines.txt")
    with pytest.raises(AttributeError, match="lamina has no tf.linalg.inv"):
        tf.linalg.inv([[1.0]])
    with pytest.raises(AttributeError, match="lamina has no tf.errors.OutOfRangeError"):
        _ = tf.errors.OutOfRangeError
