"""TensorFlow's ``tf.train.CheckpointManager``: numbered saves in one folder, keeping the last few.

``save()`` writes ``<directory>/<checkpoint_name>-<n>`` (n from the Checkpoint's ``save_counter``,
or ``checkpoint_number``), then records the kept checkpoints in the folder's ``checkpoint`` file,
then deletes those beyond ``max_to_keep`` (oldest first), keeping one every
``keep_checkpoint_every_n_hours`` hours among them. In that order, a save that fails leaves the
folder as it was, and a kill at any moment leaves a ``checkpoint`` file naming whole checkpoints.
A new manager on the same folder takes up the list the ``checkpoint`` file gives (those still
there), so a restarted program continues the numbering and the deletions.

>>> import os, tempfile, lamina as tf
>>> step = tf.Variable(0)
>>> manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), tempfile.mkdtemp(), max_to_keep=2)
>>> for _ in range(3):
...     _ = step.assign_add(1); _ = manager.save()
>>> [os.path.basename(path) for path in manager.checkpoints]
['ckpt-2', 'ckpt-3']
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from . import checkpoint_file
from .checkpoint import Checkpoint, refuse_options


def _positive_or_none(value: Any, name: str, allow_zero: bool = False) -> None:
    if value is None:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ValueError(f"CheckpointManager expects {name} to be a positive number or None, got {name}={value!r}")


class CheckpointManager:
    """``CheckpointManager(checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
    checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None, init_fn=None)``."""

    def __init__(self, checkpoint: Checkpoint, directory: str | os.PathLike, max_to_keep: int | None,
                 keep_checkpoint_every_n_hours: float | None = None, checkpoint_name: str = "ckpt",
                 step_counter: Any = None, checkpoint_interval: int | None = None, init_fn: Callable | None = None):
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"CheckpointManager expects checkpoint to be a tf.train.Checkpoint, got "
                            f"{type(checkpoint).__name__}")
        if not isinstance(directory, (str, os.PathLike)) or not os.fspath(directory):
            raise TypeError(f"CheckpointManager expects directory to be a folder path (a non-empty str), got "
                            f"{directory!r}")
        if max_to_keep is not None and (isinstance(max_to_keep, bool) or not isinstance(max_to_keep, int)
                                        or max_to_keep <= 0):
            raise ValueError(f"CheckpointManager expects max_to_keep to be a positive integer or None, got "
                             f"max_to_keep={max_to_keep!r}")
        _positive_or_none(keep_checkpoint_every_n_hours, "keep_checkpoint_every_n_hours")
        _positive_or_none(checkpoint_interval, "checkpoint_interval")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("CheckpointManager: checkpoint_interval needs a step_counter (a Variable counting steps)")
        if not isinstance(checkpoint_name, str) or not checkpoint_name or "/" in checkpoint_name:
            raise ValueError(f"CheckpointManager expects checkpoint_name to be a file name, got {checkpoint_name!r}")
        self._checkpoint, self._directory = checkpoint, os.fspath(directory)
        self._max_to_keep, self._keep_hours = max_to_keep, keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter, self._interval, self._init_fn = step_counter, checkpoint_interval, init_fn
        self._last_step: int | None = None
        self._kept: list[tuple[str, float]] = []  # (path, timestamp), oldest first
        self._last_preserved = checkpoint_file.now()
        self._recover()

    def _recover(self) -> None:
        """Take up the checkpoints the folder's ``checkpoint`` file lists (those still there)."""
        state = checkpoint_file.read_state(self._directory)
        if state is None or not state.model_checkpoint_path:
            return
        paths = list(state.all_model_checkpoint_paths) or [state.model_checkpoint_path]
        stamps = state.all_model_checkpoint_timestamps
        stamps = stamps if len(stamps) == len(paths) else [checkpoint_file.now()] * len(paths)
        self._kept = [(p, t) for p, t in zip(paths, stamps) if checkpoint_file.exists(p)]
        if state.last_preserved_timestamp:
            self._last_preserved = state.last_preserved_timestamp

    # --- what it holds -------------------------------------------------------------------------
    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self) -> Checkpoint:
        return self._checkpoint

    @property
    def checkpoint_interval(self) -> int | None:
        return self._interval

    @property
    def checkpoints(self) -> list[str]:
        """The kept checkpoints' paths, oldest first."""
        return [path for path, _ in self._kept]

    @property
    def latest_checkpoint(self) -> str | None:
        """The newest kept checkpoint's path, or None before the first save."""
        return self._kept[-1][0] if self._kept else None

    # --- saving --------------------------------------------------------------------------------
    def save(self, checkpoint_number: int | None = None, check_interval: bool = True,
             options: Any = None) -> str | None:
        """Save a numbered checkpoint and delete the ones beyond ``max_to_keep``; return its path
        (None when ``checkpoint_interval`` says it is not yet time)."""
        refuse_options(options, "CheckpointManager.save")
        if checkpoint_number is not None and (isinstance(checkpoint_number, bool)
                                              or not isinstance(checkpoint_number, int)):
            raise TypeError(f"CheckpointManager.save expects checkpoint_number to be an int or None, got "
                            f"{checkpoint_number!r}")
        step = None if self._step_counter is None else int(self._step_counter)
        if (check_interval and self._interval is not None and self._last_step is not None
                and step is not None and step < self._last_step + self._interval):
            return None
        counter = self._checkpoint.save_counter
        count = int(counter._value) + 1
        counter.assign(count)
        number = count if checkpoint_number is None else checkpoint_number
        try:
            path = self._checkpoint.write(f"{self._prefix}-{number}")
        except BaseException:
            counter.assign(count - 1)  # a save that failed counts for nothing
            raise
        self._last_step = step
        self._kept = [(p, t) for p, t in self._kept if p != path] + [(path, checkpoint_file.now())]
        removed = self._sweep()
        self._record()
        for old in removed:
            checkpoint_file.remove(old)
        return path

    def _sweep(self) -> list[str]:
        """Drop the oldest beyond ``max_to_keep`` from the list; return those to delete (one every
        ``keep_checkpoint_every_n_hours`` stays on disk, out of the list, as TensorFlow keeps it)."""
        if self._max_to_keep is None:
            return []
        removed = []
        while len(self._kept) > self._max_to_keep:
            path, stamp = self._kept.pop(0)
            if self._keep_hours is not None and stamp - self._last_preserved >= self._keep_hours * 3600:
                self._last_preserved = stamp
                continue
            removed.append(path)
        return removed

    def _record(self) -> None:
        checkpoint_file.write_state(self._directory, checkpoint_file.CheckpointState(
            self._kept[-1][0], [p for p, _ in self._kept], [t for _, t in self._kept], self._last_preserved))

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint and return its path; without one, call ``init_fn`` (if
        given) and return None."""
        if self.latest_checkpoint is not None:
            self._checkpoint.restore(self.latest_checkpoint)
            return self.latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self) -> None:
        """Nothing to wait for: lamina's saves are synchronous."""
