"""Benchmark row: the lesson's training while another program computes.

300 steps of the lesson's model (784-300-100-10, SGD 0.01, batch 32, 9,600 random rows) in
lamina and in Keras 3 on JAX, each in its own long-lived worker process (built and warmed up
once; Keras's functions compiled), alone and while a competitor process multiplies 1000x1000
float64 matrices with NumPy's default threads: started by this script (same session, so Linux's
scheduler shares one autogroup's CPU among it and the workers), or in a session of its own, as
another program would be. Rounds interleave the workers and the conditions, so the machine's other
load falls on all of them alike; the table gives medians over rounds, the spread (min-max), and
the median of each round's loaded / alone ratio.

``--baseline REV`` adds lamina as of a git revision (exported with ``git archive`` into a
temporary folder and put first on its ``PYTHONPATH``) to compare in the same run.

    python bench/under_load.py --rounds 7 --baseline 479ff17
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_DATA = """
import sys, time, numpy as np
rng = np.random.default_rng(0)
x = rng.random((9600, 784), dtype=np.float32); y = rng.integers(0, 10, 9600)
"""
_LOOP = """
print("ready", flush=True)
for line in sys.stdin:
    start = time.perf_counter(); fit(); print(time.perf_counter() - start, flush=True)
"""
LAMINA_WORKER = _DATA + """
import lamina
lamina.random.set_seed(0)
model = lamina.Sequential([lamina.layers.Input((784,)), lamina.layers.Dense(300, activation="relu"),
                           lamina.layers.Dense(100, activation="relu"), lamina.layers.Dense(10, activation="softmax")])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
fit = lambda: model.fit(x, y, batch_size=32, epochs=1, verbose=0)
fit()
""" + _LOOP
KERAS_WORKER = _DATA + """
import keras
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(300, activation="relu"),
                          keras.layers.Dense(100, activation="relu"), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
fit = lambda: model.fit(x, y, batch_size=32, epochs=1, verbose=0)
fit()
""" + _LOOP
COMPETITOR = """
import numpy as np
a = np.random.default_rng(1).random((1000, 1000)); b = a.T.copy()
while True:
    a @ b
"""


class Worker:
    """One implementation in its own process: ``run()`` trains 300 steps and returns the seconds."""

    def __init__(self, name: str, code: str, env: dict):
        self.name = name
        env = {key: value for key, value in {**os.environ, **env}.items() if value is not None}  # None: unset
        self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)
        ready = self.process.stdout.readline()
        if ready.strip() != "ready":
            raise RuntimeError(f"{name} worker did not start (exit code {self.process.poll()})")

    def run(self) -> float:
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def export_revision(revision: str, folder: str) -> str:
    """``src/`` of lamina at ``revision``, extracted under ``folder``; returns its path."""
    archive = os.path.join(folder, "src.tar")
    subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", "-o", archive, revision, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return os.path.join(folder, "src")


def start_workers(baseline_src: str | None, baseline: str | None) -> list[Worker]:
    src = os.path.join(ROOT, "src")
    clean = dict.fromkeys(("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"))  # lamina's own choice
    workers = [Worker("lamina (this tree)", LAMINA_WORKER, {**clean, "PYTHONPATH": src})]
    if baseline_src is not None:
        workers.append(Worker(f"lamina at {baseline} (before the thread policy)", LAMINA_WORKER,
                              {**clean, "PYTHONPATH": baseline_src}))
    workers.append(Worker("lamina, OPENBLAS_NUM_THREADS=1", LAMINA_WORKER,
                          {"OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": src}))
    try:
        workers.append(Worker("Keras 3 on JAX", KERAS_WORKER, {**clean, "KERAS_BACKEND": "jax"}))
    except RuntimeError as error:
        print(f"Keras 3 on JAX: {error}, left out")
    return workers


CONDITIONS = {  # name -> how the competitor is started (None: no competitor)
    "alone": None,
    "competitor in this session": {},  # a subprocess of the same job: the scheduler's same autogroup
    "competitor in its own session": {"start_new_session": True},  # another program, as from another terminal
}


def measure(workers: list[Worker], rounds: int) -> dict:
    """``{(worker name, condition): [seconds per round]}``, workers and conditions interleaved."""
    times: dict = {}
    for round_index in range(rounds):
        order = workers[round_index % len(workers):] + workers[:round_index % len(workers)]
        for condition, how in CONDITIONS.items():
            competitor = None
            if how is not None:
                competitor = subprocess.Popen([sys.executable, "-c", COMPETITOR], **how)
                time.sleep(1.0)  # its threads running before the first step
            try:
                for worker in order:
                    times.setdefault((worker.name, condition), []).append(worker.run())
            finally:
                if competitor is not None:
                    competitor.kill()
                    competitor.wait()
            time.sleep(0.5)
        print(f"round {round_index + 1}/{rounds} done", file=sys.stderr, flush=True)
    return times


def table(workers: list[Worker], times: dict) -> list[str]:
    loaded = [condition for condition, how in CONDITIONS.items() if how is not None]
    lines = ["| 300 steps of the lesson's model | " + " | ".join(f"{c}: median s (min-max)" for c in CONDITIONS)
             + " | " + " | ".join(f"slowdown, {c}: median of rounds (min-max)" for c in loaded) + " |",
             "|---" * (1 + len(CONDITIONS) + len(loaded)) + "|"]
    for worker in workers:
        cells = []
        for condition in CONDITIONS:
            seconds = times[(worker.name, condition)]
            cells.append(f"{statistics.median(seconds):.3f} ({min(seconds):.3f}-{max(seconds):.3f})")
        alone = times[(worker.name, "alone")]
        for condition in loaded:
            ratios = [b / a for a, b in zip(alone, times[(worker.name, condition)])]
            cells.append(f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
        lines.append(f"| {worker.name} | " + " | ".join(cells) + " |")
    return lines


def run(rounds: int = 5, baseline: str | None = None) -> list[str]:
    """Measure and return the table's lines."""
    with tempfile.TemporaryDirectory() as folder:
        baseline_src = export_revision(baseline, folder) if baseline else None
        workers = start_workers(baseline_src, baseline)
        try:
            times = measure(workers, rounds)
        finally:
            for worker in workers:
                worker.close()
    return table(workers, times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--baseline", help="also measure lamina at this git revision, e.g. 479ff17")
    args = parser.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average before: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}, {args.rounds} rounds")
    print("\n".join(run(args.rounds, args.baseline)))
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
