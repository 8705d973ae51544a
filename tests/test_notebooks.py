"""Every notebook under examples/ runs top to bottom without a cell error (marked slow; CI runs it).

The kernel is this interpreter (a throw-away kernelspec), training is shortened through
``LAMINA_LESSON_EPOCHS``, and when the real MNIST is not on the machine the lesson's exercise
uses a small local sample this test writes (``LAMINA_MNIST_SAMPLE``), as the notebook explains.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def write_mnist_sample(path, n_train=2000, n_test=500):
    """Random digit-like images with MNIST's dtypes and shapes: a blurred stroke per class plus noise."""
    rng = np.random.default_rng(0)
    templates = np.zeros((10, 28, 28))
    for digit in range(10):
        rows = rng.integers(4, 24, 3)
        templates[digit, rows.min():rows.max() + 4, 6 + 2 * digit:10 + 2 * digit] = 1.0
        templates[digit, rows[1]:rows[1] + 3, 4:24] = 1.0

    def split(n):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = np.clip(templates[y] * 230 + rng.normal(0, 25, (n, 28, 28)), 0, 255).astype(np.uint8)
        return x, y

    (x_train, y_train), (x_test, y_test) = split(n_train), split(n_test)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def test_mnist_sample_has_mnists_dtypes_and_shapes(tmp_path):
    write_mnist_sample(tmp_path / "sample.npz")
    with np.load(tmp_path / "sample.npz") as data:
        assert data["x_train"].dtype == np.uint8 and data["x_train"].shape == (2000, 28, 28)
        assert data["y_train"].dtype == np.uint8 and data["y_train"].shape == (2000,)
        assert data["x_test"].shape == (500, 28, 28) and set(np.unique(data["y_test"])) == set(range(10))


def test_there_is_a_notebook():
    assert ROOT / "examples" / "fashion_mnist_lesson.ipynb" in NOTEBOOKS


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, monkeypatch, fashion):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")

    kernel_dir = tmp_path / "jupyter" / "kernels" / "python3"  # found before any installed python3
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (this interpreter)", "language": "python"}))
    write_mnist_sample(tmp_path / "mnist_sample.npz")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("LAMINA_LESSON_EPOCHS", "1")
    monkeypatch.setenv("LAMINA_MNIST_SAMPLE", str(tmp_path / "mnist_sample.npz"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws the pictures

    notebook = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError on the first failing cell

    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    if path.name == "fashion_mnist_lesson.ipynb":
        assert (work / "my_fashion_mnist_model.png").is_file()
        plot_cell = next(c for c in notebook.cells if "plot_model(" in c.source)
        assert any("image/png" in o.get("data", {}) for o in plot_cell.outputs)
        mnist_cell = next(c for c in notebook.cells if "mnist.load_data()" in c.source)
        assert mnist_cell.execution_count is not None
