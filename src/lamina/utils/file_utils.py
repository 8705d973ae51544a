"""``keras.utils.get_file``: download a file into Keras's cache (``~/.keras/datasets``, or
``$KERAS_HOME/datasets``) once, check its hash, and optionally extract it.

Where Keras's differs, on purpose: the download goes to a temporary file next to its final
name and takes that name only once complete and, when a hash is given, verified, so a killed or
corrupt download is never found in the cache as the file; a tar or zip archive with a member
that would land outside the extraction folder (``../x``, an absolute path, a link pointing
out) is refused whole, where Keras skips such members with a warning; and an archive is
extracted into a temporary folder that replaces the extraction folder when it is complete.

Example (it downloads, so it is not run as a doctest)::

    path = lamina.utils.get_file("mnist.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
                                 file_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from typing import Any

from . import io_utils

__all__ = ["get_file", "hash_file", "validate_file"]

_CHUNK = 1 << 16
DOWNLOAD_TIMEOUT = 60  # seconds without data before a download is abandoned


def _hasher(algorithm: str, file_hash: str | None = None):
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None and len(file_hash) == 64):
        return hashlib.sha256()
    if algorithm in ("md5", "auto"):
        return hashlib.md5()  # noqa: S324  (Keras's legacy md5_hash; an integrity check, not security)
    raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5', got {algorithm!r}")


def hash_file(fpath: str | os.PathLike, algorithm: str = "sha256", chunk_size: int = _CHUNK) -> str:
    """The hex digest of the file (``"sha256"``, ``"md5"``, or ``"auto"``: md5 with no hash to match)."""
    hasher = _hasher(algorithm)
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str | os.PathLike, file_hash: str, algorithm: str = "auto",
                  chunk_size: int = _CHUNK) -> bool:
    """Whether the file's digest is ``file_hash`` (``"auto"``: sha256 for a 64-digit hash, else md5)."""
    hasher = _hasher(algorithm, file_hash)
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest() == str(file_hash)


def _cache_folder(cache_dir, cache_subdir: str) -> str:
    """``cache_dir/cache_subdir`` (Keras's home by default), or ``/tmp/.keras/...`` when the
    cache folder cannot be written, as Keras falls back. A ``cache_dir`` that does not exist is
    created (Keras falls back to ``/tmp/.keras`` then, leaving the folder it was given empty)."""
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    base = os.path.expanduser(os.fspath(cache_dir))
    with contextlib.suppress(OSError):  # Keras creates its home at import; a folder that cannot be made falls back
        os.makedirs(base, exist_ok=True)
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    return folder


def _targets(fname, origin: str, folder: str, extract: bool) -> tuple[str, str | None]:
    """Where the download goes and where it is extracted (None without ``extract``), by Keras's
    naming rules."""
    from urllib.parse import urlsplit
    given = os.fspath(fname) if fname is not None else None
    name = given or os.path.basename(urlsplit(origin).path)
    if not name:
        raise ValueError(f"get_file cannot tell the file's name from the origin {origin!r}: pass fname")
    if given and (os.sep in given or (os.altsep and os.altsep in given)):
        raise ValueError(f"get_file's fname must be a file name, not a path (got {given!r}): give the folder as "
                         "cache_dir")
    if not extract:
        return os.path.join(folder, name), None
    if given and "." in name:
        return os.path.join(folder, name), os.path.join(folder, name[:name.find(".")] + "_extracted")
    return os.path.join(folder, name + "_archive"), os.path.join(folder, name)


def _download(origin: str, target: str, file_hash: str | None, algorithm: str) -> None:
    """Fetch ``origin`` into a temporary file beside ``target``; it takes ``target``'s name only
    when complete and matching ``file_hash``. An error names the URL."""
    import urllib.error
    import urllib.request

    from .progbar import Progbar
    io_utils.print_msg(f"Downloading data from {origin}")
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)[:32]}.", suffix=".part",
                                     dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(origin, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310 (the user's URL)
                    total = int(response.headers.get("Content-Length") or 0) or None
                    progbar, done = Progbar(total), 0
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        progbar.update(done, finalize=False)
                    progbar.update(done, finalize=True)
            except urllib.error.HTTPError as error:
                error.close()  # it holds the server's answer open
                raise OSError(f"URL fetch failure on {origin}: HTTP {error.code} {error.reason}") from error
            except (urllib.error.URLError, OSError, ValueError) as error:
                raise OSError(f"URL fetch failure on {origin}: {getattr(error, 'reason', error)}") from error
            if total is not None and done != total:
                raise OSError(f"URL fetch failure on {origin}: got {done} of its {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        if file_hash is not None and not validate_file(temporary, file_hash, algorithm):
            algorithm = _hasher(algorithm, file_hash).name
            raise ValueError(f"the file downloaded from {origin} does not match the {algorithm} hash {file_hash}: "
                             "it was incomplete or corrupted, and was deleted")
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _inside(base: str, name: str) -> bool:
    path = os.path.realpath(os.path.join(base, name))
    return os.path.commonpath([path, base]) == base


def _check_members(archive, base: str, source: str) -> None:
    """Refuse the archive when a member (or what a link member points to) lands outside ``base``."""
    if isinstance(archive, zipfile.ZipFile):
        escaping = [info.filename for info in archive.infolist() if not _inside(base, info.filename)]
    else:
        escaping = []
        for info in archive.getmembers():
            if not _inside(base, info.name):
                escaping.append(info.name)
            elif info.islnk() and not _inside(base, info.linkname):
                escaping.append(f"{info.name} (a hard link to {info.linkname})")
            elif info.issym() and not _inside(base, os.path.join(os.path.dirname(info.name), info.linkname)):
                escaping.append(f"{info.name} (a symbolic link to {info.linkname})")
            elif not (info.isfile() or info.isdir() or info.issym() or info.islnk()):
                escaping.append(f"{info.name} (a device or pipe)")
    if escaping:
        raise ValueError(f"get_file refuses to extract {source}: these members would land outside the "
                         f"extraction folder: {escaping[:5]}")


def _open_archive(path: str, archive_format):
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format or []))
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise ValueError(f"get_file's archive_format must be 'auto', 'tar', 'zip' or a list of them, got "
                             f"{archive_format!r}")
        if kind == "tar" and tarfile.is_tarfile(path):
            return tarfile.open(path)
        if kind == "zip" and zipfile.is_zipfile(path):
            return zipfile.ZipFile(path)
    return None


def _extract(path: str, destination: str, archive_format) -> bool:
    """Extract the archive at ``path`` into ``destination`` (a fresh folder replaces it once
    extraction is complete); False when it is not an archive of ``archive_format``."""
    archive = _open_archive(path, archive_format)
    if archive is None:
        return False
    parent = os.path.dirname(destination)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(destination)[:32]}.", dir=parent)
    try:
        with archive:
            _check_members(archive, os.path.realpath(staging), path)
            if isinstance(archive, tarfile.TarFile) and hasattr(tarfile, "data_filter"):
                archive.extractall(staging, filter="data")
            else:
                archive.extractall(staging)
        if os.path.isdir(destination) and not os.path.islink(destination):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(destination)[:32]}.old.", dir=parent)
            os.replace(destination, os.path.join(old, "previous"))
            os.replace(staging, destination)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if os.path.lexists(destination):
                os.remove(destination)
            os.replace(staging, destination)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return True


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False, md5_hash: str | None = None,
             file_hash: str | None = None, cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: Any = "auto", cache_dir: str | None = None,
             force_download: bool = False) -> str:
    """The path of ``origin``'s file in the cache (``cache_dir/cache_subdir``, by default
    ``~/.keras/datasets`` or ``$KERAS_HOME/datasets``), downloaded unless it is there already
    with the right hash (``force_download`` downloads anyway). ``origin`` may be ``http(s)://``
    or ``file://``. ``file_hash`` (sha256, or md5; ``md5_hash`` is the older name) is checked
    on the cached file and on the download. With ``extract=True`` (or ``untar``) a tar or zip
    archive is extracted and the extraction folder's path returned."""
    if origin is None:
        raise ValueError("get_file needs origin: the URL of the file to download")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    _hasher(hash_algorithm, file_hash)  # an unknown algorithm is refused before anything is fetched
    folder = _cache_folder(cache_dir, cache_subdir)
    target, extraction = _targets(fname, origin, folder, extract or untar)
    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
        io_utils.print_msg(f"The cached {target} does not match the {_hasher(hash_algorithm, file_hash).name} hash "
                           f"{file_hash} (incomplete "
                           "or outdated): downloading it again")
        download = True
    if download:
        _download(origin, target, file_hash, hash_algorithm)
    if extraction is None:
        return target
    if not _extract(target, extraction, "tar" if untar else archive_format):
        raise ValueError(f"get_file could not extract {target}: it is not a {'tar' if untar else archive_format} "
                         "archive")
    return extraction
