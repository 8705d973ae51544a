"""The BLAS thread policy (``lamina.backend.threads``): its decisions, that fit/evaluate/predict
apply them and give the pool back, that the user's own settings win, and that the numbers do not
depend on the thread count. The load is faked: no test here times anything."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import lamina
from lamina.backend import threads

MANY = 32 * 256 * 128  # the test model's largest product at batch 32: big enough for 3 threads


@pytest.mark.parametrize("largest, others, cpus, ceiling, expected", [
    (32 * 784 * 300, 0.0, 2, 2, 2),  # the lesson alone on 2 cores
    (32 * 784 * 300, 0.2, 2, 2, 2),  # a kernel thread's noise is not load
    (32 * 784 * 300, 0.5, 2, 2, 1),  # another program computing
    (32 * 784 * 300, 1.7, 2, 2, 1),
    (32 * 784 * 300, 9.0, 2, 2, 1),  # never fewer than one
    (1024 * 2048 * 2048, 1.7, 2, 2, 1),  # large products too: measured, one thread wins under load
    (1024 * 2048 * 2048, 3.0, 8, 8, 5),  # 8 cores, 3 busy elsewhere: the 5 idle ones
    (1024 * 2048 * 2048, 0.0, 8, 4, 4),  # never above the pool's default
    (4 * 64 * 10, 0.0, 2, 2, 1),  # too small for OpenBLAS to split
    (3 * 65536 * 4, 0.0, 8, 8, 3),  # OpenBLAS's own rule: one thread per 65536 * 4 multiply-adds
    (32 * 784 * 300, None, 2, 2, 2),  # load unknown (no /proc): OpenBLAS keeps its threads
    (None, 1.7, 2, 2, 1),  # size not known yet (unbuilt model): the load decides
    (None, None, 4, 4, 4),
])
def test_choose_threads(largest, others, cpus, ceiling, expected):
    assert threads.choose_threads(largest, others, cpus, ceiling) == expected


def numpy_threads() -> int:
    """What threadpoolctl reports for NumPy's OpenBLAS right now."""
    pool, _ = threads.lookup()
    return pool.controller.info()[0]["num_threads"]


@pytest.fixture
def load(monkeypatch):
    """A pool whose default is 3 threads on 3 CPUs, at its default, and a settable fake load."""
    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    pool, meter = threads.lookup()
    assert pool is not None, "NumPy's OpenBLAS was not found"
    monkeypatch.setattr(pool, "default", 3)
    monkeypatch.setattr(meter, "cpus", 3)
    fake = {"others": 0.0}
    monkeypatch.setattr(threads.LoadMeter, "others_busy", lambda self, now=None: fake["others"])
    with threadpool_limits(3, user_api="blas"):
        assert numpy_threads() == 3
        yield fake
    assert not threads._active


def small_model():
    lamina.random.set_seed(3)
    model = lamina.Sequential([lamina.layers.Dense(128, activation="relu", input_shape=(256,)),
                               lamina.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


X = np.random.default_rng(0).random((128, 256), dtype=np.float32)
Y = np.random.default_rng(1).integers(0, 10, 128)


class Seen(lamina.callbacks.Callback):
    """The pool's thread count at the end of every batch, and an optional action per batch."""

    def __init__(self, action=None):
        super().__init__()
        self.counts, self.action = [], action

    def _record(self, batch, logs=None):
        self.counts.append(numpy_threads())
        if self.action is not None:
            self.action(batch)

    on_train_batch_end = on_test_batch_end = on_predict_batch_end = _record


@pytest.mark.parametrize("others, expected", [(0.0, 3), (1.0, 2), (5.0, 1)])
def test_fit_evaluate_predict_apply_the_choice_and_restore_the_pool(load, others, expected):
    load["others"] = others
    model = small_model()
    for call in (lambda cb: model.fit(X, Y, batch_size=32, verbose=0, callbacks=[cb]),
                 lambda cb: model.evaluate(X, Y, batch_size=32, verbose=0, callbacks=[cb]),
                 lambda cb: model.predict(X, batch_size=32, verbose=0, callbacks=[cb])):
        seen = Seen()
        call(seen)
        assert seen.counts == [expected] * 4
        assert numpy_threads() == 3  # given back


def test_train_on_batch_and_test_on_batch_apply_the_choice(load, monkeypatch):
    load["others"] = 5.0
    model = small_model()
    model.train_on_batch(X[:32], Y[:32])  # builds the plan
    plan, counts = model._fast_plan(), []
    for name in ("train", "test"):
        step = getattr(plan, name)
        monkeypatch.setattr(plan, name, lambda *args, step=step: (counts.append(numpy_threads()), step(*args)))
    model.train_on_batch(X[:32], Y[:32])
    model.test_on_batch(X[:32], Y[:32])
    assert counts == [1, 1]
    assert numpy_threads() == 3


def test_products_openblas_runs_on_one_thread_anyway_are_left_alone(load):
    load["others"] = 5.0
    model = lamina.Sequential([lamina.layers.Dense(8, activation="softmax", input_shape=(16,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    seen = Seen()
    model.fit(X[:, :16], Y % 8, batch_size=32, verbose=0, callbacks=[seen])
    assert seen.counts == [3] * 4  # 32 * 16 * 8 multiply-adds: nothing for threads to split


def test_validation_inside_fit_runs_under_the_fit_choice(load):
    load["others"] = 5.0
    seen = Seen()
    small_model().fit(X, Y, batch_size=32, verbose=0, validation_data=(X, Y), callbacks=[seen])
    assert seen.counts == [1] * 8  # 4 training batches, then 4 validation batches
    assert numpy_threads() == 3


def test_the_choice_follows_a_load_that_starts_mid_fit(load, monkeypatch):
    monkeypatch.setattr(threads, "CHECK_PERIOD", 0.0)  # re-measure between every two batches

    def competitor_starts(batch):
        if batch == 1:
            load["others"] = 5.0

    seen = Seen(competitor_starts)
    small_model().fit(np.concatenate([X, X]), np.concatenate([Y, Y]), batch_size=32, verbose=0, callbacks=[seen])
    assert seen.counts == [3, 3] + [1] * 6
    assert numpy_threads() == 3


@pytest.mark.parametrize("name", threads.USER_VARIABLES)
def test_the_users_environment_variable_wins(load, monkeypatch, name):
    monkeypatch.setenv(name, "3")
    load["others"] = 5.0  # lamina alone would drop to one thread
    seen = Seen()
    small_model().fit(X, Y, batch_size=32, verbose=0, callbacks=[seen])
    assert seen.counts == [3] * 4
    pool, _ = threads.lookup()
    assert threads.user_setting(pool) == f"{name}=3"


def test_an_empty_environment_variable_is_no_setting(load, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "")
    pool, _ = threads.lookup()
    assert threads.user_setting(pool) is None


def test_the_users_threadpoolctl_limit_wins(load):
    load["others"] = 0.0  # lamina alone would take all 3
    seen = Seen()
    with threadpool_limits(2, user_api="blas"):
        small_model().fit(X, Y, batch_size=32, verbose=0, callbacks=[seen])
        assert numpy_threads() == 2
    assert seen.counts == [2] * 4


def test_the_pool_is_given_back_when_fit_fails(load):
    load["others"] = 5.0

    def fail(batch):
        raise RuntimeError("a callback failed")

    with pytest.raises(RuntimeError, match="a callback failed"):
        small_model().fit(X, Y, batch_size=32, verbose=0, callbacks=[Seen(fail)])
    assert numpy_threads() == 3


def test_a_predict_inside_fit_gives_back_the_fit_choice(load):
    load["others"] = 1.0  # fit: 2 threads
    model = small_model()
    inner = []

    def predict_from_a_callback(batch):
        load["others"] = 5.0  # the predict decides afresh: 1 thread
        inner.append(Seen())
        model.predict(X[:32], batch_size=32, verbose=0, callbacks=[inner[-1]])
        load["others"] = 1.0

    outer = Seen(predict_from_a_callback)
    model.fit(X, Y, batch_size=32, verbose=0, callbacks=[outer])
    assert [seen.counts for seen in inner] == [[1]] * 4
    assert outer.counts == [2] * 4  # read before each inner predict, after the previous one restored
    assert numpy_threads() == 3


def test_another_python_thread_leaves_the_pool_to_the_first(load):
    load["others"] = 5.0
    from_thread = []
    with threads.blas_threads(small_model(), 32):
        assert len(threads._active) == 1 and numpy_threads() == 1
        worker = threading.Thread(target=lambda: from_thread.append(threads._enter(small_model(), 32)))
        worker.start()
        worker.join()
    assert from_thread == [None]
    assert numpy_threads() == 3


def test_the_numbers_do_not_depend_on_the_thread_count(load, monkeypatch):
    """The fused step's weights, losses and outputs are the same on 1 and 3 threads, and the same
    as with the policy switched off by the user's variable."""
    runs = []
    for others, variable in ((5.0, None), (0.0, None), (0.0, "2")):
        if variable is None:
            monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
        else:
            monkeypatch.setenv("OPENBLAS_NUM_THREADS", variable)
        load["others"] = others
        model = small_model()
        assert model._fast_plan() is not None
        history = model.fit(X, Y, batch_size=16, epochs=2, verbose=0)
        runs.append((model.get_weights(), history.history["loss"], model.predict(X, verbose=0)))
    for weights, losses, outputs in runs[1:]:
        for a, b in zip(weights, runs[0][0]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(losses, runs[0][1], rtol=1e-6)
        np.testing.assert_allclose(outputs, runs[0][2], rtol=1e-6, atol=1e-7)


def test_an_unbuilt_model_is_decided_by_the_load():
    model = lamina.Sequential([lamina.layers.Dense(4)])
    assert threads.largest_product(model, 32) is None
    assert threads.largest_product(small_model(), 32) == MANY


def test_load_meter_subtracts_this_process(monkeypatch):
    meter = threads.LoadMeter()
    meter.cpus = 2
    readings = iter([(10.0, 100.0, 5.0), (11.0, 100.5, 6.0), (12.0, 100.7, 7.8)])
    monkeypatch.setattr(meter, "read", lambda now: next(readings))
    monkeypatch.setattr(threads, "running_elsewhere", lambda: 0.0)
    assert meter.others_busy(10.0) == 0.0  # first reading: the instant count only
    # 1 s: 0.5 s idle, 1 s ours -> 2 - 0.5 - 1 = 0.5 cores busy elsewhere
    assert meter.others_busy(11.0) == pytest.approx(0.5)
    assert meter.others_busy(11.1) == pytest.approx(0.5)  # under CHECK_PERIOD: the last estimate, no reading
    # the next second: 0.2 s idle, 1.8 s ours (two threads) -> nothing elsewhere
    assert meter.others_busy(12.0) == pytest.approx(0.0, abs=1e-9)


def test_a_stale_window_also_counts_the_threads_running_now(monkeypatch):
    meter = threads.LoadMeter()
    meter.cpus = 2
    readings = iter([(0.0, 0.0, 0.0), (60.0, 118.0, 1.0)])  # a quiet minute...
    monkeypatch.setattr(meter, "read", lambda now: next(readings))
    monkeypatch.setattr(threads, "running_elsewhere", lambda: 2.0)  # ...but two threads busy now
    meter.others_busy(0.0)
    assert meter.others_busy(60.0) == 2.0


def test_the_real_load_is_read_where_proc_exists():
    meter = threads.LoadMeter()
    first = meter.others_busy()
    assert (first is None) == (not os.path.exists("/proc/stat"))
    if first is not None:
        assert first >= 0.0 and threads.running_elsewhere() >= 0.0


def test_the_default_is_openblas_own_and_import_lamina_leaves_threadpoolctl_out():
    env = {key: value for key, value in os.environ.items() if key not in threads.USER_VARIABLES}
    code = ("import sys, lamina; assert 'threadpoolctl' not in sys.modules\n"
            "from lamina.backend import threads\n"
            "pool, _ = threads.lookup(); print(pool.default, pool.current())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    default, current = out.split()
    assert default == current and int(default) >= 1
