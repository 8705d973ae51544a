"""Loading hostile files in bounded memory and time: what a file may make lamina build is bounded
by what it stores, every zip entry and HDF5 chunk is checked before it is inflated, and paths that
are not regular files are refused before they are read. Memory is measured in a fresh process
(``bounded.run``); work is counted, not timed."""
import json
import os
import zipfile

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.saving import limits

pytest.importorskip("h5py")
import bounded  # noqa: E402
import hostile_files  # noqa: E402

LOAD = "lamina.saving.load_model(ARGS['path'])"


# --- 1. one budget for the whole model -------------------------------------------------------------
def test_weights_declared_but_not_stored_are_refused_in_bounded_memory(tmp_path):
    path = hostile_files.declared_not_stored(tmp_path / "declared.keras")
    assert os.path.getsize(path) < 64_000
    result = bounded.run(LOAD, path=str(path))
    assert result["outcome"].startswith("ValueError") and "stores only 0" in result["outcome"], result
    assert result["added_mb"] < 64, result


def test_a_config_larger_than_its_weights_file_is_refused_before_building(tmp_path):
    # eight Dense(5120) layers (210 M numbers) over a weights file that stores nothing at all
    config = hostile_files.dense_stack_config([5120] * 8, 5120)
    path = hostile_files.write_keras(tmp_path / "big.keras", config, hostile_files.h5_bytes(lambda f: None))
    result = bounded.run(LOAD, path=str(path))
    assert "ValueError" in result["outcome"] and "the weights file stores" in result["outcome"], result
    assert result["added_mb"] < 64, result


def test_model_from_json_has_one_cap_for_the_whole_model():
    config = json.dumps(hostile_files.dense_stack_config([5120] * 8, 5120))  # 6 kB for 210 M numbers
    assert len(config) < 8000
    result = bounded.run("lamina.models.model_from_json(ARGS['config'])", config=config)
    assert "ValueError" in result["outcome"] and f"{limits.MAX_CONFIG_ELEMENTS:,}" in result["outcome"], result
    # what the cap allows (4 bytes a number), with one layer's float64 draw of its initial values
    assert result["added_mb"] < (limits.MAX_CONFIG_ELEMENTS * 4 + 5120 ** 2 * 8) / 2 ** 20 * 1.2, result


def test_the_config_cap_counts_every_layer(monkeypatch):
    # Dense(10) on 10 inputs holds 110 numbers, so three of them hold 330
    config = json.dumps(hostile_files.dense_stack_config([10, 10, 10], 10))
    monkeypatch.setattr(limits, "MAX_CONFIG_ELEMENTS", 330)
    assert lamina.models.model_from_json(config).count_params() == 330
    monkeypatch.setattr(limits, "MAX_CONFIG_ELEMENTS", 329)
    with pytest.raises(ValueError, match=r"Dense 'dense_2' would hold a weight .* left of what configs "
                                         r"without weights may build \(329\)"):
        lamina.models.model_from_json(config)


def test_the_budget_is_what_the_weights_file_stores(tmp_path, monkeypatch):
    model = lamina.Sequential([lamina.Input((10,)), layers.Dense(10), layers.Dense(10)])
    model.save(tmp_path / "m.keras")
    monkeypatch.setattr(limits, "SLACK_ELEMENTS", 0)
    assert lamina.saving.load_model(tmp_path / "m.keras").count_params() == 220
    monkeypatch.setattr(limits, "SLACK_ELEMENTS", -1)  # one number short of what the file stores
    with pytest.raises(ValueError, match=r"Dense 'dense_1' would hold .* the weights file stores"):
        lamina.saving.load_model(tmp_path / "m.keras")


def test_nested_models_share_the_budget(monkeypatch):
    inner = lamina.Sequential([lamina.Input((10,)), layers.Dense(10)])
    outer = lamina.Sequential([lamina.Input((10,)), inner, layers.Dense(10)])
    config = outer.to_json()
    monkeypatch.setattr(limits, "MAX_CONFIG_ELEMENTS", 220)
    assert lamina.models.model_from_json(config).count_params() == 220
    monkeypatch.setattr(limits, "MAX_CONFIG_ELEMENTS", 219)
    with pytest.raises(ValueError, match="would hold"):
        lamina.models.model_from_json(config)


# --- the number of layers, and 2. loading in time linear in layers ---------------------------------
def test_the_number_of_layers_is_capped_before_they_are_made(tmp_path):
    path = hostile_files.many_layers(tmp_path / "deep.keras", limits.MAX_LAYERS + 1)
    made = []
    original = layers.Activation.__init__

    def counting(self, *args, **kwargs):
        made.append(1)
        original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layers.Activation, "__init__", counting)
        with pytest.raises(ValueError, match=rf"deep\.keras.*more than {limits.MAX_LAYERS:,} layers"):
            lamina.saving.load_model(path)
    assert len(made) <= limits.MAX_LAYERS


@pytest.mark.parametrize("n", [500, 2000])
def test_loading_does_work_linear_in_the_number_of_layers(tmp_path, monkeypatch, n):
    path = hostile_files.many_layers(tmp_path / "deep.keras", n)
    calls = []
    for method in ("build_for", "compute_output_shape"):
        original = getattr(lamina.layers.Layer, method)

        def counting(self, *args, _original=original, **kwargs):
            calls.append(1)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(lamina.layers.Layer, method, counting)
    model = lamina.saving.load_model(path)
    monkeypatch.undo()
    assert len(model.layers) == n
    assert len(calls) <= 6 * n, f"{len(calls)} shape computations for {n} layers"
    x = np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.maximum(x, 0))


def test_layer_names_stay_unique_when_loaded_in_one_go(tmp_path):
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(2, name="a"), layers.Dense(2, name="b")])
    config = json.loads(model.to_json())
    config["config"]["layers"][2]["config"]["name"] = "a"
    with pytest.raises(ValueError, match="already has a layer named 'a'"):
        lamina.models.model_from_json(json.dumps(config))


# --- 3. no amplification inside the bounds ---------------------------------------------------------
def test_an_hdf5_chunk_larger_than_its_dataset_is_refused(tmp_path):
    path = hostile_files.chunk_bomb(tmp_path / "chunk.keras")
    assert os.path.getsize(path) < 2 << 20
    result = bounded.run(LOAD, path=str(path))
    assert "ValueError" in result["outcome"] and "chunks of shape (16384, 16384)" in result["outcome"], result
    assert result["added_mb"] < 64, result


def test_a_config_entry_that_inflates_is_refused_by_its_ratio(tmp_path):
    path = hostile_files.inflating_config(tmp_path / "config.keras")
    assert os.path.getsize(path) < 100_000
    result = bounded.run(LOAD, path=str(path))
    assert "ValueError" in result["outcome"] and "entry 'config.json' inflates from" in result["outcome"], result
    assert result["added_mb"] < 64, result


def test_the_config_entry_is_capped(tmp_path, monkeypatch):
    assert limits.MAX_CONFIG_BYTES <= 8 << 20
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    monkeypatch.setattr(limits, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ValueError, match=r"entry 'config\.json' declares .* more than the 100 allowed"):
        lamina.saving.load_model(tmp_path / "m.keras")


def test_a_weights_entry_that_inflates_is_refused_by_its_ratio(tmp_path):
    path = hostile_files.inflating_weights(tmp_path / "weights.keras", units=4096)
    assert os.path.getsize(path) < 200_000
    result = bounded.run(LOAD, path=str(path))
    assert "ValueError" in result["outcome"] and "entry 'model.weights.h5' inflates from" in result["outcome"], result
    assert result["added_mb"] < 32, result


def test_every_entry_is_ratio_checked_even_small_ones(tmp_path):
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        contents = {name: zf.read(name) for name in zf.namelist()}
    contents["notes.txt"] = bytes(1 << 20)  # 1 MiB of zeros deflates about 1000:1
    with zipfile.ZipFile(tmp_path / "padded.keras", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    with pytest.raises(ValueError, match=r"entry 'notes\.txt' inflates from"):
        lamina.saving.load_model(tmp_path / "padded.keras")


def test_a_stored_weights_entry_is_read_in_place_not_copied(tmp_path):
    # 16 M float32 numbers (64 MiB) of weights: building them and staging the file's values
    # costs two copies; reading the entry into memory first, or in one chunk, would add more.
    model = lamina.Sequential([lamina.Input((4096,)), layers.Dense(4096, kernel_initializer="zeros")])
    model.layers[0].kernel.assign(np.full((4096, 4096), 0.5, "float32"))
    model.save(tmp_path / "big.keras")
    result = bounded.run(f"""
        model = {LOAD}
        assert float(model.layers[0].kernel.value[7, 9]) == 0.5
    """, path=str(tmp_path / "big.keras"))
    assert result["outcome"] == "ok", result
    assert result["added_mb"] < 2.5 * 64, result


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_paths_that_are_not_regular_files_are_refused_before_reading(tmp_path, kind):
    path = tmp_path / "odd.keras"
    if kind == "device":
        os.symlink("/dev/zero", path)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    for code in (LOAD, "lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(2)]).load_weights(ARGS['path'])"):
        result = bounded.run(code, path=str(path), timeout=60)
        assert result["outcome"].split(":")[0] in ("ValueError", "IsADirectoryError"), result
        assert "not a regular file" in result["outcome"] or kind == "folder", result
        assert str(path) in result["outcome"], result


# --- 4. load_weights reads what is there -------------------------------------------------------------
def test_load_weights_allocates_what_the_file_holds(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4), layers.Dense(2)])
    model.save_weights(tmp_path / "small.weights.h5")
    model.save(tmp_path / "small.keras")
    assert os.path.getsize(tmp_path / "small.weights.h5") < 20_000
    for name in ("small.weights.h5", "small.keras"):
        result = bounded.run("""
            model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(4), lamina.layers.Dense(2)])
            model.load_weights(ARGS['path'])
        """, limit_mb=512, path=str(tmp_path / name))
        assert result["outcome"] == "ok", result


def test_a_load_in_one_thread_does_not_bound_builds_in_another(monkeypatch):
    import threading
    monkeypatch.setattr(limits, "MAX_CONFIG_ELEMENTS", 100)
    built, started, release = [], threading.Event(), threading.Event()

    def build_while_the_other_loads():
        started.wait(30)
        built.append(lamina.Sequential([lamina.Input((100,)), layers.Dense(100)]).count_params())
        release.set()

    class Waiting(layers.Dense):  # a layer whose build waits for the other thread's
        def build(self, input_shape):
            started.set()
            release.wait(30)
            super().build(input_shape)

    other = threading.Thread(target=build_while_the_other_loads)
    other.start()
    config = json.dumps(hostile_files.dense_stack_config([4], 4))
    with lamina.saving.custom_object_scope({"Dense": Waiting}):
        assert lamina.models.model_from_json(config).count_params() == 20
    other.join(30)
    assert built == [10_100]
