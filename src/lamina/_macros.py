"""The stateful calls a ``tf.function`` trace records as one step each (``tf/compiled_function.py``).

A traced function is replayed as its primitives on arrays; what changes state outside the ops
(an optimizer's ``apply``, a metric's ``update_state``/``result``/``reset_state``, a Variable's
``assign``, ``tf.print``) cannot be replayed from its insides, so while a trace records, each
such call is recorded whole and the replay makes the same call again on the new values. The
methods carry ``@stateful``; outside a trace it costs one list test per call. A Variable written
in place by anything else during a trace (``Variable._written`` outside these calls) is a change
the replay would miss: the trace is refused (``unexplained_write``), and the function stays eager.
As in TensorFlow, a trace records only its own thread's calls: another thread's optimizer or
metric is not a step of it. Its own module: variables, optimizers, metrics and the tape all use
it, and it imports nothing of lamina's.
"""
from __future__ import annotations

import functools
import threading
from typing import Callable


class _ThisThread(threading.local):
    """One thread's function traces (a new thread starts with none)."""

    def __init__(self) -> None:
        self.recorders: list = []  # the function traces recording now, innermost last
        self.inside = 0  # stateful calls running now: what they do inside is theirs, not the trace's


HERE = _ThisThread()
# every thread's recording function traces: the one test a stateful call pays outside a trace
# (reading the threading.local costs more); which trace records is then read from this thread
RECORDERS: list = []


def start(trace) -> None:
    """``trace`` records this thread's stateful calls until ``stop``."""
    HERE.recorders.append(trace)
    RECORDERS.append(trace)


def stop(trace) -> None:
    if trace in HERE.recorders:
        HERE.recorders.remove(trace)
        RECORDERS.remove(trace)


def tracing() -> bool:
    """Whether a function trace of this thread is open (even while a stateful call runs)."""
    return bool(RECORDERS) and bool(HERE.recorders)


def stateful(method: Callable) -> Callable:
    """Make ``method`` one recorded step of a function trace (its insides are not recorded)."""
    @functools.wraps(method)
    def call(*args, **kwargs):
        if RECORDERS:
            trace = recorder()
            if trace is not None:
                return trace.record_call(method, args, kwargs)
        return method(*args, **kwargs)
    call.__wrapped_stateful__ = method  # type: ignore[attr-defined]
    return call


def recorder():
    """This thread's function trace that records now, unless a stateful call is running (else None)."""
    if not RECORDERS:
        return None
    here = HERE
    return here.recorders[-1] if here.recorders and not here.inside else None


def unexplained_write(variable) -> None:
    """A Variable changed in place outside a stateful call (``Variable._written``)."""
    trace = recorder()
    if trace is not None:
        trace.refuse(f"the Variable '{variable.path}' was changed in place outside the ops and the "
                     "optimizer, metric and assign calls a replay repeats")


class inside:  # noqa: N801 (a context manager, named as contextlib's are)
    """The body runs as a stateful call's insides: not recorded by this thread's function traces."""

    def __enter__(self) -> None:
        HERE.inside += 1

    def __exit__(self, *exc_info) -> None:
        HERE.inside -= 1
