"""The next batch's rows gathered on a second thread (trainers/prefetch.py): the same batches and the
same numbers as the plain gather, the policy that allows it, and a clean stop whatever ends the epoch."""
import threading
import time

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.backend import threads
from lamina.trainers import prefetch, sources

X = np.random.default_rng(0).standard_normal((203, 12))  # 203 rows: the last batch of 16 is partial
Y = np.arange(203) % 3


def build(optimizer="sgd", first_bias=True, first_trainable=True):
    lamina.backend.clear_session()
    lamina.random.set_seed(5)
    first = layers.Dense(9, activation="relu", use_bias=first_bias)
    first.trainable = first_trainable
    model = lamina.Sequential([lamina.Input((12,)), first, layers.Dense(7, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Counted:
    """Which thread did each gather (patched over ``Gather.run``)."""

    def __init__(self, monkeypatch):
        self.worker = self.trainer = 0
        original = prefetch.Gather.run

        def run(job):
            fresh = not job.claim.locked()
            original(job)
            if fresh:
                if threading.current_thread() is threading.main_thread():
                    self.trainer += 1
                else:
                    self.worker += 1
        monkeypatch.setattr(prefetch.Gather, "run", run)


@pytest.fixture
def ahead(monkeypatch):
    """Gather ahead for every batch, whatever the machine's load (the policy has its own tests)."""
    monkeypatch.setattr(threads, "spare_core", lambda now=None: True)
    monkeypatch.setattr(prefetch, "MIN_VALUES", 1)
    return Counted(monkeypatch)


def fit(model, epochs=2, **kwargs):
    history = model.fit(X, Y, batch_size=16, epochs=epochs, verbose=0, **kwargs)
    return history.history, model.get_weights()


def no_prefetch_thread():
    return not [t for t in threading.enumerate() if t.name == "lamina-prefetch"]


@pytest.mark.parametrize("make", [
    lambda: build(), lambda: build(first_bias=False), lambda: build(first_trainable=False),
    lambda: build(lamina.optimizers.SGD(0.05, momentum=0.9)), lambda: build("adam"),
    lambda: build(lamina.optimizers.SGD(0.1, clipnorm=0.5))])
def test_same_numbers_bit_for_bit_as_the_plain_gather(make, monkeypatch):
    plain_history, plain_weights = fit(make())
    monkeypatch.setattr(threads, "spare_core", lambda now=None: True)
    monkeypatch.setattr(prefetch, "MIN_VALUES", 1)
    counted = Counted(monkeypatch)
    history, weights = fit(make())
    assert counted.worker + counted.trainer == 2 * 12  # each epoch's 13 batches but the first
    assert history == plain_history
    for got, expected in zip(weights, plain_weights):
        np.testing.assert_array_equal(got, expected)
    assert no_prefetch_thread()


def test_each_batch_trains_on_exactly_its_rows(ahead):
    model = build()
    fit(model, epochs=1)  # builds the plan
    plan = model._plan
    order = np.random.default_rng(3).permutation(len(X))
    batches = [(X, Y, order[start:start + 16], None) for start in range(0, len(X), 16)]
    source = sources.ArrayData(X, Y, None, 16, False)
    source.epoch = lambda rng: iter(batches)
    seen, ahead.worker, ahead.trainer = [], 0, 0
    with prefetch.feed(plan, source, None) as fed:
        for x, _, index, _ in fed:
            job = plan.gathered
            while job is not None and (not job.claim.locked() or job.finished.locked()):
                time.sleep(0.001)  # let the worker do it: the trainer would take a gather not yet started
            buffers = plan._load(x, index)
            seen.append(buffers.features.copy())
            np.testing.assert_array_equal(buffers.inputs[0][:, -1], 1)  # the bias's ones column
    assert (ahead.worker, ahead.trainer) == (len(batches) - 1, 0)
    assert len(seen) == len(batches)
    for rows, (_, _, index, _) in zip(seen, batches):
        np.testing.assert_array_equal(rows, X[index].astype(np.float32))
    assert plan.prefetcher is None and plan.gathered is None and no_prefetch_thread()


class Raise(lamina.callbacks.Callback):
    def __init__(self, error, at):
        super().__init__()
        self.error, self.at = error, at

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.at:
            raise self.error


@pytest.mark.parametrize("error", [RuntimeError("callback failed"), KeyboardInterrupt()])
def test_an_exception_mid_epoch_propagates_and_stops_the_thread(ahead, error):
    model = build()
    with pytest.raises(type(error)):
        model.fit(X, Y, batch_size=16, epochs=2, verbose=0, callbacks=[Raise(error, 4)])
    assert ahead.worker + ahead.trainer == 5  # batches 1 to 5 were handed out before batch 4 ended
    assert no_prefetch_thread() and model._plan.prefetcher is None
    fit(model, epochs=1)  # the plan still trains afterwards
    assert no_prefetch_thread()


def test_a_callback_stopping_training_stops_the_thread(ahead):
    class Stop(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    model = build()
    history = model.fit(X, Y, batch_size=16, epochs=3, verbose=0, callbacks=[Stop()])
    assert len(history.history["loss"]) == 1
    assert int(model.optimizer.iterations.numpy()) == 3
    assert no_prefetch_thread()


class BrokenRows(np.ndarray):
    """An array whose batch reads fail (a file gone from under a memmap)."""

    def __getitem__(self, key):
        if isinstance(key, np.ndarray):
            raise OSError("rows unreadable")
        return super().__getitem__(key)


def test_an_error_inside_a_gather_is_raised_in_the_training_thread(ahead):
    model = build()
    fit(model, epochs=1)
    with pytest.raises(OSError, match="rows unreadable"):
        model.fit(X.view(BrokenRows), Y, batch_size=16, epochs=1, verbose=0)
    assert no_prefetch_thread()


class BrokenFourthBatch(np.ndarray):
    def __getitem__(self, key):
        if isinstance(key, np.ndarray) and key[0] == 48:  # the rows of batch 3 (no shuffling)
            raise OSError("batch 3 unreadable")
        return super().__getitem__(key)


def test_an_error_in_the_worker_reaches_the_trainer_when_its_batch_is_due(ahead):
    model = build()
    fit(model, epochs=1)
    x = X.view(BrokenFourthBatch)
    batches = [(x, Y, np.arange(start, min(start + 16, len(X))), None) for start in range(0, len(X), 16)]
    source = sources.ArrayData(x, Y, None, 16, False)
    source.epoch = lambda rng: iter(batches)
    ahead.worker = ahead.trainer = 0
    trained = []
    with pytest.raises(OSError, match="batch 3 unreadable"):
        with prefetch.feed(model._plan, source, None) as fed:
            for x_batch, _, index, _ in fed:
                job = model._plan.gathered
                while job is not None and (not job.claim.locked() or job.finished.locked()):
                    time.sleep(0.001)  # the worker does it (and fails at batch 3)
                model._plan._load(x_batch, index)
                trained.append(int(index[0]))
    assert trained == [0, 16, 32] and ahead.trainer == 0
    assert no_prefetch_thread() and model._plan.prefetcher is None


def test_a_gather_not_started_is_done_by_the_trainer():
    x = np.arange(20.0).reshape(10, 2)
    target = np.zeros((3, 2), np.float32)
    copy = lambda x2d, index, out: np.copyto(out, x2d[index], casting="unsafe")  # noqa: E731
    job = prefetch.Gather(x, x, np.array([7, 1, 4]), None, 1, target, copy)
    job.wait()  # no worker: the trainer claims it
    np.testing.assert_array_equal(target, [[14, 15], [2, 3], [8, 9]])
    target[:] = 0
    job.run()  # the worker comes late: nothing is copied twice
    np.testing.assert_array_equal(target, 0)


def test_buffers_dropped_mid_epoch_fall_back_to_the_plain_gather(ahead, monkeypatch):
    class Drop(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch % 3 == 1:
                self.model._plan.buffers.clear()  # what prepare() does when the optimizer changes

    plain_history, plain_weights = fit(build(), callbacks=[Drop()])
    history, weights = fit(build(), callbacks=[Drop()])
    assert history == plain_history
    for got, expected in zip(weights, plain_weights):
        np.testing.assert_array_equal(got, expected)


def test_not_used_when_the_policy_says_no_or_batches_are_small(monkeypatch):
    counted = Counted(monkeypatch)
    monkeypatch.setattr(threads, "spare_core", lambda now=None: False)
    monkeypatch.setattr(prefetch, "MIN_VALUES", 1)
    fit(build())
    monkeypatch.setattr(threads, "spare_core", lambda now=None: True)
    monkeypatch.setattr(prefetch, "MIN_VALUES", 16 * 12 + 1)
    fit(build())
    assert counted.worker + counted.trainer == 0


def test_sample_weights_are_left_to_the_general_step(ahead):
    fit(build(), sample_weight=np.ones(len(X)))
    assert ahead.worker + ahead.trainer == 0


class Pool:
    def __init__(self, threads):
        self.threads = threads

    def current(self):
        return self.threads


class Meter:
    cpus = 2

    def __init__(self, busy):
        self.busy = busy

    def others_busy(self, now=None):
        return self.busy


@pytest.mark.parametrize("pool,busy,expected", [
    (1, 0.0, True),  # one BLAS thread alone on two cores: the second core is idle
    (1, 0.2, True),  # a kernel thread's ticks
    (1, 0.6, False),  # another program uses part of the second core
    (2, 0.0, False),  # the BLAS already has every core
    (None, 0.0, False),  # not OpenBLAS: its threads are unknown
    (1, None, False),  # no /proc: the load is unknown
])
def test_spare_core(monkeypatch, pool, busy, expected):
    monkeypatch.setattr(threads, "lookup", lambda: (None if pool is None else Pool(pool), Meter(busy)))
    assert threads.spare_core() is expected
