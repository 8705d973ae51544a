"""TensorFlow-style programs on lamina (``import lamina as tf``): a custom training loop with
``tf.GradientTape``, ``tf.function``, ``tf.reduce_mean`` and ``tf.nn`` trains an MLP on scikit-learn's
real digits to a stated loss and accuracy; the learning rate behaves as a Variable."""
from __future__ import annotations

import numpy as np
import pytest

import lamina as tf


@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order].astype("int32")
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


def _batches(x, y, size, seed):
    order = np.random.default_rng(seed).permutation(len(x))
    for start in range(0, len(x), size):
        rows = order[start:start + size]
        yield tf.constant(x[rows]), tf.constant(y[rows])


def test_low_level_loop_with_variables_tape_and_function(digits):
    """Hand-made weights (tf.Variable, tf.random.normal), tf.matmul, tf.nn.relu, the sparse softmax
    cross-entropy, tf.reduce_mean, tf.GradientTape and assign_sub: 15 epochs of SGD reach a training
    loss below 0.15 and a held-out accuracy above 0.95."""
    (x_train, y_train), (x_test, y_test) = digits
    tf.random.set_seed(0)
    w1 = tf.Variable(tf.random.normal([64, 64], stddev=0.1), name="w1")
    b1 = tf.Variable(tf.zeros([64]), name="b1")
    w2 = tf.Variable(tf.random.truncated_normal([64, 10], stddev=0.1), name="w2")
    b2 = tf.Variable(tf.zeros([10]), name="b2")
    params = [w1, b1, w2, b2]

    def forward(x):
        return tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2

    @tf.function
    def train_step(x, y, learning_rate):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=forward(x)))
        for param, grad in zip(params, tape.gradient(loss, params)):
            param.assign_sub(learning_rate * grad)
        return loss

    for epoch in range(15):
        losses = [float(train_step(x, y, 0.5)) for x, y in _batches(x_train, y_train, 32, epoch)]
    logits = forward(tf.constant(x_test))
    accuracy = float(tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y_test),
                                            tf.float32)))
    train_loss = float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=y_train, logits=forward(tf.constant(x_train)))))
    assert np.mean(losses) < 0.1 and train_loss < 0.15, (np.mean(losses), train_loss)
    assert accuracy > 0.95, accuracy


def test_keras_model_in_a_tensorflow_training_loop(digits):
    """A tf.keras Sequential trained by a tf.function-decorated step with tf.GradientTape and
    optimizer.apply_gradients; metrics by hand with tf ops: held-out accuracy above 0.95 after 8 epochs."""
    (x_train, y_train), (x_test, y_test) = digits
    tf.random.set_seed(1)
    model = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(64, activation="relu"),
                                 tf.keras.layers.Dropout(0.1), tf.keras.layers.Dense(10)])
    optimizer = tf.keras.optimizers.Adam(learning_rate=3e-3)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(y, logits) + tf.add_n([tf.nn.l2_loss(w) for w in model.trainable_weights[::2]]) * 1e-5
        grads = tape.gradient(loss, model.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 5.0)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    first = None
    for epoch in range(8):
        for x, y in _batches(x_train, y_train, 64, epoch):
            loss = float(train_step(x, y))
            first = loss if first is None else first
    predictions = tf.argmax(model(x_test), axis=-1)
    accuracy = float(tf.reduce_mean(tf.cast(predictions == tf.cast(y_test, tf.int64), tf.float32)))
    assert first > 2.0 and loss < 0.3 and accuracy > 0.95, (first, loss, accuracy)
    assert int(optimizer.iterations.numpy()) == 8 * 22


def test_learning_rate_is_a_variable():
    """``.numpy()``, ``float()``, assignment of a number, ``assign`` and ``backend.set_value``; the
    next update uses the new rate."""
    w = tf.Variable([1.0, 2.0], name="w")
    opt = tf.keras.optimizers.SGD(learning_rate=0.1)
    assert isinstance(opt.learning_rate, tf.Variable) and opt.learning_rate.numpy() == np.float32(0.1)
    opt.apply_gradients([(tf.constant([1.0, 1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [0.9, 1.9], rtol=1e-6)
    opt.learning_rate = 0.5
    assert float(opt.learning_rate) == 0.5
    opt.apply_gradients([(tf.constant([1.0, 1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [0.4, 1.4], rtol=1e-6)
    opt.learning_rate.assign(0.25)
    opt.apply_gradients([(tf.constant([1.0, 1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [0.15, 1.15], rtol=1e-5)
    tf.keras.backend.set_value(opt.learning_rate, 0.05)
    assert tf.keras.backend.get_value(opt.learning_rate) == np.float32(0.05)
    opt.apply_gradients([(tf.constant([1.0, 1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [0.1, 1.1], rtol=1e-5)
    assert tf.backend.get_value(3) == 3 and tf.backend.batch_get_value([w])[0].tolist() == pytest.approx([0.1, 1.1])
    with pytest.raises(TypeError, match="expects a Variable"):
        tf.backend.set_value(tf.constant(1.0), 2.0)


def test_keras_backend_names():
    import subprocess
    import os
    import sys
    out = subprocess.run([sys.executable, "-c", "import keras; print(' '.join(n for n in dir(keras.backend) "
                          "if not n.startswith('_')))"], capture_output=True, text=True, check=True,
                         env={**os.environ, "KERAS_BACKEND": "jax"}, timeout=300, cwd="/")
    missing = set(out.stdout.split()) - set(dir(tf.backend))
    assert not missing, f"keras.backend names missing from lamina.backend: {sorted(missing)}"
    assert tf.backend.backend() == "numpy" and tf.backend.image_data_format() == "channels_last"
    assert tf.backend.is_float_dtype("float16") and tf.backend.is_int_dtype("uint8")
    assert not tf.backend.is_float_dtype("int32") and tf.backend.result_type("int32", "float32") == "float32"
    assert [tf.backend.get_uid("x"), tf.backend.get_uid("x"), tf.backend.get_uid("y")] == [1, 2, 1]
    assert tf.backend.is_keras_tensor(tf.keras.Input((3,))) and not tf.backend.is_keras_tensor(tf.zeros(3))
