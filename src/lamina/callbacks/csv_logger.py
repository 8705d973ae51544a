"""``CSVLogger``: one row of logs per epoch in a CSV file.

Each epoch rewrites the whole file atomically (``lamina._atomic.atomic_write``), so a run
killed at any moment leaves the file as it was after the last complete epoch, never a torn
row. The rows are short; rewriting them costs far less than an epoch.
"""
from __future__ import annotations

from typing import Any

import csv
import io
import os

import numpy as np

from .._atomic import atomic_write
from .callback import Callback


class CSVLogger(Callback):
    """Write ``epoch`` (0-based) and the epoch's logs, keys sorted, one row per epoch, as Keras
    does (Excel dialect, ``\\r\\n`` line ends, ``separator`` between fields). With ``append``,
    rows go after an existing file's (no second header); otherwise the file starts afresh.

    >>> import lamina
    >>> logger = lamina.callbacks.CSVLogger("training.log", separator=",", append=False)
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self._text: Any = None  # the file's content so far, rewritten whole each epoch
        self._writer = None
        self._header = True

    def on_train_begin(self, logs=None):
        previous = ""
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8", newline="") as file:
                previous = file.read()
        self._text = io.StringIO()
        self._text.write(previous)
        self._header = not previous.split("\n", 1)[0]
        self.keys = None
        self._writer = None
        self._flush()  # as Keras's open(filename, "w"): starts the file now, fails now if it cannot

    def _flush(self) -> None:
        folder = os.path.dirname(os.path.abspath(self.filename))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"CSVLogger cannot write filename={self.filename!r}: the folder {folder!r} "
                                    "does not exist")
        with atomic_write(self.filename, "w") as file:
            file.write(self._text.getvalue())

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            # Keras keeps a column for validation metrics the model names, present or not.
            for name in getattr(self.model, "metrics_names", ()):
                if name.startswith("val_") and name not in self.keys:
                    self.keys.append(name)
        if self._writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self._writer = csv.DictWriter(self._text, fieldnames=["epoch", *self.keys], dialect=dialect)
            if self._header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{key: _cell(logs.get(key, "NA")) for key in self.keys}})
        self._flush()

    def on_train_end(self, logs=None):
        self._writer = None


def _cell(value):
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return f'"[{", ".join(map(str, value))}]"'
    return value
