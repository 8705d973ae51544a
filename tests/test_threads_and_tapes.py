"""Tapes, fit's step trace and ``tf.function`` traces record only their own thread's ops, as
TensorFlow's: two models trained in two threads, a tape loop beside a thread that predicts,
scikit-learn's threaded grid search must not record into each other.

Each test makes the interleaving happen with barriers and events (no sleeps): the other thread
runs its ops while this thread's tape or trace is recording, which is what used to leak."""
import threading

import numpy as np

import lamina as tf
from lamina import ops
from lamina.variables import Variable

TIMEOUT = 10  # seconds: only reached when a thread is stuck (a failure), never on the way


def _run_both(*targets):
    """Run each function in its own thread; raise the first error any of them raised."""
    errors: list = []

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as error:  # noqa: BLE001 - raised again in the test's thread
                errors.append(error)
        return run
    threads = [threading.Thread(target=guarded(fn)) for fn in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    if errors:
        raise errors[0]


def test_a_tape_does_not_record_the_ops_another_thread_runs_on_its_variable():
    w = Variable(np.array([1.0, 2.0]), name="w")
    recording, done, seen = threading.Event(), threading.Event(), {}

    def with_tape():
        with tf.GradientTape(persistent=True) as tape:
            mine = ops.sum(w * 3.0)
            recording.set()
            assert done.wait(TIMEOUT)  # the other thread's ops ran while this tape recorded
        seen["own"] = tape.gradient(mine, w).numpy()
        seen["other"] = tape.gradient(seen.pop("theirs"), w)

    def other_thread():
        assert recording.wait(TIMEOUT)
        seen["theirs"] = ops.sum(w * w * 100.0)
        done.set()

    _run_both(with_tape, other_thread)
    np.testing.assert_array_equal(seen["own"], [3.0, 3.0])
    assert seen["other"] is None  # its ops are not on this tape: TensorFlow gives None too


def test_two_threads_with_their_own_tapes_get_their_own_gradients_while_interleaved():
    w = Variable(np.array([0.5, -1.5, 2.0]), name="w")
    x = np.array([1.0, 2.0, 3.0])
    step = threading.Barrier(2, timeout=TIMEOUT)
    grads = {}

    @ops.custom_gradient
    def scaled_identity(v):  # its own ops are hidden from the tape: the other thread's must not be
        out = v * 1.0
        step.wait()  # the other thread runs an op of its tape here
        step.wait()
        return out, lambda upstream: upstream * 5.0

    def squares():
        with tf.GradientTape() as tape:
            step.wait()
            first = w * w
            step.wait()
            step.wait()  # the other thread is inside its custom gradient
            second = first * 3.0
            step.wait()
            loss = ops.sum(second)
        grads["squares"] = tape.gradient(loss, w).numpy()

    def sines():
        with tf.GradientTape() as tape:
            step.wait()
            first = ops.sin(w) * x
            step.wait()
            loss = ops.sum(scaled_identity(first))
        grads["sines"] = tape.gradient(loss, w).numpy()

    _run_both(squares, sines)
    value = w.numpy()
    np.testing.assert_allclose(grads["squares"], 6.0 * value)
    np.testing.assert_allclose(grads["sines"], 5.0 * np.cos(value) * x)


class Rendezvous(tf.keras.layers.Layer):
    """The identity, meeting the other thread's model in each eager (traced) step: both fits are
    inside their step traces at once, and what each runs next overlaps the other's trace."""

    barrier = None

    def call(self, inputs):
        if self.barrier is not None:
            self.barrier.wait()
        return inputs


def _model(seed: int, barrier=None):
    tf.random.set_seed(seed)
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(6, activation="relu"),
                                 Rendezvous(), tf.keras.layers.Dense(3, activation="softmax"), Rendezvous()])
    for layer in model.layers[1::2]:
        layer.barrier = barrier  # after the build, which calls the layers once
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def test_two_models_fitting_in_two_threads_end_with_the_weights_each_gets_alone():
    rng = np.random.default_rng(3)
    x, y = rng.random((64, 4), dtype=np.float32), rng.integers(0, 3, 64)
    alone = []
    for seed in (1, 2):
        model = _model(seed)
        model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        alone.append(model.get_weights())
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    models = [_model(seed, barrier) for seed in (1, 2)]  # built here: the same draws as alone
    _run_both(*[lambda m=m: m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0) for m in models])
    for model, expected in zip(models, alone):
        for got, want in zip(model.get_weights(), expected):
            np.testing.assert_array_equal(got, want)
        assert model._compiled_step.refused is None  # the steps were traced and replayed, as alone


def test_a_function_traced_in_one_thread_does_not_take_another_threads_eager_ops():
    w, counter = Variable(np.array([2.0, 3.0]), name="w"), Variable(0.0, name="counter")
    traced, ran, calls, theirs = threading.Event(), threading.Event(), [], []

    @tf.function
    def affine(x):
        calls.append(1)  # Python runs while tracing only
        out = x * w
        if len(calls) <= 2:  # the other thread runs its eager ops while this call traces
            traced.set()
            assert ran.wait(TIMEOUT)
            ran.clear()
        return out + 1.0

    def caller():
        theirs.append([affine(np.array([1.0, -1.0]) * k).numpy() for k in range(1, 5)])

    def eager_thread():
        for _ in range(2):  # the two traced calls
            assert traced.wait(TIMEOUT)
            traced.clear()
            theirs.append((float(ops.sum(w * 5.0)), w.numpy().tolist()))  # an op, reads of the Variable
            counter.assign_add(1.0)  # a stateful call: not a step of the other thread's function
            ran.set()

    _run_both(caller, eager_thread)
    assert affine.compiled.refused is None
    assert len(calls) == 2  # two traces, then replays
    assert theirs[:2] == [(25.0, [2.0, 3.0])] * 2
    np.testing.assert_array_equal(theirs[2], [[3.0, -2.0], [5.0, -5.0], [7.0, -8.0], [9.0, -11.0]])
    assert float(counter.numpy()) == 2.0  # a replay would make the other thread's assign again


def test_a_function_called_in_one_thread_while_another_threads_tape_records_is_traced():
    w = Variable(np.array([1.0, 2.0]), name="w")
    recording, done, calls = threading.Event(), threading.Event(), []

    @tf.function
    def double(x):
        calls.append(1)
        return x * w * 2.0

    def with_tape():
        with tf.GradientTape() as tape:
            loss = ops.sum(w * w)
            recording.set()
            assert done.wait(TIMEOUT)
        np.testing.assert_array_equal(tape.gradient(loss, w).numpy(), [2.0, 4.0])

    def functions():
        assert recording.wait(TIMEOUT)
        outs = [double(np.ones(2) * k).numpy() for k in range(4)]
        done.set()
        np.testing.assert_array_equal(outs, [[0.0, 0.0], [2.0, 4.0], [4.0, 8.0], [6.0, 12.0]])

    _run_both(with_tape, functions)
    assert len(calls) == 2  # traced, not run as written for the other thread's tape
