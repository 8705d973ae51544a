"""The measurements behind lamina's BLAS thread policy (``src/lamina/backend/threads.py``).

1. 300 steps of the lesson's model on one and on two OpenBLAS threads (forced with
   ``threadpoolctl``), alone and next to competitors of several kinds, interleaved rounds;
2. what the load meter reads in each of those conditions;
3. what the policy costs: entering and leaving a call, the per-batch hook, one load reading,
   threadpoolctl's own calls.

    python bench/thread_choice.py --rounds 3
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

COMPETITOR = """
import sys, time, numpy as np
duty = float(sys.argv[1])
a = np.random.default_rng(1).random((1000, 1000), dtype=np.float32); b = a.T.copy()
while True:
    start = time.perf_counter(); a @ b
    if duty < 1:
        time.sleep((time.perf_counter() - start) * (1 - duty) / duty)
"""
COMPETITORS = {  # name -> (extra environment, share of the time it computes); None: no competitor
    "none (the machine's other tenants only)": None,
    "NumPy matmul, 2 threads, always busy": ({}, 1.0),
    "NumPy matmul, 1 thread, always busy": ({"OPENBLAS_NUM_THREADS": "1"}, 1.0),
    "1 thread busy 30% of the time": ({"OPENBLAS_NUM_THREADS": "1"}, 0.3),
    "1 thread busy 10% of the time": ({"OPENBLAS_NUM_THREADS": "1"}, 0.1),
}


def lesson_model():
    import lamina

    lamina.random.set_seed(0)
    model = lamina.Sequential([lamina.layers.Input((784,)), lamina.layers.Dense(300, activation="relu"),
                               lamina.layers.Dense(100, activation="relu"),
                               lamina.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def one_or_two_threads(rounds: int) -> list[str]:
    """Seconds for 300 steps on 2 and on 1 thread, and the load meter's reading, per competitor."""
    from lamina.backend import threads

    pool, meter = threads.lookup()
    rng = np.random.default_rng(0)
    x, y = rng.random((9600, 784), dtype=np.float32), rng.integers(0, 10, 9600)
    model = lesson_model()
    model.fit(x[:320], y[:320], batch_size=32, verbose=0)
    seconds: dict = {}
    for _ in range(rounds):
        for name, competitor in COMPETITORS.items():
            process = None
            if competitor is not None:
                env, duty = competitor
                process = subprocess.Popen([sys.executable, "-c", COMPETITOR, str(duty)], env={**os.environ, **env})
                time.sleep(1.0)
            try:
                for count in (2, 1):
                    os.environ["OPENBLAS_NUM_THREADS"] = str(count)  # the user's setting: the policy stands aside
                    with pool.controller.limit(limits=count):
                        before = meter.read(time.perf_counter())
                        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
                        after = meter.read(time.perf_counter())
                    del os.environ["OPENBLAS_NUM_THREADS"]
                    seconds.setdefault((name, count), []).append(after[0] - before[0] if after else float("nan"))
                    if after:
                        wall = after[0] - before[0]
                        busy = meter.cpus - (after[1] - before[1]) / wall - (after[2] - before[2]) / wall
                        seconds.setdefault((name, "meter"), []).append(busy)
            finally:
                if process is not None:
                    process.kill()
                    process.wait()
    lines = ["| competitor | 2 threads, s | 1 thread, s | load meter, cores busy elsewhere |", "|---|---|---|---|"]
    for name in COMPETITORS:
        cells = [", ".join(f"{v:.3f}" for v in seconds[(name, key)]) for key in (2, 1)]
        readings = seconds.get((name, "meter"), [])
        meter_cell = f"{min(readings):.2f}-{max(readings):.2f}" if readings else "not readable here"
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {meter_cell} |")
    return lines


def per_call(function, calls: int) -> float:
    """Microseconds per call, the minimum of 5 timings."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def costs() -> list[str]:
    import threadpoolctl

    from lamina.backend import threads

    pool, meter = threads.lookup()
    model = lesson_model()

    def enter_and_leave():
        with threads.blas_threads(model, 32):
            pass

    def hook_in_a_block(batches=1000):
        with threads.blas_threads(model, 32) as paced:
            for _ in paced(range(batches)):
                pass

    def limit():
        with pool.controller.limit(limits=1):
            pass

    def fresh_limits():
        with threadpoolctl.threadpool_limits(1, user_api="blas"):
            pass

    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import threadpoolctl"], check=True)
    python_alone = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python_alone -= time.perf_counter() - start
    return [
        f"- entering and leaving `blas_threads` (the decision as the load stands): {per_call(enter_and_leave, 2000):.1f} us",
        f"- the per-batch hook inside a block: {per_call(hook_in_a_block, 20) / 1000:.3f} us",
        f"- one load reading (/proc/stat): {per_call(lambda: meter.read(0.0), 2000):.1f} us; "
        f"the threads running elsewhere now: {per_call(threads.running_elsewhere, 500):.1f} us",
        f"- threadpoolctl: the built controller's limit, set and restore {per_call(limit, 2000):.1f} us; "
        f"set_num_threads {per_call(lambda: pool.set(pool.current()), 20000):.2f} us; "
        f"threadpool_limits set and restore {per_call(fresh_limits, 200):.0f} us; "
        f"ThreadpoolController() {per_call(threadpoolctl.ThreadpoolController, 200):.0f} us; "
        f"import threadpoolctl ~{python_alone * 1000:.0f} ms (a fresh process, less a bare one)",
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.pop(name, None)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; 300 steps of the lesson's model, {args.rounds} rounds")
    print("\n".join(one_or_two_threads(args.rounds)))
    print()
    print("\n".join(costs()))
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
