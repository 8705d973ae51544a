"""``tf.summary`` as TensorFlow's TensorBoard guide uses it in a training loop of its own: the
numbers written are the ones read back by TensorBoard's own reader, at the steps asked for."""
import threading

import numpy as np
import pytest

import lamina as tf

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def read(folder, tag):
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return [(event.step, tensor_util.make_ndarray(event.tensor_proto)) for event in accumulator.Tensors(tag)]


def test_the_guide_s_loop_logs_each_epoch_s_mean_loss_and_accuracy(tmp_path):
    tf.random.set_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype("float32"), rng.integers(0, 3, 64)
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3)])
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam(0.05)
    train_loss = tf.keras.metrics.Mean("train_loss", dtype=tf.float32)
    train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy("train_accuracy")
    writer = tf.summary.create_file_writer(str(tmp_path / "train"))
    expected = []
    for epoch in range(3):
        for start in range(0, 64, 16):
            with tf.GradientTape() as tape:
                logits = model(x[start:start + 16], training=True)
                loss = loss_fn(y[start:start + 16], logits)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            train_loss(loss)
            train_accuracy(y[start:start + 16], logits)
        with writer.as_default():
            assert tf.summary.scalar("loss", train_loss.result(), step=epoch)
            assert tf.summary.scalar("accuracy", train_accuracy.result(), step=epoch)
        expected.append((float(train_loss.result()), float(train_accuracy.result())))
        train_loss.reset_state()
        train_accuracy.reset_state()
    writer.close()
    losses, accuracies = read(tmp_path / "train", "loss"), read(tmp_path / "train", "accuracy")
    assert [step for step, _ in losses] == [0, 1, 2] == [step for step, _ in accuracies]
    np.testing.assert_allclose([float(v) for _, v in losses], [e[0] for e in expected], rtol=1e-6)
    np.testing.assert_allclose([float(v) for _, v in accuracies], [e[1] for e in expected], rtol=1e-6)


def test_the_default_step_histograms_and_text(tmp_path):
    writer = tf.summary.create_file_writer(tmp_path)
    values = np.arange(100.0)
    with writer.as_default(step=5):
        tf.summary.scalar("at_five", 1.5)
        tf.summary.histogram("values", values, buckets=10)
        tf.summary.text("note", "hello")
    assert tf.summary.experimental.get_step() is None  # the block's step is gone with it
    tf.summary.experimental.set_step(9)
    with writer.as_default():
        tf.summary.scalar("at_nine", 2.5)
    tf.summary.experimental.set_step(None)
    writer.close()
    assert read(tmp_path, "at_five") == [(5, np.float32(1.5))] and read(tmp_path, "at_nine") == [(9, np.float32(2.5))]
    (step, buckets), = read(tmp_path, "values")
    assert step == 5 and buckets.shape == (10, 3) and buckets[:, 2].sum() == 100  # [left, right, count] rows
    assert buckets[0, 0] == 0.0 and buckets[-1, 1] == 99.0
    assert read(tmp_path, "note")[0][1] == b"hello"


def test_without_a_default_writer_nothing_is_written_and_false_comes_back(tmp_path):
    assert tf.summary.scalar("loss", 1.0, step=0) is False
    with tf.summary.create_noop_writer().as_default():
        assert tf.summary.scalar("loss", 1.0, step=0) is False


def test_the_default_writer_is_per_thread(tmp_path):
    writer = tf.summary.create_file_writer(tmp_path)
    seen = []
    with writer.as_default():
        thread = threading.Thread(target=lambda: seen.append(tf.summary.scalar("other", 1.0, step=0)))
        thread.start()
        thread.join()
        assert tf.summary.scalar("mine", 1.0, step=0)
    writer.close()
    assert seen == [False] and read(tmp_path, "mine") == [(0, np.float32(1.0))]


@pytest.mark.parametrize("call,error,match", [
    (lambda: tf.summary.scalar("loss", 1.0), ValueError, r"No step set: pass step= to the summary"),
    (lambda: tf.summary.scalar("loss", [1.0, 2.0], step=0), ValueError, r"one number for 'loss', got data of shape"),
    (lambda: tf.summary.scalar("loss", 1.0, step=1.5), ValueError, "a summary step must be an integer, got 1.5"),
    (lambda: tf.summary.histogram("h", np.array(["a"]), step=0), TypeError, "expects numbers, got data of dtype <U1"),
], ids=["no step", "not a scalar", "fractional step", "text histogram"])
def test_bad_summaries_are_refused_by_name(tmp_path, call, error, match):
    with tf.summary.create_file_writer(tmp_path).as_default(), pytest.raises(error, match=match):
        call()


def test_create_file_writer_wants_a_path():
    with pytest.raises(TypeError, match="expects logdir to be a path, got int"):
        tf.summary.create_file_writer(3)
