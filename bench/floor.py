"""The floor factor and the optimizers' cost, measured in interleaved rounds (issue 15).

``python bench/floor.py [--rounds 5] [--threads 1,2] [--batches 32,128,1024]``

For each BLAS thread count (set through ``OPENBLAS_NUM_THREADS`` in a fresh process, so lamina's
thread policy stands aside and the floor and lamina run their products on the same threads),
each round times, back to back: the floor (the eight products of one epoch's steps, NumPy, into
preallocated outputs, ``bench.floor_seconds``), the same products with each step first reading its
shuffled batch from the data (NumPy's fancy indexing + cast into the float32 input: the floor of a
step that must read 6 KB of float64 per sample, as lamina's must), then one epoch of the lesson's model
(784-300-100-10, Fashion-MNIST-sized random data in float64 as the lesson has it) with each
optimizer. Ratios are taken within a round (lamina's epoch over that round's floor, an optimizer
over that round's SGD), then the median over rounds: the machine is shared, and a round's
neighbours see the same load. An optimizer written ``name:numpy`` (``--optimizers sgd,sgd:numpy``)
trains with lamina's compiled kernels switched off (``kernels.use_compiled(False)``, the NumPy
forms), in the same rounds: the kernels' gain within one run.

What the two-thread rows mean: the user's ``OPENBLAS_NUM_THREADS=2`` makes lamina's thread policy
stand aside (``backend/threads.py``), so the floor and lamina run every product on the same two
threads (OpenBLAS itself keeps products under 65536 * 4 multiply-adds a thread on one). lamina's
non-product work (the gather, relu, softmax, the Python of the step) runs on one core meanwhile,
with OpenBLAS's second thread spinning on the other; as the floor halves that work weighs twice
as much. With another program on the machine, both sides fall off OpenBLAS's spin-wait cliff
(the floor too: its epoch then takes several times its one-thread time); the last column gives the
one-minute load average and whether lamina saw a spare core after each row.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
sys.path.insert(0, HERE)

LESSON = [784, 300, 100, 10]


class EpochModel:
    """The lesson's Sequential with one optimizer, warmed up; ``epoch()`` times one more epoch."""

    def __init__(self, x, y, batch, optimizer):
        import lamina

        optimizer, _, kernels = optimizer.partition(":")
        self.compiled = kernels != "numpy"
        lamina.random.set_seed(0)
        self.model = lamina.Sequential([lamina.Input((784,)), lamina.layers.Dense(300, activation="relu"),
                                        lamina.layers.Dense(100, activation="relu"),
                                        lamina.layers.Dense(10, activation="softmax")])
        self.model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        self.x, self.y, self.batch = x, y, batch
        self.times = []
        outer = self

        class Timer(lamina.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                outer.times.append(time.perf_counter() - self.start)

        self.timer = Timer()
        self.epoch()

    def epoch(self) -> float:
        from lamina.optimizers import kernels

        kernels.use_compiled(self.compiled)
        try:
            self.model.fit(self.x, self.y, batch_size=self.batch, epochs=1, verbose=0, callbacks=[self.timer])
        finally:
            kernels.use_compiled(True)
        return self.times[-1]


def spare_core() -> bool:
    """Whether lamina saw a core idle beside the BLAS threads after the rows (then a fit gathers its
    next batch on a second thread, ``trainers/prefetch.py``: batches of >= 128 x 784 values)."""
    from lamina.backend import threads

    return threads.spare_core()


def measure(batch: int, optimizers: list[str], rounds: int) -> dict:
    """Per round: the floor, then an epoch with each optimizer; the medians and the ratios."""
    import bench

    rng = np.random.default_rng(0)
    x, y = rng.random((55000, 784)), rng.integers(0, 10, 55000)
    models = {name: EpochModel(x, y, batch, name) for name in optimizers}
    rows = {"floor": [], "reading": [], **{name: [] for name in optimizers}}
    for _ in range(rounds):
        rows["floor"].append(bench.floor_seconds(LESSON, batch, len(x), repeats=1))
        rows["reading"].append(bench.floor_seconds(LESSON, batch, len(x), repeats=1, rows_from=x))
        for name, model in models.items():
            rows[name].append(model.epoch())
    result = {"batch": batch, "seconds": {k: statistics.median(v) for k, v in rows.items()},
              "load": os.getloadavg()[0], "spare_core": spare_core()}
    result["to_floor"] = {name: statistics.median(a / f for a, f in zip(rows[name], rows["floor"]))
                          for name in ["reading", *optimizers]}
    result["to_reading"] = {name: statistics.median(a / f for a, f in zip(rows[name], rows["reading"]))
                            for name in optimizers}
    result["to_sgd"] = {name: statistics.median(a / s for a, s in zip(rows[name], rows[optimizers[0]]))
                        for name in optimizers}
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="32,128,1024")
    parser.add_argument("--optimizers", default="sgd,adam,rmsprop,nadam", help="the first is the reference")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    optimizers = args.optimizers.split(",")
    if args.child:
        for batch in map(int, args.batches.split(",")):
            names = optimizers if batch == 32 else [o for o in optimizers if o.startswith(optimizers[0])]
            print(json.dumps(measure(batch, names, args.rounds)), flush=True)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| BLAS threads | batch | floor s/epoch | floor reading the rows s/epoch (x floor) | "
          + " | ".join(f"{o} s/epoch (x floor, x floor reading, x {optimizers[0]})" for o in optimizers)
          + " | load, spare core after |")
    print("|---" * (5 + len(optimizers)) + "|")
    for threads in args.threads.split(","):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads}
        child = subprocess.run([sys.executable, __file__, "--child", "--rounds", str(args.rounds), "--batches",
                                args.batches, "--optimizers", args.optimizers], env=env, capture_output=True,
                               text=True, check=True)
        for line in child.stdout.splitlines():
            row = json.loads(line)
            cells = [f"{row['seconds'][o]:.3f} ({row['to_floor'][o]:.2f}, {row['to_reading'][o]:.2f}, "
                     f"{row['to_sgd'][o]:.2f})" if o in row["seconds"] else "" for o in optimizers]
            print(f"| {threads} | {row['batch']} | {row['seconds']['floor']:.3f} | {row['seconds']['reading']:.3f} "
                  f"({row['to_floor']['reading']:.2f}) | " + " | ".join(cells)
                  + f" | {row['load']:.1f}, {'yes' if row['spare_core'] else 'no'} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
