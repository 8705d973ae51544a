"""``atomic_write``: a file appears whole or not at all, even if the process is killed.

The data goes to a temporary file in the target's folder (so the final rename stays on one
file system), is flushed and fsynced, then ``os.replace`` swaps it in and the folder itself is
fsynced so the rename survives a power loss. A reader sees the old file or the new one, never a
half-written one. Saving over what the user has keeps what they set up:

- a symlink is written through (its target is replaced, the link stays);
- an existing file keeps its permission bits; a read-only one is refused, as an ``open`` for
  writing would refuse it (even for root, whom the file system would let through);
- the temporary name is short (``.<first 32 characters>.<hash of the name>-<random>.tmp``), so
  a name near the file system's 255-character limit still works;
- a writer holds a lock on its temporary file, so the temporaries a killed writer left (``kill
  -9`` leaves a full-size one) are told apart from a live writer's and removed by the next write
  of that path.

>>> import os, pathlib, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> with atomic_write(path, "w") as f:
...     _ = f.write("all or nothing")
>>> pathlib.Path(path).read_text()
'all or nothing'
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import uuid
from typing import Any, IO, Iterator

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so stale temporaries are never swept there
    fcntl = None  # type: ignore[assignment]

_MODES = ("wb", "w")
_STEM = 32  # characters of the target's name kept in its temporaries' names


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Yield a file to write ``path`` through; it replaces ``path`` only when the block ends
    without an exception. ``mode`` is ``"wb"`` (bytes) or ``"w"`` (UTF-8 text, no newline
    translation). The folder must exist."""
    if mode not in _MODES:
        raise ValueError(f"atomic_write expects mode 'wb' or 'w', got mode={mode!r}")
    target = os.path.realpath(os.fspath(path))  # through symlinks: the link itself stays
    existing = _check_writable(target, os.fspath(path))
    remove_stale_temporaries(target)
    fd, temp = _create_temporary(target)
    try:
        if existing is not None:
            os.chmod(temp, stat.S_IMODE(existing.st_mode))
        text: dict[str, Any] = {} if mode == "wb" else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **text) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
            if fcntl is not None:
                os.replace(temp, target)  # before the close: the lock holds until the name is gone
        if fcntl is None:
            os.replace(temp, target)  # Windows renames only closed files (and never sweeps)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise
    _fsync_folder(os.path.dirname(target))


def _check_writable(target: str, given: str) -> os.stat_result | None:
    """The target's status when it exists, after refusing a folder, a read-only file, or a
    folder that is not there (named, not the temporary file the write would have made in it)."""
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        folder = os.path.dirname(given) or "."
        if not os.path.isdir(os.path.dirname(target)):
            raise FileNotFoundError(errno.ENOENT, f"Cannot write '{given}': the folder '{folder}' does not exist; "
                                                  f"create it first (os.makedirs({folder!r}, exist_ok=True))",
                                    given) from None
        return None
    if stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name", given)
    if not existing.st_mode & stat.S_IWUSR or not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, f"'{given}' is read-only; make it writable (chmod u+w) or remove it "
                                            "to replace it", given)
    return existing


def _prefix(target: str) -> str:
    name = os.path.basename(target)
    digest = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f".{name[:_STEM]}.{digest}-"


def _create_temporary(target: str) -> tuple[int, str]:
    """A new temporary file beside ``target``, opened and locked. A sweep can remove the file in
    the moment between its creation and its lock; then another is made."""
    folder = os.path.dirname(target)
    while True:
        temp = os.path.join(folder, f"{_prefix(target)}{uuid.uuid4().hex[:12]}.tmp")
        # os.open with 0o666 lets the umask decide the permissions, as a plain open() would.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        _lock(fd)
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.stat(temp), os.fstat(fd)):
                return fd, temp
        os.close(fd)


def _lock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def remove_stale_temporaries(path: str | os.PathLike) -> None:
    """Remove the temporaries of ``path`` that no live writer holds (a killed write's)."""
    if fcntl is None:
        return
    target = os.path.realpath(os.fspath(path))
    folder, prefix = os.path.dirname(target), _prefix(target)
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(".tmp")]
    except FileNotFoundError:
        return
    for name in names:
        temp = os.path.join(folder, name)
        try:
            fd = os.open(temp, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a live writer's
            os.close(fd)
            continue
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.stat(temp), os.fstat(fd)):
                os.remove(temp)
        os.close(fd)


def _fsync_folder(folder: str) -> None:
    # Windows cannot open a folder for fsync; there the rename is durable enough on NTFS.
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
