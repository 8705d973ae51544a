"""One epoch of ``from_tensor_slices((x, y)).shuffle(60000).batch(32)`` iterated (Tensors
built, as a GradientTape loop gets them) against slicing the same arrays in NumPy directly; with
``--fit``, also one epoch of ``fit`` on that dataset against ``fit`` on the arrays (784-128-10).

    PYTHONPATH=src python bench/tf_data_epoch.py [--fit]
"""
import sys
import time

import numpy as np

import lamina as tf


def best_of(fn, repeats=5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n=60000, features=784, batch_size=32) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((n, features), dtype=np.float32)
    y = rng.integers(0, 10, n)
    shuffled = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n).batch(batch_size)
    ordered = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)

    def iterate(dataset):
        for _batch in dataset:
            pass

    def numpy_shuffled():
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            x[rows], y[rows]

    def numpy_ordered():
        for start in range(0, n, batch_size):
            x[start:start + batch_size], y[start:start + batch_size]

    print(f"{n} x {features} float32, batch {batch_size}: one epoch, best of 5")
    print(f"  tf.data shuffle({n}).batch({batch_size}): {best_of(lambda: iterate(shuffled)) * 1e3:7.1f} ms")
    print(f"  NumPy permutation + fancy index:       {best_of(numpy_shuffled) * 1e3:7.1f} ms")
    print(f"  tf.data batch({batch_size}) (no shuffle):      {best_of(lambda: iterate(ordered)) * 1e3:7.1f} ms")
    print(f"  NumPy slices:                          {best_of(numpy_ordered) * 1e3:7.1f} ms")


def fit_epochs(n=60000, features=784) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((n, features), dtype=np.float32)
    y = rng.integers(0, 10, n)

    def model():
        tf.random.set_seed(1)
        m = tf.keras.Sequential([tf.keras.layers.Input((features,)), tf.keras.layers.Dense(128, activation="relu"),
                                 tf.keras.layers.Dense(10, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return m
    for batch_size in (32, 128):
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n).batch(batch_size)
        arrays = best_of(lambda: model().fit(x, y, batch_size=batch_size, verbose=0), 3)  # noqa: B023
        shuffled = best_of(lambda: model().fit(dataset, verbose=0), 3)  # noqa: B023
        print(f"  fit, batch {batch_size}: arrays {arrays:.2f} s, dataset {shuffled:.2f} s (best of 3)")


if __name__ == "__main__":
    main()
    if "--fit" in sys.argv:
        fit_epochs()
