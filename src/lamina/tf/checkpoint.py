"""TensorFlow's ``tf.train.Checkpoint``: save the training state (Variables, Keras layers and
models, optimizers with their slots and step count, ``tf.Module``s, other Checkpoints, and lists
and dicts of these) and restore it into new objects of the same structure, as TensorFlow's guide
"Training checkpoints" does.

Values are matched by the attribute path that leads to them (``checkpoint_graph.py``), so a new
``Net()`` restores what an earlier one saved. A restore into objects not built yet is deferred,
as in TensorFlow: a layer's weights are filled when the layer builds (its first call), an
optimizer's slots when its first step makes them, a Variable given to a restored Checkpoint
later (``ckpt.kernel = v``) when it is assigned. The files are lamina's own
(``checkpoint_file.py``); TensorFlow's checkpoints are refused by name.

>>> import os, tempfile, lamina as tf
>>> folder = tempfile.mkdtemp()
>>> step = tf.Variable(5)
>>> path = tf.train.Checkpoint(step=step).save(os.path.join(folder, "ckpt"))
>>> os.path.basename(path), os.path.basename(tf.train.latest_checkpoint(folder))
('ckpt-1', 'ckpt-1')
>>> again = tf.Variable(0)
>>> tf.train.Checkpoint(step=again).restore(path).assert_consumed() and int(again.numpy())
5
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import _build_hooks
from ..variables import Variable
from . import checkpoint_file
from .checkpoint_graph import collect, children, is_trackable

_COUNTER = "save_counter"
_KINDS = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}
_SHOWN = 8  # keys an error lists before "..."


def _shown(keys) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:_SHOWN]) + (f", ... ({len(keys)} in all)" if len(keys) > _SHOWN else "")


def _check_value(where: str, value: Any) -> None:
    """Refuse what a Checkpoint cannot save; ``where`` names the argument (``Checkpoint(net=...)``)."""
    if is_trackable(value):
        return
    if hasattr(value, "__next__"):
        raise ValueError(f"{where}: lamina cannot save an iterator ({type(value).__name__}): a "
                         "dataset iterator is a Python generator whose position cannot be stored. Leave it out of "
                         "the Checkpoint; to resume at the same place, skip the batches already seen "
                         "(dataset.skip(n)) with n computed from a saved step Variable")
    raise ValueError(f"{where} expects a trackable object: a Variable, a Keras layer or model, an "
                     f"optimizer, a tf.Module, a Checkpoint, or a list or dict of these; got "
                     f"{type(value).__name__} {repr(value)[:80]}")


class Checkpoint:
    """``Checkpoint(root=None, **objects)``: the objects to save, by name (``step=tf.Variable(1),
    optimizer=opt, net=net``); an object assigned later as an attribute (``ckpt.extra = v``) is
    saved too. ``root``: an object whose own children are saved as the Checkpoint's."""

    _is_lamina_checkpoint = True

    def __init__(self, root: Any = None, **kwargs: Any):
        object.__setattr__(self, "_objects", {})
        object.__setattr__(self, "_root", None)
        object.__setattr__(self, "_counter", None)
        object.__setattr__(self, "_restorations", [])
        if root is not None:
            _check_value("Checkpoint(root=...)", root)
            if isinstance(root, Variable):
                raise ValueError("Checkpoint(root=...) expects an object holding variables (a model, a tf.Module, "
                                 "...), got a Variable; pass it by name: Checkpoint(v=variable)")
            object.__setattr__(self, "_root", root)
        for name, value in kwargs.items():
            _check_value(f"Checkpoint({name}=...)", value)
            setattr(self, name, value)
        from ..saving.keras_walk import _skipped
        _skipped(True), _skipped(False)  # made now, not inside a layer's build (where a restore may walk)

    # --- what it holds -------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if name == _COUNTER:
            raise ValueError("Checkpoint: 'save_counter' is the Checkpoint's own counter; choose another name")
        _check_value(f"Checkpoint attribute {name!r}", value)
        self._objects[name] = value
        self._restore_pending()

    def __getattr__(self, name: str) -> Any:
        objects = self.__dict__.get("_objects", {})
        if name in objects:
            return objects[name]
        raise AttributeError(f"'Checkpoint' object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name not in self._objects:
            raise AttributeError(f"'Checkpoint' object has no attribute {name!r}")
        del self._objects[name]

    def _checkpoint_children(self) -> list[tuple[str, Any]]:
        found = [] if self._root is None else children(self._root)
        found += sorted(self._objects.items())
        if self._counter is not None:
            found.append((_COUNTER, self._counter))
        return found

    def _restore_pending(self) -> None:
        """Give what an earlier restore still holds to the objects now reachable."""
        for restoration in list(self._restorations):
            restoration.apply()
        self._restorations[:] = [r for r in self._restorations if r.pending]

    @property
    def save_counter(self) -> Variable:
        """The number of ``save()`` calls (an int64 Variable, made at first use and saved)."""
        if self._counter is None:
            object.__setattr__(self, "_counter", Variable(np.zeros((), np.int64), name=_COUNTER, trainable=False))
        return self._counter

    # --- saving --------------------------------------------------------------------------------
    def save(self, file_prefix: str | os.PathLike, options: Any = None) -> str:
        """Save under ``<file_prefix>-<n>``, n counting the saves (``save_counter``), name it in
        the folder's ``checkpoint`` file (for ``tf.train.latest_checkpoint``), return the path."""
        refuse_options(options, "Checkpoint.save")
        prefix = _prefix_argument(file_prefix, "save", "file_prefix")
        counter = self.save_counter
        number = int(counter._value) + 1
        counter.assign(number)
        try:
            path = self.write(f"{prefix}-{number}")
        except BaseException:
            counter.assign(number - 1)  # a save that failed counts for nothing
            raise
        checkpoint_file.write_state(os.path.dirname(path), checkpoint_file.CheckpointState(
            path, [path], [checkpoint_file.now()]))
        return path

    def write(self, file_prefix: str | os.PathLike, options: Any = None) -> str:
        """Save under ``file_prefix`` exactly (no counter, no ``checkpoint`` file); return it."""
        refuse_options(options, "Checkpoint.write")
        prefix = _prefix_argument(file_prefix, "write", "file_prefix")
        graph = collect(self)
        checkpoint_file.write(prefix, {key: variable._value for key, variable in graph.variables.items()},
                              graph.aliases)
        return prefix

    # --- restoring -----------------------------------------------------------------------------
    def restore(self, save_path: str | os.PathLike | None, options: Any = None) -> Any:
        """Restore the checkpoint ``save_path`` (what ``save`` or ``write`` returned) into the
        objects held now, and into those made later (see the module docstring); return a status
        to check the match with. ``None`` restores nothing (``InitializationOnlyStatus``)."""
        refuse_options(options, "Checkpoint.restore")
        if save_path is None:
            return InitializationOnlyStatus()
        return self.read(save_path)

    def read(self, save_path: str | os.PathLike, options: Any = None) -> CheckpointLoadStatus:
        """Restore the checkpoint at ``save_path`` (see ``restore``)."""
        refuse_options(options, "Checkpoint.read")
        if save_path is None:
            raise ValueError("Checkpoint.read expects save_path to be a checkpoint path, got None")
        values = checkpoint_file.read(save_path)
        if any(key.startswith(_COUNTER + "/") for key in values):
            self.save_counter  # noqa: B018 - made now, so that it is restored
        restoration = _Restoration(self, values, os.fspath(save_path))
        restoration.apply()
        return CheckpointLoadStatus(restoration)

    def __repr__(self) -> str:
        return f"<lamina.tf.train.Checkpoint holding {sorted(self._objects)}>"


def refuse_options(options: Any, method: str) -> None:
    """TF's ``CheckpointOptions`` choose its I/O device and asynchronous writes: lamina's files
    have neither, so an options object is refused rather than ignored."""
    if options is not None:
        raise ValueError(f"{method} takes no options (lamina's checkpoints have no I/O device or asynchronous "
                         f"writing to choose), got options={options!r}: leave it out")


def _prefix_argument(value: Any, method: str, name: str) -> str:
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise TypeError(f"Checkpoint.{method} expects {name} to be a path prefix (a non-empty str), got "
                        f"{type(value).__name__} {value!r}")
    return os.fspath(value)


class _Restoration:
    """One restore: the values read, and the keys no object has taken yet (they wait for the
    layers and optimizers not built yet, and for attributes set on the Checkpoints later)."""

    def __init__(self, root: Checkpoint, values: dict[str, np.ndarray], path: str):
        self.root, self.values, self.path = root, values, path
        self.pending = set(values)

    def apply(self, _built: Any = None) -> Any:
        """Fill each Variable now reachable whose key is pending (all checked first); return the graph."""
        graph = collect(self.root)
        found = {**{alias: graph.variables[key] for alias, key in graph.aliases.items()}, **graph.variables}
        matches = [(key, found[key]) for key in sorted(self.pending) if key in found]
        for key, variable in matches:
            _check_fits(key, variable, self.values[key], self.path)
        for key, variable in matches:
            np.copyto(variable._value, self.values[key], casting="unsafe")
            variable._written()  # (into the buffer itself: the training plans hold views of it)
            self.pending.discard(key)
        if self.pending:
            for obj in graph.unbuilt:
                _build_hooks.wait(obj, self.apply)
            for checkpoint in graph.checkpoints:
                if self not in checkpoint._restorations:
                    checkpoint._restorations.append(self)
        return graph


def _check_fits(key: str, variable: Variable, value: np.ndarray, path: str) -> None:
    where = f"Checkpoint.restore('{path}'): '{key}' (variable '{variable.path}')"
    if tuple(value.shape) != tuple(variable.shape):
        raise ValueError(f"{where} has shape {tuple(variable.shape)} but the checkpoint holds shape "
                         f"{tuple(value.shape)}; restore into objects built like those that were saved")
    have, stored = _KINDS.get(variable._value.dtype.kind), _KINDS.get(value.dtype.kind)
    if have != stored:
        raise ValueError(f"{where} has dtype {variable._value.dtype} but the checkpoint holds {value.dtype}")


class CheckpointLoadStatus:
    """What ``restore`` returns: ask it whether the checkpoint and the objects matched. Each
    check first gives the pending values to the objects made since (as their creation would)."""

    def __init__(self, restoration: _Restoration):
        self._restoration = restoration

    def _unmatched_objects(self) -> list[str]:
        graph = self._restoration.apply()
        keys = list(graph.variables) + list(graph.aliases)
        return [key for key in keys if key not in self._restoration.values]

    def assert_consumed(self) -> CheckpointLoadStatus:
        """Every value in the checkpoint went to an object, and every object's variable got one."""
        restoration = self._restoration
        unmatched = self._unmatched_objects()
        if restoration.pending:
            raise AssertionError(f"Unresolved values in the checkpoint '{restoration.path}' (no object took them, "
                                 f"or their layers are not built yet): {_shown(restoration.pending)}")
        if unmatched:
            raise AssertionError(f"Variables not found in the checkpoint '{restoration.path}': {_shown(unmatched)}")
        return self

    def assert_existing_objects_matched(self) -> CheckpointLoadStatus:
        """Every variable that exists now got a value (values nothing took are allowed)."""
        unmatched = self._unmatched_objects()
        if unmatched:
            raise AssertionError(f"Variables not found in the checkpoint '{self._restoration.path}': "
                                 f"{_shown(unmatched)}")
        return self

    def assert_nontrivial_match(self) -> CheckpointLoadStatus:
        """At least one value went to an object (besides the Checkpoint's own save_counter)."""
        restoration = self._restoration
        restoration.apply()
        taken = set(restoration.values) - restoration.pending
        if not {key for key in taken if not key.startswith(_COUNTER + "/")}:
            raise AssertionError(f"Nothing in the checkpoint '{restoration.path}' matched the objects restored into")
        return self

    def expect_partial(self) -> CheckpointLoadStatus:
        """Say a partial restore is intended (lamina warns about none: nothing to silence)."""
        return self

    def run_restore_ops(self, session: Any = None) -> None:
        """Nothing to run: lamina restores at once (eagerly)."""

    def initialize_or_restore(self, session: Any = None) -> None:
        """Nothing to run: lamina restores at once (eagerly)."""


class InitializationOnlyStatus:
    """``restore(None)``: nothing restored (the objects keep their initial values)."""

    _MESSAGE = "No checkpoint specified (save_path=None); nothing is being restored"

    def assert_consumed(self):
        raise AssertionError(self._MESSAGE)

    def assert_existing_objects_matched(self):
        raise AssertionError(self._MESSAGE)

    def assert_nontrivial_match(self):
        raise AssertionError(self._MESSAGE)

    def expect_partial(self) -> InitializationOnlyStatus:
        return self

    def run_restore_ops(self, session: Any = None) -> None:
        """Nothing to run."""

    def initialize_or_restore(self, session: Any = None) -> None:
        """Nothing to run: the variables already hold their initial values."""
