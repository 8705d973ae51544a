"""BackupAndRestore with damaged backups (issue 13, point 5): any failure to read one backup falls
back to the other with a warning naming the file, a backup that declares more than it holds is
refused before anything is allocated, and a failed restore changes nothing."""
import io
import json
import struct
import zipfile
import zlib

import numpy as np
import pytest

import lamina
import lamina._files
from lamina.callbacks import BackupAndRestore


def model_and_data():
    model = lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(4, activation="relu"),
                               lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    return model, rng.normal(size=(32, 5)).astype("float32"), rng.integers(0, 3, 32)


def two_backups(folder):
    """Backups after epochs 1 and 2 (``backup.previous.npz`` and ``backup.npz``), and the
    weights each holds."""
    model, x, y = model_and_data()
    backup = BackupAndRestore(folder, delete_checkpoint=False, double_checkpoint=True)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[backup])
    first = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(folder, delete_checkpoint=False,
                                                                     double_checkpoint=True)])
    return first, model.get_weights()


def members(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(path, contents: dict) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)


def patch_headers(path, name: str, method: int | None = None, size: int | None = None) -> None:
    """Rewrite member ``name``'s compression method and inflated size in both of its headers."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    for signature, method_at, size_at, name_at in ((b"PK\x03\x04", 8, 22, 30), (b"PK\x01\x02", 10, 24, 46)):
        start = data.find(signature)
        while start >= 0 and data[start + name_at:start + name_at + len(encoded)] != encoded:
            start = data.find(signature, start + 1)
        assert start >= 0, (signature, name)
        if method is not None:
            data[start + method_at:start + method_at + 2] = struct.pack("<H", method)
        if size is not None:
            data[start + size_at:start + size_at + 4] = struct.pack("<I", size)
    path.write_bytes(bytes(data))


def npy_header(shape, dtype="<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _unknown_method(path):  # the zip module raises NotImplementedError
    patch_headers(path, "state.npy", method=97)


def _truncated_deflate(path):  # the zip module raises EOFError
    contents = members(path)
    raw = contents["state.npy"]
    contents["state.npy"] = zlib.compressobj(6, zlib.DEFLATED, -15).compress(raw)[: len(raw) // 4]
    rezip(path, contents)
    patch_headers(path, "state.npy", method=zipfile.ZIP_DEFLATED, size=len(raw))


def _huge_header(path):  # NumPy would allocate 400 GB before reading
    contents = members(path)
    contents["weight_0.npy"] = npy_header((50_000_000_000,)) + b"\0" * 64
    rezip(path, contents)


def _bad_state(path):
    contents = members(path)
    contents["state.npy"] = _npy(np.frombuffer(b'{"format": 3}', np.uint8))
    rezip(path, contents)


def _bad_rng(path):
    contents = members(path)
    state = json.loads(np.load(io.BytesIO(contents["state.npy"])).tobytes())
    state["rng"]["global"] = {"bit_generator": "PCG64", "state": "nonsense"}
    contents["state.npy"] = _npy(np.frombuffer(json.dumps(state).encode(), np.uint8))
    rezip(path, contents)


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _garbage(path):
    path.write_bytes(b"PK\x03\x04" + b"\xff" * 200)


DAMAGES = [_unknown_method, _truncated_deflate, _huge_header, _bad_state, _bad_rng, _garbage]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__.strip("_"))
def test_a_damaged_latest_backup_falls_back_to_the_previous(tmp_path, damage):
    first, _ = two_backups(tmp_path)
    damage(tmp_path / "backup.npz")
    model, _, _ = model_and_data()
    model.build((None, 5))
    backup = BackupAndRestore(tmp_path, double_checkpoint=True)
    backup.set_model(model)
    with pytest.warns(UserWarning, match=r"cannot read .*backup\.npz: .*; restoring .*backup\.previous\.npz instead"):
        assert backup.restore() == 1
    for restored, expected in zip(model.get_weights(), first):
        np.testing.assert_array_equal(restored, expected)


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__.strip("_"))
def test_a_damaged_only_backup_is_a_clear_error_and_changes_nothing(tmp_path, damage):
    two_backups(tmp_path)
    (tmp_path / "backup.previous.npz").unlink()
    damage(tmp_path / "backup.npz")
    model, _, _ = model_and_data()
    model.build((None, 5))
    before = [w.copy() for w in model.get_weights()]
    rng_before = lamina.backend.global_rng().bit_generator.state
    backup = BackupAndRestore(tmp_path)
    backup.set_model(model)
    with pytest.raises(ValueError, match=r"BackupAndRestore cannot read its backup .*backup\.npz"):
        backup.restore()
    for value, original in zip(model.get_weights(), before):
        np.testing.assert_array_equal(value, original)
    assert lamina.backend.global_rng().bit_generator.state == rng_before


def test_a_damaged_previous_backup_does_not_matter_while_the_latest_reads(tmp_path):
    _, second = two_backups(tmp_path)
    _garbage(tmp_path / "backup.previous.npz")
    model, _, _ = model_and_data()
    model.build((None, 5))
    backup = BackupAndRestore(tmp_path, double_checkpoint=True)
    backup.set_model(model)
    assert backup.restore() == 2
    for restored, expected in zip(model.get_weights(), second):
        np.testing.assert_array_equal(restored, expected)


def test_a_header_claiming_400_gb_is_refused_by_what_the_member_holds(tmp_path):
    two_backups(tmp_path)
    _huge_header(tmp_path / "backup.npz")
    with pytest.raises(ValueError, match=r"member 'weight_0\.npy' declares 400,000,000,000 bytes of data but holds 64"):
        lamina._files.read_npz(tmp_path / "backup.npz", "the test", 1 << 30)
