"""Reading a ``.keras`` zip without trusting it: entry names, sizes and ratios are checked
against ``limits`` before anything is inflated, and every read is bounded.

``read`` returns a small entry (``config.json``) as bytes; ``open_entry`` gives a large one
(``model.weights.h5``) as a seekable file without holding it in memory: a stored entry (as Keras
and lamina write them) is read in place from the zip after its CRC is checked, a compressed one
is inflated into a temporary file.

>>> import io, zipfile
>>> buffer = io.BytesIO()
>>> with zipfile.ZipFile(buffer, "w") as zf:
...     zf.writestr("config.json", "{}")
>>> with SafeArchive(buffer, "m.keras") as archive:
...     archive.read("config.json", 100)
b'{}'
"""
from __future__ import annotations

import io
import posixpath
import shutil
import struct
import tempfile
import zipfile
from typing import IO

from . import limits

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then the name and extra field lengths
_CHUNK = 1 << 20


class SafeArchive:
    """A zip opened for reading after checking every entry's name, size and inflation ratio."""

    def __init__(self, file: IO[bytes], filename: str):  # a seekable binary file: stored entries are read in place
        self.filename = filename
        self.file = file
        try:
            self.zip = zipfile.ZipFile(file, "r")
        except (zipfile.BadZipFile, EOFError) as error:
            raise ValueError(f"'{filename}' is not a valid .keras file (a zip archive): {error}") from None
        try:
            self._check_entries()
        except BaseException:
            self.zip.close()
            raise

    def _check_entries(self) -> None:
        total = 0
        for info in self.zip.infolist():
            name = info.filename
            if (name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":")
                    or ".." in posixpath.normpath(name).split("/") or ".." in name.split("/")):
                raise ValueError(f"'{self.filename}' has an entry with an unsafe path {name!r} "
                                 "(absolute, or climbing out with '..')")
            if info.flag_bits & 0x1:
                raise ValueError(f"'{self.filename}' has an encrypted entry {name!r}")
            total += info.file_size
            if (info.file_size > limits.RATIO_FLOOR_BYTES
                    and info.file_size > limits.MAX_RATIO * max(info.compress_size, 1)):
                raise ValueError(f"'{self.filename}': entry {name!r} inflates from {info.compress_size:,} to "
                                 f"{info.file_size:,} bytes, more than {limits.MAX_RATIO} times; refusing a "
                                 "potential zip bomb")
        if total > limits.MAX_ARCHIVE_BYTES:
            raise ValueError(f"'{self.filename}' inflates to {total:,} bytes, more than the "
                             f"{limits.MAX_ARCHIVE_BYTES:,} allowed; refusing a potential zip bomb")

    def names(self) -> list[str]:
        return self.zip.namelist()

    def _info(self, name: str, max_bytes: int) -> zipfile.ZipInfo:
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise ValueError(f"'{self.filename}' has no '{name}' entry; a .keras file holds config.json "
                             "and model.weights.h5") from None
        if info.file_size > max_bytes:
            raise ValueError(f"'{self.filename}': entry '{name}' declares {info.file_size:,} bytes, more than "
                             f"the {max_bytes:,} allowed")
        return info

    def read(self, name: str, max_bytes: int) -> bytes:
        """The bytes of entry ``name``, refusing it when it is (or turns out) larger than ``max_bytes``."""
        info = self._info(name, max_bytes)
        with self.zip.open(info) as entry:
            data = entry.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ValueError(f"'{self.filename}': entry '{name}' inflates past {max_bytes:,} bytes")
        return data

    def open_entry(self, name: str, max_bytes: int):
        """Entry ``name`` as a seekable binary file (close it when done), its CRC checked."""
        info = self._info(name, max_bytes)
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size == info.file_size:
            with self.zip.open(info) as entry:  # the zip module checks the CRC at the end
                while entry.read(_CHUNK):
                    pass
            return _Window(self.file, self._data_offset(info), info.file_size)
        spooled = tempfile.TemporaryFile()
        try:
            with self.zip.open(info) as entry:
                shutil.copyfileobj(entry, spooled, _CHUNK)  # at most file_size bytes come out
            spooled.seek(0)
        except BaseException:
            spooled.close()
            raise
        return spooled

    def _data_offset(self, info: zipfile.ZipInfo) -> int:
        self.file.seek(info.header_offset)
        header = self.file.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise ValueError(f"'{self.filename}': entry '{info.filename}' has no valid local header")
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[1:]
        return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length

    def close(self) -> None:
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class _Window(io.RawIOBase):
    """Bytes ``[offset, offset + size)`` of ``file`` as a read-only seekable file."""

    def __init__(self, file, offset: int, size: int):
        super().__init__()
        self._file, self._offset, self._size, self._position = file, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + position)
        return self._position

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        count = max(0, min(len(view), self._size - self._position))
        if count == 0:
            return 0
        self._file.seek(self._offset + self._position)
        read = self._file.readinto(view[:count])
        self._position += read or 0
        return read or 0
