"""The ``lamina`` command: train writes every report file; bad input is one message and exit 2."""
import base64
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina import cli

pytest.importorskip("matplotlib")
ROOT = Path(__file__).resolve().parents[1]
REPORT_FILES = ["model.keras", "history.csv", "learning_curves.png", "confusion_matrix.png",
                "sample_predictions.png", "model.png", "summary.txt", "metrics.json", "report.html"]


@pytest.fixture(autouse=True)
def _agg_backend(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


def synthetic_npz(path, n_train=240, n_test=60, classes=3):
    """8x8 uint8 "images": one bright row band per class plus noise, so one epoch learns something."""
    rng = np.random.default_rng(0)

    def split(n):
        y = rng.integers(0, classes, n).astype(np.uint8)
        x = rng.integers(0, 60, (n, 8, 8)).astype(np.uint8)
        for i, label in enumerate(y):
            x[i, 2 * label:2 * label + 2, :] = 250
        return x, y

    (x_train, y_train), (x_test, y_test) = split(n_train), split(n_test)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return str(path)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One ``lamina train --epochs 1`` on the synthetic dataset, shared by the tests below."""
    folder = tmp_path_factory.mktemp("cli")
    data = synthetic_npz(folder / "tiny.npz")
    out = folder / "run"
    code = cli.main(["train", "--dataset", data, "--epochs", "1", "--layers", "16,8", "--optimizer", "adam",
                     "--learning-rate", "0.01", "--batch-size", "16", "--verbose", "0", "--out", str(out)])
    assert code == 0
    return data, out


def test_train_writes_every_report_file(run):
    _, out = run
    assert sorted(os.listdir(out)) == sorted(REPORT_FILES)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["test_loss"] > 0
    assert metrics["settings"]["layers"] == [16, 8] and metrics["settings"]["optimizer"] == "adam"
    with open(out / "history.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"] and len(rows) == 2
    assert rows[1][0] == "1"  # epochs numbered from 1, as the progress output numbers them
    assert metrics["class_names"] == ["0", "1", "2"] and metrics["interrupted"] is None
    assert metrics["best_epoch"] == 1 and metrics["settings"]["loss"] == "sparse_categorical_crossentropy"
    assert metrics["run"]["lamina"] == lamina.__version__ and metrics["run"]["NumPy"] == np.__version__
    assert metrics["run"]["command"].startswith("lamina train --dataset ") and "--epochs 1" in metrics["run"]["command"]
    assert [row["class"] for row in metrics["per_class"]] == ["0", "1", "2"]
    assert sum(row["support"] for row in metrics["per_class"]) == metrics["test_samples"]
    summary = (out / "summary.txt").read_text()
    assert 'Model: "sequential"' in summary and "(None, 64)" in summary and "(None, 3)" in summary


def test_report_pictures_are_real_images(run):
    import matplotlib.image as mpimg

    _, out = run
    for name in ["learning_curves.png", "confusion_matrix.png", "sample_predictions.png", "model.png"]:
        image = mpimg.imread(str(out / name))
        assert image.shape[0] >= 100 and image.shape[1] >= 100
        pixels = image[..., :3].reshape(-1, 3)
        assert len(np.unique(pixels, axis=0)) > 1 and not np.all(pixels == 1.0)


def test_report_is_one_self_contained_page(run):
    _, out = run
    page = (out / "report.html").read_text()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 4 and all(s.startswith("data:image/png;base64,") for s in sources)
    for source, name in zip(sources, ["learning_curves.png", "confusion_matrix.png", "sample_predictions.png",
                                      "model.png"]):
        assert base64.b64decode(source.split(",", 1)[1]) == (out / name).read_bytes()
    assert "href=" not in page and "<link" not in page and "<script" not in page  # nothing fetched
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"{metrics['test_accuracy']:.2%}" in page and "dense_1 (Dense)" in page


def test_saved_model_loads_and_evaluates_to_the_reported_numbers(run):
    data, out = run
    model = lamina.saving.load_model(str(out / "model.keras"))
    with np.load(data) as arrays:
        x_test, y_test = arrays["x_test"] / np.float32(255), arrays["y_test"]
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=16, verbose=0)
    metrics = json.loads((out / "metrics.json").read_text())
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert loss == pytest.approx(metrics["test_loss"], rel=1e-5)


def test_evaluate_summary_and_predict_commands(run, tmp_path, capsys):
    data, out = run
    model_file = str(out / "model.keras")
    metrics = json.loads((out / "metrics.json").read_text())
    assert cli.main(["evaluate", model_file, "--dataset", data, "--verbose", "0"]) == 0
    printed = capsys.readouterr().out
    assert f"accuracy: {metrics['test_accuracy']:.4f}" in printed and f"loss: {metrics['test_loss']:.4f}" in printed

    assert cli.main(["summary", model_file]) == 0
    assert "dense_1 (Dense)" in capsys.readouterr().out

    with np.load(data) as arrays:
        images = arrays["x_test"][:5]
    np.save(tmp_path / "images.npy", images)
    assert cli.main(["predict", model_file, str(tmp_path / "images.npy"), "--output", str(tmp_path / "p.npy")]) == 0
    probabilities = np.load(tmp_path / "p.npy")
    expected = lamina.saving.load_model(model_file).predict(images / np.float32(255), verbose=0)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    capsys.readouterr()
    assert cli.main(["predict", model_file, str(tmp_path / "images.npy")]) == 0  # names from metrics.json
    assert capsys.readouterr().out.split() == [str(i) for i in probabilities.argmax(axis=1)]

    assert cli.main(["predict", model_file, str(tmp_path / "images.npy"), "--output", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["predicted_class", "0", "1", "2"] and len(rows) == 6
    assert [r[0] for r in rows[1:]] == [str(i) for i in probabilities.argmax(axis=1)]
    np.testing.assert_allclose(np.array([r[1:] for r in rows[1:]], float), probabilities, rtol=1e-5)


def test_train_defaults_are_the_lessons_model():
    args = cli._parser().parse_args(["train"])
    assert (args.dataset, args.layers, args.activation, args.optimizer) == ("fashion_mnist", [300, 100], "relu", "sgd")
    assert (args.learning_rate, args.epochs, args.batch_size, args.validation_split) == (0.01, 30, 32, 0.1)
    assert args.out is None


def test_default_out_folder_is_named_after_the_dataset(tmp_path, monkeypatch, capsys):
    data = synthetic_npz(tmp_path / "shapes.npz", n_train=40, n_test=10)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--dataset", data, "--epochs", "1", "--layers", "4", "--verbose", "0"]) == 0
    (folder,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"shapes-\d{8}-\d{6}", folder.name)
    assert (folder / "report.html").is_file()
    assert capsys.readouterr().out.strip().endswith(f"Report: {os.path.join('runs', folder.name, 'report.html')}")


def bad_inputs(tmp_path):
    np.savez(tmp_path / "partial.npz", x_train=np.zeros((3, 2)), y_train=np.zeros(3, np.uint8))
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file at all")
    (tmp_path / "garbage.keras").write_bytes(b"not a zip file at all")
    np.save(tmp_path / "array.npy", np.zeros(3))
    return [
        (["train", "--dataset", "imagenet"], r"unknown dataset 'imagenet': expected fashion_mnist, mnist or a path"),
        (["train", "--layers", "0"], r"argument --layers: expected positive layer sizes .* got '0'"),
        (["train", "--layers", "300,abc"], r"argument --layers: .* got '300,abc'"),
        (["train", "--dataset", str(tmp_path / "missing.npz")], r"cannot read the dataset file .*missing\.npz"),
        (["train", "--dataset", str(tmp_path / "partial.npz")],
         r"partial\.npz has no array\(s\) x_test, y_test: an \.npz dataset needs x_train, y_train, x_test, y_test"),
        (["train", "--dataset", str(tmp_path / "garbage.npz")],
         r"cannot read the dataset file: .*garbage\.npz' is not a readable \.npz archive"),
        (["train", "--dataset", str(tmp_path / "array.npy")], r"array\.npy is not an \.npz archive"),
        (["train", "--dataset", str(tmp_path)],
         r"cannot read the dataset file .*: lamina's --dataset needs a file, got a folder"),
        (["train", "--activation", "relux"], r"Unknown activation 'relux'"),
        (["train", "--optimizer", "sgdx"], r"Unknown optimizer 'sgdx'"),
        (["train", "--epochs", "0"], r"argument --epochs: expected a positive integer up to 1,000,000, got '0'"),
        (["train", "--validation-split", "1.5"], r"argument --validation-split: expected a fraction in \[0, 1\)"),
        (["summary", str(tmp_path / "absent.keras")], r"cannot read model file .*absent\.keras: no such file"),
        (["summary", str(tmp_path / "garbage.keras")], r"garbage\.keras"),
        (["predict", str(tmp_path / "absent.keras"), "x.npy"], r"cannot read model file"),
        (["frobnicate"], r"invalid choice: 'frobnicate'"),
    ]


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    for argv, message in bad_inputs(tmp_path):
        assert cli.main(argv) == 2, argv
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("lamina: error: "), (argv, captured.err)
        assert re.search(message, lines[0]), (argv, lines[0])
        assert "Traceback" not in captured.err + captured.out


def test_evaluate_needs_a_compiled_model(run, tmp_path, capsys):
    data, _ = run
    model = lamina.Sequential([lamina.Input((8, 8)), lamina.layers.Flatten(), lamina.layers.Dense(3)])
    model.save(str(tmp_path / "plain.keras"))
    assert cli.main(["evaluate", str(tmp_path / "plain.keras"), "--dataset", data]) == 2
    assert capsys.readouterr().err == (f"lamina: error: {tmp_path / 'plain.keras'} holds a model saved without "
                                       "compile(): it has no loss to evaluate\n")


def test_train_without_matplotlib_says_so_before_training_and_still_writes_the_report(tmp_path, monkeypatch,
                                                                                       capsys):
    from lamina.cli import outputs

    real_find_spec = outputs.importlib.util.find_spec
    monkeypatch.setattr(outputs.importlib.util, "find_spec",
                        lambda name, *args: None if name == "matplotlib" else real_find_spec(name, *args))
    said_before_training = []
    real_fit = lamina.Sequential.fit
    monkeypatch.setattr(lamina.Sequential, "fit", lambda self, *a, **k: (
        said_before_training.append("pip install 'lamina[plot]'" in capsys.readouterr().err),
        real_fit(self, *a, **k))[1])
    data = synthetic_npz(tmp_path / "tiny.npz", n_train=40, n_test=10)
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", data, "--epochs", "1", "--layers", "4", "--verbose", "0",
                     "--out", str(out)]) == 0
    assert said_before_training == [True]
    assert sorted(os.listdir(out)) == ["history.csv", "metrics.json", "model.keras", "report.html", "summary.txt"]
    assert "<img" not in (out / "report.html").read_text()


def test_predict_bad_input_file(run, tmp_path, capsys):
    _, out = run
    assert cli.main(["predict", str(out / "model.keras"), str(tmp_path / "none.npy")]) == 2
    assert re.fullmatch(r"lamina: error: cannot read input file .*none\.npy: .*\n", capsys.readouterr().err)


def test_python_dash_m_lamina(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "lamina", "train", "--layers", "0"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["lamina: error: train: argument --layers: expected positive layer sizes "
                                          "separated by commas (such as 300,100), got '0'"]
    assert result.stdout == ""
    result = subprocess.run([sys.executable, "-m", "lamina", "--help"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0 and "train" in result.stdout and "predict" in result.stdout


@pytest.mark.slow
def test_train_on_fashion_mnist_one_epoch(fashion, tmp_path):
    assert cli.main(["train", "--epochs", "1", "--verbose", "0", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.75 and metrics["test_samples"] == 10000
    assert sorted(os.listdir(tmp_path)) == sorted(REPORT_FILES)
