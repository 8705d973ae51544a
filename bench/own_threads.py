"""Two ways of running a step on two cores without OpenBLAS's pool, measured against it (issue 15).

At two BLAS threads the fused plan's step is 1.2-1.3x the floor of its products and Adam's epoch
1.5-1.8x plain SGD's, because everything that is not a product (the batch's rows, the update) runs
on one core while OpenBLAS's second worker spins on the other. Both ideas below give that work
a second thread of lamina's own; neither paid here (bench/RESULTS.md, "Round 7").

1. **Lamina's own pair of threads for everything**: OpenBLAS on one thread; each product split in
   two halves, one run by a compiled worker (numba, no GIL) that spin-waits with ``sched_yield``,
   the rows of a batch gathered half by each. Compared with OpenBLAS's two threads on the
   lesson's step (products, gather of float64 rows, SGD inside the gradient product).
2. **Only the update split**, OpenBLAS keeping its two threads for the products: Adam's update of
   266,610 weights in halves, the second on a compiled worker sleeping on a futex (a thread that
   spins would take its core from OpenBLAS's workers), after the step's first-layer products.

    python bench/own_threads.py --rounds 4

Needs numba and Linux on x86-64 (the futex system call's number, and x86's ordering of stores,
which the handoff through a plain array relies on).
"""
from __future__ import annotations

import argparse
import ctypes
import os
import sys
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

import numba  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from lamina.backend import blas  # noqa: E402
from lamina.optimizers._numba_kernels import adam  # noqa: E402
from lamina.trainers._plan_kernels import gather_rows  # noqa: E402

SIZES = [784, 300, 100, 10]
ROWS = 60000
NO_TRANS, TRANS = 111, 112
SYS_FUTEX, FUTEX_WAIT, FUTEX_WAKE = 202, 0 | 128, 1 | 128  # private futexes

_cblas = blas.cblas_gemm(np.float32)
_index = ctypes.c_int64 if ctypes.sizeof(_cblas.argtypes[3]) == 8 else ctypes.c_int
# the same cblas_sgemm with its pointers as integers, so numba can pass them
sgemm = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int, _index, _index, _index, ctypes.c_float,
                         ctypes.c_int64, _index, ctypes.c_int64, _index, ctypes.c_float, ctypes.c_int64,
                         _index)(ctypes.cast(_cblas, ctypes.c_void_p).value)
_libc = ctypes.CDLL(None)
sched_yield = _libc.sched_yield
sched_yield.argtypes, sched_yield.restype = [], ctypes.c_int
futex = _libc.syscall
futex.argtypes = [ctypes.c_long, ctypes.c_int64, ctypes.c_int, ctypes.c_int, ctypes.c_int64]
futex.restype = ctypes.c_long


def gemm_args(a, b, c):
    """cblas's transpose flags and leading dimensions for ``c = a @ b`` on row-major views."""
    trans_a = NO_TRANS if a.strides[1] == 4 else TRANS
    trans_b = NO_TRANS if b.strides[1] == 4 else TRANS
    lda = a.strides[(trans_a == TRANS) * 1] // 4
    ldb = b.strides[(trans_b == TRANS) * 1] // 4
    return (trans_a, trans_b, c.shape[0], c.shape[1], a.shape[1], a.ctypes.data, lda, b.ctypes.data, ldb,
            c.ctypes.data, c.strides[0] // 4)


def gemm_here(a, b, c, alpha=1.0, beta=0.0):
    g = gemm_args(a, b, c)
    sgemm(101, g[0], g[1], g[2], g[3], g[4], alpha, g[5], g[6], g[7], g[8], beta, g[9], g[10])


@numba.njit(nogil=True)
def pair_worker(ctrl, task, scalars, x, index, rows):
    """ctrl: [posted, done, stop]; task[0] 0 = a product (cblas arguments follow), 1 = rows lo:hi."""
    seen = 0
    while True:
        while ctrl[0] == seen:
            sched_yield()
        seen = ctrl[0]
        if ctrl[2]:
            return
        if task[0] == 0:
            sgemm(np.int32(101), np.int32(task[1]), np.int32(task[2]), task[3], task[4], task[5],
                  np.float32(scalars[0]), task[6], task[7], task[8], task[9], np.float32(scalars[1]),
                  task[10], task[11])
        else:
            gather_rows(x, index[task[1]:task[2]], rows[task[1]:task[2]])
        ctrl[1] = seen


class Pair:
    """The worker of idea 1, for one batch buffer."""

    def __init__(self, x, index, rows):
        self.ctrl, self.task, self.scalars = np.zeros(3, np.int64), np.zeros(12, np.int64), np.zeros(2)
        self.thread = threading.Thread(target=pair_worker, args=(self.ctrl, self.task, self.scalars, x, index,
                                                                 rows), daemon=True)
        self.thread.start()

    def post(self, values, alpha=1.0, beta=0.0):
        self.task[:len(values)] = values
        self.scalars[:] = (alpha, beta)
        self.ctrl[0] += 1

    def wait(self):
        posted = self.ctrl[0]
        while self.ctrl[1] != posted:
            pass

    def stop(self):
        self.ctrl[2] = 1
        self.ctrl[0] += 1
        self.thread.join()


def pair_gemm(pair, a, b, c, alpha=1.0, beta=0.0):
    """``c = alpha a @ b + beta c``, halves of c's longer side on each thread (small ones here)."""
    m, n = c.shape
    if m * n * a.shape[1] < 2 * 65536 * 4:  # OpenBLAS's own threshold for a second thread
        return gemm_here(a, b, c, alpha, beta)
    if m >= n:
        half = m // 2
        pair.post((0, *gemm_args(a[half:], b, c[half:])), alpha, beta)
        gemm_here(a[:half], b, c[:half], alpha, beta)
    else:
        half = n // 2
        pair.post((0, *gemm_args(a, b[:, half:], c[:, half:])), alpha, beta)
        gemm_here(a, b[:, :half], c[:, :half], alpha, beta)
    pair.wait()


def step_epoch(x, batch, pair=None) -> float:
    """One epoch of the lesson's step (gather, products, SGD in the gradient products)."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((SIZES[i], SIZES[i + 1])).astype(np.float32) * 0.01 for i in range(3)]
    rows, index = pair.rows if pair else (np.empty((batch, 784), np.float32), np.empty(batch, np.intp))
    acts = [rows] + [np.empty((batch, w.shape[1]), np.float32) for w in weights]
    deltas = [np.empty((batch, w.shape[0]), np.float32) for w in weights]
    order = rng.permutation(ROWS)
    product = gemm_here if pair is None else (lambda a, b, c, alpha=1.0, beta=0.0: pair_gemm(pair, a, b, c, alpha, beta))
    start = time.perf_counter()
    for step in range(ROWS // batch):
        index[:] = order[step * batch:(step + 1) * batch]
        if pair is not None and batch >= 128:
            pair.post((1, batch // 2, batch))
            gather_rows(x, index[:batch // 2], rows[:batch // 2])
            pair.wait()
        else:
            gather_rows(x, index, rows)
        for i, w in enumerate(weights):
            product(acts[i], w, acts[i + 1])
        delta = acts[-1]
        for i in range(2, -1, -1):
            if i:
                product(delta, weights[i].T, deltas[i])
            product(acts[i].T, delta, weights[i], -0.001, 1.0)
            delta = deltas[i] if i else delta
    return time.perf_counter() - start


@numba.njit(nogil=True)
def update_worker(ctrl, address, w, g, m, v, scalars):
    """ctrl: [posted (the futex word), done, stop, lo, hi]; sleeps on the futex between updates."""
    seen = 0
    while True:
        spins = 0
        while ctrl[0] == seen:
            spins += 1
            if spins > 200:
                futex(SYS_FUTEX, address, FUTEX_WAIT, np.int32(seen), 0)
                spins = 0
        seen = ctrl[0]
        if ctrl[2]:
            return
        lo, hi = ctrl[3], ctrl[4]
        adam(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], scalars[0], scalars[1], scalars[2], scalars[3])
        ctrl[1] = seen


def update_rounds(rounds: int) -> dict:
    """Microseconds a step: the lesson's first-layer products on OpenBLAS's two threads, then
    Adam's update whole, or split with the worker; and the worker's bare round trip."""
    rng = np.random.default_rng(0)
    n = 266610
    w, g = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    m, v = np.zeros(n, np.float32), np.abs(rng.standard_normal(n)).astype(np.float32)
    scalars = np.array([0.1, 0.001, 0.001, 1e-7], np.float32)
    ctrl = np.zeros(5, np.int64)
    worker = threading.Thread(target=update_worker, args=(ctrl, ctrl.ctypes.data, w, g, m, v, scalars), daemon=True)
    worker.start()

    def post(lo, hi):
        ctrl[3], ctrl[4] = lo, hi
        ctrl[0] += 1
        futex(SYS_FUTEX, ctrl.ctypes.data, FUTEX_WAKE, 1, 0)

    def finish():
        posted = ctrl[0]
        while ctrl[1] != posted:
            pass

    def whole():
        adam(w, g, m, v, *scalars)

    def split():
        post(n // 2, n)
        adam(w[:n // 2], g[:n // 2], m[:n // 2], v[:n // 2], *scalars)
        finish()

    def round_trip():
        post(0, 8)
        finish()

    a = rng.standard_normal((784, 32)).astype(np.float32)
    b = rng.standard_normal((32, 300)).astype(np.float32)
    c = np.empty((784, 300), np.float32)
    times: dict = {"products only": [], "products + update, whole": [], "products + update, split": [],
                   "worker round trip alone": []}
    with threadpool_limits(2, "blas"):
        for _ in range(rounds * 3):
            for name, update in zip(times, (None, whole, split, round_trip)):
                start = time.perf_counter()
                for _ in range(300):
                    if name != "worker round trip alone":
                        np.matmul(a, b, out=c)
                        np.matmul(a, b, out=c)
                    if update is not None:
                        update()
                times[name].append((time.perf_counter() - start) / 300 * 1e6)
    ctrl[2] = 1
    ctrl[0] += 1
    futex(SYS_FUTEX, ctrl.ctypes.data, FUTEX_WAKE, 1, 0)
    worker.join()
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batches", default="32,128,1024")
    args = parser.parse_args(argv)
    x = np.random.default_rng(0).random((ROWS, 784))  # float64 rows, as the lesson's
    print("| batch | OpenBLAS 1 thread s/epoch | OpenBLAS 2 threads | own pair (OpenBLAS on 1) | pair / 2 threads |")
    print("|---|---|---|---|---|")
    for batch in map(int, args.batches.split(",")):
        times: dict = {"one": [], "two": [], "pair": []}
        for _ in range(args.rounds):  # interleaved; the pair's worker stopped while OpenBLAS's run
            with threadpool_limits(2, "blas"):
                times["two"].append(step_epoch(x, batch))
            with threadpool_limits(1, "blas"):
                times["one"].append(step_epoch(x, batch))
                time.sleep(0.3)  # OpenBLAS's idle worker stops spinning after ~0.1 s
                rows, index = np.empty((batch, 784), np.float32), np.empty(batch, np.intp)
                pair = Pair(x, index, rows)
                pair.rows = (rows, index)
                times["pair"].append(step_epoch(x, batch, pair))
                pair.stop()
        best = {k: min(v) for k, v in times.items()}
        print(f"| {batch} | {best['one']:.3f} | {best['two']:.3f} | {best['pair']:.3f} | "
              f"{best['pair'] / best['two']:.2f} |")
    print("\n| Adam's update after the products (2 BLAS threads) | min us | median us |\n|---|---|---|")
    for name, values in update_rounds(args.rounds).items():
        print(f"| {name} | {min(values):.1f} | {float(np.median(values)):.1f} |")


if __name__ == "__main__":
    main()
