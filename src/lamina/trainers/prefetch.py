"""The next batch's rows gathered on a second thread while the current batch's products run.

Why. The fused plan reads each batch's rows from the user's array (float64 rows of 6 KB at
random places, cast into its float32 buffer): at batch 1024 that is ~1 ms of a ~16 ms step on one
BLAS thread, and no way of reading was found to be faster (bench/RESULTS.md). With one BLAS thread
on a machine of two idle cores the second core does nothing: NumPy's fancy indexing and its cast
release the GIL, and so does OpenBLAS, so the gather of batch ``k + 1`` can run there while batch
``k`` trains. The plan keeps two first-input buffers (``FastPlan.slot_for_prefetch``) and trains
on the one the gather has filled: the same rows in the same order, so the same numbers.

When. Only while ``backend.threads.spare_core()`` says a core is idle beside the BLAS threads
(re-checked every ``CHECK_PERIOD``), only for full batches of plain arrays the plan takes, and
only batches of at least ``MIN_VALUES`` values (below, handing a batch to the thread costs about
what the gather does). Otherwise the plan gathers the batch itself, as without this module. A
gather the thread has not started when its batch is due is done by the training thread
instead, so a busy machine never makes the step wait for a thread it has not scheduled.

The thread lives for one epoch (:func:`feed` is a context manager around its batches, started at
the first batch it gathers: ~0.1 ms): it is stopped and joined on leaving, whether the epoch
ended, a callback stopped training or an exception (Ctrl-C included) is on its way out; an error
inside a gather is raised in the training thread when that batch is due.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from collections.abc import Callable, Iterator

import contextlib
import queue
import threading
import time

import numpy as np

from ..backend import threads

if TYPE_CHECKING:
    from .fast_plan import FastPlan
    from .plan_buffers import Buffers

MIN_VALUES = 128 * 784  # the lesson's batch 128: smaller batches gather in ~30 us, about a handoff's cost


class Gather:
    """The copy of rows ``index`` of ``x2d`` into ``target`` (a plan buffer), done exactly once by
    whichever thread claims it first."""

    __slots__ = ("x", "x2d", "index", "buffers", "slot", "target", "copy", "claim", "finished", "error")

    def __init__(self, x: np.ndarray, x2d: np.ndarray, index: np.ndarray, buffers: Buffers, slot: int,
                 target: np.ndarray, copy: Callable):
        self.x, self.x2d, self.index, self.copy = x, x2d, index, copy  # copy: the plan's ``gather``
        self.buffers, self.slot, self.target = buffers, slot, target
        self.claim, self.finished = threading.Lock(), threading.Lock()
        self.finished.acquire()  # released when the copy is done
        self.error: BaseException | None = None

    def run(self) -> None:
        """Do the copy if no thread has claimed it yet (the worker, or the trainer taking it back)."""
        if not self.claim.acquire(blocking=False):
            return
        try:
            self.copy(self.x2d, self.index, self.target)
        except BaseException as error:  # noqa: BLE001 - raised again in the training thread
            self.error = error
        finally:
            self.finished.release()

    def wait(self) -> None:
        """The copy done (by the worker, or here if the worker has not started it); its error raised."""
        self.run()
        self.finished.acquire()
        self.finished.release()
        if self.error is not None:
            raise self.error


class Prefetcher:
    """One epoch's gathering thread (started at its first gather) and the policy deciding per batch."""

    def __init__(self, plan: FastPlan):
        self.plan = plan
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.worker: threading.Thread | None = None
        self.allowed = False
        self.next_check = 0.0

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            job.run()

    def _spare_core(self) -> bool:
        now = time.perf_counter()
        if now >= self.next_check:
            self.allowed = threads.spare_core()
            self.next_check = now + threads.CHECK_PERIOD
        return self.allowed

    def submit(self, batch, after: Gather | None) -> Gather | None:
        """Start gathering ``batch`` (the loop's ``(x, y, index, sample_weight)``) into the slot the
        batch before it (``after``, or the plan's current one) is not training on; None when this
        batch is left to the plan."""
        x, _, index, sample_weight = batch
        if isinstance(index, slice):  # contiguous rows (no shuffle): a plain copy the plan does itself
            return None
        if sample_weight is not None or not isinstance(x, np.ndarray) or len(index) * x[0].size < MIN_VALUES:
            return None
        if not self._spare_core():
            return None
        target = self.plan.slot_for_prefetch(x, index, after)
        if target is None:
            return None
        x2d, buffers, slot, features = target
        job = Gather(x, x2d, index, buffers, slot, features, self.plan.gather)
        if self.worker is None:
            self.worker = threading.Thread(target=self._work, name="lamina-prefetch", daemon=True)
            self.worker.start()
        self.jobs.put(job)
        return job

    def close(self) -> None:
        if self.worker is not None:
            self.jobs.put(None)
            self.worker.join()
            self.worker = None


def _ahead(prefetcher: Prefetcher, batches) -> Iterator:
    """``batches`` unchanged, each one's successor handed to the prefetcher before it is yielded."""
    plan = prefetcher.plan
    iterator = iter(batches)
    current = next(iterator, None)
    job = None
    while current is not None:
        following = next(iterator, None)
        job_after = None if following is None else prefetcher.submit(following, job)
        plan.gathered = job  # what the plan finds when it trains ``current``
        yield current
        current, job = following, job_after


def _may_pay(source) -> bool:
    """Whether ``source`` (``sources.ArrayData``, or a source of ready batches) has batches the
    plan gathers that are large enough to hand to a thread: else the loop gets its batches as
    they are, without even this module's generator in between."""
    x, batch_size = getattr(source, "x", None), getattr(source, "batch_size", None)
    return (isinstance(x, np.ndarray) and batch_size is not None and source.sample_weight is None
            and batch_size * (x.size // len(x)) >= MIN_VALUES)


@contextlib.contextmanager
def feed(plan, source, rng) -> Iterator[Iterator]:
    """``source``'s batches for an epoch (``source.epoch(rng)``) for a loop that trains them on ``plan``
    (None: no plan, the batches as they are), the next one's rows gathered ahead when the policy
    allows; the thread stopped on exit.

    The plan must train each batch before the loop asks for the next (the fit loop does)."""
    batches = source.epoch(rng)
    if plan is None or plan.prefetcher is not None or not _may_pay(source):  # a fit in a fit's callback
        yield batches
        return
    prefetcher = plan.prefetcher = Prefetcher(plan)
    try:
        yield _ahead(prefetcher, batches)
    finally:
        plan.prefetcher = plan.gathered = None
        prefetcher.close()
