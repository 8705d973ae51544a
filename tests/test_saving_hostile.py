"""Loading untrusted model files: refused classes, broken and malicious zips, HDF5 tricks,
oversized shapes, and a fuzz test. Every failure is a ValueError (or OSError) naming the file."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.saving import limits

h5py = pytest.importorskip("h5py")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


def model():
    m = lamina.Sequential([lamina.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(2)])
    m.compile(optimizer="adam", loss="mse")
    return m


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "good.keras"
    model().save(path)
    return path


def entries(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(path, contents, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    return path


def with_config(saved, tmp_path, edit):
    contents = entries(saved)
    config = json.loads(contents["config.json"])
    edit(config)
    contents["config.json"] = json.dumps(config)
    return write_zip(tmp_path / "edited.keras", contents)


def with_weights(saved, tmp_path, edit):
    contents = entries(saved)
    buffer = io.BytesIO(contents["model.weights.h5"])
    with h5py.File(buffer, "a") as f:
        edit(f, tmp_path)
    contents["model.weights.h5"] = buffer.getvalue()
    return write_zip(tmp_path / "edited.keras", contents)


# --- classes a file may not name -------------------------------------------------------------------
@pytest.mark.parametrize("module,name", [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"),
                                         ("keras.layers", "NoSuchLayer"),  # Lambda files: test_layers_lambda.py
                                         ("lamina.saving.saving_lib", "save_model")])
def test_a_config_naming_another_class_is_refused(saved, tmp_path, monkeypatch, module, name):
    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args))

    def edit(config):
        config["config"]["layers"][1] = {"module": module, "class_name": name,
                                         "config": {"command": "echo pwned"}, "registered_name": None}

    path = with_config(saved, tmp_path, edit)
    with pytest.raises(ValueError, match=rf"edited\.keras.*Refusing to build {module}\.{name}"):
        lamina.saving.load_model(path)
    assert calls == []


def test_functions_and_lambdas_from_a_file_are_refused():
    with pytest.raises(ValueError, match=r"Refusing to use function os\.system"):
        lamina.saving.deserialize_keras_object({"module": "os", "class_name": "function", "config": "system",
                                                "registered_name": "system"})
    with pytest.raises(ValueError, match="Refusing to load a Python lambda.*safe_mode=False"):
        lamina.saving.deserialize_keras_object({"class_name": "__lambda__", "config": {"value": ["x"]}})
    with pytest.raises(ValueError, match="code must be a base64 string"):  # opted in, but malformed
        lamina.saving.deserialize_keras_object({"class_name": "__lambda__", "config": {"value": ["x"]}},
                                               safe_mode=False)
    with pytest.raises(ValueError, match="Refusing to build builtins.eval"):
        lamina.saving.deserialize_keras_object({"module": "builtins", "class_name": "eval", "config": {}})


def test_a_registered_name_cannot_reach_other_modules(saved, tmp_path):
    def edit(config):
        config["config"]["layers"][1]["registered_name"] = "os>system"
        config["config"]["layers"][1]["module"] = "os"

    with pytest.raises(ValueError, match="Refusing to build os.Dense"):
        lamina.saving.load_model(with_config(saved, tmp_path, edit))


def test_a_loss_in_compile_config_is_resolved_safely(saved, tmp_path):
    def edit(config):
        config["compile_config"]["loss"] = {"module": "posix", "class_name": "function", "config": "system",
                                            "registered_name": None}

    with pytest.raises(ValueError, match=r"Refusing to use function posix\.system"):
        lamina.saving.load_model(with_config(saved, tmp_path, edit))
    assert not lamina.saving.load_model(with_config(saved, tmp_path, edit), compile=False).compiled


# --- broken and malicious zips -------------------------------------------------------------------
def test_truncated_and_garbage_files(saved, tmp_path):
    data = saved.read_bytes()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"'.*truncated\.keras' is not a valid \.keras file"):
        lamina.saving.load_model(truncated)
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"\x00" * 1000)
    with pytest.raises(ValueError, match=r"garbage\.keras"):
        lamina.saving.load_model(garbage)
    with pytest.raises(FileNotFoundError):
        lamina.saving.load_model(tmp_path / "missing.keras")


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "a/../../evil", "C:evil", "a\\..\\evil"])
def test_entries_with_unsafe_paths_are_refused(saved, tmp_path, name):
    contents = entries(saved)
    contents[name] = b"x"
    path = write_zip(tmp_path / "paths.keras", contents)
    with pytest.raises(ValueError, match=r"paths\.keras' has an entry with an unsafe path"):
        lamina.saving.load_model(path)


def test_missing_entries(saved, tmp_path):
    contents = entries(saved)
    no_config = write_zip(tmp_path / "noconfig.keras", {k: v for k, v in contents.items() if k != "config.json"})
    with pytest.raises(ValueError, match=r"noconfig\.keras' has no 'config\.json' entry"):
        lamina.saving.load_model(no_config)
    no_weights = write_zip(tmp_path / "noweights.keras",
                           {k: v for k, v in contents.items() if k != "model.weights.h5"})
    with pytest.raises(ValueError, match=r"noweights\.keras' has no model\.weights\.h5"):
        lamina.saving.load_model(no_weights)


def test_invalid_json_config(saved, tmp_path):
    contents = entries(saved)
    contents["config.json"] = b"{" * 100_000
    with pytest.raises(ValueError, match=r"badjson\.keras.*not valid JSON"):
        lamina.saving.load_model(write_zip(tmp_path / "badjson.keras", contents))
    contents["config.json"] = b"[1, 2]"
    with pytest.raises(ValueError, match="must hold a serialized model"):
        lamina.saving.load_model(write_zip(tmp_path / "list.keras", contents))


def test_zip_bomb_by_ratio_is_refused(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "RATIO_FLOOR_BYTES", 1 << 20)
    contents = entries(saved)
    contents["padding.bin"] = bytes(4 << 20)  # deflates more than 1000:1
    path = write_zip(tmp_path / "bomb.keras", contents, zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match=r"bomb\.keras': entry 'padding\.bin' inflates from .* potential zip bomb"):
        lamina.saving.load_model(path)


def test_zip_bomb_by_total_size_is_refused(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ARCHIVE_BYTES", 10_000)
    with pytest.raises(ValueError, match=r"good\.keras' inflates to .* more than the 10,000 allowed"):
        lamina.saving.load_model(saved)


def test_oversized_config_entry_is_refused(saved, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ValueError, match=r"entry 'config\.json' declares .* more than the 100 allowed"):
        lamina.saving.load_model(saved)


# --- HDF5 tricks ---------------------------------------------------------------------------------
def test_external_link_is_refused(saved, tmp_path):
    def edit(f, folder):
        with h5py.File(folder / "other.h5", "w") as other:
            other.create_dataset("vars/0", data=np.zeros((3, 4), "float32"))
        del f["layers/dense"]
        f["layers/dense"] = h5py.ExternalLink(str(folder / "other.h5"), "/")

    with pytest.raises(ValueError, match=r"edited\.keras': 'dense' is a ExternalLink; links are not allowed"):
        lamina.saving.load_model(with_weights(saved, tmp_path, edit))


def test_soft_link_is_refused(saved, tmp_path):
    def edit(f, folder):
        del f["layers/dense_1/vars/1"]
        f["layers/dense_1/vars/1"] = h5py.SoftLink("/layers/dense/vars/1")

    with pytest.raises(ValueError, match="is a SoftLink; links are not allowed"):
        lamina.saving.load_model(with_weights(saved, tmp_path, edit))


def test_external_dataset_is_refused(saved, tmp_path):
    def edit(f, folder):
        (folder / "raw.bin").write_bytes(bytes(48))
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", shape=(3, 4), dtype="float32",
                                              external=[(str(folder / "raw.bin"), 0, 48)])

    with pytest.raises(ValueError, match=r"'layers/dense/vars/0' is an external dataset"):
        lamina.saving.load_model(with_weights(saved, tmp_path, edit))


def test_non_numeric_dataset_is_refused(saved, tmp_path):
    def edit(f, folder):
        del f["layers/dense/vars/1"]
        f["layers/dense/vars"].create_dataset("1", data=np.array([b"a", b"b", b"c", b"d"]))

    with pytest.raises(ValueError, match=r"'layers/dense/vars/1' holds .* values, not numbers"):
        lamina.saving.load_model(with_weights(saved, tmp_path, edit))


def test_shape_mismatch_is_refused(saved, tmp_path):
    def edit(f, folder):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", data=np.zeros((3, 5), "float32"))

    with pytest.raises(ValueError, match=r"'layers/dense/vars/0' has shape \(3, 5\) but weight 0 of Dense "
                                         r"'dense' \('kernel'\) has shape \(3, 4\)"):
        lamina.saving.load_model(with_weights(saved, tmp_path, edit))


def test_missing_weights_are_refused(saved, tmp_path):
    def drop_layer(f, folder):
        del f["layers/dense_1"]

    with pytest.raises(ValueError, match=r"Dense 'dense_1' would hold a weight of shape \(4, 2\) \(8 numbers\), "
                                         r"more than the 0 left of what the weights file stores \(16\)"):
        lamina.saving.load_model(with_weights(saved, tmp_path, drop_layer))
    model().save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:
        drop_layer(f, tmp_path)
    with pytest.raises(ValueError, match=r"no weights for Dense 'dense_\d+': expected 2 arrays under "
                                         r"'layers/dense_1/vars'"):
        model().load_weights(tmp_path / "w.weights.h5")

    def drop_array(f, folder):
        del f["layers/dense/vars/1"]

    with pytest.raises(ValueError, match=r"more than the 6 left of what the weights file stores \(22\)"):
        lamina.saving.load_model(with_weights(saved, tmp_path, drop_array))
    model().save_weights(tmp_path / "w.weights.h5", overwrite=True)
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:
        drop_array(f, tmp_path)
    with pytest.raises(ValueError, match=r"Dense 'dense_\d+' has 2 weights .* but 'layers/dense/vars' holds 1 arrays"):
        model().load_weights(tmp_path / "w.weights.h5")


def test_optimizer_state_of_another_size_is_refused(saved, tmp_path):
    def edit(f, folder):
        del f["optimizer/vars/9"]

    with pytest.raises(ValueError, match=r"optimizer 'adam' has 10 weights .* holds 9 arrays"):
        lamina.saving.load_model(with_weights(saved, tmp_path, edit))


def test_hdf5_shape_bomb_is_refused(saved, tmp_path):
    def edit(f, folder):
        f.create_dataset("bomb", shape=(1 << 28,), dtype="float32", chunks=(1 << 16,), compression="gzip")

    with pytest.raises(ValueError, match=r"'bomb' stores 0 of its 4096 chunks; the others would read as fill"):
        lamina.saving.load_model(with_weights(saved, tmp_path, edit))

    def one_chunk(f, folder):
        bomb = f.create_dataset("bomb", shape=(1 << 28,), dtype="float32", chunks=(1 << 28,), compression="gzip")
        bomb[:1] = 1.0

    with pytest.raises(ValueError, match=r"array 'bomb' declares 1,073,741,824 bytes but stores only [0-9,]+: "
                                         "refusing a potential shape bomb"):
        lamina.saving.load_model(with_weights(saved, tmp_path, one_chunk))


# --- oversized configs ---------------------------------------------------------------------------
def test_oversized_layer_in_config_is_refused_before_building(saved, tmp_path):
    def edit(config):
        config["config"]["layers"][1]["config"]["units"] = 10 ** 9

    with pytest.raises(ValueError, match=r"Dense 'dense' would hold a weight of shape \(3, 1000000000\) "
                                         r"\(3,000,000,000 numbers\), "
                                         r"more than the 26 left of what the weights file stores \(26\); refusing"):
        lamina.saving.load_model(with_config(saved, tmp_path, edit))


def test_oversized_input_shape_is_refused(saved, tmp_path):
    def edit(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 1 << 40]

    with pytest.raises(ValueError, match=r"edited\.keras"):
        lamina.saving.load_model(with_config(saved, tmp_path, edit))
    with pytest.raises(ValueError, match="must hold positive ints"):
        limits.check_shape([None, -3], "input_shape")
    with pytest.raises(ValueError, match="at most 32 dimensions"):
        limits.check_shape([1] * 40, "input_shape")


def test_model_from_json_is_bounded_too():
    config = json.loads(model().to_json())
    config["config"]["layers"][1]["config"]["units"] = 1 << 30
    with pytest.raises(ValueError, match="would hold a weight of shape .* configs without weights may build"):
        lamina.models.model_from_json(json.dumps(config))


# --- fuzzing -------------------------------------------------------------------------------------
_GOOD: dict = {}


def _good_file() -> bytes:
    if not _GOOD:
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "seed.keras")
            m = model()
            m.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0)
            m.save(path)
            with open(path, "rb") as file:
                _GOOD["bytes"] = file.read()
            _GOOD["weights"] = [v.value.copy() for v in m.weights]
            _GOOD["optimizer"] = [v.value.copy() for v in m.optimizer.variables]
    return _GOOD["bytes"]


def _mutate(data: bytes, edits) -> bytes:
    data = bytearray(data)
    for position, value in edits:
        data[position % len(data)] = value
    return bytes(data)


def _same(loaded, expected) -> None:
    assert len(loaded) == len(expected)
    for value, original in zip(loaded, expected):  # a dtype the file changes is a cast of the same numbers
        np.testing.assert_array_equal(value, original.astype(value.dtype))


@settings(max_examples=int(os.environ.get("LAMINA_FUZZ_EXAMPLES", "600")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(["zip", "config.json", "model.weights.h5"]),
       edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(1, 1 << 20)))
def test_fuzzed_files_load_the_right_weights_or_fail_cleanly(tmp_path, target, edits, cut):
    good = _good_file()
    if target == "zip":
        data = _mutate(good, edits)
    else:
        contents = {}
        with zipfile.ZipFile(io.BytesIO(good)) as zf:
            for name in zf.namelist():
                contents[name] = zf.read(name)
        contents[target] = _mutate(contents[target], edits)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, value in contents.items():
                zf.writestr(name, value)
        data = buffer.getvalue()
    if cut is not None:
        data = data[: cut % len(data) + 1]
    path = tmp_path / "fuzz.keras"
    path.write_bytes(data)
    try:
        loaded = lamina.saving.load_model(path)
    except (ValueError, OSError):
        return
    assert isinstance(loaded, lamina.Sequential)
    _same([v.value for v in loaded.weights], _GOOD["weights"])
    if loaded.compiled:
        _same([v.value for v in loaded.optimizer.variables], _GOOD["optimizer"])
    out = loaded.predict(_X, verbose=0) if loaded.built and loaded.layers else None
    assert out is None or out.shape[0] == 2


_X = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
