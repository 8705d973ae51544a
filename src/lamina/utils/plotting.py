"""The lesson's pictures in one call each: learning curves, image grids, a confusion matrix.

Each function draws a figure that pyplot manages (so ``plt.show()`` shows it, and a notebook
shows it once at the end of the cell), saves it when given ``to_file`` and returns it; close it
with ``plt.close(figure)`` when drawing many. matplotlib is imported only here, when a picture is
asked for, with the install line in the error when it is missing.
"""
from __future__ import annotations

import math
import os

import numpy as np

from .._optional import require

__all__ = ["plot_confusion_matrix", "plot_history", "plot_images"]

_MAX_ROWS = 10  # n_rows=None shows at most this many rows of images


def _figure(width: float, height: float):
    require("matplotlib.figure", "Plotting")
    pyplot = require("matplotlib.pyplot", "Plotting")
    return pyplot.figure(figsize=(width, height), layout="constrained")


def _save(figure, to_file) -> None:
    if to_file is not None:
        figure.savefig(os.fspath(to_file), dpi=100, facecolor="white")


# --- learning curves ---------------------------------------------------------------------------
def plot_history(history, to_file: str | os.PathLike | None = None, metrics: list[str] | None = None):
    """The loss and each metric per epoch on axes of their own: training dashed, validation solid.

    ``history`` is what ``fit`` returned or its ``.history`` dict; ``metrics`` picks the
    training keys to draw (their ``val_`` twins come along), all of them by default. Epochs are
    numbered from 1, as the progress output numbers them. This is the lesson's
    ``pd.DataFrame(history.history).plot(...)`` in one call, with each scale on its own axes.

    >>> import lamina
    >>> figure = lamina.utils.plot_history({"loss": [0.9, 0.5], "val_loss": [1.0, 0.7],
    ...                                     "accuracy": [0.6, 0.8]})
    >>> [axes.get_title() for axes in figure.axes]
    ['loss', 'accuracy']
    >>> [line.get_label() for line in figure.axes[0].get_lines()]
    ['loss', 'val_loss']
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"plot_history expects a History or its .history dict, got {type(history).__name__}")
    if not logs or not any(len(values) for values in logs.values()):
        raise ValueError("plot_history got an empty history: train for at least one epoch first")
    names = [k for k in logs if not k.startswith("val_")] if metrics is None else list(metrics)
    names = sorted(names, key=lambda k: k != "loss")  # the loss first
    unknown = [m for m in names if m not in logs]
    if unknown:
        raise ValueError(f"plot_history: no {unknown} in the history; it has {sorted(logs)}")
    epochs = [e + 1 for e in (getattr(history, "epoch", None) or range(len(next(iter(logs.values())))))]
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    figure = _figure(4.2 * columns + 0.6, 3.4 * rows)
    from matplotlib.ticker import MaxNLocator
    for i, name in enumerate(names):
        axes = figure.add_subplot(rows, columns, i + 1)
        axes.plot(epochs[:len(logs[name])], logs[name], "--.", color="tab:red", label=name)
        if f"val_{name}" in logs:
            axes.plot(epochs[:len(logs[f"val_{name}"])], logs[f"val_{name}"], "-*", color="tab:blue",
                      label=f"val_{name}")
        axes.set_title(name)
        axes.set_xlabel("Epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(True)
        axes.legend(loc="best")
    _save(figure, to_file)
    return figure


# --- image grids -------------------------------------------------------------------------------
def _labels(values, what: str, count: int) -> np.ndarray:
    """Class ids from ids, one-hot rows or probability rows."""
    array = np.asarray(values)
    if array.ndim == 2:
        array = array.argmax(axis=-1)
    if array.ndim != 1 or len(array) < count:
        raise ValueError(f"plot_images expects {what} with one label (or one row of scores) per image "
                         f"({count} images), got shape {np.asarray(values).shape}")
    return array[:count].astype(int)


def _images(x) -> np.ndarray:
    images = np.asarray(x)
    if images.ndim == 2:  # flat rows such as (n, 784): square images when the side is whole
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"plot_images cannot tell the image size of flat rows of {images.shape[1]} "
                             "values: pass x shaped (n, height, width)")
        images = images.reshape(len(images), side, side)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"plot_images expects x shaped (n, height, width) or (n, height, width, channels) "
                         f"with n >= 1, got shape {np.asarray(x).shape}")
    return images


def plot_images(x, y=None, class_names: list[str] | None = None, predictions=None, n_cols: int = 10,
                n_rows: int | None = None, to_file: str | os.PathLike | None = None):
    """A grid of images titled with their labels; wrong predictions get a red ``"pred (true)"``.

    ``y`` and ``predictions`` may be class ids, one-hot rows or probability rows (the arg max is
    taken). ``n_rows=None`` shows every image of ``x``, up to 10 rows.

    >>> import numpy as np, lamina
    >>> figure = lamina.utils.plot_images(np.zeros((3, 28, 28)), y=[0, 1, 2],
    ...                                   predictions=[0, 1, 1], class_names=["a", "b", "c"])
    >>> [axes.get_title() for axes in figure.axes]
    ['a', 'b', 'b (c)']
    """
    images = _images(x)
    if isinstance(n_cols, bool) or not isinstance(n_cols, (int, np.integer)) or n_cols < 1:
        raise ValueError(f"plot_images expects n_cols to be a positive int, got {n_cols!r}")
    if n_rows is not None and (isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer))
                               or n_rows < 1):
        raise ValueError(f"plot_images expects n_rows to be a positive int or None, got {n_rows!r}")
    n_cols = min(n_cols, len(images))
    n_rows = n_rows or min(math.ceil(len(images) / n_cols), _MAX_ROWS)
    count = min(len(images), n_rows * n_cols)
    truth = None if y is None else _labels(y, "y", count)
    guess = None if predictions is None else _labels(predictions, "predictions", count)

    def name(label) -> str:
        if class_names is None:
            return str(label)
        if not 0 <= label < len(class_names):
            raise ValueError(f"plot_images: label {label} has no entry in class_names "
                             f"({len(class_names)} names)")
        return class_names[label]

    titles = [name(label) for label in (*(truth if truth is not None else ()), *(guess if guess is not None else ()))]
    longest = max((len(t) for t in titles), default=0) * (2 if guess is not None and truth is not None else 1) + 3
    # each cell as wide as its longest title at 9 pt (about 0.075 inch a character), so none overlap
    figure = _figure(n_cols * max(1.2, 0.075 * longest), n_rows * 1.45)
    for i in range(count):
        axes = figure.add_subplot(n_rows, n_cols, i + 1)
        axes.imshow(images[i], cmap="binary", interpolation="nearest")
        axes.axis("off")
        if guess is not None and truth is not None and guess[i] != truth[i]:
            axes.set_title(f"{name(guess[i])} ({name(truth[i])})", color="red", fontsize=9)
        elif guess is not None or truth is not None:
            known = guess if guess is not None else truth
            assert known is not None  # the elif's condition
            axes.set_title(name(known[i]), fontsize=9)
    _save(figure, to_file)
    return figure


# --- confusion matrix --------------------------------------------------------------------------
def plot_confusion_matrix(y_true, y_pred, class_names: list[str] | None = None,
                          to_file: str | os.PathLike | None = None, normalize: bool = False):
    """Counts of each (true class, predicted class) pair, with the count written in each cell.

    ``y_pred`` may be class ids or probability rows; ``normalize=True`` shows each true class's
    row as fractions of that class.

    >>> import lamina
    >>> figure = lamina.utils.plot_confusion_matrix([0, 1, 1], [0, 1, 0], class_names=["no", "yes"])
    >>> figure.axes[0].get_xlabel()
    'Predicted label'
    """
    truth = np.asarray(y_true)
    if truth.ndim == 2:
        truth = truth.argmax(axis=-1)
    guess = np.asarray(y_pred)
    if guess.ndim == 2:
        guess = guess.argmax(axis=-1)
    if truth.ndim != 1 or truth.shape != guess.shape or len(truth) == 0:
        raise ValueError(f"plot_confusion_matrix expects y_true and y_pred with one label per sample and "
                         f"the same length, got shapes {np.shape(y_true)} and {np.shape(y_pred)}")
    truth, guess = truth.astype(int), guess.astype(int)
    if truth.min() < 0 or guess.min() < 0:
        raise ValueError("plot_confusion_matrix expects class ids >= 0")
    n = max(int(truth.max()), int(guess.max())) + 1
    if class_names is not None:
        if len(class_names) < n:
            raise ValueError(f"plot_confusion_matrix got {len(class_names)} class_names for labels up to {n - 1}")
        n = len(class_names)
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (truth, guess), 1)
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts

    size = max(5.0, 0.55 * n + 2.5)
    figure = _figure(size + 1.0, size)
    axes = figure.add_subplot()
    image = axes.imshow(shown, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=axes, shrink=0.8)
    axes.set_xticks(range(n), names, rotation=45, ha="right")
    axes.set_yticks(range(n), names)
    axes.set_xlabel("Predicted label")
    axes.set_ylabel("True label")
    axes.set_title("Confusion matrix" + (" (each row sums to 1)" if normalize else ""))
    threshold = shown.max() / 2 if shown.max() > 0 else 1
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.2f}" if normalize else str(counts[i, j])
            axes.text(j, i, text, ha="center", va="center", fontsize=8,
                      color="white" if shown[i, j] > threshold else "black")
    _save(figure, to_file)
    return figure
