"""``ModelCheckpoint``: save the model (``.keras``, or legacy ``.h5``) or its weights (``.weights.h5``) as it
trains."""
from __future__ import annotations

import os
import re
import warnings

import numpy as np

from ..utils.io_utils import print_msg
from .callback import Callback
from .monitor_callback import check_mode, improves_upward

_FIELD = re.compile(r"\{[^{}]*\}")


def check_save_freq(save_freq, who: str):
    """``"epoch"`` or a positive number of batches."""
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, (int, np.integer)) and not isinstance(save_freq, bool) and save_freq > 0:
        return int(save_freq)
    raise ValueError(f"{who}: unrecognized save_freq={save_freq!r}; expected 'epoch' or a positive int "
                     "(a number of batches)")


class BatchCounter:
    """Counts training batches across epochs and says when ``every`` have passed (Keras's rule:
    a batch index that does not grow means a new epoch began)."""

    def __init__(self, every: int):
        self.every, self.since_last, self.last_batch = every, 0, 0

    def due(self, batch: int) -> bool:
        self.since_last += batch + 1 if batch <= self.last_batch else batch - self.last_batch
        self.last_batch = batch
        if self.since_last >= self.every:
            self.since_last = 0
            return True
        return False


def make_folder(folder: str, who: str, filepath: str) -> None:
    """Create ``folder`` (and its parents), or say plainly why it cannot be."""
    if not folder or os.path.isdir(folder):
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise OSError(f"{who} cannot create the folder {folder!r} for filepath={filepath!r}: "
                      f"{error.strerror or error}") from error


class ModelCheckpoint(Callback):
    """Save the model after each epoch (or every ``save_freq`` batches).

    ``filepath`` may hold format fields filled from ``epoch`` (1-based, as in Keras), ``batch``
    and the logs: ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``. It must end in ``.keras`` to save
    the whole model with ``model.save``, or in ``.weights.h5`` with ``save_weights_only=True``
    (``model.save_weights``), or in ``.h5`` for Keras's legacy HDF5 model format (``.hdf5`` and,
    with ``save_weights_only``, a plain ``.h5`` are refused when the callback is made, as in Keras).
    With ``save_best_only`` a file is written only when ``monitor`` improves on the best so far (or
    on ``initial_value_threshold``); a NaN never improves on anything, so a NaN first
    epoch does not stop later saves (Keras keeps the NaN as its best and never saves again).

    >>> import lamina
    >>> checkpoint = lamina.callbacks.ModelCheckpoint("ckpt/{epoch:02d}-{val_loss:.2f}.keras",
    ...                                               save_best_only=True)
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: int | str = "epoch", initial_value_threshold: float | None = None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = check_mode(mode, "ModelCheckpoint")
        self.save_freq = check_save_freq(save_freq, "ModelCheckpoint")
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold
        self._upward: bool | None = None
        self._current_epoch = 0
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided "
                             f"must end in `.weights.h5` (Keras weights format). Received: filepath={self.filepath}")
        if not save_weights_only and not self.filepath.endswith((".keras", ".h5")):
            # Keras's rule (".hdf5", which model.save takes, is refused here), checked now rather
            # than after the first epoch's training.
            raise ValueError("The filepath provided must end in `.keras` (Keras model format) or `.h5` (its legacy "
                             "HDF5 format), or in `.weights.h5` with save_weights_only=True. Received: "
                             f"filepath={self.filepath}")
        if self.save_freq != "epoch":
            self._batches = BatchCounter(self.save_freq)
            # An instance attribute, so fit builds per-batch logs only when batches matter.
            self.on_train_batch_end = self._on_train_batch_end  # type: ignore[method-assign]  # per instance

    def on_train_begin(self, logs=None):
        # Fail before the first epoch, not after it, when the folder cannot exist.
        folder = os.path.dirname(self.filepath)
        if not _FIELD.search(folder):
            make_folder(folder, "ModelCheckpoint", self.filepath)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def _on_train_batch_end(self, batch, logs=None):
        if self._batches.due(batch):
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = dict(logs)
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**{**fields, "epoch": epoch + 1})
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {error} is not '
                           f"in the logs (available: {', '.join(['epoch', *fields])})") from None

    def _should_save(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if self._upward is None:
            self._upward = improves_upward(self.monitor, self.mode, self.model)
        best_text = "None" if self.best is None else f"{self.best:.5f}"
        if np.size(current) == 1 and np.isnan(current):
            better = False  # NaN compares false with everything: kept as best, nothing would beat it
        else:
            better = self.best is None or (current > self.best if self._upward else current < self.best)
        if better:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_text} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_text}")
        return better

    def _save(self, epoch: int, batch: int | None, logs) -> None:
        logs = logs or {}
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError("Please specify a non-directory filepath for ModelCheckpoint. "
                                    f"Filepath used is an existing directory: {filepath}")
        make_folder(os.path.dirname(filepath), "ModelCheckpoint", filepath)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")
