"""Shared machinery for the bundled datasets: find, download, verify, read.

Both ``mnist`` and ``fashion_mnist`` go through :func:`fetch`, which walks a
list of candidate paths, falls back to a download into the Keras cache, and
hands every file to a reader that validates it before any array escapes.

A file is never trusted with memory before its digest is checked: an IDX file's
header is read first and must declare at most as many items as the official
release holds, then exactly the bytes it implies are read (one more shows
padding), so a gzip bomb inflates no further than a real file would. An npz
larger than the official one is refused by its size, and a download stops
past ``MAX_DOWNLOAD_BYTES``. A folder (or device) where a file should be is
an error naming it, not a missing file.
"""
import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.request
import zlib

import numpy as np

from .._files import open_regular, read_npz

BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DOWNLOAD_TIMEOUT = 20  # seconds without data before a download is abandoned
DEBIAN_FASHION_DIR = "/usr/share/datasets/fashion-mnist"

# Fashion-MNIST digests are of the *decompressed* IDX bytes: Debian recompressed
# the .gz files, so only the content is the same everywhere.  MNIST ships as a
# single npz whose published digest covers the file itself.  Tests swap entries.
SHA256 = {
    "train-labels-idx1-ubyte.gz":
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "train-images-idx3-ubyte.gz":
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "t10k-labels-idx1-ubyte.gz":
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    "t10k-images-idx3-ubyte.gz":
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "mnist.npz":
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
}

_IDX_MAGIC = {1: 2049, 3: 2051}  # ndim -> magic for unsigned-byte IDX files
# The most items an IDX file may declare: the official release's counts (by file name prefix).
MAX_ITEMS = {"train-": 60_000, "t10k-": 10_000}
MNIST_NPZ_MAX_BYTES = 16 << 20  # the official mnist.npz is 11,490,434 bytes
MNIST_INFLATED_MAX_BYTES = 64 << 20  # and its arrays 54,880,000 bytes
MAX_DOWNLOAD_BYTES = 64 << 20  # the largest official file (train images) is 26,421,880 bytes


class DataNotFoundError(FileNotFoundError):
    """No local copy of a dataset file exists and downloading it failed."""


def keras_cache_dir():
    """Folder Keras caches datasets in: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return os.path.join(os.path.expanduser(home), "datasets")


def lamina_data_dir():
    """The folder named by ``$LAMINA_DATA``, or None when unset."""
    value = os.environ.get("LAMINA_DATA")
    return os.path.expanduser(value) if value else None


def _check_sha256(path, data, key):
    _check_digest(path, hashlib.sha256(data).hexdigest(), key)


def _check_digest(path, actual, key):
    if actual != SHA256[key]:
        raise ValueError(
            f"{path}: SHA-256 mismatch (expected {SHA256[key]}, got {actual}); "
            "the file is corrupt or not the official release. Delete it and retry.")


def _max_items(key):
    return next((count for prefix, count in MAX_ITEMS.items() if key.startswith(prefix)), max(MAX_ITEMS.values()))


def read_idx_gz(path, ndim, key=None):
    """Read and verify a gzipped unsigned-byte IDX file (labels: ndim=1, images: ndim=3).

    Example (on a file of the dataset's, so not a doctest)::

        y = read_idx_gz("train-labels-idx1-ubyte.gz", ndim=1)
    """
    key = key or os.path.basename(path)
    try:
        with open_regular(path, "the dataset loader") as raw, gzip.GzipFile(fileobj=raw) as f:
            head = f.read(4 + 4 * ndim)
            dims = _check_idx_header(path, head, ndim, key)
            want = int(np.prod(dims))
            payload = f.read(want + 1)  # one byte more than the header implies shows padding
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: not a valid gzip file or truncated ({e})") from None
    if len(payload) != want:
        size = f"more than the {want:,} bytes" if len(payload) > want else f"{len(payload)} bytes, not the {want:,}"
        raise ValueError(f"{path}: payload is {size} header {dims} implies (truncated or padded file)")
    _check_sha256(path, head + payload, key)
    # copy() so callers get a writable array, like an ordinary NumPy load.
    return np.frombuffer(payload, np.uint8).reshape(dims).copy()


def _check_idx_header(path, head, ndim, key):
    """The dimensions an IDX header declares, refused unless the official file could have them."""
    if len(head) < 4 + 4 * ndim:
        raise ValueError(f"{path}: IDX header truncated ({len(head)} bytes)")
    magic = int.from_bytes(head[:4], "big")
    if magic != _IDX_MAGIC[ndim]:
        raise ValueError(f"{path}: bad IDX magic number {magic}, expected {_IDX_MAGIC[ndim]}")
    dims = tuple(int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    if dims[0] > _max_items(key):
        raise ValueError(f"{path}: header declares {dims[0]} items; the official {key} holds at most "
                         f"{_max_items(key):,}")
    if ndim == 3 and dims[1:] != (28, 28):
        raise ValueError(f"{path}: images are {dims[1]}x{dims[2]}, expected 28x28")
    return dims


def read_mnist_npz(path, key="mnist.npz"):
    """Read and verify Keras's ``mnist.npz``; returns ``((x_train, y_train), (x_test, y_test))``."""
    try:
        with open_regular(path, "the dataset loader") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MNIST_NPZ_MAX_BYTES:
                raise ValueError(f"{path}: {size:,} bytes, more than the {MNIST_NPZ_MAX_BYTES:,} an MNIST npz "
                                 "holds (the official one is 11,490,434)")
            digest = hashlib.sha256()
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError as e:
        raise ValueError(f"{path}: cannot read file ({e})") from None
    _check_digest(path, digest.hexdigest(), key)
    try:
        arrays = read_npz(path, "the dataset loader", MNIST_INFLATED_MAX_BYTES)
        x_tr, y_tr, x_te, y_te = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except (ValueError, KeyError) as e:
        raise ValueError(f"{path}: not a valid MNIST npz archive ({e})") from None
    for x, y in ((x_tr, y_tr), (x_te, y_te)):
        if (x.dtype != np.uint8 or y.dtype != np.uint8 or x.ndim != 3
                or x.shape[1:] != (28, 28) or y.shape != x.shape[:1]):
            raise ValueError(f"{path}: unexpected arrays {x.dtype}{x.shape} / "
                             f"{y.dtype}{y.shape}; expected uint8 (N, 28, 28) / (N,)")
    return (x_tr, y_tr), (x_te, y_te)


def _progress(url, done, total):
    mb = done / 1e6
    msg = f"{mb:.1f}/{total / 1e6:.1f} MB ({100 * done // total}%)" if total else f"{mb:.1f} MB"
    sys.stderr.write(f"\rDownloading {url}: {msg}")
    sys.stderr.flush()


def download(url, dest, reader):
    """Download ``url`` to ``dest`` atomically; ``reader(tmp_path)`` must accept it first.

    The temp file lives next to ``dest`` so ``os.replace`` is atomic; nothing is
    left behind on failure, so a bad or partial download never poses as data.
    Returns whatever ``reader`` returned.
    """
    folder = os.path.dirname(dest) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(dest) + ".", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp:
                total = int(resp.headers.get("Content-Length") or 0)
                done, shown = 0, -1
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
                    done += len(chunk)
                    if done > MAX_DOWNLOAD_BYTES:
                        raise OSError(f"the server sent more than the {MAX_DOWNLOAD_BYTES:,} bytes expected")
                    step = done * 20 // total if total else done  # redraw every 5%
                    if step != shown:
                        shown = step
                        _progress(url, done, total)
                sys.stderr.write("\n")
                if total and done != total:
                    raise OSError(f"incomplete download: got {done} of {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        try:
            result = reader(tmp)
        except ValueError as e:
            raise ValueError(f"downloaded {url} failed verification and was deleted: {e}") from None
        os.replace(tmp, dest)
        return result
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def fetch(what, candidates, url, dest, reader, hints):
    """Read the first existing candidate path, else download ``url`` to ``dest``.

    ``candidates`` is a list of paths (None entries record an unset source as a
    string reason instead).  A found file that fails ``reader`` raises
    ``ValueError`` rather than silently falling through: corrupt data should be
    noticed, not papered over.  When nothing works, raises
    :class:`DataNotFoundError` listing every place looked and ``hints``.

    Example (it may download, so it is not run as a doctest)::

        fetch("MNIST", ["/data/mnist.npz"], BASE_URL + "mnist.npz", "/tmp/mnist.npz", read_mnist_npz, [])
    """
    looked = []
    for cand in candidates:
        if cand.startswith("$"):  # a note such as "$LAMINA_DATA (not set)"
            looked.append(cand)
        elif os.path.isfile(cand):
            return reader(cand)
        elif os.path.exists(cand):
            raise ValueError(f"{cand} is a folder or another non-file, where {what} should be a file: "
                             "remove or rename it")
        else:
            looked.append(f"{cand} (missing)")
    try:
        return download(url, dest, reader)
    except (OSError, http.client.HTTPException) as e:
        looked.append(f"download {url} -> {dest} (failed: {e})")
    lines = [f"{what} not found. Looked in:"] + [f"  - {p}" for p in looked]
    lines += ["To get it:"] + [f"  - {h}" for h in hints]
    raise DataNotFoundError("\n".join(lines))
