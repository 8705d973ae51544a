"""``BackupAndRestore``: a run killed at any moment continues where it stopped.

At the end of each epoch the whole training state goes into ONE file, ``backup.npz`` in
``backup_dir``, written with ``atomic_write`` (temporary file, fsync, rename, fsync of the
folder), so a kill during the write leaves the previous backup whole. The file holds:

- ``weight_<i>``: every model weight, in ``model.weights`` order;
- ``slot_<i>_<name>``: each optimizer slot, keyed by its weight's index and the slot's name
  (not by position, which depends on the order the optimizer was built in);
- ``iterations``: the optimizer's step count;
- ``state``: UTF-8 JSON bytes: the next epoch, the History so far, the learning rate, and the
  random generators' states (the global one and any a layer owns), so the next epoch shuffles
  and drops out exactly as the uninterrupted run would.

It loads with ``allow_pickle=False``: nothing in it runs code.

On ``on_train_begin`` a backup found is restored and ``resume_epoch`` says where ``fit`` must
start; ``fit`` reads it, and fills its History from ``restore_history``.
"""
from __future__ import annotations

from typing import Any

import contextlib
import json
import os
import warnings

import numpy as np

from .. import backend
from .._atomic import atomic_write, remove_stale_temporaries
from .._files import read_npz
from .callback import Callback
from .model_checkpoint import BatchCounter, check_save_freq, make_folder

_FORMAT = "lamina.BackupAndRestore"
_VERSION = 1
_LATEST = "backup.npz"
_PREVIOUS = "backup.previous.npz"


class BackupAndRestore(Callback):
    """Back up the training state each epoch; restore it when the same script runs again.

    A run stopped at any moment (Ctrl-C, ``kill -9``, power loss) and started again continues
    from the last completed epoch and ends with the same weights, optimizer state, random state
    and History as a run never interrupted. The model and ``fit`` arguments must be the same.

    ``save_freq`` is ``"epoch"`` or a number of batches; a mid-epoch backup resumes at the start
    of the epoch it was taken in, with the mid-epoch weights (as Keras does), so only
    ``"epoch"`` gives bit-identical results. An epoch cut short (Ctrl-C, ``TerminateOnNaN``) is
    not backed up. ``delete_checkpoint`` removes the backup when training ends normally (a run
    whose last epoch was cut short keeps it, to resume from). ``double_checkpoint`` keeps the
    previous backup too, as ``backup.previous.npz``, used if the latest cannot be read.

    Put it after callbacks that change the learning rate or the logs in ``on_epoch_end``
    (``ReduceLROnPlateau``, ``LearningRateScheduler``), so the backup sees their changes. Other
    callbacks' own counters (e.g. ``EarlyStopping``'s patience) are not backed up, as in Keras.

    >>> import lamina
    >>> backup = lamina.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: int | str = "epoch", delete_checkpoint: bool = True,
                 double_checkpoint: bool = False):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"BackupAndRestore expects a backup_dir (a folder path), got backup_dir={backup_dir!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = check_save_freq(save_freq, "BackupAndRestore")
        self.delete_checkpoint = delete_checkpoint
        self.double_checkpoint = double_checkpoint
        self.resume_epoch: int | None = None
        self._history: dict[str, Any] = {"epoch": [], "history": {}}
        self._next_epoch = 0
        self._epoch_open = False
        self._epoch_start_rng = None
        self._epoch_start_step = None
        if self.save_freq != "epoch":
            self._batches = BatchCounter(self.save_freq)
            # An instance attribute, so fit builds per-batch logs only when batches matter.
            self.on_train_batch_end = self._on_train_batch_end  # type: ignore[method-assign]  # per instance

    @property
    def latest_path(self) -> str:
        return os.path.join(self.backup_dir, _LATEST)

    @property
    def previous_path(self) -> str:
        return os.path.join(self.backup_dir, _PREVIOUS)

    # --- hooks -------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.resume_epoch = None
        self._history = {"epoch": [], "history": {}}
        self._next_epoch, self._epoch_open = 0, False
        make_folder(self.backup_dir, "BackupAndRestore", self.backup_dir)
        self._remove_temporaries()
        self.resume_epoch = self.restore()

    def restore_history(self, history) -> None:
        """Give ``history`` (fit's ``History``) the epochs the backup recorded."""
        history.epoch = list(self._history["epoch"])
        history.history = {key: list(values) for key, values in self._history["history"].items()}

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_open = True
        self._epoch_start_step = _iterations(self.model)
        if self.save_freq != "epoch":
            self._epoch_start_rng = _rng_states(self.model)

    def on_epoch_end(self, epoch, logs=None):
        # fit also ends an epoch cut short (Ctrl-C, TerminateOnNaN): that is no state to resume
        # from, so the epoch stays open and the last complete backup stands.
        steps, start = self.params.get("steps"), self._epoch_start_step
        if steps is not None and start is not None and _iterations(self.model) - start != steps:
            return
        self._epoch_open = False
        self._history["epoch"].append(epoch)
        for key in sorted(logs or {}):  # as History records them
            value = logs[key]
            self._history["history"].setdefault(key, []).append(
                float(value) if np.size(value) == 1 else np.asarray(value).tolist())
        self._next_epoch = epoch + 1
        if self.save_freq == "epoch":
            self.save()

    def _on_train_batch_end(self, batch, logs=None):
        if self._batches.due(batch):
            self.save(rng=self._epoch_start_rng)

    def on_train_end(self, logs=None):
        # An epoch still open means training was cut short (Ctrl-C): keep the way back.
        if self.delete_checkpoint and not self._epoch_open:
            self.delete()

    # --- the backup file -----------------------------------------------------------------------
    def save(self, rng=None) -> None:
        """Write the training state now: the epoch to resume at is the next one not completed.
        ``rng`` (the generators' states) defaults to their current states."""
        model, optimizer = self.model, self.model.optimizer
        arrays = {f"weight_{i}": variable._value for i, variable in enumerate(model.weights)}
        if optimizer is not None:
            arrays["iterations"] = np.asarray(optimizer.iterations._value)
            for i, name, slot in _slots(model, optimizer):
                arrays[f"slot_{i}_{name}"] = slot._value
        rate = None if optimizer is None or callable(optimizer._learning_rate) else float(optimizer.learning_rate)
        state = {"format": _FORMAT, "version": _VERSION, "epoch": self._next_epoch, "history": self._history,
                 "learning_rate": rate, "rng": rng if rng is not None else _rng_states(model)}
        arrays["state"] = np.frombuffer(json.dumps(state).encode("utf-8"), np.uint8)
        make_folder(self.backup_dir, "BackupAndRestore", self.backup_dir)
        if self.double_checkpoint and os.path.exists(self.latest_path):
            os.replace(self.latest_path, self.previous_path)
        with atomic_write(self.latest_path) as file:
            np.savez(file, **arrays)

    def restore(self) -> int | None:
        """Load the latest readable backup into the model, its optimizer and the random
        generators; return the epoch to resume at, or None when there is no backup. A backup
        that cannot be read for any reason gives way to the other one (with a warning naming
        it); nothing changes unless one is read whole."""
        paths = [p for p in (self.latest_path, self.previous_path) if os.path.exists(p)]
        failures = []
        for path in paths:
            try:
                arrays, state = _read(path, _max_backup_bytes(self.model))
                plan = self._check(path, arrays, state)
            except Exception as error:  # noqa: BLE001 - a damaged file fails in many ways; the other may be whole
                failures.append(f"{path}: {type(error).__name__}: {error}")
                continue
            if failures:
                warnings.warn(f"BackupAndRestore cannot read {failures[0]}; restoring {path} instead", stacklevel=2)
            self._apply(plan, state)
            return self.resume_epoch
        if failures:
            raise ValueError("BackupAndRestore cannot read its backup (delete the folder to start afresh): "
                             + "; ".join(failures))
        return None

    def _check(self, path: str, arrays: dict, state: dict) -> list:
        """The ``(array to fill, value)`` pairs a backup gives, after checking all of it fits."""
        model, optimizer = self.model, self.model.optimizer
        weights = model.weights
        stored = sum(key.startswith("weight_") for key in arrays)
        shapes = [arrays[f"weight_{i}"].shape if f"weight_{i}" in arrays else None for i in range(stored)]
        if shapes != [v.shape for v in weights]:
            raise ValueError(f"BackupAndRestore: the backup {path} holds weights of shapes {shapes}, but model "
                             f"'{model.name}' has {[v.shape for v in weights]}; restore it into the model it was "
                             "taken from, or delete the folder to start afresh")
        slot_keys = [key for key in arrays if key.startswith("slot_")]
        if optimizer is not None and slot_keys and not optimizer.built:
            optimizer.build(model.trainable_weights)  # the slots must exist to receive their values
        own_slots = {} if optimizer is None else {f"slot_{i}_{name}": s for i, name, s in _slots(model, optimizer)}
        if sorted(own_slots) != sorted(slot_keys):
            raise ValueError(f"BackupAndRestore: the backup {path} holds optimizer slots {sorted(slot_keys)}, but "
                             f"the optimizer of model '{model.name}' has {sorted(own_slots)}; compile the model "
                             "with the optimizer it was backed up with, or delete the folder to start afresh")
        plan = [(v._value, arrays[f"weight_{i}"]) for i, v in enumerate(weights)]
        plan += [(slot._value, arrays[key]) for key, slot in own_slots.items()]
        if any(target.shape != value.shape for target, value in plan):
            raise ValueError(f"BackupAndRestore: the backup {path} holds an optimizer slot of another shape")
        if optimizer is not None and "iterations" in arrays:
            plan.append((optimizer.iterations._value, arrays["iterations"].reshape(())))
        _check_rng_states(model, state["rng"])
        return plan

    def _apply(self, plan: list, state: dict) -> None:
        # Values go into the existing arrays: the fast training step holds views of them.
        for target, value in plan:
            target[...] = value
        optimizer = self.model.optimizer
        if optimizer is not None and state["learning_rate"] is not None and not callable(optimizer._learning_rate):
            optimizer.learning_rate = state["learning_rate"]
        _set_rng_states(self.model, state["rng"])
        self._history = state["history"]
        self._next_epoch = self.resume_epoch = int(state["epoch"])

    def delete(self) -> None:
        """Remove the backup files, and ``backup_dir`` if that leaves it empty."""
        for path in (self.latest_path, self.previous_path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        self._remove_temporaries()
        with contextlib.suppress(OSError):
            os.rmdir(self.backup_dir)

    def _remove_temporaries(self) -> None:
        """Drop what a write killed midway left (never read: only complete files are renamed in)."""
        remove_stale_temporaries(self.latest_path)


def _iterations(model) -> int | None:
    optimizer = model.optimizer
    return None if optimizer is None else int(optimizer.iterations._value)


def _max_backup_bytes(model) -> int:
    """The most a backup of ``model`` can hold: its weights, up to five optimizer slots for each
    (Adam's two, AMSGrad's, EMA's, gradient accumulation's), and the state's JSON."""
    return 6 * sum(v._value.nbytes for v in model.weights) + (64 << 20)


def _read(path: str, max_bytes: int) -> tuple[dict, dict]:
    arrays = read_npz(path, "BackupAndRestore", max_bytes)
    if "state" not in arrays:
        raise ValueError("it holds no 'state' array")
    state = json.loads(arrays.pop("state").tobytes().decode("utf-8"))
    if not isinstance(state, dict) or state.get("format") != _FORMAT or state.get("version") != _VERSION:
        raise ValueError(f"not a {_FORMAT} backup of version {_VERSION}")
    epoch, history, rate, rng = (state.get(key) for key in ("epoch", "history", "learning_rate", "rng"))
    if (isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0
            or not isinstance(history, dict) or not isinstance(history.get("epoch"), list)
            or not isinstance(history.get("history"), dict)
            or not (rate is None or isinstance(rate, (int, float)))
            or not isinstance(rng, dict) or not isinstance(rng.get("layers"), list)):
        raise ValueError("its state is not what BackupAndRestore writes (epoch, history, learning_rate, rng)")
    return arrays, state


def _slots(model, optimizer):
    """(weight index, slot name, slot Variable) for every slot the optimizer keeps."""
    for i, variable in enumerate(model.weights):
        for name, slot in optimizer._slots.get(id(variable), {}).items():
            yield i, name, slot


def _layer_generators(model):
    """Generators a layer owns (a seeded Dropout's), as (layer index, attribute, generator)."""
    for i, layer in enumerate(model.layers):
        for attribute, value in sorted(vars(layer).items()):
            if isinstance(value, np.random.Generator):
                yield i, attribute, value


def _rng_states(model) -> dict:
    return {"global": backend.global_rng().bit_generator.state,
            "layers": [[i, attribute, generator.bit_generator.state]
                       for i, attribute, generator in _layer_generators(model)]}


def _check_rng_states(model, states: dict) -> None:
    """Set each state on a fresh generator of the same kind first: a bad one fails here,
    before anything has changed."""
    generators = [backend.global_rng()] + [g for _, _, g in _layer_generators(model)]
    candidates = [states["global"]] + [entry[2] for entry in states["layers"]
                                       if isinstance(entry, list) and len(entry) == 3]
    if len(candidates) != 1 + len(states["layers"]):
        raise ValueError("its random states are not [layer index, attribute, state] triples")
    for generator, state in zip(generators, candidates):
        type(generator.bit_generator)().state = state


def _set_rng_states(model, states: dict) -> None:
    # Set in place: fit already holds the global generator object.
    backend.global_rng().bit_generator.state = states["global"]
    owned = {(i, attribute): generator for i, attribute, generator in _layer_generators(model)}
    for i, attribute, state in states["layers"]:
        generator = owned.get((i, attribute))
        if generator is not None:
            generator.bit_generator.state = state
