"""The command line with hostile input and careless use: nothing the user had is lost, every bad
input is a message (never a traceback), and the exit status says which kind of end it was."""
import io
import os
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina import cli
from lamina.cli import datasets

pytest.importorskip("matplotlib")
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
       "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(autouse=True)
def _agg_backend(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


def tiny_npz(path, n_train=40, n_test=10, **extra):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 255, (n_train, 4, 4)).astype(np.uint8),
              "y_train": rng.integers(0, 3, n_train).astype(np.uint8),
              "x_test": rng.integers(0, 255, (n_test, 4, 4)).astype(np.uint8),
              "y_test": rng.integers(0, 3, n_test).astype(np.uint8)}
    arrays.update(extra)
    np.savez_compressed(path, **arrays)
    return str(path)


def train(data, out, *more):
    return cli.main(["train", "--dataset", data, "--epochs", "1", "--layers", "4", "--verbose", "0",
                     "--out", str(out), *more])


def one_error(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lamina: error: "), captured.err
    return lines[0]


# --- 13.6: nothing the user had is lost --------------------------------------------------------
def test_a_second_run_into_the_same_folder_is_refused(tmp_path, capsys):
    data, out = tiny_npz(tmp_path / "d.npz"), tmp_path / "run"
    assert train(data, out) == 0
    first = {name: (out / name).read_bytes() for name in os.listdir(out)}
    capsys.readouterr()
    assert train(data, out, "--seed", "7") == 2
    assert re.search(r"--out .*run already holds 9 file\(s\) .*pass --overwrite", one_error(capsys))
    assert {name: (out / name).read_bytes() for name in os.listdir(out)} == first


def test_overwrite_replaces_lamina_files_only_and_drops_stale_ones(tmp_path, capsys):
    data, out = tiny_npz(tmp_path / "d.npz"), tmp_path / "run"
    assert train(data, out) == 0
    (out / "notes.txt").write_text("mine")
    tabular = tiny_npz(tmp_path / "t.npz", x_train=np.random.default_rng(1).random((40, 5)),
                       x_test=np.random.default_rng(2).random((10, 5)))
    assert train(tabular, out, "--overwrite") == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "sample_predictions.png").exists()  # the earlier run's, and tables are not pictures
    assert '"dataset": "' + tabular + '"' in (out / "metrics.json").read_text()
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]


def test_an_unwritable_out_is_refused_before_training(tmp_path, capsys, monkeypatch):
    data = tiny_npz(tmp_path / "d.npz")
    monkeypatch.setattr(lamina.Sequential, "fit", lambda *a, **k: pytest.fail("trained"))
    (tmp_path / "file").write_text("")
    for out, message in [(tmp_path / "file", r"--out .*file is a file, not a folder"),
                         (tmp_path / "file" / "run", r"cannot write to the output folder .*file/run"),
                         ("/proc/self/lamina-run", r"cannot write to the output folder /proc/self/lamina-run")]:
        assert train(data, out) == 2
        assert re.search(message, one_error(capsys)), out


def test_two_default_folders_in_the_same_second_do_not_collide(tmp_path, monkeypatch):
    from lamina.cli import outputs

    monkeypatch.chdir(tmp_path)
    first = outputs.prepare_folder(None, "d", overwrite=False)
    (Path(first) / "model.keras").write_text("x")
    second = outputs.prepare_folder(None, "d", overwrite=False)
    assert second != first and os.path.isdir(second) and os.listdir(second) == []


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    data = tiny_npz(folder / "d.npz", class_names=np.array(["ant", "bee", "cat"]))
    assert train(data, folder / "run") == 0
    np.save(folder / "x.npy", np.load(data)["x_test"])
    return str(folder / "run" / "model.keras"), str(folder / "x.npy"), data


@pytest.mark.parametrize("name, message", [
    ("predictions", r"--output .*predictions: expected a file name ending in \.csv or \.npy"),
    (".", r"--output \.: expected a file name ending in"),
    ("sub.npy", r"--output .*sub\.npy is a folder"),
    ("missing/p.csv", r"--output .*p\.csv: the folder .*missing does not exist"),
])
def test_predict_output_must_be_a_new_csv_or_npy_file(model_file, tmp_path, monkeypatch, capsys, name, message):
    model, x, _ = model_file
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub.npy").mkdir()
    assert cli.main(["predict", model, x, "--output", name]) == 2
    assert re.search(message, one_error(capsys))
    assert sorted(os.listdir(tmp_path)) == ["sub.npy"]  # nothing written beside it


def test_predict_writes_exactly_the_path_given_and_replaces_only_when_asked(model_file, tmp_path, capsys):
    model, x, _ = model_file
    target = tmp_path / "p.npy"
    assert cli.main(["predict", model, x, "--output", str(target)]) == 0
    assert os.listdir(tmp_path) == ["p.npy"] and np.load(target).shape == (10, 3)
    assert capsys.readouterr().out == f"Predictions (10, 3) written to {target}\n"
    target.write_bytes(b"keep me")
    assert cli.main(["predict", model, x, "--output", str(target)]) == 2
    assert "already exists: pass --overwrite" in one_error(capsys) and target.read_bytes() == b"keep me"
    assert cli.main(["predict", model, x, "--output", str(target), "--overwrite"]) == 0
    assert np.load(target).shape == (10, 3) and os.listdir(tmp_path) == ["p.npy"]


def test_predict_prints_class_names_from_the_run_or_the_dataset(model_file, capsys):
    model, x, data = model_file
    expected = lamina.saving.load_model(model).predict(np.load(x) / np.float32(255), verbose=0).argmax(axis=1)
    assert cli.main(["predict", model, x]) == 0
    assert capsys.readouterr().out.split() == [["ant", "bee", "cat"][i] for i in expected]
    assert cli.main(["predict", model, x, "--dataset", "mnist"]) == 0  # mnist's names, read without its data
    assert capsys.readouterr().out.split() == [str(i) for i in expected]


# --- 13.10: hostile inputs are one-line errors --------------------------------------------------
def zip_bomb(path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (50_000, 28, 28)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x_train.npy", header.getvalue() + bytes(50_000 * 28 * 28))
        for name in ("y_train", "x_test", "y_test"):
            buffer = io.BytesIO()
            np.save(buffer, np.zeros(3, np.uint8))
            archive.writestr(f"{name}.npy", buffer.getvalue())
    return str(path)


def forged_header(path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("x_train", "y_train", "x_test", "y_test"):
            archive.writestr(f"{name}.npy", header.getvalue() + bytes(64))
    return str(path)


def hostile_inputs(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (20, 4, 4)).astype(np.uint8)
    return [
        (["--dataset", tiny_npz(tmp_path / "huge_label.npz", y_train=np.array([10**9] + [0] * 39, np.int64))],
         r"y_train holds class ids from 0 to 1000000000; lamina train needs ids in \[0, 1000\)"),
        (["--dataset", tiny_npz(tmp_path / "negative.npz", y_test=np.array([-1] + [0] * 9, np.int64))],
         r"y_test holds class ids from -1 to 0"),
        (["--dataset", zip_bomb(tmp_path / "bomb.npz")],
         r"bomb\.npz': member 'x_train\.npy' inflates from [\d,]+ to 39,200,128 bytes; refusing a potential zip bomb"),
        (["--dataset", forged_header(tmp_path / "forged.npz")],
         r"forged\.npz': member 'x_train\.npy' declares 8,000,000,000,000 bytes of data but holds 64"),
        (["--dataset", tiny_npz(tmp_path / "nan.npz", x_train=np.full((40, 4), np.nan))],
         r"x_train holds NaN or infinite values"),
        (["--dataset", tiny_npz(tmp_path / "objects.npz", x_train=np.array([None] * 40, dtype=object))],
         r"objects\.npz': member 'x_train\.npy' holds object values, not plain numbers"),
        (["--dataset", tiny_npz(tmp_path / "names.npz", class_names=np.array(["a", "b"]))],
         r"class_names must be a list of at most 1000 strings, one per class \(3\)"),
        (["--dataset", "/dev/zero"], r"cannot read the dataset file: '/dev/zero' is not a regular file"),
        (["--layers", "100000000"], r"--layers: expected at most 64 layers of at most 65,536 units each"),
        (["--layers", ",".join(["8"] * 65)], r"--layers: expected at most 64 layers"),
        (["--dataset", tiny_npz(tmp_path / "big.npz", x_train=np.zeros((2, 784), np.uint8),
                                x_test=np.zeros((2, 784), np.uint8), y_train=np.zeros(2, np.uint8),
                                y_test=np.zeros(2, np.uint8)), "--layers", "65536,65536"],
         r"an MLP 784-65536-65536-2 has 4,346,609,666 weights, more than the 100,000,000"),
        (["--learning-rate", "inf"], r"--learning-rate: expected a finite positive number, got 'inf'"),
        (["--learning-rate", "nan"], r"--learning-rate: expected a finite positive number, got 'nan'"),
        (["--learning-rate", "-1"], r"--learning-rate: expected a finite positive number"),
        (["--epochs", "10000000000"], r"--epochs: expected a positive integer up to 1,000,000"),
        (["--batch-size", "x"], r"--batch-size: expected a positive integer, got 'x'"),
        (["--dataset", tiny_npz(tmp_path / "x3.npz", x_train=x)],
         r"x_train must hold one numeric sample per row and y_train one integer class id per sample"),
    ]


def test_hostile_inputs_are_one_line_errors_before_any_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(lamina.Sequential, "fit", lambda *a, **k: pytest.fail("trained"))
    for argv, message in hostile_inputs(tmp_path):
        code = cli.main(["train", "--out", str(tmp_path / "out"), *argv])
        line = one_error(capsys)
        assert code == 2 and re.search(message, line), (argv, line)
    assert not (tmp_path / "out").exists()


def test_the_bounds_are_what_the_module_says():
    assert datasets.MAX_CLASSES == 1000 and datasets.MAX_TOTAL_BYTES == 2 << 30
    assert cli.arguments.MAX_UNITS == 65_536 and cli.train.MAX_PARAMETERS == 100_000_000


# --- 14.4: usage, failure, bug and Ctrl-C end differently ----------------------------------------
def test_bare_lamina_prints_the_usage_and_a_hint(capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("usage: lamina [-h] [--version] COMMAND")
    assert err[-1] == ("lamina: error: no command given; try 'lamina train' (the lesson's model on Fashion-MNIST) "
                       "or 'lamina --help'")


def test_version(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--version"])
    assert stopped.value.code == 0 and capsys.readouterr().out == f"lamina {lamina.__version__}\n"


def test_a_runtime_failure_is_exit_1_and_keeps_the_message_lines(tmp_path, monkeypatch, capsys):
    import urllib.error
    import urllib.request

    monkeypatch.setenv("LAMINA_DATA", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(
        urllib.error.URLError("no network here")))
    assert cli.main(["train", "--dataset", "mnist", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == "lamina: error: MNIST file 'mnist.npz' not found. Looked in:" and len(lines) > 3
    assert any("no network here" in line for line in lines) and "Traceback" not in err


def test_h5py_missing_is_said_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "h5py", None)  # `import h5py` now fails
    monkeypatch.setattr(lamina.Sequential, "fit", lambda *a, **k: pytest.fail("trained"))
    assert train(tiny_npz(tmp_path / "d.npz"), tmp_path / "run") == 1
    assert re.fullmatch(r"lamina: error: lamina train \(to save the model\) needs h5py, which is not installed: "
                        r"pip install .*\n", capsys.readouterr().err)


def test_a_bug_inside_lamina_is_not_reported_as_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setattr(lamina.Sequential, "fit", lambda *a, **k: {}["a bug"])
    with pytest.raises(KeyError, match="a bug"):  # the traceback reaches the user (exit 1), not "error: 'a bug'"
        train(tiny_npz(tmp_path / "d.npz"), tmp_path / "run")
    result = subprocess.run([sys.executable, "-c", "import lamina.cli.train as t; t.build_model = None; "
                             "import lamina.cli, sys; sys.exit(lamina.cli.main(sys.argv[1:]))", "train", "--dataset",
                             tiny_npz(tmp_path / "e.npz"), "--epochs", "1", "--out", str(tmp_path / "r2")],
                            capture_output=True, text=True, env=ENV, timeout=120)
    assert result.returncode == 1 and "Traceback (most recent call last)" in result.stderr
    assert "TypeError: 'NoneType' object is not callable" in result.stderr


def test_ctrl_c_during_lamina_train_writes_the_run_marked_interrupted_and_exits_130(tmp_path):
    rng = np.random.default_rng(0)
    data = tiny_npz(tmp_path / "d.npz", x_train=rng.integers(0, 255, (20000, 4, 4)).astype(np.uint8),
                    y_train=rng.integers(0, 3, 20000).astype(np.uint8))
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "lamina", "train", "--dataset", data, "--epochs", "50",
                                "--layers", "4", "--batch-size", "4", "--verbose", "2", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    for line in process.stdout:
        if line.startswith("Epoch 2/50"):
            process.send_signal(signal.SIGINT)
            break
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    found = re.search(r"lamina: interrupted at epoch (\d+), batch (\d+) of 4500; the run so far is in ", stderr)
    assert found, stderr
    epoch, batch = map(int, found.groups())
    assert epoch >= 2 and 1 <= batch <= 4500 and "Traceback" not in stderr
    metrics = __import__("json").loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] == {"epoch": epoch, "batch": batch, "steps": 4500}
    page = (out / "report.html").read_text()
    assert "(interrupted)</h1>" in page and f"Interrupted (Ctrl-C) at epoch {epoch}, batch {batch:,} of 4,500" in page
    assert (out / "model.keras").is_file() and "Test accuracy:" in stdout


def test_data_that_does_not_fit_the_model_is_the_users_error(model_file, tmp_path, capsys):
    model, _, _ = model_file
    rng = np.random.default_rng(0)
    wide = tiny_npz(tmp_path / "wide.npz", x_test=rng.integers(0, 255, (10, 5, 5)).astype(np.uint8),
                    x_train=rng.integers(0, 255, (40, 5, 5)).astype(np.uint8))
    assert cli.main(["evaluate", model, "--dataset", wide, "--verbose", "0"]) == 2
    assert re.search(r"the dataset .*wide\.npz has samples of shape \(5, 5\), but the model in .* takes \(4, 4\)",
                     one_error(capsys))
    many = tiny_npz(tmp_path / "many.npz", y_test=np.arange(10, dtype=np.uint8))
    assert cli.main(["evaluate", model, "--dataset", many, "--verbose", "0"]) == 2
    assert re.search(r"has class ids from 0 to 9, but the model in .* has 3 output units", one_error(capsys))
    np.save(tmp_path / "flat.npy", np.zeros((3, 16)))
    assert cli.main(["predict", model, str(tmp_path / "flat.npy")]) == 2
    assert re.search(r"flat\.npy has samples of shape \(16,\), but the model", one_error(capsys))
