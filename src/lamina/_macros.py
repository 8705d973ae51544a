"""The stateful calls a ``tf.function`` trace records as one step each (``tf/compiled_function.py``).

A traced function is replayed as its primitives on arrays; what changes state outside the ops
(an optimizer's ``apply``, a metric's ``update_state``/``result``/``reset_state``, a Variable's
``assign``, ``tf.print``) cannot be replayed from its insides, so while a trace records, each
such call is recorded whole and the replay makes the same call again on the new values. The
methods carry ``@stateful``; outside a trace it costs one list test per call. A Variable written
in place by anything else during a trace (``Variable._written`` outside these calls) is a change
the replay would miss: the trace is refused (``unexplained_write``), and the function stays eager.
Its own module: variables, optimizers, metrics and the tape all use it, and it imports nothing.
"""
from __future__ import annotations

import functools
from typing import Callable

RECORDERS: list = []  # the function traces recording now, innermost last
_INSIDE = [0]  # stateful calls running now: what they do inside is theirs, not the trace's


def stateful(method: Callable) -> Callable:
    """Make ``method`` one recorded step of a function trace (its insides are not recorded)."""
    @functools.wraps(method)
    def call(*args, **kwargs):
        if not RECORDERS or _INSIDE[0]:
            return method(*args, **kwargs)
        return RECORDERS[-1].record_call(method, args, kwargs)
    call.__wrapped_stateful__ = method  # type: ignore[attr-defined]
    return call


def recorder():
    """The function trace that records now, unless a stateful call is running (else None)."""
    return RECORDERS[-1] if RECORDERS and not _INSIDE[0] else None


def unexplained_write(variable) -> None:
    """A Variable changed in place outside a stateful call (``Variable._written``)."""
    trace = recorder()
    if trace is not None:
        trace.refuse(f"the Variable '{variable.path}' was changed in place outside the ops and the "
                     "optimizer, metric and assign calls a replay repeats")


class inside:  # noqa: N801 (a context manager, named as contextlib's are)
    """The body runs as a stateful call's insides: not recorded by any function trace."""

    def __enter__(self) -> None:
        _INSIDE[0] += 1

    def __exit__(self, *exc_info) -> None:
        _INSIDE[0] -= 1
