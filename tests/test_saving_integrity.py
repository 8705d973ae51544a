"""What lamina writes can be checked, and what it reads is checked: every array it writes carries a
checksum HDF5 verifies (so a flipped byte in a ``.weights.h5`` file is an error, never different
weights), unknown HDF5 filters are refused before any data is read (reading would make HDF5 load a
plugin library), and fuzzed ``.weights.h5`` and ``.keras`` files load with the right weights or
raise ValueError / OSError."""
import os
import tempfile

import numpy as np
import pytest

import lamina
from lamina import layers

h5py = pytest.importorskip("h5py")
pytest.importorskip("hypothesis")
import hostile_files  # noqa: E402
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

EXAMPLES = int(os.environ.get("LAMINA_FUZZ_EXAMPLES", "600"))


def trained():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4, activation="relu"), layers.BatchNormalization(),
                               layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.linspace(-1, 1, 12).reshape(4, 3), np.ones((4, 2)), epochs=2, verbose=0)
    return model


def state(model) -> list:
    return [v.value.copy() for v in model.weights] + [v.value.copy() for v in model.optimizer.variables]


# --- 12. only the filters lamina and Keras write ---------------------------------------------------
def test_an_unknown_filter_is_refused_before_any_array_is_read(tmp_path, monkeypatch):
    # HDF5 searches HDF5_PLUGIN_PATH for a filter it lacks when a chunk is read (strace shows the
    # folder opened on the read, not when the file or the array is opened): refusing before any
    # read means no library is ever looked for.
    path = hostile_files.unknown_filter(tmp_path / "plugin.keras")
    reads = []
    original = h5py.Dataset.__getitem__
    monkeypatch.setattr(h5py.Dataset, "__getitem__", lambda self, key: reads.append(self.name) or original(self, key))
    with pytest.raises(ValueError, match=r"plugin\.keras.*'layers/dense/vars/0' uses HDF5 filter 32004; only gzip, "
                                         r"shuffle, fletcher32, lzf are allowed"):
        lamina.saving.load_model(path)
    assert reads == []


@pytest.mark.parametrize("options", [{"compression": "gzip", "shuffle": True}, {"compression": "lzf"},
                                     {"fletcher32": True}])
def test_the_filters_lamina_and_keras_write_are_read(tmp_path, options):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    kernel = np.arange(6, dtype="float32").reshape(3, 2)
    model.layers[0].kernel.assign(kernel)
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", data=kernel, chunks=(3, 2), **options)
    fresh = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(fresh.layers[0].kernel.value, kernel)


# --- 13. checksums on everything written -------------------------------------------------------------
def test_every_array_written_is_checksummed(tmp_path):
    trained().save_weights(tmp_path / "w.weights.h5")
    arrays = []
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        assert f.id.get_create_plist().get_version()[0] == 3  # HDF5 1.10's superblock: checksummed headers
        f.visititems(lambda name, node: arrays.append((name, node)) if isinstance(node, h5py.Dataset) else None)
        for name, node in arrays:
            plist = node.id.get_create_plist()
            if node.ndim and node.size:
                assert node.fletcher32, name
            else:  # scalars cannot be chunked: their value sits in the checksummed header
                assert plist.get_layout() == h5py.h5d.COMPACT, name
    assert len(arrays) == 8 + 2 + 2 * 6  # weights; iteration and learning rate; Adam's two slots each


def _flip(data: bytes, edits) -> bytes:
    data = bytearray(data)
    for position, value in edits:
        data[position % len(data)] ^= value
    return bytes(data)


_SAVED: dict = {}


def _saved_weights():
    if not _SAVED:
        model = trained()
        with tempfile.TemporaryDirectory() as folder:
            model.save_weights(os.path.join(folder, "w.weights.h5"))
            with open(os.path.join(folder, "w.weights.h5"), "rb") as f:
                _SAVED["bytes"] = f.read()
        _SAVED["state"], _SAVED["config"] = state(model), model.to_json()
    return _SAVED


def _fresh():
    model = lamina.models.model_from_json(_saved_weights()["config"])
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_weights)
    return model


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 255)), min_size=1, max_size=4),
       cut=st.one_of(st.none(), st.integers(1, 1 << 20)))
def test_fuzzed_weights_files_load_the_right_weights_or_fail_cleanly(tmp_path, edits, cut):
    saved = _saved_weights()
    data = _flip(saved["bytes"], edits)
    if cut is not None:
        data = data[: cut % len(data)]
    path = tmp_path / "fuzz.weights.h5"
    path.write_bytes(data)
    model = _fresh()
    before = state(model)
    try:
        model.load_weights(path)
    except (ValueError, OSError):
        for value, original in zip(state(model), before):  # all or nothing
            np.testing.assert_array_equal(value, original)
        return
    for value, expected in zip(state(model), saved["state"]):
        np.testing.assert_array_equal(value, expected)
