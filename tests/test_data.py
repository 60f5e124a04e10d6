"""Unit tests of helpers.data, with downloads served for real from 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from helpers import data

# --- data_root -----------------------------------------------------------------------------

def test_data_root_uses_the_environment_variable(tmp_path, monkeypatch):
    target = tmp_path / "somewhere" / "data"
    monkeypatch.setenv("TUTORIAL_DATA_DIR", str(target))
    root = data.data_root()
    assert root == target.resolve()
    assert root.is_dir()  # created if missing


def test_data_root_defaults_to_data_in_the_repository(monkeypatch):
    monkeypatch.delenv("TUTORIAL_DATA_DIR", raising=False)
    repo = Path(data.__file__).resolve().parent.parent
    assert data.data_root() == (repo / "data").resolve()


def test_data_root_empty_variable_means_default(monkeypatch):
    monkeypatch.setenv("TUTORIAL_DATA_DIR", "  ")
    assert data.data_root().name == "data"


def test_data_root_rejects_a_file(tmp_path, monkeypatch):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    monkeypatch.setenv("TUTORIAL_DATA_DIR", str(a_file))
    with pytest.raises(NotADirectoryError, match="must be a folder"):
        data.data_root()


# --- archives and a local server -----------------------------------------------------------

def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def _tar_bytes(members: dict[str, bytes], symlink: tuple[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
        if symlink:
            info = tarfile.TarInfo(symlink[0])
            info.type = tarfile.SYMTYPE
            info.linkname = symlink[1]
            tf.addfile(info)
    return buffer.getvalue()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/'www' on 127.0.0.1; yields (folder, base_url, request_log)."""
    www = tmp_path / "www"
    www.mkdir()
    requests: list[str] = []

    class Handler(_Handler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(www))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{httpd.server_address[1]}", requests
    finally:
        httpd.shutdown()
        httpd.server_close()


GOOD = {"pets/train/cats/a.txt": b"cat", "pets/train/dogs/b.txt": b"dog", "pets/README": b"hi"}


def test_download_extracts_a_zip_and_strips_the_single_top_folder(server, tmp_path):
    www, url, _ = server
    payload = _zip_bytes(GOOD)
    (www / "pets.zip").write_bytes(payload)
    dest = tmp_path / "root" / "pets"
    result = data.download_and_extract(f"{url}/pets.zip", dest,
                                       sha256=hashlib.sha256(payload).hexdigest())
    assert result == dest
    assert (dest / "train" / "cats" / "a.txt").read_bytes() == b"cat"
    assert (dest / "README").read_bytes() == b"hi"
    # nothing temporary is left next to the destination
    assert sorted(p.name for p in dest.parent.iterdir()) == ["pets"]


def test_download_extracts_a_tar_with_several_top_entries(server, tmp_path):
    www, url, _ = server
    (www / "flat.tar.gz").write_bytes(_tar_bytes({"a.txt": b"A", "sub/b.txt": b"B"}))
    dest = tmp_path / "flat"
    data.download_and_extract(f"{url}/flat.tar.gz", dest)
    assert (dest / "a.txt").read_bytes() == b"A"
    assert (dest / "sub" / "b.txt").read_bytes() == b"B"


def test_second_call_skips_the_download(server, tmp_path):
    www, url, requests = server
    (www / "pets.zip").write_bytes(_zip_bytes(GOOD))
    dest = tmp_path / "pets"
    data.download_and_extract(f"{url}/pets.zip", dest)
    data.download_and_extract(f"{url}/pets.zip", dest)
    assert requests == ["/pets.zip"]


def test_an_empty_destination_folder_is_not_taken_for_data(server, tmp_path):
    www, url, _ = server
    (www / "pets.zip").write_bytes(_zip_bytes(GOOD))
    dest = tmp_path / "pets"
    dest.mkdir()
    data.download_and_extract(f"{url}/pets.zip", dest)
    assert (dest / "train" / "dogs" / "b.txt").exists()


def test_wrong_checksum_raises_and_leaves_nothing(server, tmp_path):
    www, url, _ = server
    (www / "pets.zip").write_bytes(_zip_bytes(GOOD))
    dest = tmp_path / "root" / "pets"
    with pytest.raises(ValueError, match="SHA-256 mismatch.*expected 0{64}"):
        data.download_and_extract(f"{url}/pets.zip", dest, sha256="0" * 64)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


@pytest.mark.parametrize("member", ["../evil.txt", "pets/../../evil.txt", "/tmp/evil.txt"])
def test_zip_member_escaping_the_folder_is_refused(server, tmp_path, member):
    www, url, _ = server
    (www / "evil.zip").write_bytes(_zip_bytes({"ok.txt": b"ok", member: b"evil"}))
    dest = tmp_path / "root" / "evil"
    with pytest.raises(ValueError, match="outside the destination"):
        data.download_and_extract(f"{url}/evil.zip", dest)
    assert not dest.exists()
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "root" / "evil.txt").exists()
    assert list((tmp_path / "root").iterdir()) == []


def test_tar_member_escaping_the_folder_is_refused(server, tmp_path):
    www, url, _ = server
    (www / "evil.tar.gz").write_bytes(_tar_bytes({"ok.txt": b"ok", "../evil.txt": b"x"}))
    with pytest.raises(ValueError, match="outside the destination"):
        data.download_and_extract(f"{url}/evil.tar.gz", tmp_path / "root" / "evil")
    assert not (tmp_path / "root" / "evil.txt").exists()


def test_tar_symlink_is_refused(server, tmp_path):
    www, url, _ = server
    (www / "link.tar.gz").write_bytes(_tar_bytes({"ok.txt": b"ok"}, symlink=("l", "/etc/passwd")))
    dest = tmp_path / "link"
    with pytest.raises(ValueError, match="only regular files and folders"):
        data.download_and_extract(f"{url}/link.tar.gz", dest)
    assert not dest.exists()


def test_not_an_archive_is_refused(server, tmp_path):
    www, url, _ = server
    (www / "page.html").write_text("<html>not an archive</html>")
    dest = tmp_path / "page"
    with pytest.raises(ValueError, match="not a zip or tar archive"):
        data.download_and_extract(f"{url}/page.html", dest)
    assert not dest.exists()


def test_http_error_names_the_url_and_the_variable(server, tmp_path):
    _, url, _ = server
    dest = tmp_path / "missing"
    with pytest.raises(data.DownloadError, match=r"missing\.zip.*TUTORIAL_DATA_DIR"):
        data.download_and_extract(f"{url}/missing.zip", dest)
    assert not dest.exists()


def test_unreachable_url_raises_one_clear_error(tmp_path):
    # Port 9 on 127.0.0.1 ("discard"): nothing listens there, so the connection is refused.
    dest = tmp_path / "x"
    with pytest.raises(data.DownloadError) as info:
        data.download_and_extract("http://127.0.0.1:9/x.zip", dest, timeout=5)
    assert "http://127.0.0.1:9/x.zip" in str(info.value)
    assert "TUTORIAL_DATA_DIR" in str(info.value)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"url": 42}, TypeError, "url must be a non-empty string"),
        ({"url": ""}, TypeError, "url must be a non-empty string"),
        ({"dest": 3.5}, TypeError, "dest must be a path"),
        ({"sha256": "abc"}, ValueError, "64-character hex"),
    ],
)
def test_bad_arguments_are_rejected(tmp_path, kwargs, error, message):
    args = {"url": "http://127.0.0.1:9/x.zip", "dest": tmp_path / "d", **kwargs}
    with pytest.raises(error, match=message):
        data.download_and_extract(**args)


def test_dest_that_is_a_file_is_rejected(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError, match="must be a folder"):
        data.download_and_extract("http://127.0.0.1:9/x.zip", a_file)


def test_sha256_of_matches_hashlib(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc" * 1000)
    assert data.sha256_of(path) == hashlib.sha256(b"abc" * 1000).hexdigest()
