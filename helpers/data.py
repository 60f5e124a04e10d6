"""Where data lives, and a safe download and unpacking of a zip archive with Python's own
``urllib`` and ``zipfile``. Taught in 05_computer_vision and 06_custom_datasets."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from helpers.device import require_number

ENV_VAR = "TUTORIAL_DATA_DIR"
_REPO = Path(__file__).resolve().parent.parent  # the repository, when run from a checkout
_MACOS_METADATA = {"__MACOSX", ".DS_Store"}  # what macOS adds to the zips it makes


class DownloadError(RuntimeError):
    """A download could not be completed (no network, HTTP error, a file cut short)."""


def data_root() -> Path:
    """Return the folder of every dataset, created if missing: ``TUTORIAL_DATA_DIR``, else
    ``data/``; a relative path, either one, is taken from the repository root (from the
    current folder when ``helpers`` is installed from a wheel, as on Colab). Taught in
    05_computer_vision.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    root = Path(value).expanduser() if value else Path("data")
    if not root.is_absolute():
        root = (_REPO if (_REPO / "pyproject.toml").is_file() else Path.cwd()) / root
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"the data root must be a folder, but {root} is a file "
                                 f"(set {ENV_VAR} to a folder, or remove the file)")
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def _has_data(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())  # an empty folder is no data


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of a file. Taught in 06_custom_datasets."""
    if not isinstance(path, (str, os.PathLike)):  # an int would be read as a file descriptor
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__} ({path!r})")
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def require_sha256(value: object, name: str = "sha256") -> str:
    """``value`` lower-cased, if it is a SHA-256 hex digest (64 hex digits), else ValueError."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raise ValueError(f"{name} must be a 64-character hex string, got {value!r}")
    return value.lower()


def _error(what: str, dest: Path) -> DownloadError:
    return DownloadError(f"{what}. To go on without downloading, copy the data by hand into "
                         f"{dest}, or set {ENV_VAR} to a folder that already holds it.")


def _download(url: str, target: Path, timeout: float, dest: Path) -> None:
    """Save ``url`` as ``target``; DownloadError unless all of it came."""
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise _error(f"could not download {url}: the server answered HTTP {exc.code} "
                     f"({exc.reason})", dest) from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
        reason = getattr(exc, "reason", exc)
        if url.lower().startswith("file:"):  # a local file: nothing to do with the network
            raise _error(f"could not read {url} ({reason})", dest) from exc
        raise _error(f"could not connect to download {url} ({reason}); this machine may be "
                     "offline", dest) from exc
    try:
        with response, open(target, "wb") as out:
            while True:
                try:
                    chunk = response.read1(1 << 20)  # what has arrived, up to 1 MiB
                except (OSError, http.client.HTTPException) as exc:  # the network's fault
                    why = f"no data for {timeout} s" if isinstance(exc, TimeoutError) else repr(exc)
                    raise _error(f"the download of {url} stopped after {out.tell()} bytes "
                                 f"({why}). Run it again", dest) from exc
                if not chunk:
                    break
                out.write(chunk)
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and out.tell() < int(length):
                raise _error(f"the download of {url} is incomplete: {out.tell()} of {length} "
                             "bytes arrived. Run it again", dest)
    except OSError as exc:  # the disk's own error (the network's are DownloadErrors by now)
        exc.filename = exc.filename or str(target)  # so that its message names the file
        raise


def _wanted(member: zipfile.ZipInfo) -> bool:
    """False for macOS metadata; ValueError for a link or a member that lands outside."""
    path = PurePosixPath(member.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ValueError(f"refusing to extract zip member {member.filename!r}: it would land "
                         "outside the destination folder (expected relative paths without '..')")
    if (member.external_attr >> 16) & 0o170000 == 0o120000:  # else written as a plain file
        raise ValueError(f"refusing to extract zip member {member.filename!r}: a symlink")
    return not _MACOS_METADATA.intersection(path.parts)


def _extract(archive: Path, into: Path, url: str, dest: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into, [m for m in zf.infolist() if _wanted(m)])
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        start = archive.read_bytes()[:8]
        if not start.startswith(b"PK"):  # every zip starts so, even one cut short
            raise ValueError(f"expected a zip archive, but {url} is not one (it starts with "
                             f"{start!r})") from exc
        raise _error(f"the download of {url} is incomplete or corrupt: it does not unpack "
                     f"({type(exc).__name__}: {exc}). Run it again", dest) from exc
    except (NotADirectoryError, FileExistsError, IsADirectoryError) as exc:
        raise ValueError(f"refusing to extract {url}: it holds one name as both a file and a "
                         f"folder ({exc})") from exc


def _check_arguments(url: object, dest: object, sha256: object, timeout: object) -> None:
    if not isinstance(url, str) or not isinstance(dest, (str, os.PathLike)):
        raise TypeError("url must be a str and dest a str or pathlib.Path, got "
                        f"{type(url).__name__} and {type(dest).__name__}")
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # 'http://[::1' and a port that is no number raise ValueError here
    except ValueError as exc:
        raise ValueError(f"url is malformed ({exc}): {url!r}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "ftp", "file") or (scheme != "file" and not parts.hostname):
        raise ValueError("url must start with http://, https:// or ftp:// and a server name, "
                         f"or with file://, got {url!r}")
    if not str(dest).strip() or Path(dest).name in ("", ".", ".."):
        raise ValueError("dest must name the dataset's own folder, like data_root() / "
                         f"'hymenoptera_data', got {str(dest)!r}")
    if sha256 is not None:
        require_sha256(sha256)
    if not 0 < require_number(timeout, "timeout") < float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")


def download_and_extract(url: str, dest: str | os.PathLike[str], sha256: str | None = None,
                         *, timeout: float = 60.0) -> Path:
    """Download the zip archive at ``url`` (http(s), ftp or file) and unpack it into ``dest``
    (e.g. ``data_root() / "hymenoptera_data"``); return ``dest``. Skipped when ``dest`` is a
    folder that is not empty. Checks the SHA-256 when given, refuses members that would land
    outside or are symlinks, leaves macOS metadata out, gives a single top folder's contents;
    all of it in a temporary folder in the nearest folder above ``dest`` that exists, renamed
    into place at the end, so a failure leaves nothing behind. ``timeout``: seconds to wait
    for the server. Taught in 06_custom_datasets.
    """
    _check_arguments(url, dest, sha256, timeout)
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"dest must be a folder, but {dest} is a file")
    if _has_data(dest):
        return dest
    anchor = next(p for p in Path(os.path.abspath(dest)).parents if p.exists())
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}-", dir=anchor) as tmp:
        archive, staging = Path(tmp) / "download.zip", Path(tmp) / "extract"
        _download(url, archive, timeout, dest)
        if sha256 is not None and (digest := sha256_of(archive)) != sha256.lower():
            raise ValueError(f"SHA-256 mismatch for {url}: expected {sha256.lower()}, got {digest} "
                             "(the file is incomplete, corrupt, or not the one expected)")
        staging.mkdir()  # the usual permissions, unlike the private temporary folder
        _extract(archive, staging, url, dest)
        if not any(p.is_file() for p in staging.rglob("*")):
            raise ValueError(f"{url} holds no files (an empty archive, or only empty folders): "
                             f"refusing to create an empty {dest}")
        entries = list(staging.iterdir())
        source = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        dest.parent.mkdir(parents=True, exist_ok=True)  # the data is ready: now create
        try:
            if dest.is_dir():
                dest.rmdir()  # an empty folder left by someone else: replace it
            os.replace(source, dest)
        except OSError:
            if not _has_data(dest):  # else another process filled it meanwhile: fine
                raise
    return dest


class DatasetInfo(NamedTuple):
    """Where a dataset comes from, and its archive's SHA-256 (``None``: not pinned)."""

    url: str
    sha256: str | None = None


#: The series' datasets, by their folder's name in the data root.
DATASETS: dict[str, DatasetInfo] = {
    "hymenoptera_data": DatasetInfo("https://download.pytorch.org/tutorial/hymenoptera_data.zip"),
    # a folder URL (torchvision's mirror, checked by its own MD5s), not an archive: MNIST
    # is fetched by torchvision, never by download_and_extract
    "MNIST": DatasetInfo("https://ossci-datasets.s3.amazonaws.com/mnist/"),
}


def download_dataset(name: str) -> Path:
    """Make sure dataset ``name`` (a key of :data:`DATASETS`) is in the data root and return
    ``data_root() / name``; nothing is downloaded when it is there. A download that fails is
    one DownloadError naming TUTORIAL_DATA_DIR; a file that is not the expected one (not a
    zip, another SHA-256) is a ValueError. Neither leaves a folder behind. Taught in
    05_computer_vision and 06_custom_datasets."""
    if not isinstance(name, str) or name not in DATASETS:  # a list is unhashable: no TypeError
        raise KeyError(f"no dataset named {name!r}; the known ones are {sorted(DATASETS)}")
    folder = data_root() / name
    if name != "MNIST":
        return download_and_extract(DATASETS[name].url, folder, DATASETS[name].sha256)
    from torchvision.datasets import MNIST

    before = set(folder.rglob("*")) if folder.exists() else None
    try:
        MNIST(folder.parent, train=False, download=True)  # torchvision's own download
    except (RuntimeError, OSError) as exc:  # remove what it made, keep what was there
        for path in [folder] if before is None else set(folder.rglob("*")) - before:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        reason = " ".join(str(exc).split())
        raise _error(f"could not download MNIST with torchvision into {folder} ({reason})",
                     folder / "raw") from exc  # where torchvision looks for its four files
    return folder
