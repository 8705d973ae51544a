"""TensorFlow's "Introduction to Variables" guide under ``import lamina as tf``: creation, dtypes,
assign/assign_add/assign_sub and their refusals (another shape, another dtype, a fraction into an
integer Variable), names, ``trainable`` and device placement (lamina has the CPU only)."""
import numpy as np
import pytest

import lamina as tf


def test_create_and_read_a_variable():
    my_tensor = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    v = tf.Variable(my_tensor)
    assert v.shape == (2, 2) and v.dtype == "float32" and v.numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert tf.Variable([False, False, False, True]).dtype == "bool"
    assert tf.convert_to_tensor(v).numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert tf.math.argmax(v).numpy().tolist() == [1, 1] and tf.math.argmax(v).dtype == "int64"
    assert tf.reshape(v, [1, 4]).numpy().tolist() == [[1.0, 2.0, 3.0, 4.0]] and v.shape == (2, 2)
    with pytest.raises(TypeError, match="no complex tensors"):
        tf.Variable([5 + 4j, 6 + 1j])


def test_assign_keeps_dtype_and_shape():
    a = tf.Variable([2.0, 3.0])
    a.assign([1, 2])
    assert a.dtype == "float32" and a.numpy().tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        a.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="shapes must match"):
        a.assign(0.0)  # TensorFlow does not broadcast an assign
    a, b = tf.Variable([2.0, 3.0]), None
    b = tf.Variable(a)
    a.assign([5, 6])
    assert a.numpy().tolist() == [5.0, 6.0] and b.numpy().tolist() == [2.0, 3.0]
    assert a.assign_add([2, 3]).numpy().tolist() == [7.0, 9.0]
    assert a.assign_sub([7, 9]).numpy().tolist() == [0.0, 0.0]
    assert a.assign(np.array([1.5, 2.5])).numpy().tolist() == [1.5, 2.5]  # NumPy float64 casts, as in TF


def test_assign_refuses_what_tensorflow_refuses():
    counter = tf.Variable(1, trainable=False)
    assert counter.dtype == "int32" and not counter.trainable
    with pytest.raises(TypeError, match="fraction"):
        counter.assign(2.5)
    with pytest.raises(TypeError, match="fraction"):
        counter.assign_add(0.5)
    assert int(counter.assign_add(1)) == 2 and int(counter.assign(7.0)) == 7
    floats = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match="dtype int32, not the requested float32"):
        floats.assign(tf.constant([1, 2]))
    assert floats.numpy().tolist() == [1.0, 2.0]


def test_names_and_placement():
    my_tensor = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    a, b = tf.Variable(my_tensor, name="Mark"), tf.Variable(my_tensor + 1, name="Mark")
    assert a.name == b.name == "Mark" and (a == b).numpy().tolist() == [[False, False], [False, False]]
    with tf.device("CPU:0"):
        a = tf.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        c = tf.matmul(a, tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    assert c.numpy().tolist() == [[22.0, 28.0], [49.0, 64.0]] and a.device.endswith("CPU:0")
    with tf.device("GPU:0"):  # soft placement, as TensorFlow's default: no GPU, so the CPU computes
        k = a * tf.Variable([[1.0, 2.0, 3.0]])
    assert k.numpy().tolist() == [[1.0, 4.0, 9.0], [4.0, 10.0, 18.0]] and k.device.endswith("CPU:0")
    with pytest.raises(AttributeError, match="lamina has no tf.debugging"):
        tf.debugging.set_log_device_placement(True)
