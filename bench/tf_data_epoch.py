"""One epoch of ``from_tensor_slices((x, y)).shuffle(60000).batch(32)`` iterated (Tensors
built, as a GradientTape loop gets them) against slicing the same arrays in NumPy directly.

    PYTHONPATH=src python bench/tf_data_epoch.py
"""
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


if __name__ == "__main__":
    main()
