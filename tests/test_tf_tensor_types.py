"""A tensor's shape and dtype as TensorFlow programs read them (``x.shape.as_list()``,
``x.dtype.is_floating``), while Keras code still gets a tuple and a string."""
import pickle

import numpy as np

import lamina as tf


def test_shape_is_a_tuple_with_tensorflow_methods():
    x = tf.zeros((4, 3, 2))
    assert x.shape.as_list() == [4, 3, 2] and x.shape.rank == 3 and x.shape.ndims == 3
    assert x.shape[0] == 4 and x.shape[-1] == 2 and type(x.shape[0]) is int
    assert x.shape[1:].as_list() == [3, 2] and x.shape[1:] == (3, 2)
    assert x.shape.num_elements() == 24 and x.shape.is_fully_defined()
    # what Keras code does with a shape: a tuple in every way
    assert isinstance(x.shape, tuple) and x.shape == (4, 3, 2) and hash(x.shape) == hash((4, 3, 2))
    batch, *rest = x.shape
    assert (batch, rest) == (4, [3, 2]) and x.shape + (1,) == (4, 3, 2, 1)
    assert np.zeros(x.shape).shape == (4, 3, 2) and repr(x.shape) == "(4, 3, 2)"
    assert tf.Variable(np.ones((2, 5))).shape.as_list() == [2, 5]
    assert pickle.loads(pickle.dumps(x.shape)).as_list() == [4, 3, 2]


def test_dtype_is_a_string_with_tensorflow_attributes():
    floats, ints, flags = tf.ones((2,)), tf.constant([1, 2]), tf.constant([True])
    assert floats.dtype.is_floating and not floats.dtype.is_integer
    assert ints.dtype.is_integer and not ints.dtype.is_floating and not ints.dtype.is_unsigned
    assert flags.dtype.is_bool and not flags.dtype.is_floating
    assert floats.dtype.as_numpy_dtype is np.float32 and ints.dtype.as_numpy_dtype is np.int32
    assert floats.dtype.name == "float32" and floats.dtype.size == 4
    assert floats.dtype == "float32" and floats.dtype == tf.float32 and floats.dtype == np.float32
    assert isinstance(floats.dtype, str) and repr(floats.dtype) == "'float32'"
    assert tf.cast(ints, tf.float64).dtype.as_numpy_dtype is np.float64


def test_tensorflow_style_code_reads_them():
    def flatten(x):  # as a TensorFlow tutorial writes it
        return tf.reshape(x, [-1, int(np.prod(x.shape.as_list()[1:]))])
    x = tf.ones((2, 3, 4))
    assert flatten(x).shape.as_list() == [2, 12]
    assert [d for d in x.shape.dims] == [2, 3, 4]
