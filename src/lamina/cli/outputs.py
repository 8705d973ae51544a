"""Where ``lamina train`` writes, and how: a folder checked before training, every file atomic.

A run never replaces another run's files unless asked (``--overwrite``), and a folder it cannot
write to is found before the first epoch, not after the last.
"""
from __future__ import annotations

import csv
import datetime
import importlib.util
import io
import os
import sys
import tempfile

from .._atomic import atomic_write
from .errors import UsageError

# Everything a run may write; with --overwrite, those of an earlier run that this one does not
# write again are removed, so the folder describes one run.
RUN_FILES = ("model.keras", "history.csv", "summary.txt", "metrics.json", "report.html",
             "learning_curves.png", "confusion_matrix.png", "sample_predictions.png", "model.png")
MAX_CONFUSION_CLASSES = 50  # beyond this a confusion matrix picture is unreadable
SAMPLE_IMAGES = 20  # test images shown with their predictions


def _fresh_default(label: str) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = os.path.join("runs", f"{label}-{stamp}")
    folder, n = base, 1
    while os.path.exists(folder):  # two runs in the same second
        n += 1
        folder = f"{base}-{n}"
    return folder


def prepare_folder(out: str | None, label: str, overwrite: bool) -> str:
    """The run's folder, created and proven writable; refused when it holds files and
    ``overwrite`` is not set."""
    out = out or _fresh_default(label)
    if os.path.lexists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file, not a folder")
    if os.path.isdir(out):
        present = sorted(os.listdir(out))
        if present and not overwrite:
            shown = ", ".join(present[:4]) + (", ..." if len(present) > 4 else "")
            raise UsageError(f"--out {out} already holds {len(present)} file(s) ({shown}): choose a new folder, "
                             "or pass --overwrite to replace lamina's files in it")
    try:
        os.makedirs(out, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".lamina-probe-")
        os.close(fd)
        os.remove(probe)
    except OSError as error:
        raise UsageError(f"cannot write to the output folder {out}: {error.strerror or error}") from None
    return out


def write_text(path: str, text: str) -> None:
    """``text`` to ``path``, atomically (UTF-8)."""
    with atomic_write(path, "w") as f:
        f.write(text)


def write_history(path: str, history: dict) -> None:
    """One row per epoch, numbered from 1 as the progress output numbers them."""
    keys = sorted(history)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for index in range(max((len(history[k]) for k in keys), default=0)):
        writer.writerow([index + 1, *[repr(float(history[k][index])) if index < len(history[k]) else ""
                                      for k in keys]])
    write_text(path, buffer.getvalue())


def remove_stale(out: str, written: set[str]) -> None:
    """Remove an earlier run's files that this run did not write (only lamina's own names)."""
    for name in RUN_FILES:
        if name not in written and os.path.isfile(os.path.join(out, name)):
            os.remove(os.path.join(out, name))


def can_draw() -> bool:
    """Whether matplotlib is there; said before training when it is not."""
    if importlib.util.find_spec("matplotlib") is not None:
        return True
    print("lamina: note: matplotlib is not installed (pip install 'lamina[plot]'): the report will have no "
          "pictures", file=sys.stderr)
    return False


def _save_figure(figure, path: str) -> None:
    import matplotlib.pyplot as plt

    with atomic_write(path, "wb") as f:
        figure.savefig(f, format="png", dpi=100, facecolor="white")
    plt.close(figure)


def draw_pictures(out: str, model, history: dict, data, predicted) -> dict:
    """The report's pictures as section title -> file."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, whatever the machine's display
    from ..utils import plot_confusion_matrix, plot_history, plot_images, plot_model

    files = {}
    if history and any(len(v) for v in history.values()):
        files["Learning curves"] = os.path.join(out, "learning_curves.png")
        _save_figure(plot_history(history), files["Learning curves"])
    if len(data.class_names) <= MAX_CONFUSION_CLASSES:
        files["Confusion matrix (test set)"] = os.path.join(out, "confusion_matrix.png")
        _save_figure(plot_confusion_matrix(data.y_test, predicted, data.class_names),
                     files["Confusion matrix (test set)"])
    if data.x_test.ndim in (3, 4):  # pictures, not rows of a table
        title = "Sample test predictions (red: wrong, shown as predicted (true))"
        files[title] = os.path.join(out, "sample_predictions.png")
        count = min(SAMPLE_IMAGES, len(data.x_test))
        _save_figure(plot_images(data.x_test[:count], data.y_test[:count], data.class_names,
                                 predictions=predicted[:count], n_cols=5), files[title])
    files["Model"] = os.path.join(out, "model.png")
    picture = plot_model(model, to_file=None, format="png", show_shapes=True, show_layer_names=True,
                         show_layer_activations=True, dpi=100)
    with atomic_write(files["Model"], "wb") as f:
        f.write(picture.data)
    return files
