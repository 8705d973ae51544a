"""Data sources for fit / evaluate / predict: generators, PyDataset, batch sequences, memmaps."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lamina
from lamina import layers


def model():
    m = lamina.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


X = np.random.default_rng(0).standard_normal((64, 4)).astype("float32")
Y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)


def batches(with_weights=False):
    while True:
        for start in range(0, 64, 16):
            rows = slice(start, start + 16)
            yield (X[rows], Y[rows], np.ones(16)) if with_weights else (X[rows], Y[rows])


def test_generator_with_steps_per_epoch_matches_arrays_without_shuffle():
    lamina.random.set_seed(3)
    a = model()
    ha = a.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
    lamina.backend.clear_session()
    lamina.random.set_seed(3)
    b = model()
    hb = b.fit(X, Y, batch_size=16, shuffle=False, epochs=2, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-6)
    assert ha.params["steps"] == 4
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_generator_with_sample_weights_and_validation_generator():
    history = model().fit(batches(with_weights=True), steps_per_epoch=4, epochs=2, verbose=0,
                          validation_data=batches(), validation_steps=2)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_endless_generator_without_steps_is_a_clear_error():
    with pytest.raises(ValueError, match=r"x is a generator or iterator without a length: pass steps_per_epoch"):
        model().fit(batches(), epochs=1, verbose=0)


def test_generator_with_inconsistent_shapes_names_the_batch():
    def bad():
        yield X[:16], Y[:16]
        yield X[:16, :3], Y[:16]

    with pytest.raises(ValueError, match=r"batch 1 of x has x of shape \(16, 3\), but the earlier batches had "
                                         r"samples of shape \(4,\)"):
        model().fit(bad(), steps_per_epoch=2, verbose=0)


def test_generator_bad_labels_name_the_batch():
    def bad():
        yield X[:16], Y[:16]
        yield X[:16], np.full(16, 7)

    with pytest.raises(ValueError, match=r"batch 1 of x: Sparse categorical labels"):
        model().fit(bad(), steps_per_epoch=2, verbose=0)


def test_generator_that_runs_out_warns_and_stops():
    def short():
        yield X[:16], Y[:16]

    with pytest.warns(UserWarning, match=r"x ran out of data after 1 batches of the 3 asked for"):
        history = model().fit(short(), steps_per_epoch=3, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


class Batches(lamina.utils.PyDataset):
    def __init__(self):
        super().__init__(workers=1)
        self.epochs_ended = 0
        self.order = np.arange(4)

    def __len__(self):
        return 4

    def __getitem__(self, index):
        rows = slice(16 * self.order[index], 16 * self.order[index] + 16)
        return X[rows], Y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1
        self.order = self.order[::-1].copy()


def test_py_dataset_len_getitem_and_on_epoch_end():
    dataset = Batches()
    m = model()
    history = m.fit(dataset, epochs=3, verbose=0, validation_data=Batches())
    assert dataset.epochs_ended == 3 and history.params["steps"] == 4
    loss, acc = m.evaluate(Batches(), verbose=0)
    np.testing.assert_allclose(loss, m.evaluate(X, Y, verbose=0)[0], rtol=1e-5)
    assert m.predict(Batches(), verbose=0).shape == (64, 3)


def test_plain_sequence_of_batches_and_predict_from_generator():
    class Seq:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return X[32 * i:32 * i + 32], Y[32 * i:32 * i + 32]

    m = model()
    m.fit(Seq(), epochs=1, verbose=0)
    predicted = m.predict((X[i:i + 16] for i in range(0, 64, 16)), steps=4, verbose=0)
    np.testing.assert_allclose(predicted, m.predict(X, verbose=0), rtol=1e-6)


def test_generator_with_y_argument_is_refused():
    with pytest.raises(ValueError, match=r"pass y=None"):
        model().fit(batches(), Y, steps_per_epoch=2, verbose=0)


def test_memmap_trains_batch_by_batch_with_flat_memory(tmp_path):
    """A float64 memmap of ~160 MB trains while the process's own (anonymous) memory stays flat."""
    script = textwrap.dedent(f"""
        import numpy as np, lamina
        def anon_mb():
            for line in open('/proc/self/status'):
                if line.startswith('RssAnon:'):
                    return int(line.split()[1]) / 1024
        n = 200_000
        x = np.lib.format.open_memmap({str(tmp_path / 'x.npy')!r}, mode='w+', dtype='float64', shape=(n, 100))
        for start in range(0, n, 20_000):
            x[start:start + 20_000] = np.random.default_rng(start).random((20_000, 100))
        x.flush(); del x
        x = np.load({str(tmp_path / 'x.npy')!r}, mmap_mode='r')
        y = (x[:, 0] > 0.5).astype(np.int64)
        model = lamina.Sequential([lamina.layers.Dense(16, activation='relu', input_shape=(100,)),
                                   lamina.layers.Dense(2, activation='softmax')])
        model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')
        # first use of the compiled kernels (numba's import and compiles: tens of MB, once per process)
        model.fit(np.array(x[:512]), y[:512], batch_size=256, epochs=1, verbose=0)
        model.evaluate(np.array(x[:512]), y[:512], batch_size=256, verbose=0)
        before = anon_mb()
        model.fit(x, y, batch_size=256, epochs=1, verbose=0)
        model.evaluate(x, y, batch_size=256, verbose=0)
        print(anon_mb() - before)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    growth_mb = float(out.strip().splitlines()[-1])
    assert growth_mb < 20, f"anonymous memory grew by {growth_mb:.0f} MB on a 160 MB memmap"
