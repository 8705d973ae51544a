"""report.html parsed as a browser would read it: every image decodes to a real picture, every
table is whole, the run is described (date, versions, command, loss, best epoch, per-class scores)
and epochs are numbered one way."""
import base64
import io
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import lamina
from lamina import cli, report

mpimg = pytest.importorskip("matplotlib.image")
PAGE_WIDTH = 1000  # the page's max-width in CSS pixels: a wider picture is shrunk, and its text with it


class Page(HTMLParser):
    """The images, tables (as rows of cells) and headings of a page."""

    def __init__(self, text):
        super().__init__()
        self.images, self.tables, self.headings, self.text = [], [], [], []
        self._cell, self._heading = None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("h1", "h2"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag in ("h1", "h2"):
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data):
        for part in (self._cell, self._heading):
            if part is not None:
                part.append(data)
        self.text.append(data)


def image_npz(path, n_train=300, n_test=60):
    rng = np.random.default_rng(0)
    names = np.array(["T-shirt/top", "Trouser", "Ankle boot"])

    def split(n):
        y = rng.integers(0, 3, n).astype(np.uint8)
        x = rng.integers(0, 60, (n, 12, 12)).astype(np.uint8)
        for i, label in enumerate(y):
            x[i, 4 * label:4 * label + 4, :] = 250
        return x, y

    (x_train, y_train), (x_test, y_test) = split(n_train), split(n_test)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, class_names=names)
    return str(path)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    data = image_npz(folder / "clothes.npz")
    out = folder / "run"
    assert cli.main(["train", "--dataset", data, "--epochs", "3", "--layers", "16", "--verbose", "0",
                     "--learning-rate", "0.1", "--out", str(out)]) == 0
    page = Page((out / "report.html").read_text())
    return data, out, page, json.loads((out / "metrics.json").read_text())


def test_every_image_is_an_embedded_picture_shown_at_its_size(run):
    _, _, page, _ = run
    assert [image["alt"] for image in page.images] == [
        "Learning curves", "Confusion matrix (test set)",
        "Sample test predictions (red: wrong, shown as predicted (true))", "Model"]
    for image in page.images:
        mime, payload = re.fullmatch(r"data:(image/png);base64,(.+)", image["src"]).groups()
        picture = mpimg.imread(io.BytesIO(base64.b64decode(payload)), format="png")
        height, width = picture.shape[:2]
        assert 100 <= height and 100 <= width, image["alt"]
        pixels = picture[..., :3].reshape(-1, 3)
        assert len(np.unique(pixels, axis=0)) > 10, image["alt"]  # not blank
        if image["alt"] != "Model":
            assert width <= PAGE_WIDTH, (image["alt"], width)  # shown at 100%: labels stay readable


def test_every_table_is_whole(run):
    _, _, page, _ = run
    assert len(page.tables) == 5  # results, per class, settings, run, history
    for table in page.tables:
        widths = {len(row) for row in table}
        assert len(widths) == 1 and all(cell != "" for row in table for cell in row), table


def test_the_run_is_described(run):
    data, _, page, metrics = run
    settings, info = dict(page.tables[2]), dict(page.tables[3])
    assert page.headings[:5] == ["lamina: clothes MLP [16]", "Results", "Per class (test set)", "Settings", "Run"]
    assert info["lamina"] == lamina.__version__ and info["NumPy"] == np.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", info["date"])
    assert info["command"] == metrics["run"]["command"] and info["command"].startswith("lamina train --dataset ")
    assert re.fullmatch(r"3\.\d+\.\d+", info["Python"])
    assert settings["loss"] == "sparse_categorical_crossentropy" and settings["layers"] == "16"
    results = dict(page.tables[0])
    best = metrics["best_epoch"]
    assert results["best_epoch"] == f"{best} (lowest val_loss, {min(metrics_history(run)['val_loss']):.4f})"
    assert results["test_accuracy"] == f"{metrics['test_accuracy']:.4g}"  # 4 significant digits, not 17
    assert results["train_seconds"] == report.number(round(metrics["train_seconds"], 1))


def metrics_history(run):
    _, out, _, _ = run
    rows = (out / "history.csv").read_text().splitlines()
    keys = rows[0].split(",")
    return {k: [float(r.split(",")[i]) for r in rows[1:]] for i, k in enumerate(keys)}


def test_per_class_scores_are_sklearns(run):
    from sklearn.metrics import precision_recall_fscore_support

    data, out, page, metrics = run
    model = lamina.saving.load_model(str(out / "model.keras"))
    with np.load(data) as arrays:
        x_test, y_test = arrays["x_test"] / np.float32(255), arrays["y_test"]
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(y_test, predicted, labels=[0, 1, 2],
                                                                     zero_division=0)
    table = page.tables[1]
    assert table[0] == ["class", "precision", "recall", "F1", "support"]
    assert [row[0] for row in table[1:]] == ["T-shirt/top", "Trouser", "Ankle boot", "macro average"]
    for i, row in enumerate(table[1:4]):
        assert row[1:] == [f"{precision[i]:.3f}", f"{recall[i]:.3f}", f"{f1[i]:.3f}", str(support[i])]
    np.testing.assert_allclose([r["f1"] for r in metrics["per_class"]], f1, atol=1e-12)


def test_epochs_are_numbered_from_1_everywhere(run):
    _, out, page, metrics = run
    history = page.tables[4]
    assert [row[0] for row in history] == ["epoch", "1", "2", "3"]
    assert metrics_history(run)["epoch"] == [1.0, 2.0, 3.0]
    assert "Epochs are numbered from 1, as in the progress output" in "".join(page.text)
    assert 1 <= metrics["best_epoch"] <= 3


def test_tabular_data_is_not_drawn_as_images(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "table.npz", x_train=rng.random((60, 16)), y_train=rng.integers(0, 2, 60),
             x_test=rng.random((20, 16)), y_test=rng.integers(0, 2, 20))  # 16 = 4 x 4, still a table
    assert cli.main(["train", "--dataset", str(tmp_path / "table.npz"), "--epochs", "1", "--layers", "4",
                     "--verbose", "0", "--out", str(tmp_path / "run")]) == 0
    assert not (tmp_path / "run" / "sample_predictions.png").exists()
    assert [i["alt"] for i in Page((tmp_path / "run" / "report.html").read_text()).images] == [
        "Learning curves", "Confusion matrix (test set)", "Model"]


def test_an_interrupted_run_says_so_on_the_page():
    text = report.render_report("Run", {"test_accuracy": 0.5}, history={"loss": [0.9, 0.7]},
                                interrupted={"epoch": 2, "batch": 40, "steps": 1719})
    page = Page(text)
    assert page.headings[0] == "Run (interrupted)"
    assert "Interrupted (Ctrl-C) at epoch 2, batch 40 of 1,719" in "".join(page.text)
    assert [row[0] for row in page.tables[-1]] == ["epoch", "1", "2 (to batch 40 of 1,719)"]


@pytest.mark.parametrize("value, shown", [(0.87512345, "0.8751"), (73.41234, "73.41"), (0.01, "0.01"),
                                          (12345.678, "12,346"), (0.000012345, "1.23e-05"), (60000, "60,000"),
                                          ([300, 100], "300, 100"), (0.0, "0.0")])
def test_numbers_at_a_sensible_precision(value, shown):
    assert report.number(value) == shown


def test_the_summary_block_keeps_its_line_height():
    style = re.search(r"pre \{([^}]*)\}", report._STYLE).group(1)
    height = float(re.search(r"line-height: ([\d.]+)", style).group(1))
    assert height <= 1.2 and "monospace" in style  # the body's 1.45 gaps the box-drawing lines
