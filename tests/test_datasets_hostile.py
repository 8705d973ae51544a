"""Dataset files that are not what they claim (issue 13, point 15): a loader reads the header, then
exactly the bytes it implies, so a gzip bomb or a 3 GB ``mnist.npz`` is refused in bounded memory,
and a folder where a file should be is named as such, not reported missing."""
import gzip
import os
import zlib

import pytest

import bounded
from lamina.datasets import _loader, fashion_mnist, mnist
from test_datasets import env, fake_fashion, trust, write_fashion  # noqa: F401 - env is a fixture

IMAGES = "train-images-idx3-ubyte.gz"


def _gzip_of_zeros(path, header: bytes, zeros: int) -> None:
    """A gzip file of ``header`` then ``zeros`` zero bytes, written a few MiB at a time."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as out:
        out.write(header)
        block = bytes(4 << 20)
        for _ in range(zeros // len(block)):
            out.write(block)


def _idx_header(*dims) -> bytes:
    return (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)


def test_a_gzip_bomb_is_read_only_as_far_as_its_header_says(env, monkeypatch):
    contents = fake_fashion()
    trust(monkeypatch, contents)
    write_fashion(env / "data", contents)
    _gzip_of_zeros(env / "data" / IMAGES, _idx_header(5, 28, 28), 256 << 20)  # 256 MiB inflated
    assert os.path.getsize(env / "data" / IMAGES) < 2 << 20
    monkeypatch.setenv("LAMINA_DATA", str(env / "data"))
    result = _in_child(env, contents, "lamina.datasets.fashion_mnist.load_data()")
    assert result["outcome"].startswith("ValueError") and "more than the 3,920 bytes" in result["outcome"], result
    assert result["added_mb"] < 32, result


def test_a_header_claiming_too_many_images_is_refused_before_reading_them(env, monkeypatch):
    contents = fake_fashion()
    contents[IMAGES] = _idx_header(10 ** 9, 28, 28) + bytes(64)
    trust(monkeypatch, contents)
    write_fashion(env / "debian", contents)
    with pytest.raises(ValueError, match=r"header declares 1000000000 items; .* holds at most 60,000"):
        fashion_mnist.load_data()


def test_a_huge_mnist_npz_is_refused_by_its_size(env, monkeypatch):
    (env / "keras" / "datasets").mkdir(parents=True)
    path = env / "keras" / "datasets" / "mnist.npz"
    with open(path, "wb") as f:
        f.truncate(3 << 30)  # 3 GiB, sparse: nothing written
    result = _in_child(env, {}, "lamina.datasets.mnist.load_data()")
    assert result["outcome"].startswith("ValueError") and "3,221,225,472 bytes" in result["outcome"], result
    assert result["added_mb"] < 32, result


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_a_folder_where_a_file_should_be_is_named(env, monkeypatch, dataset):
    name = "mnist.npz" if dataset == "mnist" else "train-labels-idx1-ubyte.gz"
    (env / "data" / name).mkdir(parents=True)
    monkeypatch.setenv("LAMINA_DATA", str(env / "data"))
    loader = mnist if dataset == "mnist" else fashion_mnist
    with pytest.raises(ValueError, match=rf"{env / 'data' / name} is a folder or another non-file"):
        loader.load_data()


def test_a_download_larger_than_the_dataset_is_abandoned(env, monkeypatch):
    (env / "server").mkdir()
    (env / "server" / "mnist.npz").write_bytes(bytes(5000))
    monkeypatch.setattr(_loader, "MAX_DOWNLOAD_BYTES", 1000)
    with pytest.raises(FileNotFoundError, match=r"more than the 1,000 bytes expected"):
        mnist.load_data()
    assert os.listdir(env / "keras" / "datasets") == []


def test_the_loaders_still_read_what_they_always_read(env, monkeypatch):
    contents = fake_fashion()
    trust(monkeypatch, contents)
    write_fashion(env / "debian", contents)
    (x_train, y_train), _ = fashion_mnist.load_data()
    assert x_train.shape == (5, 28, 28) and y_train.tobytes() == contents["train-labels-idx1-ubyte.gz"][8:]
    assert zlib.crc32(x_train.tobytes()) == zlib.crc32(contents[IMAGES][16:])


_SETUP = """
import os
from lamina.datasets import _loader
setup = ARGS["setup"]
os.environ["LAMINA_DATA"], os.environ["KERAS_HOME"] = setup["LAMINA_DATA"], setup["KERAS_HOME"]
_loader.DEBIAN_FASHION_DIR, _loader.BASE_URL = setup["debian"], setup["server"]
_loader.SHA256.update(setup["sha"])
"""


def _in_child(env, contents, call: str) -> dict:
    """``call`` run by ``bounded.run`` looking where this test's files are, trusting their digests."""
    setup = {"LAMINA_DATA": str(env / "data"), "KERAS_HOME": str(env / "keras"), "debian": str(env / "debian"),
             "server": (env / "server").as_uri() + "/", "sha": {name: _loader.SHA256[name] for name in contents}}
    return bounded.run(_SETUP + call, setup=setup)
