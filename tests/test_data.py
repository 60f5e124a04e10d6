"""Unit tests of helpers.data, with downloads served for real from 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import socket
import stat
import threading
import time
import zipfile
from pathlib import Path

import pytest

from helpers import data

# --- data_root -----------------------------------------------------------------------------

@pytest.fixture
def fake_repo(tmp_path, monkeypatch):
    """Make helpers believe it runs from a checkout at tmp_path/'repo' (nothing is created
    in the real repository)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text("")
    monkeypatch.setattr(data, "_REPO", repo)
    return repo


def test_data_root_uses_the_environment_variable(tmp_path, monkeypatch):
    target = tmp_path / "somewhere" / "data"
    monkeypatch.setenv("TUTORIAL_DATA_DIR", str(target))
    root = data.data_root()
    assert root == target.resolve()
    assert root.is_dir()  # created if missing


def test_data_root_defaults_to_data_in_the_repository(fake_repo, monkeypatch):
    monkeypatch.delenv("TUTORIAL_DATA_DIR", raising=False)
    assert data.data_root() == (fake_repo / "data").resolve()
    assert (fake_repo / "data").is_dir()


def test_the_repository_root_is_found_from_a_checkout():
    assert data._REPO == Path(data.__file__).resolve().parent.parent
    assert (data._REPO / "pyproject.toml").is_file()


def test_data_root_empty_variable_means_default(fake_repo, monkeypatch):
    monkeypatch.setenv("TUTORIAL_DATA_DIR", "  ")
    assert data.data_root() == (fake_repo / "data").resolve()


@pytest.mark.parametrize("cwd", [".", "notebooks", "notebooks/solutions"])
def test_a_relative_variable_is_taken_from_the_repository_root(fake_repo, monkeypatch, cwd):
    # notebooks run in notebooks/ and notebooks/solutions/, the tests in the repository root:
    # all of them must find the same folder
    (fake_repo / cwd).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(fake_repo / cwd)
    monkeypatch.setenv("TUTORIAL_DATA_DIR", "mirror/data")
    assert data.data_root() == (fake_repo / "mirror" / "data").resolve()


def test_a_relative_variable_outside_a_checkout_is_taken_from_the_current_folder(
        tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_REPO", tmp_path / "site-packages")  # a wheel (Colab)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUTORIAL_DATA_DIR", "rel")
    assert data.data_root() == (tmp_path / "rel").resolve()
    monkeypatch.delenv("TUTORIAL_DATA_DIR")
    assert data.data_root() == (tmp_path / "data").resolve()


def test_data_root_rejects_a_file(tmp_path, monkeypatch):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    monkeypatch.setenv("TUTORIAL_DATA_DIR", str(a_file))
    with pytest.raises(NotADirectoryError, match="must be a folder"):
        data.data_root()


# --- archives and a local server -----------------------------------------------------------

def _zip_bytes(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


class Server:
    """A local HTTP server: files from ``www``, plus routes that misbehave on purpose."""

    def __init__(self, www: Path):
        self.www = www
        self.requests: list[str] = []
        self.routes: dict[str, object] = {}
        self.release = threading.Event()  # lets a stalled handler finish
        self.url = ""


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/'www' on 127.0.0.1 only; ``server.routes[path] = fn(handler)``
    replaces a file with behaviour. Every wait in a handler is bounded."""
    www = tmp_path / "www"
    www.mkdir()
    state = Server(www)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def log_message(self, *args):  # keep the test output quiet
            pass

        def do_GET(self):
            state.requests.append(self.path)
            route = state.routes.get(self.path)
            if route is None:
                super().do_GET()
            else:
                route(self)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,),
                              daemon=True)  # polls every 50 ms: a fast teardown
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def home(tmp_path):
    """An empty folder to download into (the server's files live elsewhere)."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


GOOD = {"pets/train/cats/a.txt": b"cat", "pets/train/dogs/b.txt": b"dog", "pets/README": b"hi"}


def test_download_extracts_a_zip_and_strips_the_single_top_folder(server, home):
    payload = _zip_bytes(GOOD)
    (server.www / "pets.zip").write_bytes(payload)
    dest = home / "root" / "pets"  # root/ does not exist yet: made once the data is ready
    result = data.download_and_extract(f"{server.url}/pets.zip", dest,
                                       sha256=hashlib.sha256(payload).hexdigest())
    assert result == dest
    assert (dest / "train" / "cats" / "a.txt").read_bytes() == b"cat"
    assert (dest / "README").read_bytes() == b"hi"
    # nothing temporary is left, next to the destination or in the folder that existed
    assert sorted(p.name for p in dest.parent.iterdir()) == ["pets"]
    assert sorted(p.name for p in home.iterdir()) == ["root"]


def test_download_extracts_several_top_entries_into_a_usual_folder(server, home):
    (server.www / "flat.zip").write_bytes(_zip_bytes({"a.txt": b"A", "sub/b.txt": b"B"}))
    dest = home / "flat"
    data.download_and_extract(f"{server.url}/flat.zip", dest)
    assert (dest / "a.txt").read_bytes() == b"A"
    assert (dest / "sub" / "b.txt").read_bytes() == b"B"
    (home / "usual").mkdir()
    assert stat.S_IMODE(dest.stat().st_mode) == stat.S_IMODE((home / "usual").stat().st_mode)


def test_macos_metadata_is_left_out(server, home):
    members = {**GOOD, "__MACOSX/pets/._README": b"meta", "pets/.DS_Store": b"meta"}
    (server.www / "mac.zip").write_bytes(_zip_bytes(members))
    dest = home / "pets"
    data.download_and_extract(f"{server.url}/mac.zip", dest)
    # __MACOSX/ left out, so pets/ is the single top folder and is stripped as usual
    assert sorted(p.name for p in dest.iterdir()) == ["README", "train"]


def test_second_call_skips_the_download(server, home):
    (server.www / "pets.zip").write_bytes(_zip_bytes(GOOD))
    dest = home / "pets"
    data.download_and_extract(f"{server.url}/pets.zip", dest)
    data.download_and_extract(f"{server.url}/pets.zip", dest)
    assert server.requests == ["/pets.zip"]


def test_an_empty_destination_folder_is_not_taken_for_data(server, home):
    (server.www / "pets.zip").write_bytes(_zip_bytes(GOOD))
    dest = home / "pets"
    dest.mkdir()
    data.download_and_extract(f"{server.url}/pets.zip", dest)
    assert (dest / "train" / "dogs" / "b.txt").exists()


def test_wrong_checksum_raises_and_creates_nothing(server, home):
    (server.www / "pets.zip").write_bytes(_zip_bytes(GOOD))
    dest = home / "root" / "pets"
    with pytest.raises(ValueError, match="SHA-256 mismatch.*expected 0{64}"):
        data.download_and_extract(f"{server.url}/pets.zip", dest, sha256="0" * 64)
    assert list(home.iterdir()) == []  # not even root/


@pytest.mark.parametrize(
    "member",
    ["../evil.txt", "pets/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt", "C:evil.txt",
     "..\\evil.txt"],
)
def test_zip_member_escaping_the_folder_is_refused(server, home, member):
    (server.www / "evil.zip").write_bytes(_zip_bytes({"ok.txt": b"ok", member: b"evil"}))
    dest = home / "root" / "evil"
    with pytest.raises(ValueError, match="outside the destination"):
        data.download_and_extract(f"{server.url}/evil.zip", dest)
    assert list(home.iterdir()) == []


def test_zip_symlink_is_refused(server, home):
    (server.www / "link.zip").write_bytes(_zip_bytes({"ok.txt": b"ok"}, symlink="passwd"))
    with pytest.raises(ValueError, match="'passwd': a symlink"):
        data.download_and_extract(f"{server.url}/link.zip", home / "link")
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "payload", "start"),
    [("page.html", b"<html>not an archive</html>", r"b'<html>no'"),
     ("labels.gz", gzip.compress(b"0123456789"), r"b'\\x1f\\x8b"), ("empty.zip", b"", "b''")],
    ids=["html", "gzip", "empty"],
)
def test_what_is_not_a_zip_is_refused_by_name(server, home, name, payload, start):
    (server.www / name).write_bytes(payload)
    with pytest.raises(ValueError, match=rf"expected a zip archive, but .*{name} is not one "
                                         rf"\(it starts with {start}"):
        data.download_and_extract(f"{server.url}/{name}", home / "root" / "page")
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "payload"),
    [("empty.zip", _zip_bytes({})), ("folder.zip", _zip_bytes({"only/": b""})),
     ("mac.zip", _zip_bytes({"__MACOSX/._a": b"meta", "x/.DS_Store": b"meta"}))],
)
def test_an_archive_without_files_is_refused(server, home, name, payload):
    (server.www / name).write_bytes(payload)
    with pytest.raises(ValueError, match="holds no files"):
        data.download_and_extract(f"{server.url}/{name}", home / "root" / "d")
    assert list(home.iterdir()) == []


def test_a_name_that_is_a_file_and_a_folder_is_refused_by_name(server, home):
    (server.www / "clash.zip").write_bytes(_zip_bytes({"a": b"file", "a/b": b"inside"}))
    with pytest.raises(ValueError, match="one name as both a file and a folder"):
        data.download_and_extract(f"{server.url}/clash.zip", home / "clash")
    assert list(home.iterdir()) == []


# --- network and disk failures ---------------------------------------------------------------

@pytest.mark.parametrize("status", [404, 500])
def test_http_error_names_the_url_the_status_and_the_variable(server, home, status):
    server.routes["/x.zip"] = lambda handler: handler.send_error(status)
    with pytest.raises(data.DownloadError, match=rf"x\.zip: the server answered HTTP {status}"
                                                 r".*TUTORIAL_DATA_DIR"):
        data.download_and_extract(f"{server.url}/x.zip", home / "root" / "x")
    assert list(home.iterdir()) == []


def test_unreachable_url_raises_one_clear_error(home):
    with socket.socket() as sock:  # a port that surely has no server: bound, then freed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.zip"
    with pytest.raises(data.DownloadError, match=r"could not connect to download .*; this "
                                                 r"machine may be offline\. To go on") as info:
        data.download_and_extract(url, home / "root" / "x", timeout=5)
    assert url in str(info.value) and "TUTORIAL_DATA_DIR" in str(info.value)
    assert list(home.iterdir()) == []


def test_a_file_url_is_read_and_a_missing_file_is_named_as_such(tmp_path, home):
    archive = tmp_path / "pets.zip"
    archive.write_bytes(_zip_bytes(GOOD))
    data.download_and_extract(archive.as_uri(), home / "pets")
    assert (home / "pets" / "README").read_bytes() == b"hi"
    missing = (tmp_path / "missing.zip").as_uri()
    with pytest.raises(data.DownloadError, match=r"could not read file://.*missing\.zip") as info:
        data.download_and_extract(missing, home / "other")
    assert "TUTORIAL_DATA_DIR" in str(info.value)
    assert not {"offline", "network", "connect"} & set(str(info.value).replace(".", " ").split())
    assert sorted(p.name for p in home.iterdir()) == ["pets"]


def _cut_short(payload: bytes, with_length: bool):
    def route(handler):
        handler.send_response(200)
        if with_length:
            handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload[: len(payload) // 2])
        handler.close_connection = True
    return route


@pytest.mark.parametrize(
    ("with_length", "message"),
    [(True, r"is incomplete: \d+ of \d+ bytes arrived\. Run it again"),
     (False, r"is incomplete or corrupt: it does not unpack \(BadZipFile.*\)\. Run it again")],
)
def test_a_body_cut_short_is_a_download_error(server, home, with_length, message):
    payload = _zip_bytes({f"pets/{i}.txt": os.urandom(2000) for i in range(4)})
    server.routes["/pets.zip"] = _cut_short(payload, with_length)
    url = f"{server.url}/pets.zip"
    with pytest.raises(data.DownloadError, match=message) as info:
        data.download_and_extract(url, home / "root" / "pets")
    assert url in str(info.value) and "TUTORIAL_DATA_DIR" in str(info.value)
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "offset", "error"),
    [(b"abc" * 1000, 41, "error"), (os.urandom(3000), 100, "BadZipFile")],  # zlib's, CRC
)
def test_a_corrupt_zip_is_a_download_error(server, home, content, offset, error):
    payload = bytearray(_zip_bytes({"pets/a.txt": content}))
    payload[offset] ^= 0xFF  # one byte of the compressed data changed
    (server.www / "bad.zip").write_bytes(payload)
    url = f"{server.url}/bad.zip"
    with pytest.raises(data.DownloadError, match=rf"incomplete or corrupt: it does not unpack "
                                                 rf"\({error}: .*Run it again") as info:
        data.download_and_extract(url, home / "root" / "pets")
    assert url in str(info.value) and "TUTORIAL_DATA_DIR" in str(info.value)
    assert list(home.iterdir()) == []


def test_a_read_error_mid_way_is_a_download_error(server, home):
    def chunked_then_closed(handler):  # one 16-byte chunk, then no end: IncompleteRead
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b"10\r\nPK\x03\x04" + bytes(12) + b"\r\n")
        handler.close_connection = True

    server.routes["/cut.zip"] = chunked_then_closed
    url = f"{server.url}/cut.zip"
    with pytest.raises(data.DownloadError, match=r"cut\.zip stopped after 16 bytes "
                                                 r"\(IncompleteRead.*\)\. Run it again") as info:
        data.download_and_extract(url, home / "root" / "cut")
    assert "TUTORIAL_DATA_DIR" in str(info.value)
    assert list(home.iterdir()) == []


def test_a_body_that_stalls_times_out_as_a_download_error(server, home):
    def stall(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b"PK\x03\x04" + bytes(100))
        handler.wfile.flush()
        server.release.wait(10)  # bounded; released when the test ends

    server.routes["/slow.zip"] = stall
    start = time.monotonic()
    with pytest.raises(data.DownloadError, match=r"stopped after 104 bytes \(no data for 0\.5 s\)"):
        data.download_and_extract(f"{server.url}/slow.zip", home / "slow", timeout=0.5)
    assert time.monotonic() - start < 8
    assert list(home.iterdir()) == []


def test_a_disk_error_is_an_os_error_naming_the_file_and_leaves_nothing(server, home,
                                                                         monkeypatch):
    (server.www / "pets.zip").write_bytes(_zip_bytes(GOOD))
    real_open = open
    monkeypatch.setattr(data, "open", lambda file, mode="r", *a, **k: real_open(
        "/dev/full" if "w" in mode else file, mode, *a, **k), raising=False)
    if not Path("/dev/full").exists():
        pytest.skip("needs Linux's /dev/full")
    with pytest.raises(OSError, match=r"No space left on device: '.*download\.zip'") as info:
        data.download_and_extract(f"{server.url}/pets.zip", home / "pets")
    assert not isinstance(info.value, data.DownloadError)  # the disk, not the network
    assert str(home) in str(info.value)  # the file beside dest, so the full disk is named
    assert list(home.iterdir()) == []


def test_a_folder_filled_by_another_process_meanwhile_is_taken_as_is(server, home, monkeypatch):
    (server.www / "pets.zip").write_bytes(_zip_bytes(GOOD))
    dest = home / "pets"

    def other_process_won(source, target):
        Path(target).mkdir()
        (Path(target) / "theirs.txt").write_text("filled meanwhile")
        raise OSError(39, "Directory not empty")

    monkeypatch.setattr(data.os, "replace", other_process_won)
    assert data.download_and_extract(f"{server.url}/pets.zip", dest) == dest
    assert sorted(p.name for p in home.iterdir()) == ["pets"]
    assert [p.name for p in dest.iterdir()] == ["theirs.txt"]


def test_the_hash_is_checked_in_either_case(server, home):
    payload = _zip_bytes(GOOD)
    (server.www / "pets.zip").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    dest = data.download_and_extract(f"{server.url}/pets.zip", home / "pets", digest.upper())
    assert (dest / "README").read_bytes() == b"hi"


# --- arguments -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"url": 42}, TypeError, "url must be a str and dest a str or pathlib.Path, got int"),
        ({"url": b"http://x/x.zip"}, TypeError, "url must be a str .*, got bytes and"),
        ({"url": ""}, ValueError, "url must start with http://"),
        ({"url": "example.com/x.zip"}, ValueError, "must start with http://"),
        ({"url": "C:\\data\\x.zip"}, ValueError, "must start with http://"),
        ({"url": "sftp://127.0.0.1/x.zip"}, ValueError, "must start with http://"),
        ({"dest": 3.5}, TypeError, "dest a str or pathlib.Path, got str and float"),
        ({"dest": ""}, ValueError, "dest must name the dataset's own folder"),
        ({"dest": "."}, ValueError, "dest must name the dataset's own folder"),
        ({"dest": Path(".")}, ValueError, "dest must name the dataset's own folder"),
        ({"dest": ".."}, ValueError, "dest must name the dataset's own folder"),
        ({"sha256": "abc"}, ValueError, "64-character hex"),
        ({"sha256": "z" * 64}, ValueError, "64-character hex"),
        ({"sha256": "a" * 65}, ValueError, "64-character hex"),
        ({"sha256": 12}, ValueError, "64-character hex string, got 12"),
        ({"sha256": int("1" * 64)}, ValueError, "64-character hex string, got 1111"),  # no str()
        ({"timeout": -1}, ValueError, "timeout must be a positive number"),
        ({"timeout": 0}, ValueError, "timeout must be a positive number"),
        ({"timeout": "5"}, TypeError, "timeout must be a number"),
        ({"timeout": True}, TypeError, "timeout must be a number"),
        ({"timeout": float("inf")}, ValueError, "timeout must be a positive number"),
        ({"url": "http://[::1"}, ValueError, "url is malformed"),
        ({"url": "http://127.0.0.1:port/x.zip"}, ValueError, "url is malformed"),
        ({"url": "http:///x.zip"}, ValueError, "and a server name"),
    ],
)
def test_bad_arguments_are_rejected_before_any_request(server, home, kwargs, error, message,
                                                       monkeypatch):
    (server.www / "x.zip").write_bytes(_zip_bytes(GOOD))
    monkeypatch.chdir(home)  # "." and "" would be this folder
    (home / "something.txt").write_text("the current folder is not empty")
    args = {"url": f"{server.url}/x.zip", "dest": home / "d", **kwargs}
    with pytest.raises(error, match=message):
        data.download_and_extract(**args)
    assert server.requests == []
    assert sorted(p.name for p in home.iterdir()) == ["something.txt"]


def test_dest_that_is_a_file_is_rejected(home):
    a_file = home / "file"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError, match="must be a folder"):
        data.download_and_extract("http://127.0.0.1:9/x.zip", a_file)


def test_sha256_of_matches_hashlib(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc" * 1000)
    assert data.sha256_of(path) == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert data.sha256_of(str(path)) == hashlib.sha256(b"abc" * 1000).hexdigest()


@pytest.mark.parametrize("bad", [True, 1, 0, None, b"f.bin"])
def test_sha256_of_accepts_only_paths(bad):
    # an int would be taken as a file descriptor: True is stdout, which would then be closed
    with pytest.raises(TypeError, match="path must be a str or pathlib.Path"):
        data.sha256_of(bad)


# --- the dataset registry --------------------------------------------------------------------

def _write_idx(path: Path, array) -> None:
    """An IDX file (MNIST's format) holding a uint8 array."""
    import numpy as np

    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.tobytes())


def _fake_mnist(root: Path, n: int = 6) -> None:
    import numpy as np

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        _write_idx(raw / f"{split}-images-idx3-ubyte", np.zeros((n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n) % 10)


@pytest.fixture
def offline(monkeypatch):
    """Every download fails at once: nothing may leave this machine."""
    from torchvision.datasets import MNIST

    def refuse(*args, **kwargs):
        raise data.urllib.error.URLError("network is unreachable (test)")

    monkeypatch.setattr(data.urllib.request, "urlopen", refuse)
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens there


def test_the_registry_names_the_lessons_datasets():
    assert set(data.DATASETS) == {"hymenoptera_data", "MNIST"}
    assert data.DATASETS["hymenoptera_data"].url == \
        "https://download.pytorch.org/tutorial/hymenoptera_data.zip"
    for info in data.DATASETS.values():
        assert info.url.startswith("https://")
        assert info.sha256 is None or len(info.sha256) == 64


def test_datasets_already_in_the_data_root_are_not_downloaded(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("TUTORIAL_DATA_DIR", str(tmp_path))
    _fake_mnist(tmp_path)
    (tmp_path / "hymenoptera_data" / "train").mkdir(parents=True)
    (tmp_path / "hymenoptera_data" / "train" / "a.jpg").write_bytes(b"x")
    before = sorted(tmp_path.rglob("*"))
    assert data.download_dataset("MNIST") == tmp_path.resolve() / "MNIST"
    assert data.download_dataset("hymenoptera_data") == tmp_path.resolve() / "hymenoptera_data"
    assert sorted(tmp_path.rglob("*")) == before  # nothing added, nothing removed


@pytest.mark.parametrize("name", ["MNIST", "hymenoptera_data"])
def test_an_offline_download_is_one_clear_error_and_leaves_no_folder(tmp_path, monkeypatch,
                                                                    offline, name):
    monkeypatch.setenv("TUTORIAL_DATA_DIR", str(tmp_path))
    with pytest.raises(data.DownloadError, match="TUTORIAL_DATA_DIR") as caught:
        data.download_dataset(name)
    assert name in str(caught.value)
    copy_into = tmp_path.resolve() / name / ("raw" if name == "MNIST" else "")  # torchvision's
    assert f"copy the data by hand into {str(copy_into).rstrip(os.sep)}," in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # no empty MNIST/raw, no hymenoptera_data


def test_a_failed_mnist_download_keeps_what_was_there_before(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("TUTORIAL_DATA_DIR", str(tmp_path))
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    (tmp_path / "MNIST" / "notes.txt").write_text("mine")
    with pytest.raises(data.DownloadError, match="could not download MNIST"):
        data.download_dataset("MNIST")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == \
        ["MNIST", "MNIST/notes.txt", "MNIST/raw"]


def test_an_unknown_dataset_is_named_with_the_known_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_DATA_DIR", str(tmp_path))
    with pytest.raises(KeyError, match="'hymenoptera_data'"):
        data.download_dataset("CIFAR10")
    with pytest.raises(KeyError, match=r"no dataset named \['MNIST'\]"):  # was a TypeError
        data.download_dataset(["MNIST"])
