"""``atomic_write``: a file appears whole or not at all, even if the process is killed.

The data goes to a temporary file in the target's folder (so the final rename stays on one
file system), is flushed and fsynced, then ``os.replace`` swaps it in and the folder itself is
fsynced so the rename survives a power loss. A reader sees the old file or the new one, never a
half-written one.

>>> import os, pathlib, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> with atomic_write(path, "w") as f:
...     _ = f.write("all or nothing")
>>> pathlib.Path(path).read_text()
'all or nothing'
"""
from __future__ import annotations

import contextlib
import os
import uuid
from typing import IO, Iterator

_MODES = ("wb", "w")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Yield a file to write ``path`` through; it replaces ``path`` only when the block ends
    without an exception. ``mode`` is ``"wb"`` (bytes) or ``"w"`` (UTF-8 text, no newline
    translation). The folder must exist."""
    if mode not in _MODES:
        raise ValueError(f"atomic_write expects mode 'wb' or 'w', got mode={mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open with 0o666 lets the umask decide the permissions, as a plain open() would.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise
    _fsync_folder(folder)


def is_temporary(name: str) -> bool:
    """Whether ``name`` (a bare file name) is one of ``atomic_write``'s temporary files, left
    behind only when a process was killed mid-write."""
    return name.startswith(".") and name.endswith(".tmp")


def _fsync_folder(folder: str) -> None:
    # Windows cannot open a folder for fsync; there the rename is durable enough on NTFS.
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
