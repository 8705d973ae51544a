"""``keras.utils.get_file`` without the internet: files served by an ``http.server`` on
127.0.0.1 in a thread of the test, and ``file://`` origins. Keras's naming of the cached and
extracted paths and what extraction gives are held to Keras itself (on ``file://`` origins);
hashes, the cache, atomic downloads, refused archives and download errors are checked here."""
import hashlib
import http.server
import io
import os
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from lamina.utils import file_utils, get_file

PAYLOAD = b"lamina get_file test payload\n" * 100
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()  # noqa: S324  (Keras's legacy hash, tested as such)


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the test's folder; ``/short`` promises more bytes than it sends; counts requests."""

    requests: list = []

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD) * 2))
            self.end_headers()
            self.wfile.write(PAYLOAD)
            return
        super().do_GET()

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "data.txt").write_bytes(PAYLOAD)
    handler = lambda *a, **k: Handler(*a, directory=str(served), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.requests = []
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def leftovers(folder) -> list:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def test_downloads_once_into_the_cache_and_checks_the_hash(server, tmp_path):
    _, url = server
    cache = tmp_path / "cache"
    path = get_file("data.txt", f"{url}/data.txt", file_hash=SHA256, cache_dir=str(cache))
    assert path == str(cache / "datasets" / "data.txt") and Path(path).read_bytes() == PAYLOAD
    assert get_file("data.txt", f"{url}/data.txt", file_hash=SHA256, cache_dir=str(cache)) == path
    assert Handler.requests == ["/data.txt"]  # the second call used the cache
    get_file("data.txt", f"{url}/data.txt", md5_hash=MD5, cache_dir=str(cache), force_download=True)
    assert Handler.requests == ["/data.txt"] * 2 and leftovers(cache / "datasets") == []


def test_keras_home_and_the_cache_subdir(server, tmp_path, monkeypatch):
    _, url = server
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    assert get_file(origin=f"{url}/data.txt") == str(tmp_path / "home" / "datasets" / "data.txt")
    assert get_file(origin=f"{url}/data.txt", cache_subdir="models") == str(tmp_path / "home" / "models" / "data.txt")
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert get_file(origin=f"{url}/data.txt") == str(tmp_path / "user" / ".keras" / "datasets" / "data.txt")


def test_a_cached_file_with_the_wrong_hash_is_downloaded_again(server, tmp_path, capsys):
    _, url = server
    cached = tmp_path / "datasets" / "data.txt"
    cached.parent.mkdir()
    cached.write_bytes(b"stale")
    get_file("data.txt", f"{url}/data.txt", file_hash=SHA256, cache_dir=str(tmp_path))
    assert cached.read_bytes() == PAYLOAD and "does not match" in capsys.readouterr().out


def test_a_download_with_the_wrong_hash_never_takes_the_name(server, tmp_path):
    _, url = server
    with pytest.raises(ValueError, match="does not match the sha256 hash"):
        get_file("data.txt", f"{url}/data.txt", file_hash="0" * 64, cache_dir=str(tmp_path))
    assert os.listdir(tmp_path / "datasets") == []


def test_an_incomplete_download_leaves_nothing_under_the_final_name(server, tmp_path):
    _, url = server
    with pytest.raises(OSError, match=f"URL fetch failure on {url}/short"):
        get_file("short.bin", f"{url}/short", cache_dir=str(tmp_path))
    assert os.listdir(tmp_path / "datasets") == []


def test_an_old_file_stays_until_a_new_download_is_complete(server, tmp_path):
    _, url = server
    cached = tmp_path / "datasets" / "short.bin"
    cached.parent.mkdir()
    cached.write_bytes(b"previous")
    with pytest.raises(OSError, match="URL fetch failure"):
        get_file("short.bin", f"{url}/short", cache_dir=str(tmp_path), force_download=True)
    assert cached.read_bytes() == b"previous" and leftovers(cached.parent) == []


@pytest.mark.parametrize("origin, words", [
    ("{url}/missing.txt", "URL fetch failure on {url}/missing.txt: HTTP 404"),
    ("http://127.0.0.1:9/nothing.txt", "URL fetch failure on http://127.0.0.1:9/nothing.txt"),
    ("file:///no/such/file.txt", "URL fetch failure on file:///no/such/file.txt"),
])
def test_a_download_error_names_the_url(server, tmp_path, origin, words):
    _, url = server
    with pytest.raises(OSError) as caught:
        get_file("x.txt", origin.format(url=url), cache_dir=str(tmp_path))
    assert words.format(url=url) in str(caught.value)
    assert os.listdir(tmp_path / "datasets") == []


def test_file_origins(tmp_path):
    source = tmp_path / "local.txt"
    source.write_bytes(PAYLOAD)
    path = get_file(origin=source.as_uri(), file_hash=SHA256, cache_dir=str(tmp_path / "c"))
    assert path.endswith(os.path.join("datasets", "local.txt")) and Path(path).read_bytes() == PAYLOAD


@pytest.mark.parametrize("arguments, words", [
    ({"fname": "a.txt"}, "needs origin"), ({"fname": "sub/a.txt", "origin": "file:///x"}, "not a path"),
    ({"origin": "http://127.0.0.1/"}, "cannot tell the file's name"),
    ({"fname": "a", "origin": "file:///x", "hash_algorithm": "sha1"}, "hash_algorithm must be"),
])
def test_arguments_refused(tmp_path, arguments, words):
    with pytest.raises(ValueError, match=words):
        get_file(cache_dir=str(tmp_path), **arguments)


# --- extraction -----------------------------------------------------------------------------------------
def make_archives(folder) -> dict:
    """A tar.gz and a zip holding ``top.txt`` and ``inner/deep.txt``."""
    members = {"top.txt": b"top", "inner/deep.txt": b"deep"}
    with tarfile.open(folder / "pack.tar.gz", "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(folder / "pack.zip", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    (folder / "plain.txt").write_bytes(b"not an archive")
    return {name: (folder / name).as_uri() for name in ("pack.tar.gz", "pack.zip", "plain.txt")}


EXTRACT = """
import os
def listing(path):
    if os.path.isfile(path):
        return "file"
    return sorted(os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(path) for f in fs)
cache = os.path.join(ROOT, K.__name__)
os.makedirs(cache)  # Keras uses /tmp/.keras instead of a cache_dir that does not exist
calls = [dict(fname="pack.tar.gz", origin=URLS["pack.tar.gz"], extract=True),
         dict(fname="packed", origin=URLS["pack.tar.gz"], extract=True),
         dict(origin=URLS["pack.zip"], extract=True),
         dict(fname="zipped.zip", origin=URLS["pack.zip"], extract=True, archive_format="zip"),
         dict(fname="old", origin=URLS["pack.tar.gz"], untar=True),
         dict(fname="plain.txt", origin=URLS["plain.txt"]),
         dict(fname="kept.tar.gz", origin=URLS["pack.tar.gz"])]
result = []
for call in calls:
    path = K.utils.get_file(cache_dir=cache, **call)
    result.append([os.path.relpath(path, cache), listing(path)])
result.append(sorted(n for n in os.listdir(os.path.join(cache, "datasets")) if not n.startswith(".")))
"""


def test_extraction_and_naming_match_keras(keras_oracle, tmp_path):
    urls = make_archives(tmp_path)
    ours, _ = keras_oracle.compare(EXTRACT, {"ROOT": str(tmp_path), "URLS": urls})
    assert ours[0] == [os.path.join("datasets", "pack_extracted"), ["inner/deep.txt", "top.txt"]]


def test_extracting_again_replaces_the_folder_and_not_an_archive_is_an_error(tmp_path):
    urls = make_archives(tmp_path)
    path = get_file("pack.zip", urls["pack.zip"], extract=True, cache_dir=str(tmp_path / "c"))
    with open(os.path.join(path, "stray.txt"), "w") as file:
        file.write("left from before")
    assert get_file("pack.zip", urls["pack.zip"], extract=True, cache_dir=str(tmp_path / "c")) == path
    assert sorted(os.listdir(path)) == ["inner", "top.txt"] and leftovers(tmp_path / "c" / "datasets") == []
    with pytest.raises(ValueError, match="could not extract .*plain.txt"):
        get_file("plain.txt", urls["plain.txt"], extract=True, cache_dir=str(tmp_path / "c"))
    with pytest.raises(ValueError, match="not a zip archive"):
        get_file("pack.tar.gz", urls["pack.tar.gz"], extract=True, archive_format="zip", cache_dir=str(tmp_path / "c"))


def hostile_tar(path, name, kind=tarfile.REGTYPE, linkname=""):
    with tarfile.open(path, "w") as tar:
        good = tarfile.TarInfo("fine.txt")
        good.size = 2
        tar.addfile(good, io.BytesIO(b"ok"))
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, linkname
        data = b"" if kind != tarfile.REGTYPE else b"evil"
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("name, kind, linkname", [
    ("../escaped.txt", tarfile.REGTYPE, ""), ("/tmp/lamina_absolute_escape.txt", tarfile.REGTYPE, ""),
    ("inner/../../escaped.txt", tarfile.REGTYPE, ""), ("link", tarfile.SYMTYPE, "../../outside"),
    ("link", tarfile.SYMTYPE, "/etc/passwd"), ("hard", tarfile.LNKTYPE, "../outside"),
    ("device", tarfile.CHRTYPE, ""),
])
def test_a_tar_member_escaping_the_folder_is_refused_and_nothing_extracted(tmp_path, name, kind, linkname):
    archive = tmp_path / "evil.tar"
    hostile_tar(archive, name, kind, linkname)
    cache = tmp_path / "c"
    with pytest.raises(ValueError, match="refuses to extract .*outside the extraction folder"):
        get_file("evil.tar", archive.as_uri(), extract=True, cache_dir=str(cache))
    datasets = cache / "datasets"
    assert sorted(os.listdir(datasets)) == ["evil.tar"]  # the download, no extraction folder, no staging
    assert not (tmp_path / "escaped.txt").exists() and not os.path.exists("/tmp/lamina_absolute_escape.txt")


@pytest.mark.parametrize("name", ["../escaped.txt", "/tmp/lamina_zip_escape.txt"])
def test_a_zip_member_escaping_the_folder_is_refused(tmp_path, name):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("fine.txt", b"ok")
        zipped.writestr(zipfile.ZipInfo(name), b"evil")
    with pytest.raises(ValueError, match="outside the extraction folder"):
        get_file("evil.zip", archive.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert sorted(os.listdir(tmp_path / "c" / "datasets")) == ["evil.zip"]


def test_hash_helpers():
    path = os.path.join(os.path.dirname(__file__), "test_get_file.py")
    data = Path(path).read_bytes()
    assert file_utils.hash_file(path) == hashlib.sha256(data).hexdigest()
    assert file_utils.hash_file(path, "md5") == hashlib.md5(data).hexdigest()  # noqa: S324
    assert file_utils.validate_file(path, hashlib.sha256(data).hexdigest())
    assert not file_utils.validate_file(path, "0" * 32)
