"""How many threads NumPy's OpenBLAS runs lamina's matrix products on, chosen from the load on
the machine while lamina trains, evaluates or predicts, and never against the user's own setting.

Why. OpenBLAS splits a product among its threads and waits for all of them; between products its
workers spin. With more runnable threads than cores (another program computing), a product waits
for a worker the scheduler has not run, up to a timeslice each time. Measured on 2 cores, 300 steps
of the lesson's model (784-300-100-10, batch 32): 0.09 s on 2 threads alone, 3.4-21 s on 2 threads
with a second process multiplying matrices, 0.24-0.6 s on 1 thread under the same load. Alone, 2
threads are 1.3-1.6x faster than 1 from batch 8 up, and OpenBLAS already runs products too small to
split on one thread (its rule: one thread per 65536 * 4 multiply-adds). Under load one thread won
at every size measured, up to batch 1024 and 2048-wide layers. So the load decides, not the size:

- **Load** is the CPU time the *other* processes used over the last window: the machine's busy
  time (``/proc/stat``) minus this process's own (``time.process_time``, which counts OpenBLAS's
  spinning workers). Measured over 0.1 s windows it read 0.0-0.07 cores alone and 0.6-1.7 cores
  with a competitor. ``os.getloadavg`` was no use: a 1-minute average, it read 3.4 on an idle
  machine a minute after a load had stopped. A window older than 2 s is stale, so an entry
  point also counts the threads running elsewhere at that instant (``/proc/loadavg`` minus this
  process's running threads) and takes the larger. Without ``/proc`` (macOS, Windows) the load
  is unknown and OpenBLAS keeps its threads.
- **Threads** = the idle cores, at least 1, at most the pool's default. A call whose largest
  product OpenBLAS would run on one thread anyway is left alone. See :func:`choose_threads`.
- **When**: on entering ``fit``/``evaluate``/``predict``/``train_on_batch``/``test_on_batch``,
  then every 0.25 s between the loop's batches (:func:`paced`: ~0.3 us a batch, the re-check
  ~15-30 us), so a competitor that starts mid-fit costs at most ~0.5 s of slow steps. The count
  is set by OpenBLAS's own ``openblas_set_num_threads`` through ctypes (threadpoolctl finds the
  library once, since a fresh ``threadpool_limits`` rescans the libraries, 0.4-1.8 ms; its own
  set and restore cost ~8-15 us in Python), only when the count changes; on leaving, the pool
  gets back the count it had. Entering and leaving a call costs ~6-8 us, the count changed or
  not (it was ~17 us and ~60 us through threadpoolctl's limit).
- **The user's settings win**: with ``OPENBLAS_NUM_THREADS``, ``GOTO_NUM_THREADS`` or
  ``OMP_NUM_THREADS`` set, or the pool at a count other than OpenBLAS's default (a
  ``threadpoolctl`` limit, ``openblas_set_num_threads``), lamina leaves the pool alone. A limit
  equal to the default cannot be told from no limit.

Only NumPy's own OpenBLAS is governed (the one ``blas.py`` calls): one pool for the hot loop.

One thread besides the BLAS pool's: ``fit`` may gather the next batch's rows on a second thread
(``trainers/prefetch.py``), only while :func:`spare_core` finds a core that neither the pool's
threads (at the user's setting or lamina's choice) nor other programs use.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import contextlib
import ctypes
import itertools
import os
import re
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported at the first fit, not with lamina (20 ms)
    import threadpoolctl

USER_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
CHECK_PERIOD = 0.25  # seconds between load measurements; shorter windows read /proc/stat's 10 ms ticks too coarsely
STALE_WINDOW = 2.0  # a window longer than this also looks at the threads running right now
IDLE_SLACK = 0.25  # other processes' use below this many cores counts as idle (kernel threads, tick rounding)
MNK_PER_THREAD = 65536 * 4  # OpenBLAS's own threading threshold for gemm: multiply-adds per thread


def choose_threads(largest_product: int | None, others_busy: float | None, cpus: int, ceiling: int) -> int:
    """The BLAS threads for products of up to ``largest_product`` multiply-adds (``m * n * k``;
    None: not known yet) when other processes keep ``others_busy`` cores busy (None: unknown) out
    of ``cpus``; never more than ``ceiling`` (the pool's default) nor fewer than 1.

    >>> choose_threads(32 * 784 * 300, 0.0, cpus=2, ceiling=2)  # the lesson's batch, alone
    2
    >>> choose_threads(32 * 784 * 300, 1.6, cpus=2, ceiling=2)  # another program computing
    1
    >>> choose_threads(4 * 64 * 10, 0.0, cpus=2, ceiling=2)  # too small to split
    1
    """
    by_size = ceiling if largest_product is None else max(1, largest_product // MNK_PER_THREAD)
    if others_busy is None:
        by_load = ceiling
    else:
        by_load = int(cpus - others_busy + IDLE_SLACK)
    return max(1, min(ceiling, by_size, by_load))


class LoadMeter:
    """The cores other processes keep busy, measured over the time since the last reading."""

    def __init__(self):
        self.cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.tick_seconds = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.last = None  # (wall time, idle seconds of our CPUs, our CPU seconds)
        self.estimate: float | None = None

    def _idle_seconds(self) -> float | None:
        """Idle + iowait seconds of the CPUs this process may run on (None without /proc/stat)."""
        try:
            with open("/proc/stat", "rb") as stat:
                lines = stat.read(65536).split(b"\n")
        except OSError:
            return None
        mine = None if self.cpus == os.cpu_count() else {f"cpu{i}".encode() for i in os.sched_getaffinity(0)}
        idle = 0
        for line in lines:
            fields = line.split()
            if not fields or not fields[0].startswith(b"cpu"):
                break
            if (mine is None and fields[0] == b"cpu") or (mine is not None and fields[0] in mine):
                idle += int(fields[4]) + int(fields[5])
        return idle / self.tick_seconds

    def read(self, now: float) -> tuple[float, float, float] | None:
        """``(wall seconds, idle seconds of our CPUs, this process's CPU seconds)``, or None."""
        idle = self._idle_seconds()
        return None if idle is None else (now, idle, time.process_time())

    def others_busy(self, now: float | None = None) -> float | None:
        """Cores used by other processes since the last call (the previous estimate when that was
        under ``CHECK_PERIOD`` ago; None when the load cannot be read)."""
        now = time.perf_counter() if now is None else now
        if self.last is not None and now - self.last[0] < CHECK_PERIOD:
            return self.estimate
        reading = self.read(now)
        if reading is None:
            return None
        windowed = None
        if self.last is not None:
            wall = reading[0] - self.last[0]
            windowed = self.cpus - (reading[1] - self.last[1]) / wall - (reading[2] - self.last[2]) / wall
        if windowed is None or now - self.last[0] > STALE_WINDOW:
            instant = running_elsewhere()
            windowed = instant if windowed is None else max(windowed, instant)
        self.last, self.estimate = reading, max(0.0, windowed)
        return self.estimate


def running_elsewhere() -> float:
    """Threads running right now outside this process: ``/proc/loadavg``'s count of running
    threads, less this process's threads in state R (this one, OpenBLAS's spinning workers)."""
    try:
        with open("/proc/loadavg", "rb") as loadavg:
            running = int(loadavg.read().split()[3].split(b"/")[0])
        tasks = os.listdir("/proc/self/task")
    except (OSError, IndexError, ValueError):
        return 0.0
    own = 0
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat", "rb") as stat:
                text = stat.read()
        except OSError:  # the thread ended meanwhile
            continue
        own += text[text.rindex(b")") + 2:text.rindex(b")") + 3] == b"R"
    return float(max(0, running - own))


class BlasPool:
    """NumPy's OpenBLAS as threadpoolctl sees it, and the thread count it starts with."""

    def __init__(self, controller: threadpoolctl.ThreadpoolController, default: int):
        self.controller, self.default = controller, default
        self.library = controller.lib_controllers[0]
        # OpenBLAS's own get/set calls through ctypes: threadpoolctl's wrappers cost ~10 us a
        # call in Python, paid 4 times a step by a GradientTape loop under load
        self._get, self._set = _thread_calls(self.library.filepath)

    @classmethod
    def find(cls) -> BlasPool | None:
        """NumPy's OpenBLAS, or None when NumPy's BLAS is something else (MKL, Accelerate)."""
        import threadpoolctl  # 20 ms: imported at the first fit, not with lamina

        controller = threadpoolctl.ThreadpoolController().select(internal_api="openblas")
        numpy_dirs = tuple(os.path.realpath(os.path.join(os.path.dirname(np.__file__), *parts))
                           for parts in (("..", "numpy.libs"), (".dylibs",)))
        ours = [lib for lib in controller.lib_controllers
                if os.path.dirname(os.path.realpath(lib.filepath)) in numpy_dirs]
        if not ours and len(controller.lib_controllers) == 1:  # a NumPy built on a system OpenBLAS
            ours = controller.lib_controllers
        if not ours:
            return None
        return cls(controller.select(filepath=ours[0].filepath), _default_threads(ours[0].filepath))

    def current(self) -> int:
        return self._get() if self._get is not None else self.library.get_num_threads()

    def set(self, threads: int) -> None:
        if self._set is not None:
            self._set(threads)
        else:
            self.library.set_num_threads(threads)


def _thread_calls(filepath: str) -> tuple:
    """OpenBLAS's ``openblas_get_num_threads`` and ``openblas_set_num_threads`` (with the symbol
    prefix and suffix of its build), or (None, None) when they are not found."""
    library = ctypes.CDLL(filepath)  # already loaded by NumPy: this returns the same handle
    for prefix, suffix in itertools.product(("", "scipy_"), ("", "64_", "_64")):
        get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
        put = getattr(library, f"{prefix}openblas_set_num_threads{suffix}", None)
        if get is not None and put is not None:
            get.restype, get.argtypes = ctypes.c_int, []
            put.restype, put.argtypes = None, [ctypes.c_int]
            return get, put
    return None, None


def _default_threads(filepath: str) -> int:
    """OpenBLAS's own default: the CPUs it detects, capped by its build's MAX_THREADS."""
    library = ctypes.CDLL(filepath)  # already loaded by NumPy: this returns the same handle
    for prefix, suffix in itertools.product(("", "scipy_"), ("", "64_", "_64")):
        procs = getattr(library, f"{prefix}openblas_get_num_procs{suffix}", None)
        config = getattr(library, f"{prefix}openblas_get_config{suffix}", None)
        if procs is not None and config is not None:
            config.restype = ctypes.c_char_p
            cap = re.search(rb"MAX_THREADS=(\d+)", config() or b"")
            return min(procs(), int(cap.group(1))) if cap else procs()
    return os.cpu_count() or 1


def user_setting(pool: BlasPool) -> str | None:
    """What the user set for BLAS threads, if anything (then lamina leaves the pool alone)."""
    environ = getattr(os.environ, "_data", None)  # CPython's bytes dict: a tape asks twice a step, and
    for name in USER_VARIABLES:                   # os.environ.get costs ~2 us a name
        if environ is not None and name.encode() not in environ:
            continue
        if os.environ.get(name, "").strip():
            return f"{name}={os.environ[name]}"
    if pool.current() != pool.default:
        return f"a limit of {pool.current()} threads (OpenBLAS's default is {pool.default})"
    return None


class Governor:
    """The thread count of one ``fit``/``evaluate``/``predict``: decided on entry, re-decided between
    batches every ``CHECK_PERIOD``, the pool's own count restored on exit (``close``). A call that
    keeps OpenBLAS's count never sets it."""

    def __init__(self, pool: BlasPool, meter: LoadMeter, largest_product: int | None):
        self.pool, self.meter, self.largest_product = pool, meter, largest_product
        self.thread = threading.get_ident()
        self.threads = self.entry_threads = pool.current()
        self.next_check = 0.0

    def decide(self, now: float) -> None:
        threads = choose_threads(self.largest_product, self.meter.others_busy(now), self.meter.cpus,
                                 self.pool.default)
        if threads != self.threads:
            self.pool.set(threads)
            self.threads = threads
        self.next_check = now + CHECK_PERIOD

    def tick(self) -> None:
        now = time.perf_counter()
        if now >= self.next_check and self.thread == threading.get_ident():
            self.decide(now)

    def close(self) -> None:
        """Give the pool back the count it had on entry."""
        if self.threads != self.entry_threads:
            self.pool.set(self.entry_threads)
            self.threads = self.entry_threads


_active: list[Governor] = []  # the governors of the calls in progress, innermost last
_found: list = []  # [BlasPool or None, LoadMeter], once looked up
_lock = threading.Lock()
_calls = threading.local()  # .depth: the blas_threads blocks open in this thread, governed or not


def largest_product(model, rows: int | None) -> int | None:
    """The multiply-adds of the model's largest product on ``rows`` rows (None when the rows are
    not known, a batch source, or the model is not built yet)."""
    if model is None:  # a tape of the user's own: any products
        return None
    sizes = [weight.shape[0] * weight.shape[1] for weight in model.weights if len(weight.shape) == 2]
    return rows * max(sizes) if sizes and rows else None


class blas_threads:  # noqa: N801 (a context manager used as a function, as contextlib's are)
    """Run the body with the BLAS threads :func:`choose_threads` picks for ``model`` on batches of
    ``rows`` (model or rows None: not known; a ``GradientTape`` passes no model), re-decided
    between the batches of :func:`paced` (which the block gives as its value); the pool's count
    is restored afterwards. Does nothing when the user set
    the threads, when NumPy's BLAS is not OpenBLAS, or when another Python thread is already
    inside one of these blocks (the pool is process-wide).

    >>> import lamina
    >>> model = lamina.Sequential([lamina.layers.Dense(2, input_shape=(3,))])
    >>> with blas_threads(model, 32) as batches:
    ...     [len(batch) for batch in batches([[1], [2, 3]])]
    [1, 2]
    """

    __slots__ = ("model", "rows", "governor")

    def __init__(self, model: Any, rows: int | None = None):
        self.model, self.rows = model, rows
        self.governor: Governor | None = None

    # a class, not a generator: a user's training loop opens two of these a step (~3 us, not 18)
    def __enter__(self) -> Callable:
        _calls.depth = getattr(_calls, "depth", 0) + 1
        try:
            self.governor = _enter(self.model, self.rows)
            if self.governor is not None:
                self.governor.decide(time.perf_counter())
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return paced

    def __exit__(self, *exc_info) -> None:
        governor, self.governor = self.governor, None
        try:
            if governor is not None:
                governor.close()
                with _lock:
                    _active.remove(governor)
        finally:
            _calls.depth -= 1


def for_user_loop() -> contextlib.AbstractContextManager:
    """``blas_threads`` for a ``GradientTape`` of the user's own training loop; nothing inside a
    ``fit``/``evaluate``/``predict`` of lamina's (their block already chose, from the model's
    product sizes)."""
    return contextlib.nullcontext() if getattr(_calls, "depth", 0) else blas_threads(None)


def lookup() -> tuple[BlasPool | None, LoadMeter]:
    """NumPy's OpenBLAS pool (None if NumPy's BLAS is not OpenBLAS) and the load meter, found once."""
    if not _found:
        _found.extend([BlasPool.find(), LoadMeter()])
    return _found[0], _found[1]


def _enter(model, rows: int | None) -> Governor | None:
    with _lock:
        pool, meter = lookup()
        if pool is None or (_active and _active[-1].thread != threading.get_ident()):
            return None
        if not _active and user_setting(pool) is not None:  # inside a call of ours, the count is ours
            return None
        largest = largest_product(model, rows)
        if largest is not None and choose_threads(largest, 0.0, meter.cpus, pool.default) == 1:
            return None  # products OpenBLAS runs on one thread anyway: nothing to choose
        governor = Governor(pool, meter, largest)
        _active.append(governor)
        return governor


def spare_core(now: float | None = None) -> bool:
    """Whether one more busy thread of ours (the fit's batch gather, ``trainers/prefetch.py``) would
    find a core of its own: the BLAS pool's threads, that thread and the other processes' load
    within the CPUs. False when the pool or the load cannot be read (no OpenBLAS, no ``/proc``).

    The pool's count is read as it is now (the user's setting or the governor's choice), so at
    OpenBLAS's default on an idle machine, every core already has a BLAS thread: False."""
    with _lock:
        pool, meter = lookup()
    if pool is None:
        return False
    others = meter.others_busy(now)
    return others is not None and pool.current() + 1 + others <= meter.cpus + IDLE_SLACK


def paced(batches) -> Iterator:
    """The training, evaluation and prediction loops' batches, unchanged; after each one the
    innermost :func:`blas_threads` block re-measures the load if ``CHECK_PERIOD`` has passed
    (~0.3 us a batch otherwise)."""
    for batch in batches:
        yield batch
        if _active:
            _active[-1].tick()
