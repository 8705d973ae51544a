"""``report.html``: one self-contained page about a training run, readable offline.

Pictures are embedded as base64 ``data:`` URIs and the style sheet is inline, so the page can be
mailed, archived or opened from a USB stick without the files next to it.
"""
from __future__ import annotations

import base64
import html
import os

__all__ = ["write_report"]

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1000px; padding: 0 1em; color: #202020; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th { background: #f3f3f3; } td.key { text-align: left; font-weight: 600; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.model img { max-height: 900px; }
"""


def _data_uri(path: str) -> str:
    mime = _MIME.get(os.path.splitext(path)[1].lower(), "application/octet-stream")
    with open(path, "rb") as f:
        return f"data:{mime};base64,{base64.b64encode(f.read()).decode('ascii')}"


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _key_table(rows: dict) -> str:
    cells = "".join(f'<tr><td class="key">{html.escape(str(k))}</td><td>{html.escape(_format(v))}</td></tr>'
                    for k, v in rows.items())
    return f"<table>{cells}</table>"


def _history_table(history: dict) -> str:
    keys = sorted(history)
    epochs = max((len(v) for v in history.values()), default=0)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["epoch", *keys])
    body = "".join("<tr><td>" + str(e + 1) + "</td>" + "".join(
        f"<td>{history[k][e]:.4f}</td>" if e < len(history[k]) else "<td></td>" for k in keys) + "</tr>"
        for e in range(epochs))
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(path: str | os.PathLike, title: str, metrics: dict, settings: dict | None = None,
                 images: dict | None = None, summary: str | None = None, history: dict | None = None) -> str:
    """Write the page to ``path`` and return the path.

    ``metrics`` and ``settings`` are shown as two-column tables; ``images`` maps a section title
    to a picture file (PNG or SVG), embedded in the page; ``summary`` is ``model.summary()``'s
    text and ``history`` the ``History.history`` dict (one row per epoch).

    >>> import os, pathlib, tempfile
    >>> page = write_report(os.path.join(tempfile.mkdtemp(), "report.html"), "Run",
    ...                     {"test_accuracy": 0.875})
    >>> "0.8750" in pathlib.Path(page).read_text()
    True
    """
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    if "test_accuracy" in metrics:
        parts.append(f'<p class="lead">Test accuracy <b>{metrics["test_accuracy"]:.2%}</b></p>')
    parts += ["<h2>Results</h2>", _key_table(metrics)]
    if settings:
        parts += ["<h2>Settings</h2>", _key_table(settings)]
    for section, picture in (images or {}).items():
        css = ' class="model"' if "model" in section.lower() else ""
        parts += [f"<h2>{html.escape(section)}</h2>",
                  f'<div{css}><img src="{_data_uri(os.fspath(picture))}" alt="{html.escape(section)}"></div>']
    if summary:
        parts += ["<h2>Model summary</h2>", f"<pre>{html.escape(summary)}</pre>"]
    if history:
        parts += ["<h2>History</h2>", _history_table(history)]
    parts.append("</body></html>\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    return os.fspath(path)
