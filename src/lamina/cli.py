"""The ``lamina`` command: train the lesson's MLP and get a report, or use a saved model.

    lamina train --dataset fashion_mnist --layers 300,100 --epochs 30 --out runs/lesson
    lamina summary runs/lesson/model.keras
    lamina evaluate runs/lesson/model.keras --dataset fashion_mnist
    lamina predict runs/lesson/model.keras images.npy --output probabilities.npy

Datasets are ``fashion_mnist``, ``mnist`` or an ``.npz`` file holding ``x_train, y_train,
x_test, y_test``; uint8 images are scaled to [0, 1] as in the lesson. Bad input ends with one
line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import json
import math
import os
import sys
import time
import zipfile

import numpy as np

__all__ = ["main"]

DATASETS = ("fashion_mnist", "mnist")
ARRAYS = ("x_train", "y_train", "x_test", "y_test")
SAMPLE_IMAGES = 20  # test images shown with their predictions


class UsageError(Exception):
    """Bad input on the command line: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage too: keep errors to one line
        command = self.prog.removeprefix("lamina").strip()
        raise UsageError(f"{command}: {message}" if command else message)


# --- input ---------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _layer_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer sizes separated by commas "
                                         f"(such as 300,100), got {text!r}")
    return sizes


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0.0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _scaled(x: np.ndarray) -> np.ndarray:
    """uint8 pixels to [0, 1] floats, as the lesson divides by 255; other arrays unchanged."""
    return x / np.float32(255.0) if x.dtype == np.uint8 else x


def _load_npz(path: str):
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise UsageError(f"{path} is not an .npz archive: a dataset file holds {', '.join(ARRAYS)}")
        with archive:
            missing = [name for name in ARRAYS if name not in archive.files]
            if missing:
                raise UsageError(f"{path} has no array(s) {', '.join(missing)}: an .npz dataset needs "
                                 f"{', '.join(ARRAYS)} (it has {', '.join(archive.files) or 'none'})")
            arrays = [archive[name] for name in ARRAYS]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UsageError(f"cannot read dataset file {path}: {error}") from None
    x_train, y_train, x_test, y_test = arrays
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if x.ndim < 2 or y.ndim != 1 or len(x) != len(y) or len(x) == 0 or y.dtype.kind not in "iu":
            raise UsageError(f"{path}: x_{split} must hold one sample per row and y_{split} one integer "
                             f"class id per sample; got x_{split} {x.shape} and y_{split} {y.dtype}{y.shape}")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise UsageError(f"{path}: x_train samples are {x_train.shape[1:]} but x_test samples are {x_test.shape[1:]}")
    return (x_train, y_train), (x_test, y_test)


def load_dataset(name: str):
    """``((x_train, y_train), (x_test, y_test), class_names)`` for a dataset name or .npz path."""
    from . import datasets

    if name in DATASETS:
        module = getattr(datasets, name)
        (x_train, y_train), (x_test, y_test) = module.load_data()
        return (x_train, y_train), (x_test, y_test), list(module.class_names)
    if name.endswith(".npz") or os.path.exists(name):
        (x_train, y_train), (x_test, y_test) = _load_npz(name)
        classes = int(max(y_train.max(), y_test.max())) + 1
        return (x_train, y_train), (x_test, y_test), [str(i) for i in range(classes)]
    raise UsageError(f"unknown dataset {name!r}: expected {', '.join(DATASETS)} or a path to an .npz file")


def _dataset_label(name: str) -> str:
    return name if name in DATASETS else os.path.splitext(os.path.basename(name))[0]


def _load_model(path: str, compile: bool = True):
    from .saving import load_model

    if not os.path.isfile(path):
        raise UsageError(f"cannot read model file {path}: no such file")
    return load_model(path, compile=compile)


# --- lamina train ----------------------------------------------------------------------------------
def build_model(input_shape, layers, activation, n_classes):
    """The lesson's MLP: Flatten, one Dense per hidden size, a softmax Dense per class."""
    from . import Input, Sequential
    from .layers import Dense, Flatten

    return Sequential([Input(shape=input_shape), Flatten(),
                       *[Dense(units, activation=activation) for units in layers],
                       Dense(n_classes, activation="softmax")])


def _write_history(path, history: dict) -> None:
    keys = sorted(history)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", *keys])
        for epoch in range(len(history[keys[0]]) if keys else 0):
            writer.writerow([epoch, *[repr(float(history[k][epoch])) for k in keys]])


def _pictures(out, model, history, x_test, y_test, probabilities, class_names) -> dict:
    """Draw the report's pictures; returns section title -> file ({} without matplotlib)."""
    from .utils import plot_confusion_matrix, plot_history, plot_images, plot_model

    if importlib.util.find_spec("matplotlib") is None:
        print("matplotlib is not installed (pip install 'lamina[plot]'): the report has no pictures",
              file=sys.stderr)
        return {}
    predicted = probabilities.argmax(axis=-1)
    files = {"Learning curves": os.path.join(out, "learning_curves.png"),
             "Confusion matrix (test set)": os.path.join(out, "confusion_matrix.png")}
    plot_history(history, to_file=files["Learning curves"])
    plot_confusion_matrix(y_test, predicted, class_names, to_file=files["Confusion matrix (test set)"])
    side = math.isqrt(x_test.shape[1]) if x_test.ndim == 2 else 0
    if x_test.ndim in (3, 4) or side * side == x_test.shape[1]:  # samples that are pictures
        title = "Sample test predictions (red: wrong, shown as predicted (true))"
        files[title] = os.path.join(out, "sample_predictions.png")
        plot_images(x_test[:SAMPLE_IMAGES], y_test[:SAMPLE_IMAGES], class_names,
                    predictions=predicted[:SAMPLE_IMAGES], to_file=files[title])
    files["Model"] = os.path.join(out, "model.png")
    plot_model(model, to_file=files["Model"], show_shapes=True, show_layer_activations=True, dpi=100)
    return files


def train(args) -> int:
    from . import optimizers, random, report
    from .saving import save_model

    (x_train, y_train), (x_test, y_test), class_names = load_dataset(args.dataset)
    n_classes = max(len(class_names), int(max(y_train.max(), y_test.max())) + 1)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or os.path.join("runs", f"{_dataset_label(args.dataset)}-{stamp}")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the output folder {out}: {error}") from None

    random.set_seed(args.seed)
    model = build_model(x_train.shape[1:], args.layers, args.activation, n_classes)
    optimizer = optimizers.get({"class_name": args.optimizer, "config": {"learning_rate": args.learning_rate}})
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    x_train, x_test = _scaled(x_train), _scaled(x_test)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=args.validation_split, verbose=args.verbose)
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)
    probabilities = model.predict(x_test, batch_size=args.batch_size, verbose=0)

    save_model(model, os.path.join(out, "model.keras"))
    _write_history(os.path.join(out, "history.csv"), history.history)
    summary_lines = []
    model.summary(print_fn=summary_lines.append)
    summary = "".join(summary_lines)
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(summary)
    metrics = {"test_loss": float(test_loss), "test_accuracy": float(test_accuracy),
               "epochs": len(history.epoch), "train_seconds": round(seconds, 3),
               "train_and_validation_samples": int(len(x_train)), "test_samples": int(len(x_test))}
    settings = {"dataset": args.dataset, "layers": args.layers, "activation": args.activation,
                "optimizer": args.optimizer, "learning_rate": args.learning_rate, "epochs": args.epochs,
                "batch_size": args.batch_size, "validation_split": args.validation_split, "seed": args.seed}
    with open(os.path.join(out, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump({**metrics, "settings": settings}, f, indent=2)
        f.write("\n")
    pictures = _pictures(out, model, history, x_test, y_test, probabilities, class_names)
    page = report.write_report(os.path.join(out, "report.html"),
                               f"lamina: {_dataset_label(args.dataset)} MLP {args.layers}",
                               metrics, settings, pictures, summary, history.history)
    print(f"Test accuracy: {test_accuracy:.4f}, test loss: {test_loss:.4f}")
    print(f"Report: {page}")
    return 0


# --- lamina summary / evaluate / predict -------------------------------------------------------------
def summary(args) -> int:
    _load_model(args.model, compile=False).summary()  # the layers only: no optimizer to build
    return 0


def evaluate(args) -> int:
    model = _load_model(args.model)
    _, (x_test, y_test), _ = load_dataset(args.dataset)
    if not getattr(model, "compiled", False) or getattr(model, "loss", None) is None:
        raise UsageError(f"{args.model} holds a model saved without compile(): it has no loss to evaluate")
    results = model.evaluate(_scaled(x_test), y_test, batch_size=args.batch_size, verbose=args.verbose,
                             return_dict=True)
    for name, value in results.items():
        print(f"{name}: {value:.4f}")
    return 0


def predict(args) -> int:
    model = _load_model(args.model)
    try:
        x = np.load(args.input, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise UsageError(f"cannot read input file {args.input}: {error}") from None
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
        raise UsageError(f"{args.input} must hold one numeric array (an .npy file), got {type(x).__name__}")
    predictions = model.predict(_scaled(x), batch_size=args.batch_size, verbose=0)
    if args.output:
        np.save(args.output, predictions)
        print(f"Predictions {predictions.shape} written to {args.output}")
    else:
        for row in predictions.reshape(len(predictions), -1):
            print(int(row.argmax()) if len(row) > 1 else float(row[0]))
    return 0


# --- the parser --------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lamina", description="Train Keras-style MLPs on NumPy and look at the results.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("train", help="train an MLP and write a report",
                              description="Train an MLP (defaults: the lesson's Fashion-MNIST model) and write "
                                          "the model, its history, pictures and report.html to --out.")
    run.add_argument("--dataset", default="fashion_mnist", help="fashion_mnist, mnist or an .npz file "
                     "with x_train, y_train, x_test, y_test (default: fashion_mnist)")
    run.add_argument("--layers", type=_layer_sizes, default=[300, 100],
                     help="hidden layer sizes, comma separated (default: 300,100)")
    run.add_argument("--activation", default="relu", help="hidden layers' activation (default: relu)")
    run.add_argument("--optimizer", default="sgd", help="optimizer name (default: sgd)")
    run.add_argument("--learning-rate", type=_positive_float, default=0.01, help="default: 0.01")
    run.add_argument("--epochs", type=_positive_int, default=30, help="default: 30")
    run.add_argument("--batch-size", type=_positive_int, default=32, help="default: 32")
    run.add_argument("--validation-split", type=_fraction, default=0.1, help="default: 0.1")
    run.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    run.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help="fit's verbosity (default: 1)")
    run.add_argument("--out", help="output folder (default: runs/<dataset>-<timestamp>)")
    run.set_defaults(handler=train)

    show = commands.add_parser("summary", help="print a saved model's summary")
    show.add_argument("model", help="a .keras file")
    show.set_defaults(handler=summary)

    score = commands.add_parser("evaluate", help="evaluate a saved model on a dataset's test split")
    score.add_argument("model", help="a .keras file")
    score.add_argument("--dataset", default="fashion_mnist", help="as for train (default: fashion_mnist)")
    score.add_argument("--batch-size", type=_positive_int, default=32)
    score.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)
    score.set_defaults(handler=evaluate)

    guess = commands.add_parser("predict", help="predict with a saved model")
    guess.add_argument("model", help="a .keras file")
    guess.add_argument("input", help="an .npy file of samples")
    guess.add_argument("--output", help="write the predictions here (.npy); default: print class ids")
    guess.add_argument("--batch-size", type=_positive_int, default=32)
    guess.set_defaults(handler=predict)
    return parser


def _one_line(error: BaseException) -> str:
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the ``lamina`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    >>> main(["train", "--layers", "0"])  # doctest: +SKIP
    lamina train: argument --layers: expected positive layer sizes separated by commas ...
    2
    """
    try:
        args = _parser().parse_args(argv)
        if getattr(args, "activation", None) is not None:
            from .activations import get

            get(args.activation)  # an unknown name fails now, not after loading the data
        if getattr(args, "optimizer", None) is not None:
            from .optimizers import get

            get(args.optimizer)
        return args.handler(args)
    except (UsageError, ValueError, TypeError, KeyError, OSError, zipfile.BadZipFile) as error:
        print(f"lamina: error: {_one_line(error)}", file=sys.stderr)
        return 2
