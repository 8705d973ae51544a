"""``lamina train``: the lesson's MLP on a dataset, then the model, its history and a report.

Everything the run needs (h5py to save, matplotlib for the pictures, a writable ``--out``, a
model of bounded size) is checked before the first epoch. Ctrl-C stops after the current batch:
the run's files are still written, the report marked interrupted, and the exit status is 130.
"""
from __future__ import annotations

import datetime
import json
import math
import os
import platform
import sys
import time
from typing import TYPE_CHECKING

import numpy as np

from . import datasets, outputs
from .errors import INTERRUPTED, Failure, UsageError

if TYPE_CHECKING:
    from ..models.sequential import Sequential

MAX_PARAMETERS = 100_000_000  # 400 MB of float32 weights, before the optimizer's copies


def build_model(input_shape, layers, activation, n_classes) -> Sequential:
    """The lesson's MLP: Flatten, one Dense per hidden size, a softmax Dense per class."""
    from .. import Input, Sequential
    from ..layers import Dense, Flatten

    return Sequential([Input(shape=input_shape), Flatten(),
                       *[Dense(units, activation=activation) for units in layers],
                       Dense(n_classes, activation="softmax")])


def _check_size(input_shape, layers, n_classes) -> None:
    sizes = [math.prod(input_shape), *layers, n_classes]
    parameters = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if parameters > MAX_PARAMETERS:
        raise UsageError(f"an MLP {'-'.join(map(str, sizes))} has {parameters:,} weights, more than the "
                         f"{MAX_PARAMETERS:,} lamina train builds: choose smaller --layers")


def _needs() -> bool:
    """h5py is required (to save); matplotlib only for the pictures. Returns whether to draw."""
    from .._optional import require

    try:
        require("h5py", "lamina train (to save the model)")
    except ImportError as error:
        raise Failure(str(error)) from None
    return outputs.can_draw()


def _run_info(command_line: str, started: datetime.datetime) -> dict:
    from .. import __version__

    return {"date": started.isoformat(timespec="seconds"), "command": command_line,
            "lamina": __version__, "NumPy": np.__version__, "Python": platform.python_version(),
            "machine": f"{platform.system()} {platform.machine()}"}


def _fit(args, data, n_classes):
    from .. import optimizers, random

    random.set_seed(args.seed)
    model = build_model(data.x_train.shape[1:], args.layers, args.activation, n_classes)
    optimizer = optimizers.get({"class_name": args.optimizer, "config": {"learning_rate": args.learning_rate}})
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(datasets.scaled(data.x_train), data.y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=args.validation_split, verbose=args.verbose)
    return model, history, time.perf_counter() - start


def train(args) -> int:
    """Run ``lamina train`` with parsed ``args``; returns the exit status."""
    started = datetime.datetime.now().astimezone()
    draw = _needs()
    data = datasets.load(args.dataset)
    n_classes = max(len(data.class_names), 2)
    data = data._replace(class_names=data.class_names + [str(i) for i in range(len(data.class_names), n_classes)])
    _check_size(data.x_train.shape[1:], args.layers, n_classes)
    out = outputs.prepare_folder(args.out, datasets.label(args.dataset), args.overwrite)

    model, history, seconds = _fit(args, data, n_classes)
    x_test = datasets.scaled(data.x_test)
    test_loss, test_accuracy = model.evaluate(x_test, data.y_test, batch_size=args.batch_size, verbose=0)
    predicted = model.predict(x_test, batch_size=args.batch_size, verbose=0).argmax(axis=-1)
    steps = history.params.get("steps") if history.params else None
    interrupted = (None if history.interrupted is None else
                   {"epoch": history.interrupted[0], "batch": history.interrupted[1], "steps": steps})
    metrics = {"test_loss": float(test_loss), "test_accuracy": float(test_accuracy),
               "epochs": len(history.epoch), "train_seconds": round(seconds, 3),
               "train_and_validation_samples": int(len(data.x_train)), "test_samples": int(len(data.x_test))}
    page = _write_run(out, args, model, history.history, data, predicted, metrics, interrupted, started, draw)
    print(f"Test accuracy: {test_accuracy:.4f}, test loss: {test_loss:.4f}")
    print(f"Report: {page}")
    if interrupted:
        print(f"lamina: interrupted at epoch {interrupted['epoch']}, batch {interrupted['batch']}"
              + (f" of {steps}" if steps else "") + f"; the run so far is in {out}", file=sys.stderr)
        return INTERRUPTED
    return 0


def _write_run(out, args, model, history, data, predicted, metrics, interrupted, started, draw) -> str:
    """The model, history.csv, summary.txt, metrics.json, the pictures and report.html; returns
    the report's path."""
    from .. import report
    from ..saving import save_model

    save_model(model, os.path.join(out, "model.keras"))
    outputs.write_history(os.path.join(out, "history.csv"), history)
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    outputs.write_text(os.path.join(out, "summary.txt"), "".join(lines))
    per_class = report.class_scores(data.y_test, predicted, data.class_names)
    best = report.best_epoch(history)
    metrics = {**metrics, "best_epoch": None if best is None else best[0]}
    settings = {"dataset": args.dataset, "layers": args.layers, "activation": args.activation,
                "optimizer": args.optimizer, "learning_rate": args.learning_rate, "epochs": args.epochs,
                "batch_size": args.batch_size, "validation_split": args.validation_split, "seed": args.seed,
                "loss": "sparse_categorical_crossentropy"}
    run = _run_info(args.command_line, started)
    outputs.write_text(os.path.join(out, "metrics.json"), json.dumps(
        {**metrics, "interrupted": interrupted, "settings": settings, "run": run, "class_names": data.class_names,
         "per_class": per_class}, indent=2) + "\n")
    pictures = outputs.draw_pictures(out, model, history, data, predicted) if draw else {}
    shown = {**metrics, "best_epoch": "" if best is None else f"{best[0]} (lowest {best[1]}, {best[2]:.4f})",
             "train_seconds": round(metrics["train_seconds"], 1)}
    page = report.write_report(os.path.join(out, "report.html"),
                               f"lamina: {datasets.label(args.dataset)} MLP {args.layers}", shown, settings,
                               pictures, "".join(lines), history, run, per_class, interrupted)
    outputs.remove_stale(out, {"model.keras", "history.csv", "summary.txt", "metrics.json", "report.html",
                               *(os.path.basename(p) for p in pictures.values())})
    return page
