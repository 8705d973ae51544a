"""TensorFlow's "Introduction to gradients and automatic differentiation" guide, the cases whose
answers it prints: what a tape watches, what it gives for a Variable that is its own target,
``watched_variables()`` after the gradient, and ``tf.UnconnectedGradients``."""
import numpy as np
import pytest

import lamina as tf


def test_only_trainable_variables_read_on_the_tape_are_watched():
    x0 = tf.Variable(3.0, name="x0")
    x1 = tf.Variable(3.0, name="x1", trainable=False)
    x2 = tf.Variable(2.0, name="x2") + 1.0  # a tensor, not a Variable
    x3 = tf.constant(3.0, name="x3")
    with tf.GradientTape() as tape:
        y = (x0 ** 2) + (x1 ** 2) + (x2 ** 2)
    grads = tape.gradient(y, [x0, x1, x2, x3])
    assert float(grads[0]) == 6.0 and grads[1:] == [None, None, None]
    # still there after the (non-persistent) tape gave its gradient: the guide prints ['x0:0']
    assert [v.name for v in tape.watched_variables()] == ["x0"]


def test_a_variable_that_is_the_target_has_gradient_one_for_itself():
    x = tf.constant(1.0)
    v0, v1 = tf.Variable(2.0), tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        result = v0 if x > 0.0 else v1 ** 2  # the branch taken decides the gradient
    dv0, dv1 = tape.gradient(result, [v0, v1])
    assert float(dv0) == 1.0 and dv1 is None
    assert tape.gradient(result, x) is None


def test_without_watching_accessed_variables_a_variable_target_is_not_watched_either():
    v = tf.Variable(2.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        pass
    assert tape.gradient(v, v) is None


@pytest.mark.parametrize("mode", [tf.UnconnectedGradients.ZERO, "zero"])
def test_unconnected_gradients_zero(mode):
    x, y = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        z = y * y
    assert float(tape.gradient(z, x, unconnected_gradients=mode)) == 0.0
    assert tf.UnconnectedGradients.NONE == "none"
    with tf.GradientTape() as tape:
        z = y * y
    assert tape.gradient(z, x, unconnected_gradients=tf.UnconnectedGradients.NONE) is None


def test_the_guides_other_printed_answers():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y0, y1 = x ** 2, 1 / x
    assert float(tape.gradient({"y0": y0, "y1": y1}, x)) == 3.75
    with tf.GradientTape() as tape:
        y = x * [3.0, 4.0]
    assert float(tape.gradient(y, x)) == 7.0
    x = tf.constant([1, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    np.testing.assert_array_equal(tape.gradient(z, x).numpy(), [4.0, 108.0])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2.0, 6.0])
