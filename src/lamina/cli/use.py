"""``lamina summary``, ``evaluate`` and ``predict``: using a saved model.

``predict --output`` writes exactly the path given (``.csv`` or ``.npy``, by its suffix),
atomically, and never replaces a file unless ``--overwrite`` is given.
"""
from __future__ import annotations

import csv
import io
import json
import os
import stat

import numpy as np

from .._atomic import atomic_write
from . import datasets
from .errors import UsageError

OUTPUT_SUFFIXES = (".csv", ".npy")


def _regular_file(path: str, what: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise UsageError(f"cannot read {what} {path}: {(error.strerror or str(error)).lower()}") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"cannot read {what} {path}: not a regular file")


def load_model(path: str, compile: bool = True):
    """The model in ``path``; a file that is missing or not a model is a usage error."""
    from ..saving import load_model as load

    _regular_file(path, "model file")
    try:
        return load(path, compile=compile)
    except (ValueError, OSError) as error:  # what loading says of a file that is not a model it can read
        raise UsageError(f"cannot read model file {path}: {error}") from None


def check_fits(model, x: np.ndarray, y: np.ndarray | None, model_path: str, what: str) -> None:
    """Samples of the wrong shape, or labels past the model's outputs, are the user's: say so
    before lamina is asked to compute anything."""
    expected = tuple(model.input_shape[1:])
    if len(expected) != x.ndim - 1 or any(e is not None and e != d for e, d in zip(expected, x.shape[1:])):
        raise UsageError(f"{what} has samples of shape {x.shape[1:]}, but the model in {model_path} takes "
                         f"{expected}")
    units = model.output_shape[-1]
    if y is not None and units and units > 1 and len(y) and not 0 <= int(y.min()) <= int(y.max()) < units:
        raise UsageError(f"{what} has class ids from {int(y.min())} to {int(y.max())}, but the model in "
                         f"{model_path} has {units} output units")


def summary(args) -> int:
    """``lamina summary MODEL``."""
    load_model(args.model, compile=False).summary()  # the layers only: no optimizer to build
    return 0


def evaluate(args) -> int:
    """``lamina evaluate MODEL --dataset D``: the loss and metrics on the test split."""
    model = load_model(args.model)
    data = datasets.load(args.dataset)
    if not getattr(model, "compiled", False) or getattr(model, "loss", None) is None:
        raise UsageError(f"{args.model} holds a model saved without compile(): it has no loss to evaluate")
    check_fits(model, data.x_test, data.y_test, args.model, f"the dataset {args.dataset}")
    results = model.evaluate(datasets.scaled(data.x_test), data.y_test, batch_size=args.batch_size,
                             verbose=args.verbose, return_dict=True)
    for name, value in results.items():
        print(f"{name}: {value:.4f}")
    return 0


def _class_names(args) -> list[str] | None:
    """From ``--dataset``, else from the ``metrics.json`` that ``lamina train`` wrote beside the model."""
    if args.dataset:
        return datasets.class_names(args.dataset)
    beside = os.path.join(os.path.dirname(os.path.abspath(args.model)), "metrics.json")
    try:
        with open(beside, encoding="utf-8") as f:
            names = json.load(f).get("class_names")
    except (OSError, ValueError, AttributeError):
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def _check_output(path: str, overwrite: bool) -> str:
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--output {path}: expected a file name ending in .csv or .npy")
    if os.path.isdir(path):
        raise UsageError(f"--output {path} is a folder: give a file name ending in .csv or .npy")
    if os.path.lexists(path) and not overwrite:
        raise UsageError(f"--output {path} already exists: pass --overwrite to replace it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--output {path}: the folder {folder} does not exist")
    return suffix


def _read_input(path: str) -> np.ndarray:
    _regular_file(path, "input file")
    try:  # mapped, not read: a header declaring more than the file holds is refused here
        x = np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError, EOFError) as error:
        raise UsageError(f"cannot read input file {path}: {error}") from None
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf" or x.ndim < 1 or len(x) == 0:
        raise UsageError(f"{path} must hold one non-empty numeric array (an .npy file), got "
                         f"{getattr(x, 'dtype', type(x).__name__)}")
    return x


def _csv(predictions: np.ndarray, names: list[str] | None) -> str:
    rows = predictions.reshape(len(predictions), -1)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if rows.shape[1] == 1:
        writer.writerow(["prediction"])
        writer.writerows([[f"{v:.6g}"] for v in rows[:, 0]])
    else:
        columns = names if names and len(names) == rows.shape[1] else [str(i) for i in range(rows.shape[1])]
        writer.writerow(["predicted_class", *columns])
        for row in rows:
            writer.writerow([columns[int(row.argmax())], *[f"{v:.6g}" for v in row]])
    return buffer.getvalue()


def predict(args) -> int:
    """``lamina predict MODEL INPUT.npy [--output FILE.csv|FILE.npy]``."""
    suffix = _check_output(args.output, args.overwrite) if args.output else None
    model = load_model(args.model)
    x = _read_input(args.input)
    names = _class_names(args)
    check_fits(model, x, None, args.model, args.input)
    predictions = model.predict(datasets.scaled(np.asarray(x)), batch_size=args.batch_size, verbose=0)
    if suffix == ".npy":
        with atomic_write(args.output, "wb") as f:
            np.save(f, predictions)
    elif suffix == ".csv":
        with atomic_write(args.output, "w") as f:
            f.write(_csv(predictions, names))
    if args.output:
        print(f"Predictions {predictions.shape} written to {args.output}")
        return 0
    for row in predictions.reshape(len(predictions), -1):
        if len(row) == 1:
            print(f"{float(row[0]):.6g}")
        else:
            index = int(row.argmax())
            print(names[index] if names and len(names) == len(row) else index)
    return 0
