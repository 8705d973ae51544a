"""Opening files that came from elsewhere without trusting them.

``open_regular`` refuses anything that is not a regular file (a device such as ``/dev/zero``
that reads forever, a FIFO that blocks forever, a socket, a folder) before a byte is read: the
path is opened without blocking and its ``fstat`` decides, so a path swapped between a check and
the open cannot slip through. ``read_exactly`` reads a known number of bytes and no more.
``read_npz`` reads an ``.npz`` archive of plain arrays checking each member's header against
the bytes the member really holds before allocating anything: a header that claims 400 GB in a
small file is refused, not handed to NumPy to allocate.

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
import math
import os
import stat
import zipfile
from typing import BinaryIO

import numpy as np

_NPZ_MAX_RATIO = 100  # inflated / stored for an npz member above 64 KiB (np.savez stores 1:1)


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


def read_npz(path: str | os.PathLike, what: str, max_bytes: int, kinds: str = "biuf") -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` file at ``path`` (numbers and bools only, or the dtype kinds in
    ``kinds``; never pickles), each checked before it is read: its ``.npy`` header must declare
    exactly the bytes the member holds, and all of them together at most ``max_bytes``. Any
    problem is a ValueError naming the file."""
    path = os.fspath(path)
    arrays, total = {}, 0
    with open_regular(path, what) as file:
        try:
            with zipfile.ZipFile(file) as archive:
                for info in archive.infolist():
                    total += info.file_size
                    _check_member(info, total, max_bytes, path)
                    with archive.open(info) as member:
                        arrays[info.filename.removesuffix(".npy")] = _read_member(member, info, path, kinds)
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, OSError) as error:
            raise ValueError(f"'{path}' is not a readable .npz archive: {type(error).__name__}: {error}") from None
    return arrays


def _check_member(info: zipfile.ZipInfo, total: int, max_bytes: int, path: str) -> None:
    if total > max_bytes:
        raise ValueError(f"'{path}' inflates to more than the {max_bytes:,} bytes {os.path.basename(path)} may hold")
    if info.file_size > (64 << 10) and info.file_size > _NPZ_MAX_RATIO * max(info.compress_size, 1):
        raise ValueError(f"'{path}': member {info.filename!r} inflates from {info.compress_size:,} to "
                         f"{info.file_size:,} bytes; refusing a potential zip bomb")


def _read_member(member, info: zipfile.ZipInfo, path: str, kinds: str = "biuf") -> np.ndarray:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f"'{path}': member {info.filename!r} has .npy format version {version}")
    if dtype.kind not in kinds or dtype.hasobject:
        raise ValueError(f"'{path}': member {info.filename!r} holds {dtype} values, not plain numbers")
    size = math.prod(shape) * dtype.itemsize
    data = member.read(info.file_size)  # what the member holds after its header: never more than it is
    if size != len(data):
        raise ValueError(f"'{path}': member {info.filename!r} declares {size:,} bytes of data but holds "
                         f"{len(data):,}")
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C").copy()
