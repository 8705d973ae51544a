"""``tf.summary``: TensorBoard logs from a training loop of your own, as TensorFlow writes them.

>>> import lamina as tf, tempfile
>>> writer = tf.summary.create_file_writer(tempfile.mkdtemp())
>>> with writer.as_default():
...     for step in range(3):
...         _ = tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
>>> writer.close()

``create_file_writer`` makes a writer; ``as_default()`` (or ``set_as_default()``) makes it the
one ``scalar``, ``histogram`` and ``text`` write to, each at its ``step`` or, without one, at
``experimental.get_step()`` (``as_default(step=...)`` sets it for the block). Each returns True
when it wrote and False when no writer is the default, as TensorFlow's do. The files are
TensorBoard's own event files (``lamina._events``: no TensorFlow); ``pip install
'lamina[tensorboard]'`` brings the package that writes them. The default writer and the step are
per thread, as TensorFlow keeps them per context. ``image`` and ``audio`` are not provided
(lamina is for MLPs: see the README).
"""
from __future__ import annotations

import contextlib
import os
import threading
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._events import EventLog

_OWNER = "tf.summary"


class _Context(threading.local):
    def __init__(self) -> None:
        self.writers: list[SummaryWriter] = []  # the default writer is the last
        self.step: int | None = None


_HERE = _Context()


class SummaryWriter:
    """A writer of one log folder (``create_file_writer``)."""

    def __init__(self, logdir: str | os.PathLike, max_queue: int = 10, flush_millis: int = 120_000,
                 filename_suffix: str = ""):
        self.logdir = os.fspath(logdir)
        self._log = EventLog(self.logdir, _OWNER, filename_suffix, max_queue, flush_millis / 1000.0)
        self.closed = False

    @contextlib.contextmanager
    def as_default(self, step: int | None = None) -> Iterator[SummaryWriter]:
        """Make this the default writer for the block (and ``step`` the default step, when given);
        the previous ones come back after it."""
        saved_step = _HERE.step
        _HERE.writers.append(self)
        if step is not None:
            _HERE.step = _step_value(step)
        try:
            yield self
        finally:
            _HERE.writers.remove(self)
            if step is not None:
                _HERE.step = saved_step
            self.flush()

    def set_as_default(self, step: int | None = None) -> None:
        """Make this the default writer from now on (TensorFlow's form outside a ``with``)."""
        _HERE.writers.append(self)
        if step is not None:
            _HERE.step = _step_value(step)

    def init(self) -> None:
        """Nothing to do: the file is made at the first write."""

    def flush(self) -> None:
        self._log.flush()

    def close(self) -> None:
        """Flush and close the file; a later write opens a new one."""
        self._log.close()
        self.closed = True


def create_file_writer(logdir: str | os.PathLike, max_queue: int | None = None, flush_millis: int | None = None,
                       filename_suffix: str | None = None, name: str | None = None,
                       experimental_trackable: bool = False, experimental_mesh: Any = None) -> SummaryWriter:
    """A writer of event files in ``logdir`` (made when the first summary is written)."""
    if not isinstance(logdir, (str, os.PathLike)):
        raise TypeError(f"create_file_writer expects logdir to be a path, got {type(logdir).__name__}")
    return SummaryWriter(logdir, 10 if max_queue is None else int(max_queue),
                         120_000 if flush_millis is None else int(flush_millis), filename_suffix or "")


def create_noop_writer() -> SummaryWriter:
    """A writer that writes nothing (its summaries return False)."""
    return _NoopWriter(os.devnull)


class _NoopWriter(SummaryWriter):
    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _step_value(step: Any) -> int:
    value = np.asarray(getattr(step, "_value", step))
    if value.shape != () or value.dtype.kind not in "iuf" or (value.dtype.kind == "f" and value != int(value)):
        raise ValueError(f"a summary step must be an integer, got {step!r}")
    return int(value)


def _target(step) -> tuple[EventLog | None, int]:
    """The default writer's log and the step to write at; (None, 0) without a default writer."""
    if not _HERE.writers or isinstance(_HERE.writers[-1], _NoopWriter):
        return None, 0
    if step is None:
        if _HERE.step is None:
            raise ValueError("No step set: pass step= to the summary, or set one with "
                             "tf.summary.experimental.set_step(step) or writer.as_default(step=...)")
        return _HERE.writers[-1]._log, _HERE.step
    return _HERE.writers[-1]._log, _step_value(step)


def _numbers(data: Any, what: str) -> np.ndarray:
    value = np.asarray(getattr(data, "_value", data))
    if value.dtype.kind not in "biuf":
        raise TypeError(f"tf.summary.{what} expects numbers, got data of dtype {value.dtype}")
    return value


def scalar(name: str, data: Any, step: int | None = None, description: str | None = None) -> bool:
    """Write the number ``data`` under ``name`` (TensorBoard's Scalars tab)."""
    log, at = _target(step)
    if log is None:
        return False
    value = _numbers(data, "scalar")
    if value.size != 1:
        raise ValueError(f"tf.summary.scalar expects one number for '{name}', got data of shape {value.shape}")
    log.scalar(name, value.reshape(()), at, description)
    return True


def histogram(name: str, data: Any, step: int | None = None, buckets: int | None = None,
              description: str | None = None) -> bool:
    """Write the distribution of the values of ``data`` (TensorBoard's Histograms tab; 30 buckets
    by default, as TensorFlow)."""
    log, at = _target(step)
    if log is None:
        return False
    log.histogram(name, _numbers(data, "histogram").astype(np.float64), at, buckets, description)
    return True


def text(name: str, data: Any, step: int | None = None, description: str | None = None) -> bool:
    """Write a string (or an array of strings) under ``name`` (TensorBoard's Text tab)."""
    log, at = _target(step)
    if log is None:
        return False
    log.text(name, data, at, description)
    return True


def flush(writer: SummaryWriter | None = None, name: str | None = None) -> None:
    """Flush ``writer``, or the default writer."""
    target = writer if writer is not None else (_HERE.writers[-1] if _HERE.writers else None)
    if target is not None:
        target.flush()


def _set_step(step: Any) -> None:
    """The step summaries without ``step=`` are written at (None: none)."""
    _HERE.step = None if step is None else _step_value(step)


def _get_step() -> int | None:
    return _HERE.step


experimental = types.SimpleNamespace(set_step=_set_step, get_step=_get_step)
