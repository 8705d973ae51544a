"""The datasets ``lamina train`` and ``evaluate`` read: Keras's two, or a user's ``.npz``.

An ``.npz`` named on the command line is untrusted: ``_files.read_npz`` checks each member's
inflation ratio and declared size against the bytes it holds before reading it, and the labels
must name at most ``MAX_CLASSES`` classes.
"""
from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from .errors import Failure, UsageError

BUILT_IN = ("fashion_mnist", "mnist")
ARRAYS = ("x_train", "y_train", "x_test", "y_test")
MAX_CLASSES = 1000
MAX_TOTAL_BYTES = 2 << 30  # what the arrays of one .npz may inflate to (read, then copied once)
MAX_NAME_BYTES = 1 << 20  # the class_names entry


class Dataset(NamedTuple):
    """A dataset's splits (uint8 images as given) and a name for each class id."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]


def label(name: str) -> str:
    """A short name for the dataset (a file's stem), for folder names and titles."""
    return name if name in BUILT_IN else os.path.splitext(os.path.basename(name))[0]


def scaled(x: np.ndarray) -> np.ndarray:
    """uint8 pixels to [0, 1] float32, as the lesson divides by 255; other arrays unchanged."""
    return x / np.float32(255.0) if x.dtype == np.uint8 else x


def load(name: str) -> Dataset:
    """``name`` is ``fashion_mnist``, ``mnist`` or a path to an ``.npz`` file."""
    if name in BUILT_IN:
        from .. import datasets

        module = getattr(datasets, name)
        try:
            (x_train, y_train), (x_test, y_test) = module.load_data()
        except FileNotFoundError as error:  # no copy here and no download: the message says where it looked
            raise Failure(str(error)) from None
        return Dataset(x_train, y_train, x_test, y_test, list(module.class_names))
    if name.endswith(".npz") or os.path.exists(name):
        return _checked(name, _read_npz(name, ARRAYS))
    raise UsageError(f"unknown dataset {name!r}: expected {', '.join(BUILT_IN)} or a path to an .npz file")


def class_names(name: str) -> list[str] | None:
    """The class names a dataset gives, read without loading its arrays (None when it has none)."""
    if name in BUILT_IN:
        from .. import datasets

        return list(getattr(datasets, name).class_names)
    arrays = _read_npz(name, ())
    return None if "class_names" not in arrays else _names(name, arrays["class_names"], 0)


# --- reading an .npz without trusting it --------------------------------------------------------
def _read_npz(path: str, required: tuple) -> dict:
    """The arrays of a dataset file, through ``_files.read_npz``'s checks (a regular file, every
    member's header against the bytes it holds, the inflation ratio, ``MAX_TOTAL_BYTES`` in all)."""
    from .._files import read_npz

    try:
        arrays = read_npz(path, "lamina's --dataset", MAX_TOTAL_BYTES, kinds="biufU")
    except OSError as error:
        raise UsageError(f"cannot read the dataset file {path}: {(error.strerror or str(error)).lower()}") from None
    except ValueError as error:
        with open(path, "rb") as f:
            if f.read(6) == b"\x93NUMPY":
                raise UsageError(f"{path} is not an .npz archive (it is one .npy array): a dataset file holds "
                                 f"{', '.join(ARRAYS)}") from None
        raise UsageError(f"cannot read the dataset file: {error}") from None
    missing = [name for name in required if name not in arrays]
    if missing:
        raise UsageError(f"{path} has no array(s) {', '.join(missing)}: an .npz dataset needs {', '.join(ARRAYS)} "
                         f"(it has {', '.join(sorted(arrays)) or 'none'})")
    if "class_names" in arrays and arrays["class_names"].nbytes > MAX_NAME_BYTES:
        raise UsageError(f"{path}: class_names takes {arrays['class_names'].nbytes:,} bytes, more than the "
                         f"{MAX_NAME_BYTES:,} allowed")
    for name in ARRAYS:
        if name in arrays and arrays[name].dtype.kind not in "biuf":
            raise UsageError(f"{path}: {name} holds {arrays[name].dtype} values, not numbers")
    return arrays


def _names(path: str, names: np.ndarray, n_classes: int) -> list[str]:
    if names.ndim != 1 or names.dtype.kind not in "U" or len(names) < n_classes or len(names) > MAX_CLASSES:
        raise UsageError(f"{path}: class_names must be a list of at most {MAX_CLASSES} strings, one per class "
                         f"({n_classes}); got {names.dtype}{names.shape}")
    return [str(n) for n in names]


def _checked(path: str, arrays: dict) -> Dataset:
    x_train, y_train, x_test, y_test = (arrays[name] for name in ARRAYS)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if x.ndim < 2 or y.ndim != 1 or len(x) != len(y) or len(x) == 0 or y.dtype.kind not in "iu" \
                or x.dtype.kind not in "biuf":
            raise UsageError(f"{path}: x_{split} must hold one numeric sample per row and y_{split} one integer "
                             f"class id per sample; got x_{split} {x.dtype}{x.shape} and y_{split} {y.dtype}{y.shape}")
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise UsageError(f"{path}: x_{split} holds NaN or infinite values")
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= MAX_CLASSES:
            raise UsageError(f"{path}: y_{split} holds class ids from {low} to {high}; lamina train needs ids in "
                             f"[0, {MAX_CLASSES}) (one output unit per class)")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise UsageError(f"{path}: x_train samples are {x_train.shape[1:]} but x_test samples are {x_test.shape[1:]}")
    n_classes = max(int(y_train.max()), int(y_test.max())) + 1
    names = (_names(path, arrays["class_names"], n_classes) if "class_names" in arrays
             else [str(i) for i in range(n_classes)])
    return Dataset(x_train, y_train, x_test, y_test, names)
