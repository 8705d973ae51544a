"""The files of ``tf.train.Checkpoint``: lamina's own format, not TensorFlow's.

A checkpoint saved under the prefix ``ckpt-3`` is ONE file, ``ckpt-3.npz``: a NumPy archive of
plain arrays (``v0``, ``v1``, ...) and a JSON member, ``lamina_checkpoint``, that names the format
and gives each array's key (``net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE``), shape and dtype. It is
written with ``atomic_write``, so a save killed midway leaves the previous file whole, and read
with ``read_npz`` (no pickles; each member's size checked before it is read). TensorFlow cannot
read it, and lamina does not read TensorFlow's (``ckpt-3.index`` and ``ckpt-3.data-*``): given
one, ``restore`` says so instead of guessing.

A folder's ``checkpoint`` file names its latest checkpoint, as TensorFlow's does, in the same
text form (``model_checkpoint_path: "ckpt-3"``), so ``tf.train.latest_checkpoint`` finds it.
"""
from __future__ import annotations

import glob
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._atomic import atomic_write
from .._files import read_npz

FORMAT, VERSION = "lamina.tf.train.Checkpoint", 1
SUFFIX = ".npz"
_META = "lamina_checkpoint"
STATE_FILE = "checkpoint"


def data_path(prefix: str) -> str:
    """The file the checkpoint ``prefix`` is: ``<prefix>.npz``."""
    return prefix + SUFFIX


def exists(prefix: str) -> bool:
    """A lamina checkpoint, or TensorFlow's, is at ``prefix``."""
    return os.path.isfile(data_path(prefix)) or os.path.isfile(prefix + ".index")


def write(prefix: str, arrays: dict[str, np.ndarray], aliases: dict[str, str] | None = None) -> None:
    """Write ``arrays`` (key -> value) as the checkpoint ``prefix`` in one atomic step; ``aliases``
    (other key -> key) name the values reached by more than one path."""
    folder = os.path.dirname(prefix)
    if folder:
        os.makedirs(folder, exist_ok=True)
    members: dict[str, Any] = {f"v{i}": np.asarray(value) for i, value in enumerate(arrays.values())}
    entries = [{"key": key, "member": member, "shape": list(value.shape), "dtype": value.dtype.str}
               for key, (member, value) in zip(arrays, members.items())]
    meta = json.dumps({"format": FORMAT, "version": VERSION, "entries": entries,
                       "aliases": aliases or {}}).encode("utf-8")
    members[_META] = np.frombuffer(meta, np.uint8)
    with atomic_write(data_path(prefix)) as file:
        np.savez(file, **members)


def _refuse_tensorflow(path: str) -> None:
    prefix = re.sub(r"(\.index|\.data-\d+-of-\d+)$", "", path)
    if os.path.isfile(prefix + ".index") or glob.glob(glob.escape(prefix) + ".data-*-of-*"):
        raise ValueError(f"'{path}' is a TensorFlow checkpoint ({prefix}.index and .data files): lamina cannot read "
                         "TensorFlow's checkpoint format, only the checkpoints lamina saved (a "
                         f"'{os.path.basename(prefix)}{SUFFIX}' file); save it again with lamina")


def resolve(path: str | os.PathLike, what: str = "save_path") -> str:
    """The data file of the checkpoint ``path`` names (its prefix, or the ``.npz`` file itself)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a checkpoint path (a str), got {type(path).__name__} {path!r}")
    path = os.fspath(path)
    for candidate in (data_path(path), path):
        if candidate.endswith(SUFFIX) and os.path.isfile(candidate):
            return candidate
    _refuse_tensorflow(path)
    if os.path.isdir(path):
        raise ValueError(f"{what}='{path}' is a folder, not a checkpoint: pass a checkpoint's prefix, such as "
                         f"tf.train.latest_checkpoint({path!r})")
    raise ValueError(f"{what}='{path}': no checkpoint there (no file '{data_path(path)}'); pass the path "
                     "save() or write() returned, or tf.train.latest_checkpoint(folder)")


def read(path: str | os.PathLike, what: str = "save_path", aliases: bool = True) -> dict[str, np.ndarray]:
    """The arrays (key -> value) of the lamina checkpoint ``path``, with the aliases' keys too
    unless ``aliases=False``; a ValueError names the file if it is not one."""
    file = resolve(path, what)
    arrays = read_npz(file, "tf.train.Checkpoint", 2 * os.path.getsize(file) + (1 << 20))
    try:
        meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ValueError
        out = {entry["key"]: arrays[entry["member"]] for entry in meta["entries"]}
        for entry in meta["entries"]:
            value = arrays[entry["member"]]
            if list(value.shape) != entry["shape"] or value.dtype.str != entry["dtype"]:
                raise ValueError
        if aliases:
            out.update({alias: out[key] for alias, key in meta.get("aliases", {}).items()})
    except (KeyError, ValueError, TypeError, AttributeError, UnicodeDecodeError):
        raise ValueError(f"'{file}' is not a lamina checkpoint (version {VERSION}): its '{_META}' record, "
                         "which tf.train.Checkpoint writes, is missing or does not match its arrays") from None
    return out


# --- the folder's "checkpoint" file ---------------------------------------------------------------
@dataclass
class CheckpointState:
    """What a folder's ``checkpoint`` file says (TensorFlow's ``CheckpointState`` fields)."""
    model_checkpoint_path: str = ""
    all_model_checkpoint_paths: list[str] = field(default_factory=list)
    all_model_checkpoint_timestamps: list[float] = field(default_factory=list)
    last_preserved_timestamp: float = 0.0


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text[1:-1])


def _relative(path: str, folder: str) -> str:
    inside = os.path.dirname(os.path.abspath(path)) == os.path.abspath(folder or ".")
    return os.path.basename(path) if inside else path


def write_state(folder: str, state: CheckpointState, filename: str = STATE_FILE) -> None:
    """Write ``folder``'s ``checkpoint`` file (paths inside the folder relative to it), atomically."""
    lines = [f"model_checkpoint_path: {_quote(_relative(state.model_checkpoint_path, folder))}"]
    lines += [f"all_model_checkpoint_paths: {_quote(_relative(p, folder))}" for p in state.all_model_checkpoint_paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in state.all_model_checkpoint_timestamps]
    lines.append(f"last_preserved_timestamp: {state.last_preserved_timestamp!r}")
    os.makedirs(folder or ".", exist_ok=True)
    with atomic_write(os.path.join(folder, filename), "w") as file:
        file.write("\n".join(lines) + "\n")


def read_state(folder: str | os.PathLike, filename: str | None = None) -> CheckpointState | None:
    """``folder``'s ``checkpoint`` file (relative paths joined to the folder), or None without one."""
    folder = os.fspath(folder)
    path = os.path.join(folder, filename or STATE_FILE)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read(1 << 20)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    state = CheckpointState()
    for number, line in enumerate(text.splitlines(), 1):
        match = re.fullmatch(r'\s*(\w+)\s*:\s*("(?:[^"\\]|\\.)*"|[-+0-9.eE]+|inf|nan)\s*', line)
        if not line.strip():
            continue
        if match is None:
            raise ValueError(f"'{path}' line {number} is not a checkpoint state line (name: value): {line!r}")
        name, value = match.groups()
        if name in ("model_checkpoint_path", "all_model_checkpoint_paths"):
            entry = os.path.join(folder, _unquote(value)) if value.startswith('"') else value
            if name == "model_checkpoint_path":
                state.model_checkpoint_path = entry
            else:
                state.all_model_checkpoint_paths.append(entry)
        elif name == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif name == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
    return state


def latest_checkpoint(checkpoint_dir: str | os.PathLike, latest_filename: str | None = None) -> str | None:
    """The prefix of the latest checkpoint the folder's ``checkpoint`` file names, or None when
    there is no such file or the checkpoint it names is gone (TensorFlow's rules)."""
    if not isinstance(checkpoint_dir, (str, os.PathLike)):
        raise TypeError(f"latest_checkpoint expects checkpoint_dir to be a folder path (a str), got "
                        f"{type(checkpoint_dir).__name__} {checkpoint_dir!r}")
    state = read_state(checkpoint_dir, latest_filename)
    if state is None or not state.model_checkpoint_path:
        return None
    return state.model_checkpoint_path if exists(state.model_checkpoint_path) else None


def remove(prefix: str) -> None:
    """Delete the checkpoint ``prefix`` (a missing file is no error)."""
    try:
        os.remove(data_path(prefix))
    except FileNotFoundError:
        pass


def now() -> float:
    """The time stamped on a checkpoint (seconds since the epoch; tests replace it)."""
    return time.time()
