"""Opening files that came from elsewhere without trusting them.

``open_regular`` refuses anything that is not a regular file (a device such as ``/dev/zero``
that reads forever, a FIFO that blocks forever, a socket, a folder) before a byte is read: the
path is opened without blocking and its ``fstat`` decides, so a path swapped between a check and
the open cannot slip through. ``read_exactly`` reads a known number of bytes and no more.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "data.bin")
>>> with open(path, "wb") as f:
...     _ = f.write(b"abc")
>>> with open_regular(path, "the example") as f:
...     read_exactly(f, 3, path)
b'abc'
>>> open_regular("/dev/zero", "the example")
Traceback (most recent call last):
...
ValueError: '/dev/zero' is not a regular file (a device, FIFO or socket): the example reads regular files only
"""
from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO


def open_regular(path: str | os.PathLike, what: str) -> BinaryIO:
    """``path`` opened for reading in binary mode, after checking it is a regular file;
    ``what`` (e.g. ``"load_model"``) is named in the error."""
    path = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)  # O_NONBLOCK: a FIFO opens at once instead of waiting for a writer
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, f"{what} needs a file, got a folder", path)
        if not stat.S_ISREG(mode):
            raise ValueError(f"'{path}' is not a regular file (a device, FIFO or socket): {what} reads "
                             "regular files only")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def file_size(file: BinaryIO) -> int:
    """The size ``fstat`` gives for an open file."""
    return os.fstat(file.fileno()).st_size


def read_exactly(file: BinaryIO, size: int, path: str) -> bytes:
    """The next ``size`` bytes of ``file``; a ValueError naming ``path`` when fewer remain."""
    data = file.read(size)
    if len(data) != size:
        raise ValueError(f"'{path}' ends after {len(data):,} of the {size:,} bytes expected (truncated)")
    return data
