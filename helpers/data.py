"""Where data lives, and a safe download-and-extract.

Taught in 05_computer_vision (``data_root``) and 06_custom_datasets (``download_and_extract``).
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.client
import lzma
import math
import os
import re
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import NamedTuple

ENV_VAR = "TUTORIAL_DATA_DIR"
#: The most an archive may unpack to, in bytes, unless ``max_bytes`` says otherwise.
MAX_EXTRACTED_BYTES = 8 * 2**30
_CHUNK = 1 << 20
_SCHEMES = ("http", "https", "ftp", "file")
#: Folders and files that macOS adds to archives it makes; never part of a dataset.
_MACOS_METADATA = frozenset({"__MACOSX", ".DS_Store"})
#: How long a call waits for another process that is filling the same destination.
_LOCK_WAIT_SECONDS = 30 * 60.0


class DownloadError(RuntimeError):
    """A download could not be completed (no network, HTTP error, a file cut short)."""


def _repo_root() -> Path | None:
    """The repository root when helpers is used from a checkout (editable install)."""
    candidate = Path(__file__).resolve().parent.parent
    if (candidate / "pyproject.toml").is_file() and (candidate / "helpers").is_dir():
        return candidate
    return None


def data_root() -> Path:
    """Return the folder that holds every dataset, creating it if needed.

    The folder named by the environment variable ``TUTORIAL_DATA_DIR`` if it is set,
    else ``data/`` at the repository root (or in the current folder when ``helpers`` was
    installed from a wheel, as on Colab). A relative ``TUTORIAL_DATA_DIR`` is taken
    relative to the same place, the repository root (else the current folder), so a
    notebook in ``notebooks/``, a solution in ``notebooks/solutions/`` and the tests all
    find the same folder. Tests and CI point the variable at a copy of an offline mirror
    so nothing is downloaded. Taught in 05_computer_vision.

    Raises:
        NotADirectoryError: if the path exists and is not a folder.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    base = _repo_root() or Path.cwd()
    root = Path(value).expanduser() if value else Path("data")
    if not root.is_absolute():
        root = base / root
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(
            f"the data root must be a folder, but {root} is a file "
            f"(set {ENV_VAR} to a folder, or remove the file)"
        )
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def _has_data(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of a file, read in chunks. Taught in 06_custom_datasets.

    Raises:
        TypeError: if ``path`` is not a path (an int would be taken as a file descriptor).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__} ({path!r})")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- downloading --------------------------------------------------------------------------

def _by_hand(dest: Path) -> str:
    return (f"To go on without the network, copy the data by hand into {dest}, or set "
            f"{ENV_VAR} to a folder that already holds it.")


def _save_error(exc: OSError, what: str, folder: Path) -> OSError:
    """The same kind of OSError (same errno, so the same subclass), saying what failed."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = f"free some space, or set {ENV_VAR} to a folder on a disk with room"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = f"set {ENV_VAR} to a folder you may write to"
    else:
        advice = f"check that {folder} is a folder you may write to"
    message = f"could not {what} in {folder}: {exc.strerror or exc}; {advice}"
    return OSError(exc.errno, message) if exc.errno is not None else OSError(message)


def _download(url: str, target: Path, timeout: float, dest: Path) -> None:
    """Download ``url`` into the file ``target``; raise DownloadError unless all of it came."""
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise DownloadError(
            f"could not download {url}: the server answered HTTP {exc.code} ({exc.reason}). "
            f"{_by_hand(dest)}"
        ) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if urllib.parse.urlsplit(url).scheme.lower() == "file":  # a local file: no network
            raise DownloadError(f"could not read {url} ({reason}). {_by_hand(dest)}") from exc
        raise DownloadError(
            f"could not connect to download {url} ({reason}). If this machine is offline, "
            f"copy the data by hand into {dest}, or set {ENV_VAR} to a folder that already "
            "holds it."
        ) from exc
    received = 0
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.strip().isdigit() else None
        try:
            with open(target, "wb") as out:
                read = getattr(response, "read1", response.read)  # what has come, so far
                while True:
                    try:
                        chunk = read(_CHUNK)
                    except http.client.IncompleteRead as exc:
                        received += len(exc.partial)
                        break  # reported below, with the byte counts
                    except TimeoutError as exc:
                        raise DownloadError(
                            f"the download of {url} stalled: no data for {timeout} s after "
                            f"{received} bytes, so the file is incomplete. Run it again to "
                            f"retry. {_by_hand(dest)}"
                        ) from exc
                    except (OSError, http.client.HTTPException) as exc:
                        raise DownloadError(
                            f"the download of {url} broke off after {received} bytes ({exc}), "
                            f"so the file is incomplete. Run it again to retry. {_by_hand(dest)}"
                        ) from exc
                    if not chunk:
                        break
                    out.write(chunk)
                    received += len(chunk)
        except OSError as exc:  # opening, writing or closing the file: not the network
            raise _save_error(exc, f"save the download of {url}", target.parent) from exc
    if expected is not None and received < expected:
        raise DownloadError(
            f"the download of {url} is incomplete: {received} of {expected} bytes arrived "
            f"before the connection closed. Run it again to retry. {_by_hand(dest)}"
        )


# --- archives -------------------------------------------------------------------------------

def _safe_member_name(name: str, kind: str) -> str:
    """Reject absolute names, drive letters and names with '..' parts; return the name."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ValueError(
            f"refusing to extract {kind} member {name!r}: it would land outside the "
            "destination folder (expected relative paths without '..')"
        )
    return name


def _member_parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", "."))


def _is_macos_metadata(name: str) -> bool:
    return any(part in _MACOS_METADATA for part in _member_parts(name))


def _check_members(members: list[tuple[str, bool, int]], kind: str, max_bytes: int) -> None:
    """Refuse members that need a name to be a file and a folder at once, and archives that
    unpack to more than ``max_bytes``. ``members`` holds ``(name, is_folder, size)``."""
    files = {_member_parts(name): name for name, is_dir, _ in members if not is_dir}
    for name, _, _ in members:
        parts = _member_parts(name)
        for i in range(1, len(parts)):
            if parts[:i] in files:
                raise ValueError(
                    f"refusing to extract {kind} member {name!r}: it needs "
                    f"{files[parts[:i]]!r} to be a folder, but the archive also holds "
                    f"{files[parts[:i]]!r} as a file"
                )
    total = sum(size for _, is_dir, size in members if not is_dir)
    if total > max_bytes:
        raise ValueError(
            f"refusing to extract the {kind} archive: it would unpack to {total:,} bytes, more "
            f"than the limit of {max_bytes:,} (pass a larger max_bytes if you trust it)"
        )


def _extract_zip(archive: Path, into: Path, max_bytes: int) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = []
        for info in zf.infolist():
            _safe_member_name(info.filename, "zip")
            # A zip entry whose Unix mode says "symlink" would point anywhere.
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise ValueError(f"refusing to extract zip member {info.filename!r}: a symlink")
            if not _is_macos_metadata(info.filename):
                members.append(info)
        _check_members([(i.filename, i.is_dir(), i.file_size) for i in members], "zip", max_bytes)
        zf.extractall(into, members=members)


def _extract_tar(archive: Path, into: Path, max_bytes: int) -> None:
    with tarfile.open(archive) as tf:
        members = []
        for member in tf.getmembers():
            _safe_member_name(member.name, "tar")
            if not (member.isfile() or member.isdir()):
                raise ValueError(
                    f"refusing to extract tar member {member.name!r}: only regular files and "
                    "folders are accepted (links and devices could escape the folder)"
                )
            if not _is_macos_metadata(member.name):
                members.append(member)
        _check_members([(m.name, m.isdir(), m.size) for m in members], "tar", max_bytes)
        if hasattr(tarfile, "data_filter"):
            tf.extractall(into, members=members, filter="data")
        else:  # Python < 3.11.4: the checks above are the filter
            tf.extractall(into, members=members)


def _looks_like_an_archive(path: Path) -> bool:
    """Whether the file starts the way a zip, gzip, bzip2, xz or tar file starts."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"BZh",
                            b"\xfd7zXZ\x00")) or head[257:262] == b"ustar"


# Errors an archive library raises on a file that ends early or is damaged.
_CORRUPT = (zipfile.BadZipFile, tarfile.ReadError, tarfile.CompressionError, EOFError,
            zlib.error, gzip.BadGzipFile, lzma.LZMAError)


def _extract(archive: Path, into: Path, url: str, dest: Path, max_bytes: int) -> None:
    corrupt = (
        f"the download of {url} is incomplete or corrupt: the archive does not unpack "
        f"({{}}). Run it again to download it anew. {_by_hand(dest)}"
    )
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, into, max_bytes)
        elif tarfile.is_tarfile(archive):
            _extract_tar(archive, into, max_bytes)
        elif _looks_like_an_archive(archive):  # the start of one, cut short
            raise DownloadError(corrupt.format("it ends before its table of contents"))
        else:
            raise ValueError(f"{url} is not a zip or tar archive (expected one of those)")
    except _CORRUPT as exc:
        raise DownloadError(corrupt.format(f"{type(exc).__name__}: {exc}")) from exc
    except OSError as exc:
        if exc.errno is None:  # bz2 and a few others report damage as a bare OSError
            raise DownloadError(corrupt.format(exc)) from exc
        raise _save_error(exc, f"unpack {url}", into.parent) from exc


# --- one process at a time per destination ---------------------------------------------------

def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def _exclusive_lock(path: Path, dest: Path) -> Iterator[None]:
    """Hold the lock file ``path`` (waiting up to ``_LOCK_WAIT_SECONDS`` for another process
    that holds it); remove it when done. The operating system releases the lock of a
    process that dies, so a killed kernel never blocks the next run."""
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _save_error(exc, f"prepare the download into {dest}", path.parent) from exc
        if _try_lock(fd):
            try:  # the holder before us may have removed the file after we opened it
                current = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                current = False
            if current:
                break
            _unlock(fd)
        os.close(fd)
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"another process is filling {dest} and has not finished after "
                f"{_LOCK_WAIT_SECONDS:.0f} s (it holds {path}). Wait for it, or stop it."
            )
        time.sleep(0.1)
    try:
        yield
    finally:
        try:
            path.unlink()  # fails on Windows while open; then the next run reuses it
        except OSError:
            pass
        _unlock(fd)
        os.close(fd)


def _remove_leftovers(folder: Path, tag: str) -> None:
    """Remove ``.<tag>-XXXXXXXX.download`` files and ``.extract`` folders that a run killed
    midway left in ``folder``. Only called while holding the lock for this destination, so
    no running process owns them."""
    pattern = re.compile(rf"\.{re.escape(tag)}-[a-z0-9_]{{8}}\.(download|extract)")
    for path in folder.iterdir():
        if not pattern.fullmatch(path.name):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _default_folder_mode(folder: Path) -> int:
    """The mode a new folder gets here (0o755 with the usual umask)."""
    probe = Path(tempfile.mkdtemp(dir=folder))
    probe.rmdir()
    os.mkdir(probe)
    try:
        return probe.stat().st_mode & 0o7777
    finally:
        probe.rmdir()


def _check_arguments(url: object, dest: object, sha256: object, timeout: object,
                     max_bytes: object) -> None:
    if not isinstance(url, str) or not url:
        raise TypeError(f"url must be a non-empty string, got {url!r}")
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(
            f"url must start with http://, https://, ftp:// or file://, got {url!r}"
        )
    if not isinstance(dest, (str, os.PathLike)):
        raise TypeError(f"dest must be a path (str or pathlib.Path), got {type(dest).__name__}")
    if not str(dest).strip() or Path(dest).name in ("", ".", ".."):
        raise ValueError(
            f"dest must name the dataset's own folder, like data_root() / 'hymenoptera_data', "
            f"got {str(dest)!r}"
        )
    if sha256 is not None and (
        not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256)
    ):
        raise ValueError(f"sha256 must be a 64-character hex string, got {sha256!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, got {timeout!r}")
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive int, got {max_bytes!r}")


def download_and_extract(
    url: str,
    dest: str | os.PathLike[str],
    sha256: str | None = None,
    *,
    timeout: float = 60.0,
    max_bytes: int = MAX_EXTRACTED_BYTES,
) -> Path:
    """Download an archive (zip or tar) and unpack it into ``dest``, safely.

    Steps, each of which leaves nothing behind if it fails:

    1. If ``dest`` already holds files, nothing is downloaded: the data is there.
    2. The archive is downloaded to a temporary file in the nearest folder above ``dest``
       that exists; nothing else is created until the data is in place. A download that
       ends early (fewer bytes than announced, or an archive cut short) is an error.
    3. If ``sha256`` is given, the file's SHA-256 must match it.
    4. Members with absolute paths, drive letters, ``..`` parts or links are refused, as
       are a file and a folder of the same name, and archives that would unpack to more
       than ``max_bytes`` (a "zip bomb"). macOS metadata (``__MACOSX/``, ``.DS_Store``)
       is left out.
    5. The archive is unpacked into a temporary folder, which is renamed to ``dest`` (with
       the usual folder permissions); an archive without any file is refused. When the
       archive holds a single top-level folder (``hymenoptera_data.zip`` holds
       ``hymenoptera_data/``), that folder's contents become ``dest``.

    Two processes filling the same ``dest`` take turns: the second waits, then finds the
    data in place. Temporary files a killed run left for this ``dest`` are removed by the
    next run. Taught in 06_custom_datasets.

    Args:
        url: where to download the archive from (``http(s)://``, ``ftp://`` or ``file://``).
        dest: the folder to create, e.g. ``data_root() / "hymenoptera_data"``.
        sha256: the expected hex digest, or ``None`` to skip the check.
        timeout: seconds to wait for the server, to connect and between pieces of data.
        max_bytes: the most the archive may unpack to.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        TypeError / ValueError: bad arguments, a hash mismatch, an unsafe, empty or unknown
            archive.
        DownloadError: the network or server failed, or the file arrived incomplete; the
            message names the URL and ``TUTORIAL_DATA_DIR``.
        OSError: the file could not be saved or unpacked (a full disk, no permission);
            the message says which folder.
        TimeoutError: another process filling ``dest`` did not finish in 30 minutes.
    """
    _check_arguments(url, dest, sha256, timeout, max_bytes)
    sha256 = sha256.lower() if sha256 is not None else None
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"dest must be a folder, but {dest} is a file")
    if _has_data(dest):
        return dest

    target = Path(os.path.abspath(dest))
    anchor = target.parent  # the nearest folder above dest that exists: created nothing
    while not anchor.exists():
        anchor = anchor.parent
    if not anchor.is_dir():
        raise NotADirectoryError(f"cannot create {dest}: {anchor} is a file, not a folder")
    tag = "-".join(target.relative_to(anchor).parts)
    with _exclusive_lock(anchor / f".{tag}.lock", dest):
        if _has_data(dest):  # another process filled it while this one waited
            return dest
        _remove_leftovers(anchor, tag)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{tag}-", suffix=".download", dir=anchor)
            os.close(fd)
            staging = Path(tempfile.mkdtemp(prefix=f".{tag}-", suffix=".extract", dir=anchor))
        except OSError as exc:
            raise _save_error(exc, f"prepare the download of {url}", anchor) from exc
        archive = Path(tmp_name)
        try:
            _download(url, archive, timeout, dest)
            if sha256 is not None:
                actual = sha256_of(archive)
                if actual != sha256:
                    raise ValueError(
                        f"SHA-256 mismatch for {url}: expected {sha256}, got {actual} "
                        "(the file is incomplete, corrupt, or not the one expected)"
                    )
            _extract(archive, staging, url, dest, max_bytes)
            if not any(p.is_file() for p in staging.rglob("*")):
                raise ValueError(
                    f"{url} holds no files (an empty archive, or only empty folders): "
                    f"refusing to create an empty {dest}"
                )
            entries = list(staging.iterdir())
            source = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
            if source == staging:  # mkdtemp made it private (0o700): make it a usual folder
                os.chmod(staging, _default_folder_mode(anchor))
            dest.parent.mkdir(parents=True, exist_ok=True)  # the data is ready: now create
            if dest.is_dir():  # an empty folder left by someone else: replace it
                dest.rmdir()
            os.replace(source, dest)
        finally:
            archive.unlink(missing_ok=True)
            shutil.rmtree(staging, ignore_errors=True)
    return dest


# --- the datasets the lessons use --------------------------------------------------------------

class DatasetInfo(NamedTuple):
    """Where a dataset comes from: the URL of its archive and the archive's SHA-256."""

    url: str
    #: ``None`` where no trusted source publishes one (06_custom_datasets explains why a
    #: hash copied from a tutorial proves nothing); torchvision checks MNIST's own MD5s.
    sha256: str | None


#: The datasets of the series, by the name of their folder in the data root.
DATASETS: dict[str, DatasetInfo] = {
    "hymenoptera_data": DatasetInfo(
        "https://download.pytorch.org/tutorial/hymenoptera_data.zip", None),
    "MNIST": DatasetInfo("https://ossci-datasets.s3.amazonaws.com/mnist/", None),
}


def _remove_new_paths(folder: Path, before: set[Path]) -> None:
    """Remove what appeared under ``folder`` since ``before`` was listed (deepest first)."""
    if not folder.exists():
        return
    for path in sorted(set(folder.rglob("*")) - before, key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if folder not in before:
        shutil.rmtree(folder, ignore_errors=True)


def _download_mnist(root: Path) -> None:
    """torchvision's own MNIST download; on failure, what it created is removed again."""
    from torchvision.datasets import MNIST

    folder = root / "MNIST"
    before = ({folder} | set(folder.rglob("*"))) if folder.exists() else set()
    try:
        MNIST(root, train=False, download=True)
    except (RuntimeError, OSError) as exc:
        _remove_new_paths(folder, before)
        reason = str(exc).strip().replace("\n", " ")
        raise DownloadError(
            f"could not download MNIST with torchvision into {folder} ({reason}). "
            f"{_by_hand(folder)}"
        ) from exc


def download_dataset(name: str) -> Path:
    """Make sure dataset ``name`` (a key of :data:`DATASETS`) is in the data root; return
    its folder, ``data_root() / name``.

    Nothing is downloaded when the data is already there (an offline mirror copied as the
    data root, or an earlier run). ``"hymenoptera_data"`` goes through
    :func:`download_and_extract`; ``"MNIST"`` through ``torchvision.datasets.MNIST(root,
    download=True)``, so pass ``data_root()`` as ``root`` to torchvision's ``MNIST``
    afterwards. Taught in 05_computer_vision (MNIST) and 06_custom_datasets.

    Raises:
        KeyError: ``name`` is not in :data:`DATASETS`.
        DownloadError: the download failed; the message says what failed and names
            ``TUTORIAL_DATA_DIR``, and no folder is left behind.
    """
    if name not in DATASETS:
        raise KeyError(f"no dataset named {name!r}; the known ones are {sorted(DATASETS)}")
    root = data_root()
    if name == "MNIST":
        _download_mnist(root)
        return root / name
    info = DATASETS[name]
    return download_and_extract(info.url, root / name, info.sha256)
