"""TensorFlow's ``tf.train``: checkpoints of the training state (``Checkpoint``,
``CheckpointManager``, ``latest_checkpoint``) and the helpers that read them
(``list_variables``, ``load_checkpoint``, ``get_checkpoint_state``).

The files are lamina's own format (see ``checkpoint_file.py``): TensorFlow cannot read them and
lamina refuses TensorFlow's checkpoints with an error naming the path.

>>> import os, tempfile, lamina as tf
>>> folder = tempfile.mkdtemp()
>>> path = tf.train.Checkpoint(bias=tf.Variable([1.0, 2.0])).save(os.path.join(folder, "ckpt"))
>>> tf.train.list_variables(folder)
[('bias/.ATTRIBUTES/VARIABLE_VALUE', [2]), ('save_counter/.ATTRIBUTES/VARIABLE_VALUE', [])]
>>> tf.train.load_checkpoint(path).get_tensor("bias/.ATTRIBUTES/VARIABLE_VALUE").tolist()
[1.0, 2.0]
"""
from __future__ import annotations

import os

import numpy as np

from . import checkpoint_file
from .checkpoint import Checkpoint, CheckpointLoadStatus, InitializationOnlyStatus
from .checkpoint_file import CheckpointState, latest_checkpoint
from .checkpoint_manager import CheckpointManager

__all__ = ["Checkpoint", "CheckpointLoadStatus", "CheckpointManager", "CheckpointReader", "CheckpointState",
           "InitializationOnlyStatus", "get_checkpoint_state", "latest_checkpoint", "list_variables",
           "load_checkpoint"]


def _checkpoint_path(ckpt_dir_or_file: str | os.PathLike) -> str:
    if not isinstance(ckpt_dir_or_file, (str, os.PathLike)):
        raise TypeError(f"expected ckpt_dir_or_file to be a checkpoint path or a folder (a str), got "
                        f"{type(ckpt_dir_or_file).__name__} {ckpt_dir_or_file!r}")
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"ckpt_dir_or_file='{path}' is a folder without checkpoints (no 'checkpoint' file "
                             "naming one that exists)")
        return latest
    return path


class CheckpointReader:
    """The arrays of one checkpoint, by key (what ``load_checkpoint`` returns)."""

    def __init__(self, path: str):
        self._path = path
        self._arrays = checkpoint_file.read(path, "ckpt_dir_or_file", aliases=False)

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {key: list(value.shape) for key, value in self._arrays.items()}

    def get_variable_to_dtype_map(self) -> dict:
        from .dtypes import as_dtype
        return {key: as_dtype(value.dtype) for key, value in self._arrays.items()}

    def has_tensor(self, key: str) -> bool:
        return key in self._arrays

    def get_tensor(self, key: str) -> np.ndarray:
        if key not in self._arrays:
            raise ValueError(f"The checkpoint '{self._path}' holds no '{key}'; its keys: "
                             f"{sorted(self._arrays)[:8]}")
        return self._arrays[key].copy()


def load_checkpoint(ckpt_dir_or_file: str | os.PathLike) -> CheckpointReader:
    """A reader of the checkpoint at ``ckpt_dir_or_file`` (a folder: its latest checkpoint)."""
    return CheckpointReader(_checkpoint_path(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file: str | os.PathLike) -> list[tuple[str, list[int]]]:
    """``(key, shape)`` for every array in the checkpoint, sorted by key."""
    return sorted(load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map().items())


def get_checkpoint_state(checkpoint_dir: str | os.PathLike, latest_filename: str | None = None):
    """The folder's ``checkpoint`` file as a ``CheckpointState``, or None without one."""
    return checkpoint_file.read_state(checkpoint_dir, latest_filename)
