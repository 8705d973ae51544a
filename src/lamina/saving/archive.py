"""Reading a ``.keras`` zip without trusting it: entry names, sizes and ratios are checked
against ``limits`` before anything is inflated, and every read is bounded.

>>> import io, zipfile
>>> buffer = io.BytesIO()
>>> with zipfile.ZipFile(buffer, "w") as zf:
...     zf.writestr("config.json", "{}")
>>> with SafeArchive(buffer, "m.keras") as archive:
...     archive.read("config.json", 100)
b'{}'
"""
from __future__ import annotations

import posixpath
import zipfile

from . import limits


class SafeArchive:
    """A zip opened for reading after checking every entry's name and declared size."""

    def __init__(self, file, filename: str):
        self.filename = filename
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
                                 f"{info.file_size:,} bytes; refusing a potential zip bomb")
        if total > limits.MAX_ARCHIVE_BYTES:
            raise ValueError(f"'{self.filename}' inflates to {total:,} bytes, more than the "
                             f"{limits.MAX_ARCHIVE_BYTES:,} allowed; refusing a potential zip bomb")

    def names(self) -> list[str]:
        return self.zip.namelist()

    def read(self, name: str, max_bytes: int) -> bytes:
        """The bytes of entry ``name``, refusing it when it is (or turns out) larger than ``max_bytes``."""
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise ValueError(f"'{self.filename}' has no '{name}' entry; a .keras file holds config.json "
                             "and model.weights.h5") from None
        if info.file_size > max_bytes:
            raise ValueError(f"'{self.filename}': entry '{name}' declares {info.file_size:,} bytes, more than "
                             f"the {max_bytes:,} allowed")
        with self.zip.open(info) as entry:
            data = entry.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ValueError(f"'{self.filename}': entry '{name}' inflates past {max_bytes:,} bytes")
        return data

    def close(self) -> None:
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
