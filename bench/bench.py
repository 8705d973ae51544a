"""Benchmarks: lamina's epoch time against the BLAS floor measured in the same process.

Run by hand (not by CI): ``python bench/bench.py`` (``--quick`` for fewer sizes; the full run ends
with the under-load row of ``bench/under_load.py``, which also runs alone). The floor of a
training step is its eight matrix products alone (three forward, five backward), run back to
back in NumPy; the ratio is lamina's steady-state epoch time over that floor. The machine is
shared and noisy: compare ratios measured in one run, not seconds across runs.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))


def _weights(sizes, batch):
    rng = np.random.default_rng(0)
    x = rng.random((batch, sizes[0]), dtype=np.float32)
    return x, [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in zip(sizes[:-1], sizes[1:])]


def floor_seconds(sizes, batch, n_rows, repeats=3, rows_from=None) -> float:
    """The products of one epoch of training (no input gradient for the first layer), each into
    a preallocated output: the tightest NumPy can do. With ``rows_from`` (the training data, one
    row a sample), each step first reads its batch from it, shuffled, into the first input (NumPy's
    fancy indexing and cast): the floor of a step that must read its data."""
    x, ws = _weights(sizes, batch)
    acts = [x] + [np.empty((batch, w.shape[1]), np.float32) for w in ws]
    grads = [np.empty(w.shape, np.float32) for w in ws]
    deltas = [np.empty((batch, w.shape[0]), np.float32) for w in ws]
    steps = -(-n_rows // batch)
    order = None if rows_from is None else np.random.default_rng(1).permutation(len(rows_from))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for step in range(steps):
            if order is not None:
                index = order[(step * batch) % (len(order) - batch + 1):][:batch]
                np.copyto(x, rows_from[index], casting="unsafe")
            for i, w in enumerate(ws):
                np.matmul(acts[i], w, out=acts[i + 1])
            g = acts[-1]
            for i in range(len(ws) - 1, -1, -1):
                np.matmul(acts[i].T, g, out=grads[i])
                if i:
                    np.matmul(g, ws[i].T, out=deltas[i])
                    g = deltas[i]
        best = min(best, time.perf_counter() - start)
    return best


def forward_floor_seconds(sizes, batch, n_rows, repeats=3) -> float:
    x, ws = _weights(sizes, batch)
    acts = [x] + [np.empty((batch, w.shape[1]), np.float32) for w in ws]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(-(-n_rows // batch)):
            for i, w in enumerate(ws):
                np.matmul(acts[i], w, out=acts[i + 1])
        best = min(best, time.perf_counter() - start)
    return best


def lamina_epoch_seconds(x, y, sizes, batch, optimizer="sgd", epochs=3) -> float:
    import lamina

    lamina.backend.clear_session()
    lamina.random.set_seed(0)
    model = lamina.Sequential([lamina.layers.Flatten(input_shape=x.shape[1:])]
                              + [lamina.layers.Dense(n, activation="relu") for n in sizes[1:-1]]
                              + [lamina.layers.Dense(sizes[-1], activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    times = []

    class Timer(lamina.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[Timer()])
    return min(times[1:]) if len(times) > 1 else times[0]


def lamina_inference_seconds(x, y, sizes):
    import lamina

    model = lamina.Sequential([lamina.layers.Flatten(input_shape=x.shape[1:])]
                              + [lamina.layers.Dense(n, activation="relu") for n in sizes[1:-1]]
                              + [lamina.layers.Dense(sizes[-1], activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.evaluate(x, y, verbose=0)
    best_eval = best_pred = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        model.evaluate(x, y, verbose=0)
        best_eval = min(best_eval, time.perf_counter() - start)
        start = time.perf_counter()
        model.predict(x, verbose=0)
        best_pred = min(best_pred, time.perf_counter() - start)
    return best_eval, best_pred


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import lamina; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")}, check=True).stdout)
            for _ in range(3)]
    return min(runs)


LESSON_CODE = """
import resource, sys, time, json
import lamina as tf
start = time.perf_counter()
(X_train_full, y_train_full), (X_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
X_train, y_train = X_train_full[:-5000] / 255., y_train_full[:-5000]
X_valid, y_valid = X_train_full[-5000:] / 255., y_train_full[-5000:]
X_test = X_test / 255.
data_rss = int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
tf.random.set_seed(42)
model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=[28, 28]),
    tf.keras.layers.Dense(300, activation="relu"), tf.keras.layers.Dense(100, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax")])
model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=EPOCHS, validation_data=(X_valid, y_valid), verbose=0)
loss, acc = model.evaluate(X_test, y_test, verbose=0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": time.perf_counter() - start, "accuracy": acc, "data_mb": data_rss, "peak_mb": peak}))
"""


def lesson_run(epochs: int) -> dict:
    out = subprocess.run([sys.executable, "-c", LESSON_CODE.replace("EPOCHS", str(epochs))], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")}, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


_PEER_DATA = """
import time, numpy as np
rng = np.random.default_rng(0)
x = rng.random((55000, 784), dtype=np.float32); y = rng.integers(0, 10, 55000)
"""
PEERS = {
    "keras (JAX backend)": _PEER_DATA + """
import keras
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(300, activation="relu"),
                          keras.layers.Dense(100, activation="relu"), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
times = []
for _ in range(3):
    t = time.perf_counter(); model.fit(x, y, batch_size=32, epochs=1, verbose=0); times.append(time.perf_counter() - t)
print(min(times[1:]))
""",
    "torch (hand-written loop)": _PEER_DATA + """
import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(784, 300), torch.nn.ReLU(), torch.nn.Linear(300, 100), torch.nn.ReLU(),
                            torch.nn.Linear(100, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01); loss_fn = torch.nn.CrossEntropyLoss()
xt, yt = torch.from_numpy(x), torch.from_numpy(y)
times = []
for _ in range(2):
    t = time.perf_counter(); perm = torch.randperm(55000)
    for i in range(0, 55000, 32):
        idx = perm[i:i + 32]; opt.zero_grad(); loss = loss_fn(model(xt[idx]), yt[idx]); loss.backward(); opt.step()
    times.append(time.perf_counter() - t)
print(min(times))
""",
    "scikit-learn MLPClassifier": _PEER_DATA + """
import warnings
from sklearn.neural_network import MLPClassifier
warnings.simplefilter("ignore")
clf = MLPClassifier((300, 100), solver="sgd", learning_rate_init=0.01, momentum=0.0, batch_size=32, max_iter=1)
t = time.perf_counter(); clf.fit(x, y); print(time.perf_counter() - t)
""",
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the lesson's setup, no full lesson run")
    args = parser.parse_args(argv)
    import lamina
    from lamina.backend.blas import HAVE_CBLAS

    (x_full, y_full), (x_test, y_test) = lamina.datasets.fashion_mnist.load_data()
    x, y = x_full[:-5000] / 255.0, y_full[:-5000]
    x_test = x_test / 255.0
    print(f"# lamina benchmarks, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}, BLAS via {'NumPy OpenBLAS cblas' if HAVE_CBLAS else 'numpy.matmul'}")
    print()
    print("| workload | lamina s/epoch | floor s/epoch | ratio |")
    print("|---|---|---|---|")
    lesson = [784, 300, 100, 10]
    cases = [("lesson 784-300-100-10, SGD, batch 32", lesson, 32, "sgd")]
    if not args.quick:
        cases += [("lesson, SGD momentum 0.9, batch 32", lesson, 32, lamina.optimizers.SGD(momentum=0.9)),
                  ("lesson, Adam, batch 32", lesson, 32, "adam"),
                  ("lesson, SGD, batch 128", lesson, 128, "sgd"),
                  ("lesson, SGD, batch 1024", lesson, 1024, "sgd"),
                  ("wide 784-2048-2048-10, SGD, batch 32", [784, 2048, 2048, 10], 32, "sgd")]
    sgd_time = None
    for name, sizes, batch, optimizer in cases:
        epochs = 2 if sizes[1] == 2048 else 3
        floor = floor_seconds(sizes, batch, len(x), repeats=1 if sizes[1] == 2048 else 3)
        seconds = lamina_epoch_seconds(x, y, sizes, batch, optimizer, epochs=epochs)
        sgd_time = sgd_time or seconds
        extra = f" ({seconds / sgd_time:.2f}x plain SGD)" if "Adam" in name or "momentum" in name else ""
        print(f"| {name} | {seconds:.3f} | {floor:.3f} | {seconds / floor:.2f}{extra} |", flush=True)
    evaluate_s, predict_s = lamina_inference_seconds(x_test, y_test, lesson)
    forward_floor = forward_floor_seconds(lesson, 32, len(x_test))
    print(f"| evaluate, 10,000 test images | {evaluate_s:.3f} | {forward_floor:.3f} | {evaluate_s / forward_floor:.2f} |")
    print(f"| predict, 10,000 test images | {predict_s:.3f} | {forward_floor:.3f} | {predict_s / forward_floor:.2f} |")
    print()
    print(f"import lamina: {import_seconds():.3f} s")
    if not args.quick:
        run = lesson_run(30)
        print(f"whole lesson (load, 30 epochs, evaluate): {run['seconds']:.1f} s, test accuracy {run['accuracy']:.4f}, "
              f"peak RSS {run['peak_mb']:.0f} MB, of which data {run['data_mb']:.0f} MB "
              f"(+{run['peak_mb'] - run['data_mb']:.0f} MB)")
    print()
    for peer, code in PEERS.items():
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env={**os.environ, "KERAS_BACKEND": "jax"})
        if result.returncode != 0:
            reason = "not installed" if "ModuleNotFoundError" in result.stderr else result.stderr.strip()[-200:]
            print(f"{peer}: {reason}, skipped")
            continue
        seconds = float(result.stdout.strip().splitlines()[-1])
        print(f"{peer}, lesson setup (SGD, batch 32): {seconds:.3f} s/epoch "
              f"({seconds / sgd_time:.1f}x lamina's epoch time measured above)")
    if not args.quick:
        import under_load  # bench/ is this script's folder, first on sys.path

        print()
        print("Under load (a second process multiplying 1000x1000 matrices), 5 interleaved rounds:")
        print("\n".join(under_load.run(rounds=5)))


if __name__ == "__main__":
    main()
