"""BackupAndRestore: the backup file, its atomic write, and real ``kill -9`` runs that resume
to the same weights, optimizer state, random state and History as an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import lamina
from lamina import _atomic
from lamina._atomic import atomic_write
from lamina.callbacks import BackupAndRestore, Callback
from lamina.callbacks import backup_and_restore as backup_module

SRC = os.path.dirname(os.path.dirname(lamina.__file__))


def make_model(dropout=True, optimizer=None):
    layers = [lamina.layers.Dense(8, activation="relu", input_shape=(5,))]
    if dropout:
        layers.append(lamina.layers.Dropout(0.3))
    layers.append(lamina.layers.Dense(3, activation="softmax"))
    model = lamina.Sequential(layers)
    model.compile(optimizer=optimizer or lamina.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def data(n=48):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 5)).astype("float32"), rng.integers(0, 3, n)


def optimizer_state(model):
    return {f"{i}_{name}": slot.value.copy() for i, name, slot in backup_module._slots(model, model.optimizer)}


# --- atomic_write --------------------------------------------------------------------------------
def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    path = tmp_path / "f.bin"
    with atomic_write(path) as file:
        file.write(b"old")
    with pytest.raises(RuntimeError), atomic_write(path) as file:
        file.write(b"new, half")
        raise RuntimeError("killed mid-write")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]
    with atomic_write(path, "w") as file:
        file.write("a\r\nb")
    assert path.read_bytes() == b"a\r\nb"  # text mode translates no newlines


def test_atomic_write_permissions_follow_the_umask(tmp_path):
    mask = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "f.bin") as file:
            file.write(b"x")
    finally:
        os.umask(mask)
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o640


def test_atomic_write_bad_mode(tmp_path):
    with pytest.raises(ValueError, match="atomic_write expects mode 'wb' or 'w', got mode='a'"):
        with atomic_write(tmp_path / "f", "a"):
            pass


# --- the backup file ---------------------------------------------------------------------------
def test_save_then_restore_into_a_fresh_model(tmp_path):
    x, y = data()
    model = make_model()
    backup = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[backup])
    weights, slots = model.get_weights(), optimizer_state(model)
    rng_state = lamina.backend.global_rng().bit_generator.state

    lamina.random.set_seed(99)  # a different start everywhere
    fresh = make_model()
    fresh.build((None, 5))
    restorer = BackupAndRestore(tmp_path / "b")
    restorer.set_model(fresh)
    restorer.on_train_begin()
    assert restorer.resume_epoch == 2
    assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), weights))
    assert {k: v.tolist() for k, v in optimizer_state(fresh).items()} == {k: v.tolist() for k, v in slots.items()}
    assert int(fresh.optimizer.iterations.value) == int(model.optimizer.iterations.value) == 6
    assert lamina.backend.global_rng().bit_generator.state == rng_state
    history = lamina.callbacks.History()
    restorer.restore_history(history)
    assert history.epoch == [0, 1]
    assert history.history == model.history.history


def test_backup_is_one_npz_without_pickles(tmp_path):
    model = make_model()
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    assert sorted(os.listdir(tmp_path)) == ["backup.npz"]
    with np.load(tmp_path / "backup.npz", allow_pickle=False) as stored:
        state = json.loads(stored["state"].tobytes())
        assert state["epoch"] == 1 and state["format"] == "lamina.BackupAndRestore"
        assert np.array_equal(stored["weight_0"], model.weights[0].value)
        assert int(stored["iterations"]) == 2  # 48 rows, batch 32


def test_seeded_dropout_generator_is_restored(tmp_path):
    model = lamina.Sequential([lamina.layers.Dense(4, input_shape=(5,)), lamina.layers.Dropout(0.5, seed=3),
                               lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = data()
    backup = BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[backup])
    generator = model.layers[1]._generator
    expected = generator.bit_generator.state
    generator.random(10)
    backup.restore()
    assert generator.bit_generator.state == expected


def test_a_write_cut_short_leaves_the_previous_backup(tmp_path, monkeypatch):
    model = make_model()
    x, y = data()
    backup = BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[backup])
    before = model.get_weights()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # stands for the kill: the block is left mid-write
    monkeypatch.setattr(backup_module.np, "savez", crash)
    model.fit(x, y, epochs=1, verbose=0)  # moves the weights on
    with pytest.raises(KeyboardInterrupt):
        backup.save()
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["backup.npz"]  # the temporary file is gone too
    assert backup.restore() == 1
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


def test_temporary_files_left_by_a_kill_are_removed(tmp_path):
    model = make_model()
    prefix = _atomic._prefix(str(tmp_path / "backup.npz"))  # what atomic_write names its temporaries
    (tmp_path / f"{prefix}0123456789ab.tmp").write_bytes(b"PK half")
    backup = BackupAndRestore(tmp_path, delete_checkpoint=False)
    backup.set_model(model)
    model.build((None, 5))
    backup.on_train_begin()
    assert backup.resume_epoch is None
    assert os.listdir(tmp_path) == []


def test_double_checkpoint_falls_back_to_the_previous(tmp_path):
    model = make_model()
    x, y = data()
    backup = BackupAndRestore(tmp_path, delete_checkpoint=False, double_checkpoint=True)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[backup])
    assert sorted(os.listdir(tmp_path)) == ["backup.npz", "backup.previous.npz"]
    (tmp_path / "backup.npz").write_bytes(b"not a zip")
    with pytest.warns(UserWarning, match=r"cannot read .*backup\.npz: .*restoring .*backup\.previous\.npz"):
        assert backup.restore() == 1


def test_unreadable_backup_is_a_clear_error(tmp_path):
    model = make_model()
    model.build((None, 5))
    (tmp_path / "backup.npz").write_bytes(b"not a zip")
    backup = BackupAndRestore(tmp_path)
    backup.set_model(model)
    with pytest.raises(ValueError, match="cannot read its backup .*backup.npz"):
        backup.on_train_begin()


def test_backup_of_another_model_is_refused(tmp_path):
    x, y = data()
    make_model().fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    other = lamina.Sequential([lamina.layers.Dense(3, activation="softmax", input_shape=(5,))])
    other.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="holds weights of shapes .* but model 'sequential_1' has"):
        other.fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_backup_with_another_optimizer_is_refused(tmp_path):
    x, y = data()
    make_model().fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    other = make_model(optimizer=lamina.optimizers.SGD(momentum=0.9))
    with pytest.raises(ValueError, match="holds optimizer slots .*momentum.*velocity"):
        other.fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_delete_checkpoint_at_the_end_of_training(tmp_path):
    x, y = data()
    make_model().fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path / "b")])
    assert not (tmp_path / "b").exists()
    make_model().fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path / "k", delete_checkpoint=False)])
    assert os.listdir(tmp_path / "k") == ["backup.npz"]


def test_an_epoch_cut_short_is_not_backed_up_and_the_backup_stays(tmp_path):
    x, y = data()

    class StopMidEpoch(Callback):  # what Ctrl-C does: stop_training after the current batch
        def on_train_batch_end(self, batch, logs=None):
            if self.params and getattr(self, "epoch", 0) == 1 and batch == 0:
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
    backup = BackupAndRestore(tmp_path)
    make_model().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[backup, StopMidEpoch()])
    with np.load(tmp_path / "backup.npz", allow_pickle=False) as stored:
        assert json.loads(stored["state"].tobytes())["epoch"] == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"backup_dir": ""}, "expects a backup_dir"),
    ({"backup_dir": "b", "save_freq": "batch"}, "unrecognized save_freq='batch'"),
    ({"backup_dir": "b", "save_freq": 0}, "unrecognized save_freq=0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BackupAndRestore(**kwargs)


def test_backup_dir_that_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("")
    model = make_model()
    x, y = data()
    with pytest.raises(OSError, match="BackupAndRestore cannot create the folder"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(tmp_path / "file" / "b")])


# --- kill -9 and resume --------------------------------------------------------------------------
CHILD = r'''
import json, os, sys
import numpy as np
import lamina
from lamina import _atomic
from lamina._atomic import atomic_write
from lamina.callbacks import BackupAndRestore, Callback, LearningRateScheduler
from lamina.callbacks.backup_and_restore import _slots

backup_dir, out, config, kill_after, kill_in_write = sys.argv[1:6]
kill_after, kill_in_write = int(kill_after), kill_in_write == "1"
real_savez = np.savez
if kill_in_write:  # die half way through writing the backup of epoch `kill_after`
    saves = []
    def savez(file, **arrays):
        saves.append(1)
        if len(saves) > kill_after:
            file.write(b"PK\x03\x04 half a zip")
            file.flush()
            os.fsync(file.fileno())
            os.kill(os.getpid(), 9)
        real_savez(file, **arrays)
    np.savez = savez

class Kill(Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == kill_after and not kill_in_write:
            os.kill(os.getpid(), 9)

lamina.random.set_seed(7)
rng = np.random.default_rng(0)
x, y = rng.normal(size=(40, 5)).astype("float32"), rng.integers(0, 3, 40)
vx, vy = rng.normal(size=(10, 5)).astype("float32"), rng.integers(0, 3, 10)
if config == "adam":  # the general path, with dropout drawing from the global generator
    layers = [lamina.layers.Dense(8, activation="relu", input_shape=(5,)), lamina.layers.Dropout(0.3),
              lamina.layers.Dense(3, activation="softmax")]
    optimizer = lamina.optimizers.Adam(0.01)
else:  # the fused fast path, momentum slots living in packed buffers
    layers = [lamina.layers.Dense(8, activation="relu", input_shape=(5,)), lamina.layers.Dense(3, activation="softmax")]
    optimizer = lamina.optimizers.SGD(0.1, momentum=0.9)
model = lamina.Sequential(layers)
model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=5, batch_size=16, validation_data=(vx, vy), verbose=0,
                    callbacks=[LearningRateScheduler(lambda epoch, lr: lr * 0.9),
                               BackupAndRestore(backup_dir), Kill()])
arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
arrays.update({f"s{i}_{name}": slot.value for i, name, slot in _slots(model, optimizer)})
arrays["iterations"] = optimizer.iterations.value
real_savez(out + ".npz", **arrays)
with open(out + ".json", "w") as f:
    json.dump({"epoch": history.epoch, "history": history.history, "lr": float(optimizer.learning_rate),
               "rng": lamina.backend.global_rng().bit_generator.state}, f)
'''


def run_child(tmp_path, backup_dir, out, config, kill_after=-1, kill_in_write=False):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, str(script), str(backup_dir), str(tmp_path / out), config,
                           str(kill_after), "1" if kill_in_write else "0"], env=env, capture_output=True, text=True,
                          timeout=120)
    return done


def result(tmp_path, out):
    with np.load(tmp_path / f"{out}.npz", allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    return arrays, json.loads((tmp_path / f"{out}.json").read_text())


def assert_same_run(tmp_path, a, b):
    arrays_a, info_a = result(tmp_path, a)
    arrays_b, info_b = result(tmp_path, b)
    assert sorted(arrays_a) == sorted(arrays_b)
    for key in arrays_a:
        assert np.array_equal(arrays_a[key], arrays_b[key]), key
    assert info_a == info_b  # History (every epoch, every value), learning rate, RNG state
    assert info_a["epoch"] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("config", ["adam", "sgd"])
def test_killed_run_resumes_to_the_same_end(tmp_path, config):
    done = run_child(tmp_path, tmp_path / "unused", "straight", config)
    assert done.returncode == 0, done.stderr
    backup_dir = tmp_path / "backup"
    killed = run_child(tmp_path, backup_dir, "killed", config, kill_after=2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with np.load(backup_dir / "backup.npz", allow_pickle=False) as stored:
        assert json.loads(stored["state"].tobytes())["epoch"] == 3
    resumed = run_child(tmp_path, backup_dir, "resumed", config)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(tmp_path, "straight", "resumed")
    assert not backup_dir.exists()  # delete_checkpoint after the finished run


def test_kill_during_the_backup_write_resumes_from_the_one_before(tmp_path):
    done = run_child(tmp_path, tmp_path / "unused", "straight", "adam")
    assert done.returncode == 0, done.stderr
    backup_dir = tmp_path / "backup"
    killed = run_child(tmp_path, backup_dir, "killed", "adam", kill_after=3, kill_in_write=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    names = sorted(os.listdir(backup_dir))  # the backup of epoch 2, and the write that died
    assert len(names) == 2 and names[0].startswith(".backup.npz.") and names[1] == "backup.npz"
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(backup_dir / names[0])
    with np.load(backup_dir / "backup.npz", allow_pickle=False) as stored:
        assert json.loads(stored["state"].tobytes())["epoch"] == 3  # epochs 0-2 backed up, 3's write died
    resumed = run_child(tmp_path, backup_dir, "resumed", "adam")
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(tmp_path, "straight", "resumed")
