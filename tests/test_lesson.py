"""End to end on the real Fashion-MNIST: the lesson's script, 30 epochs (marked slow; CI runs it)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_lesson_script_reaches_keras_accuracy(tmp_path, fashion):
    env = {**os.environ, "LAMINA_LESSON_OUT": str(tmp_path), "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "fashion_mnist_lesson.py")],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
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
