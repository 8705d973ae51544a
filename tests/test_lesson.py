"""End to end on the real Fashion-MNIST: the lesson's script, 30 epochs (marked slow; CI runs it)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def repository_files() -> set:
    skipped = {".git", "__pycache__", ".pytest_cache", ".venv"}
    found = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skipped and not d.endswith(".egg-info")]
        found.update(os.path.relpath(os.path.join(folder, f), ROOT) for f in files)
    return found


@pytest.mark.slow
def test_lesson_script_reaches_keras_accuracy_and_leaves_nothing_behind(tmp_path, fashion):
    pytest.importorskip("pandas")
    pytest.importorskip("mlxtend")
    # run from the repository's root, as the README says; TMPDIR only so the pictures' temporary
    # folder is cleaned with tmp_path
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TMPDIR": str(tmp_path), "MPLBACKEND": "Agg"}
    env.pop("LAMINA_LESSON_EPOCHS", None)
    before = repository_files()
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "fashion_mnist_lesson.py")],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    assert repository_files() == before
    out = result.stdout
    (folder,) = [line.split(" ", 2)[2] for line in out.splitlines() if line.startswith("Pictures in ")]
    assert Path(folder).parent == tmp_path
    assert sorted(os.listdir(folder)) == ["learning_curves.png", "my_fashion_mnist_model.png"]
    assert "plot_model written to" in out and "The pandas plot of the History written to" in out
    mnist = float(re.search(r"MNIST test accuracy: ([\d.]+)", out).group(1))
    assert mnist >= 0.85
    assert 'Model: "sequential"' in out and "Total params: 266,610 (1.02 MB)" in out
    assert "hidden1.name: dense" in out and "get_layer('dense') is hidden1: True" in out
    assert "weights.shape: (784, 300) biases.shape: (300,)" in out
    assert "history.params: {'verbose': 1, 'epochs': 30, 'steps': 1719}" in out
    assert f"history.epoch: {list(range(30))}" in out
    assert "Epoch 30/30" in out
    accuracy = float(out.strip().splitlines()[-1].split()[-1])
    assert accuracy >= 0.87, out[-2000:]


@pytest.mark.slow
def test_real_data_trains_in_one_epoch_to_80_percent(fashion):
    import lamina as tf

    (x_train, y_train), (x_test, y_test) = fashion
    tf.random.set_seed(42)
    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=[28, 28]),
                                 tf.keras.layers.Dense(100, activation="relu"),
                                 tf.keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train / 255.0, y_train, epochs=1, verbose=0)
    _, accuracy = model.evaluate(x_test / 255.0, y_test, verbose=0)
    assert accuracy > 0.80
