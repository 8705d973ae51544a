"""``report.html``: one self-contained page about a training run, readable offline.

Pictures are embedded as base64 ``data:`` URIs and the style sheet is inline, so the page can be
mailed, copied off a remote machine, archived or opened from a USB stick without the files next
to it. Epochs are numbered from 1 everywhere on the page, as the progress output numbers them.
"""
from __future__ import annotations

import base64
import html
import os

import numpy as np

from ._atomic import atomic_write

__all__ = ["best_epoch", "class_scores", "render_report", "write_report"]

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1000px; padding: 0 1em; color: #202020; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.lead { color: #555; margin-top: 0; }
.interrupted { background: #fff3cd; border: 1px solid #e0c36a; padding: 0.6em 0.9em; border-radius: 4px; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; } td.key, th.key { text-align: left; font-weight: 600; } td.text { text-align: left; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
/* the summary's box-drawing characters join only at the font's own line height */
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; line-height: 1.15;
      font-family: "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace; }
.model img { max-height: 900px; }
.note { color: #555; font-size: 0.9em; }
"""


def number(value) -> str:
    """A number at a precision a person reads: ints whole, floats to 4 significant digits."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value == 0 or not np.isfinite(value):
            return str(value)
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}" if abs(value) >= 1e-3 else f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(number(v) for v in value)
    return str(value)


def class_scores(y_true, y_pred, class_names: list[str]) -> list[dict]:
    """Precision, recall, F1 and support of each class (0 where a class is never predicted or
    never present, as scikit-learn's ``zero_division=0``)."""
    n = len(class_names)
    truth, guess = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    hits = np.bincount(truth[truth == guess], minlength=n)[:n].astype(float)
    support = np.bincount(truth, minlength=n)[:n]
    predicted = np.bincount(guess, minlength=n)[:n]
    precision = np.divide(hits, predicted, out=np.zeros(n), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros(n), where=support > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(n), where=total > 0)
    return [{"class": name, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(class_names, precision, recall, f1, support)]


def best_epoch(history: dict) -> tuple[int, str, float] | None:
    """``(epoch from 1, key, value)`` of the lowest ``val_loss`` (``loss`` without validation)."""
    key = "val_loss" if history.get("val_loss") else "loss"
    values = history.get(key) or []
    if not values:
        return None
    index = int(np.nanargmin(values)) if np.isfinite(values).any() else 0
    return index + 1, key, float(values[index])


def _data_uri(path: str) -> str:
    mime = _MIME.get(os.path.splitext(path)[1].lower(), "application/octet-stream")
    with open(path, "rb") as f:
        return f"data:{mime};base64,{base64.b64encode(f.read()).decode('ascii')}"


def _key_table(rows: dict) -> str:
    cells = "".join(f'<tr><td class="key">{html.escape(str(k))}</td><td class="text">{html.escape(number(v))}</td>'
                    "</tr>" for k, v in rows.items())
    return f"<table>{cells}</table>"


def _scores_table(rows: list[dict]) -> str:
    head = '<tr><th class="key">class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>'
    body = "".join(f'<tr><td class="key">{html.escape(r["class"])}</td><td>{r["precision"]:.3f}</td>'
                   f'<td>{r["recall"]:.3f}</td><td>{r["f1"]:.3f}</td><td>{r["support"]:,}</td></tr>' for r in rows)
    macro = [float(np.mean([r[k] for r in rows])) for k in ("precision", "recall", "f1")]
    body += (f'<tr><td class="key">macro average</td><td>{macro[0]:.3f}</td><td>{macro[1]:.3f}</td>'
             f'<td>{macro[2]:.3f}</td><td>{sum(r["support"] for r in rows):,}</td></tr>')
    return f"<table>{head}{body}</table>"


def _history_table(history: dict, interrupted: dict | None) -> str:
    keys = sorted(history)
    epochs = max((len(v) for v in history.values()), default=0)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["epoch", *keys])
    rows = []
    for e in range(epochs):
        label = str(e + 1)
        if interrupted and e == epochs - 1 and interrupted["epoch"] == e + 1:
            label += f" (to batch {interrupted['batch']:,} of {interrupted['steps']:,})"
        cells = "".join(f"<td>{history[k][e]:.4f}</td>" if e < len(history[k]) else "<td></td>" for k in keys)
        rows.append(f"<tr><td>{label}</td>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def render_report(title: str, metrics: dict, settings: dict | None = None, images: dict | None = None,
                  summary: str | None = None, history: dict | None = None, run: dict | None = None,
                  per_class: list[dict] | None = None, interrupted: dict | None = None) -> str:
    """The page as text; see :func:`write_report` for the arguments."""
    if interrupted:
        title += " (interrupted)"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    if "test_accuracy" in metrics:
        parts.append(f'<p class="lead">Test accuracy <b>{metrics["test_accuracy"]:.2%}</b></p>')
    if interrupted:
        parts.append(f'<p class="interrupted">Interrupted (Ctrl-C) at epoch {interrupted["epoch"]:,}, batch '
                     f'{interrupted["batch"]:,} of {interrupted["steps"]:,}: the results below are those of the '
                     "model as it was then; that epoch was not validated.</p>")
    parts += ["<h2>Results</h2>", _key_table(metrics)]
    if per_class:
        parts += ["<h2>Per class (test set)</h2>", _scores_table(per_class)]
    if settings:
        parts += ["<h2>Settings</h2>", _key_table(settings)]
    if run:
        parts += ["<h2>Run</h2>", _key_table(run)]
    for section, picture in (images or {}).items():
        css = ' class="model"' if "model" in section.lower() else ""
        parts += [f"<h2>{html.escape(section)}</h2>",
                  f'<div{css}><img src="{_data_uri(os.fspath(picture))}" alt="{html.escape(section)}"></div>']
    if summary:
        parts += ["<h2>Model summary</h2>", f"<pre>{html.escape(summary)}</pre>"]
    if history:
        parts += ["<h2>History</h2>",
                  '<p class="note">Epochs are numbered from 1, as in the progress output (Epoch 1/N).</p>',
                  _history_table(history, interrupted)]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(path: str | os.PathLike, title: str, metrics: dict, settings: dict | None = None,
                 images: dict | None = None, summary: str | None = None, history: dict | None = None,
                 run: dict | None = None, per_class: list[dict] | None = None,
                 interrupted: dict | None = None) -> str:
    """Write the page to ``path`` (atomically) and return the path.

    ``metrics``, ``settings`` and ``run`` (date, versions, command line) are shown as two-column
    tables; ``per_class`` is :func:`class_scores`'s rows; ``images`` maps a section title to a
    picture file (PNG or SVG), embedded in the page; ``summary`` is ``model.summary()``'s text
    and ``history`` the ``History.history`` dict (one row per epoch); ``interrupted`` is
    ``{"epoch", "batch", "steps"}`` when Ctrl-C stopped training.

    >>> import os, pathlib, tempfile
    >>> page = write_report(os.path.join(tempfile.mkdtemp(), "report.html"), "Run",
    ...                     {"test_accuracy": 0.875})
    >>> "87.50%" in pathlib.Path(page).read_text()
    True
    """
    page = render_report(title, metrics, settings, images, summary, history, run, per_class, interrupted)
    with atomic_write(path, "w") as f:
        f.write(page)
    return os.fspath(path)
