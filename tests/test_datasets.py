"""Tests for lamina.datasets; never touch the network (downloads use file:// URLs)."""
import gzip
import hashlib
import io
import os

import numpy as np
import pytest

from lamina.datasets import _loader, fashion_mnist, mnist

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def idx_bytes(arr):
    arr = np.asarray(arr, np.uint8)
    magic = 2049 if arr.ndim == 1 else 2051
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def fake_fashion(n_train=5, n_test=3, seed=0):
    """Map filename -> decompressed IDX bytes for a tiny fake Fashion-MNIST."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train),
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
    }
    return {k: idx_bytes(v) for k, v in arrays.items()}


def write_fashion(folder, contents):
    os.makedirs(folder, exist_ok=True)
    for name, raw in contents.items():
        with gzip.open(os.path.join(folder, name), "wb") as f:
            f.write(raw)


def npz_bytes(n_train=4, n_test=2, seed=0, **override):
    rng = np.random.default_rng(seed)
    arrays = dict(x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                  y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
                  x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                  y_test=rng.integers(0, 10, n_test, dtype=np.uint8))
    arrays.update(override)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def trust(monkeypatch, contents):
    """Make the loader accept these fake contents' digests."""
    for name, raw in contents.items():
        monkeypatch.setitem(_loader.SHA256, name, hashlib.sha256(raw).hexdigest())


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Isolate every search location in tmp_path and make downloads fail offline."""
    monkeypatch.delenv("LAMINA_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(_loader, "DEBIAN_FASHION_DIR", str(tmp_path / "debian"))
    monkeypatch.setattr(_loader, "BASE_URL", (tmp_path / "server").as_uri() + "/")
    return tmp_path


def test_public_api():
    import lamina.datasets as ds
    assert ds.mnist is mnist and ds.fashion_mnist is fashion_mnist
    assert ds.__doc__
    assert fashion_mnist.class_names[9] == "Ankle boot" and len(fashion_mnist.class_names) == 10
    assert mnist.class_names == [str(i) for i in range(10)]


@pytest.mark.parametrize("where", ["lamina", "lamina_sub", "keras", "debian"])
def test_fashion_found_in_each_location(env, monkeypatch, where):
    contents = fake_fashion()
    trust(monkeypatch, contents)
    folder = {"lamina": env / "data", "lamina_sub": env / "data" / "fashion-mnist",
              "keras": env / "keras" / "datasets" / "fashion-mnist", "debian": env / "debian"}[where]
    write_fashion(folder, contents)
    monkeypatch.setenv("LAMINA_DATA", str(env / "data"))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (5, 28, 28) and y_train.shape == (5,)
    assert x_test.shape == (3, 28, 28) and y_test.shape == (3,)
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    assert y_train.tobytes() == contents["train-labels-idx1-ubyte.gz"][8:]


def test_fashion_search_order(env, monkeypatch):
    # Distinct fake data per location; the earliest location must win.
    sets = {name: fake_fashion(seed=i) for i, name in enumerate(["data", "keras", "debian"])}
    folders = {"data": env / "data", "keras": env / "keras" / "datasets" / "fashion-mnist",
               "debian": env / "debian"}
    for name in ["debian", "keras", "data"]:
        write_fashion(folders[name], sets[name])
        trust(monkeypatch, sets[name])  # only the expected winner's digests pass
        if name == "data":
            monkeypatch.setenv("LAMINA_DATA", str(env / "data"))
        (_, y_train), _ = fashion_mnist.load_data()
        assert y_train.tobytes() == sets[name]["train-labels-idx1-ubyte.gz"][8:]


def test_real_digests_enforced(env):
    write_fashion(env / "debian", fake_fashion())
    with pytest.raises(ValueError, match="SHA-256 mismatch") as e:
        fashion_mnist.load_data()
    assert str(env / "debian") in str(e.value)


@pytest.mark.parametrize("corrupt, message", [
    (lambda raw: raw[:-2], "payload is"),
    (lambda raw: (1234).to_bytes(4, "big") + raw[4:], "magic number"),
    (lambda raw: raw[:5], "header truncated"),
    (lambda raw: raw + b"\0", "payload is"),
])
def test_fashion_bad_idx_content(env, monkeypatch, corrupt, message):
    contents = fake_fashion()
    contents["train-labels-idx1-ubyte.gz"] = corrupt(contents["train-labels-idx1-ubyte.gz"])
    trust(monkeypatch, contents)
    write_fashion(env / "debian", contents)
    with pytest.raises(ValueError, match=message) as e:
        fashion_mnist.load_data()
    assert str(env / "debian" / "train-labels-idx1-ubyte.gz") in str(e.value)


def test_fashion_images_wrong_size(env, monkeypatch):
    contents = fake_fashion()
    contents["t10k-images-idx3-ubyte.gz"] = idx_bytes(np.zeros((3, 27, 28)))
    trust(monkeypatch, contents)
    write_fashion(env / "debian", contents)
    with pytest.raises(ValueError, match="27x28"):
        fashion_mnist.load_data()


def test_fashion_count_mismatch(env, monkeypatch):
    contents = fake_fashion()
    contents["train-labels-idx1-ubyte.gz"] = idx_bytes(np.zeros(4))
    trust(monkeypatch, contents)
    write_fashion(env / "debian", contents)
    with pytest.raises(ValueError, match="5 images but 4 labels"):
        fashion_mnist.load_data()


@pytest.mark.parametrize("mangle", [lambda gz: gz[: len(gz) // 2], lambda gz: b"not gzip at all"])
def test_fashion_bad_gzip(env, monkeypatch, mangle):
    contents = fake_fashion()
    trust(monkeypatch, contents)
    write_fashion(env / "debian", contents)
    path = env / "debian" / "train-images-idx3-ubyte.gz"
    path.write_bytes(mangle(path.read_bytes()))
    with pytest.raises(ValueError, match="gzip") as e:
        fashion_mnist.load_data()
    assert str(path) in str(e.value)


def test_fashion_missing_lists_places(env, monkeypatch):
    monkeypatch.setenv("LAMINA_DATA", str(env / "data"))
    with pytest.raises(FileNotFoundError) as e:
        fashion_mnist.load_data()
    msg = str(e.value)
    for place in [env / "data", env / "data" / "fashion-mnist", env / "keras" / "datasets" /
                  "fashion-mnist", env / "debian"]:
        assert str(place / "train-labels-idx1-ubyte.gz") in msg
    assert "download" in msg and "apt-get install dataset-fashion-mnist" in msg
    assert not any(p.is_file() for p in (env / "keras").rglob("*"))  # no partial files


def test_fashion_download(env, monkeypatch, capsys):
    contents = fake_fashion()
    trust(monkeypatch, contents)
    write_fashion(env / "server", contents)
    (x_train, _), _ = fashion_mnist.load_data()
    assert x_train.shape == (5, 28, 28)
    cache = env / "keras" / "datasets" / "fashion-mnist"
    assert sorted(os.listdir(cache)) == sorted(contents)  # no temp files left over
    assert "Downloading" in capsys.readouterr().err


def test_download_hash_mismatch_deletes(env, monkeypatch):
    contents = fake_fashion()
    write_fashion(env / "server", contents)
    trust(monkeypatch, contents)
    monkeypatch.setitem(_loader.SHA256, "train-labels-idx1-ubyte.gz", "0" * 64)
    with pytest.raises(ValueError, match="deleted.*SHA-256 mismatch"):
        fashion_mnist.load_data()
    assert os.listdir(env / "keras" / "datasets" / "fashion-mnist") == []


def test_mnist_locations_and_path_arg(env, monkeypatch):
    raw = npz_bytes()
    trust(monkeypatch, {"mnist.npz": raw})
    cache = env / "keras" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(raw)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == (
        (4, 28, 28), (4,), (2, 28, 28), (2,))
    assert x_train.dtype == np.uint8
    # $LAMINA_DATA beats the Keras cache; the path argument names the file.
    other = npz_bytes(n_train=6)
    trust(monkeypatch, {"mnist.npz": other})
    (env / "data").mkdir()
    (env / "data" / "digits.npz").write_bytes(other)
    monkeypatch.setenv("LAMINA_DATA", str(env / "data"))
    assert mnist.load_data(path="digits.npz")[0][0].shape == (6, 28, 28)


@pytest.mark.parametrize("raw, message", [
    (b"PK\3\4 truncated zip", "not a valid MNIST npz"),
    (npz_bytes(x_train=np.zeros((4, 28, 28), np.float32)), "unexpected arrays"),
    (npz_bytes(y_test=np.zeros(3, np.uint8)), "unexpected arrays"),
])
def test_mnist_corrupt(env, monkeypatch, raw, message):
    trust(monkeypatch, {"mnist.npz": raw})
    (env / "keras" / "datasets").mkdir(parents=True)
    path = env / "keras" / "datasets" / "mnist.npz"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=message) as e:
        mnist.load_data()
    assert str(path) in str(e.value)


def test_mnist_real_digest_enforced(env):
    (env / "keras" / "datasets").mkdir(parents=True)
    (env / "keras" / "datasets" / "mnist.npz").write_bytes(npz_bytes())
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        mnist.load_data()


def test_mnist_download_and_failures(env, monkeypatch):
    with pytest.raises(FileNotFoundError) as e:
        mnist.load_data()
    assert str(env / "keras" / "datasets" / "mnist.npz") in str(e.value)
    assert "$LAMINA_DATA (not set)" in str(e.value)
    (env / "server").mkdir()
    raw = npz_bytes()
    (env / "server" / "mnist.npz").write_bytes(raw)
    with pytest.raises(ValueError, match="deleted"):
        mnist.load_data()  # real digest: fake archive rejected
    assert os.listdir(env / "keras" / "datasets") == []
    trust(monkeypatch, {"mnist.npz": raw})
    assert mnist.load_data()[0][0].shape == (4, 28, 28)
    assert os.listdir(env / "keras" / "datasets") == ["mnist.npz"]


@pytest.mark.skipif(not os.path.isdir(FASHION_DIR),
                    reason=f"{FASHION_DIR} missing (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist(env, monkeypatch):
    monkeypatch.setattr(_loader, "DEBIAN_FASHION_DIR", FASHION_DIR)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert y_train[0] == 9
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
