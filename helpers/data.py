"""Where data lives, and a safe download-and-extract: Python's own ``urllib``, ``zipfile``
and ``tarfile`` (with its ``"data"`` filter), plus the checks a dataset needs and clear
errors. Taught in 05_computer_vision and 06_custom_datasets.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import NamedTuple

ENV_VAR = "TUTORIAL_DATA_DIR"
_SCHEMES = ("http", "https", "ftp", "file")
#: Folders and files that macOS adds to archives it makes; never part of a dataset.
_MACOS_METADATA = frozenset({"__MACOSX", ".DS_Store"})


class DownloadError(RuntimeError):
    """A download could not be completed (no network, HTTP error, a file cut short)."""


def _repo_root() -> Path | None:
    """The repository root when helpers is used from a checkout (editable install)."""
    candidate = Path(__file__).resolve().parent.parent
    return candidate if (candidate / "pyproject.toml").is_file() else None


def data_root() -> Path:
    """Return the folder that holds every dataset, creating it if needed.

    The folder named by the environment variable ``TUTORIAL_DATA_DIR`` if it is set, else
    ``data/``; either taken relative to the repository root (or to the current folder when
    ``helpers`` was installed from a wheel, as on Colab), so notebooks, solutions and tests
    all find the same folder. Tests and CI point the variable at a copy of an offline mirror.
    Taught in 05_computer_vision.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    root = Path(value).expanduser() if value else Path("data")
    if not root.is_absolute():
        root = (_repo_root() or Path.cwd()) / root
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


def _by_hand(dest: Path) -> str:
    return (f"To go on without the network, copy the data by hand into {dest}, or set "
            f"{ENV_VAR} to a folder that already holds it.")


def _download(url: str, target: Path, timeout: float, dest: Path) -> None:
    """Save ``url`` as ``target``; raise DownloadError unless all of it came."""
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"could not download {url}: the server answered HTTP {exc.code} "
                            f"({exc.reason}). {_by_hand(dest)}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        if url.lower().startswith("file:"):  # a local file: nothing to do with the network
            raise DownloadError(f"could not read {url} ({reason}). {_by_hand(dest)}") from exc
        raise DownloadError(
            f"could not connect to download {url} ({reason}). If this machine is offline, "
            f"copy the data by hand into {dest}, or set {ENV_VAR} to a folder that already "
            "holds it.") from exc
    read = getattr(response, "read1", response.read)  # what has arrived so far
    with response, open(target, "wb") as out:
        while True:
            try:
                chunk = read(1 << 20)
            except (OSError, http.client.HTTPException) as exc:  # the network's fault, not the disk's
                what = f"stalled: no data for {timeout} s" if isinstance(exc, TimeoutError) \
                    else f"broke off ({exc!r})"
                raise DownloadError(f"the download of {url} {what} after {out.tell()} bytes. "
                                    f"Run it again. {_by_hand(dest)}") from exc
            if not chunk:
                break
            out.write(chunk)
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and out.tell() < int(length):
            raise DownloadError(
                f"the download of {url} is incomplete: {out.tell()} of {length} bytes arrived "
                f"before the connection closed. Run it again. {_by_hand(dest)}")


def _wanted(name: str, kind: str) -> bool:
    """Refuse an archive member that would land outside the folder; False for macOS metadata."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ValueError(f"refusing to extract {kind} member {name!r}: it would land outside "
                         "the destination folder (expected relative paths without '..')")
    return not _MACOS_METADATA.intersection(path.parts)


def _extract(archive: Path, into: Path, url: str, dest: Path) -> None:
    """Unpack a zip, a tar (any compression) or a single gzip-compressed file into ``into``."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                members = [m for m in zf.infolist() if _wanted(m.filename, "zip")]
                for m in members:  # zipfile would write a symlink's target as a file
                    if (m.external_attr >> 16) & 0o170000 == 0o120000:
                        raise ValueError(f"refusing to extract zip member {m.filename!r}: a symlink")
                zf.extractall(into, members=members)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = [m for m in tf.getmembers() if _wanted(m.name, "tar")]
                for m in members:
                    if not (m.isfile() or m.isdir()):
                        raise ValueError(f"refusing to extract tar member {m.name!r}: only "
                                         "regular files and folders are accepted (a link or "
                                         "a device could reach outside the folder)")
                # the "data" filter (Python >= 3.11.4) on top of the checks above
                tf.extractall(into, members=members,
                              **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        elif archive.read_bytes()[:2] == b"\x1f\x8b":  # gzip: one compressed file
            name = PurePosixPath(urllib.parse.urlsplit(url).path).name
            name = name[:-3] if name.endswith(".gz") and len(name) > 3 else name or "data"
            with gzip.open(archive) as src, open(into / name, "wb") as out:
                shutil.copyfileobj(src, out)
        elif archive.read_bytes()[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            raise EOFError("a zip archive without its table of contents")
        else:
            raise ValueError(f"{url} is not a zip, tar or gzip file (expected one of those)")
    except (zipfile.BadZipFile, tarfile.ReadError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DownloadError(f"the download of {url} is incomplete or corrupt: it does not "
                            f"unpack ({type(exc).__name__}: {exc}). Run it again to download "
                            f"it anew. {_by_hand(dest)}") from exc
    except (NotADirectoryError, FileExistsError, IsADirectoryError) as exc:
        raise ValueError(f"refusing to extract {url}: it holds one name as both a file and a "
                         f"folder ({exc})") from exc


def _check_arguments(url: object, dest: object, sha256: object, timeout: object) -> None:
    if not isinstance(url, str) or not url:
        raise TypeError(f"url must be a non-empty string, got {url!r}")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:  # 'http://[::1' and the like
        raise ValueError(f"url is malformed ({exc}): {url!r}") from exc
    if parts.scheme.lower() not in _SCHEMES:
        raise ValueError(f"url must start with http://, https://, ftp:// or file://, got {url!r}")
    if parts.scheme.lower() != "file" and not parts.hostname:
        raise ValueError(f"url is malformed: it names no server, got {url!r}")
    if not isinstance(dest, (str, os.PathLike)):
        raise TypeError(f"dest must be a path (str or pathlib.Path), got {type(dest).__name__}")
    if not str(dest).strip() or Path(dest).name in ("", ".", ".."):
        raise ValueError("dest must name the dataset's own folder, like data_root() / "
                         f"'hymenoptera_data', got {str(dest)!r}")
    if sha256 is not None and not (isinstance(sha256, str)
                                   and re.fullmatch(r"[0-9a-fA-F]{64}", sha256)):
        raise ValueError(f"sha256 must be a 64-character hex string, got {sha256!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, got {timeout!r}")
    if not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")


def download_and_extract(url: str, dest: str | os.PathLike[str], sha256: str | None = None,
                         *, timeout: float = 60.0) -> Path:
    """Download an archive (zip, tar, or one gzip-compressed file) from ``url`` (http(s),
    ftp or file) and unpack it into ``dest``, e.g. ``data_root() / "hymenoptera_data"``;
    return ``dest``. Taught in 06_custom_datasets.

    Nothing is downloaded when ``dest`` already holds files. Else the archive goes into a
    temporary folder beside ``dest``; its SHA-256 must match ``sha256`` when one is given;
    members that would land outside (absolute, ``..``, drive letters, links) are refused and
    macOS metadata is left out; an archive holding a single top folder gives that folder's
    contents. Only then is ``dest`` created, by a rename, so a failure leaves nothing behind.
    ``timeout``: seconds to wait for the server, to connect and between pieces of data.

    Raises:
        TypeError / ValueError: bad arguments, a hash mismatch, an unsafe, empty or unknown
            archive.
        DownloadError: the network or server failed, or the file arrived incomplete or
            corrupt; the message names the URL and ``TUTORIAL_DATA_DIR``.
        OSError: the disk refused (full, no permission); the message names the file.
    """
    _check_arguments(url, dest, sha256, timeout)
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"dest must be a folder, but {dest} is a file")
    if _has_data(dest):
        return dest
    anchor = Path(os.path.abspath(dest)).parent  # the nearest folder above dest that exists
    while not anchor.exists():
        anchor = anchor.parent
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}-", dir=anchor) as tmp:
        archive, staging = Path(tmp) / "download", Path(tmp) / "extract"
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


# --- the datasets the lessons use --------------------------------------------------------------

class DatasetInfo(NamedTuple):
    """Where a dataset comes from: the URL of its archive and the archive's SHA-256."""

    url: str
    #: ``None`` where none is pinned yet. A pinned hash makes every later download the same
    #: bytes (06_custom_datasets); torchvision checks MNIST's files against its own MD5s.
    sha256: str | None


#: The datasets of the series, by the name of their folder in the data root.
DATASETS: dict[str, DatasetInfo] = {
    "hymenoptera_data": DatasetInfo(
        "https://download.pytorch.org/tutorial/hymenoptera_data.zip", None),
    "MNIST": DatasetInfo("https://ossci-datasets.s3.amazonaws.com/mnist/", None),
}


def _download_mnist(root: Path) -> None:
    """torchvision's own MNIST download; on failure, what it created is removed again."""
    from torchvision.datasets import MNIST

    folder = root / "MNIST"
    before = set(folder.rglob("*")) if folder.exists() else None
    try:
        MNIST(root, train=False, download=True)
    except (RuntimeError, OSError) as exc:
        for path in [folder] if before is None else set(folder.rglob("*")) - before:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        reason = str(exc).strip().replace("\n", " ")
        raise DownloadError(f"could not download MNIST with torchvision into {folder} "
                            f"({reason}). {_by_hand(folder)}") from exc


def download_dataset(name: str) -> Path:
    """Make sure dataset ``name`` (a key of :data:`DATASETS`) is in the data root; return
    its folder, ``data_root() / name``. Taught in 05_computer_vision and 06_custom_datasets.

    Nothing is downloaded when the data is already there (a copy of the offline mirror, or
    an earlier run). ``"hymenoptera_data"`` goes through :func:`download_and_extract`;
    ``"MNIST"`` through torchvision's ``MNIST(data_root(), download=True)``. A failure is a
    DownloadError naming ``TUTORIAL_DATA_DIR``, and leaves no folder behind.
    """
    if name not in DATASETS:
        raise KeyError(f"no dataset named {name!r}; the known ones are {sorted(DATASETS)}")
    root = data_root()
    if name == "MNIST":
        _download_mnist(root)
        return root / name
    info = DATASETS[name]
    return download_and_extract(info.url, root / name, info.sha256)
