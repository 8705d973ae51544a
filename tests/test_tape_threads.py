"""A training loop of the user's own (``GradientTape``) gets the BLAS threads fit would choose:
under load OpenBLAS's spinning workers made such a loop ~40x slower (bench/RESULTS.md)."""
import numpy as np

import lamina
from lamina.ops import tape as tape_module

from test_threads import X, Y, load, numpy_threads, small_model  # noqa: F401  (load: the fixture)


def test_the_tape_forward_and_backward_run_under_the_choice_and_give_the_pool_back(load, monkeypatch):  # noqa: F811
    load["others"] = 5.0
    model, counts = small_model(), []
    backward = tape_module.GradientTape._backward
    monkeypatch.setattr(tape_module.GradientTape, "_backward",
                        lambda self, *args: (counts.append(("backward", numpy_threads())), backward(self, *args))[1])
    loss_fn = lamina.losses.SparseCategoricalCrossentropy()
    with lamina.GradientTape() as tape:
        counts.append(("forward", numpy_threads()))
        loss = loss_fn(Y[:32], model(X[:32], training=True))
    counts.append(("between", numpy_threads()))
    grads = tape.gradient(loss, model.trainable_weights)
    assert counts == [("forward", 1), ("between", 3), ("backward", 1)]
    assert numpy_threads() == 3 and all(g is not None for g in grads)


def test_an_idle_machine_keeps_the_pools_threads_in_a_tape(load):  # noqa: F811
    load["others"] = 0.0
    with lamina.GradientTape():
        assert numpy_threads() == 3
    assert numpy_threads() == 3


def test_the_pool_is_given_back_when_the_tape_body_raises(load):  # noqa: F811
    load["others"] = 5.0
    try:
        with lamina.GradientTape():
            assert numpy_threads() == 1
            raise KeyError("boom")
    except KeyError:
        pass
    assert numpy_threads() == 3
    w = lamina.Variable(np.ones(2, "float32"))
    with lamina.GradientTape() as tape:  # a tape still works afterwards
        y = lamina.ops.sum(w * w)
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), [2.0, 2.0])


def test_the_tapes_of_fits_general_step_leave_the_choice_to_fit(load):  # noqa: F811
    """Inside fit the tape does not choose again: fit left these small products alone (OpenBLAS
    runs them on one thread anyway), and the tape of its general step must too."""
    load["others"] = 5.0
    model = lamina.Sequential([lamina.layers.Dense(8, activation="softmax", input_shape=(16,))])
    # run_eagerly: every step under a tape (a compiled step replays without one after two batches)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", run_eagerly=True)
    seen, counts = [], []

    class Record(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(numpy_threads())

    backward = tape_module.GradientTape._backward

    def recording(self, *args):
        counts.append(numpy_threads())
        return backward(self, *args)
    tape_module.GradientTape._backward = recording
    try:  # sample weights: the general step, under a tape
        model.fit(X[:, :16], Y % 8, sample_weight=np.ones(len(Y)), batch_size=32, verbose=0, callbacks=[Record()])
    finally:
        tape_module.GradientTape._backward = backward
    assert seen == [3] * 4 and counts == [3] * 4
