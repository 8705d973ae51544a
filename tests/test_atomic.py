"""Saving over what the user has (issue 13, point 11): the file's mode is kept, a symlink is
written through, long names work, a read-only file is refused, and the temporary files a
``kill -9`` leaves are swept by the next write of that path (never a live writer's)."""
import os
import signal
import stat
import subprocess
import sys

import numpy as np
import pytest

import lamina
from lamina import _atomic
from lamina._atomic import atomic_write

SRC = os.path.dirname(os.path.dirname(lamina.__file__))
pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX modes, symlinks and kill -9")


def write(path, data: bytes) -> None:
    with atomic_write(path) as file:
        file.write(data)


def test_an_existing_files_mode_is_kept(tmp_path):
    path = tmp_path / "secret.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    write(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o751)
    write(path, b"newer")
    assert stat.S_IMODE(path.stat().st_mode) == 0o751


def test_a_symlink_is_written_through(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.keras"
    target.write_bytes(b"old")
    link = tmp_path / "link.keras"
    os.symlink(target, link)
    write(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    dangling = tmp_path / "dangling.keras"
    os.symlink(tmp_path / "real" / "later.keras", dangling)
    write(dangling, b"created")
    assert dangling.is_symlink() and (tmp_path / "real" / "later.keras").read_bytes() == b"created"


def test_names_up_to_the_file_systems_limit_work(tmp_path):
    path = tmp_path / ("m" * 249 + ".keras")  # 255 characters, the usual NAME_MAX
    write(path, b"x")
    assert path.read_bytes() == b"x" and os.listdir(tmp_path) == [path.name]
    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    model.save(tmp_path / ("n" * 240 + ".keras"))
    model.save_weights(tmp_path / ("w" * 240 + ".weights.h5"))


def test_a_read_only_file_is_refused_and_kept(tmp_path):
    path = tmp_path / "frozen.keras"
    path.write_bytes(b"keep me")
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match=r"frozen\.keras' is read-only"):
        write(path, b"new")
    assert path.read_bytes() == b"keep me" and os.listdir(tmp_path) == ["frozen.keras"]
    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    with pytest.raises(PermissionError, match="is read-only"):
        model.save(path)


_KILLED_WRITER = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from lamina._atomic import atomic_write
with atomic_write(sys.argv[2]) as file:
    file.write(b"x" * (1 << 20))
    file.flush()
    print("writing", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def _writer(path, seconds):
    """A child process in the middle of ``atomic_write(path)`` for ``seconds``."""
    child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, SRC, str(path), str(seconds)],
                             stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline().strip()
    child.stdout.close()
    assert line == "writing"
    return child


def _temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def test_a_killed_writers_temporary_is_swept_by_the_next_write(tmp_path):
    path = tmp_path / "model.keras"
    for _ in range(3):
        child = _writer(path, 60)
        child.send_signal(signal.SIGKILL)
        child.wait()
        # a megabyte left by kill -9, and only the last one: each write swept the one before
        assert len(_temporaries(tmp_path)) == 1
    (tmp_path / ".other.keras.tmp").write_bytes(b"not ours")
    write(path, b"done")
    assert _temporaries(tmp_path) == [".other.keras.tmp"] and path.read_bytes() == b"done"


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    path = tmp_path / "model.keras"
    child = _writer(path, 3)
    try:
        write(path, b"first")
        assert len(_temporaries(tmp_path)) == 1  # the live writer's, still locked
    finally:
        assert child.wait(timeout=60) == 0  # and it finishes its own write
    assert path.read_bytes() == b"x" * (1 << 20) and _temporaries(tmp_path) == []


def test_a_sweep_between_creating_and_locking_is_survived(tmp_path, monkeypatch):
    # the file exists a moment before it is locked: a sweeper in that moment may remove it, and
    # the writer must notice and start again rather than rename a file that is gone
    path = tmp_path / "model.keras"
    original, removed = _atomic._lock, []

    def lock_after_a_sweep(fd):
        if not removed:
            removed.extend(_temporaries(tmp_path))
            os.remove(tmp_path / removed[0])
        return original(fd)

    monkeypatch.setattr(_atomic, "_lock", lock_after_a_sweep)
    write(path, b"ok")
    assert removed and path.read_bytes() == b"ok" and _temporaries(tmp_path) == []


def test_backup_and_restore_sweeps_what_a_killed_backup_left(tmp_path):
    (tmp_path / "backup").mkdir()
    child = _writer(tmp_path / "backup" / "backup.npz", 60)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert len(_temporaries(tmp_path / "backup")) == 1
    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    backup = lamina.callbacks.BackupAndRestore(tmp_path / "backup", delete_checkpoint=False)
    model.fit(np.ones((4, 2)), np.ones(4), epochs=1, verbose=0, callbacks=[backup])
    assert os.listdir(tmp_path / "backup") == ["backup.npz"]


def test_a_missing_folder_is_named_not_the_temporary(tmp_path):
    """Keras refuses a save into a folder that is not there too; the error names that folder and
    the fix, not the hidden temporary file, and creates nothing."""
    target = tmp_path / "training_2" / "cp-0000.weights.h5"
    with pytest.raises(FileNotFoundError, match=r"the folder '.*training_2' does not exist; create it first"):
        with atomic_write(target) as file:
            file.write(b"never")
    assert os.listdir(tmp_path) == []
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    with pytest.raises(FileNotFoundError, match="training_2"):
        model.save_weights(str(target))
