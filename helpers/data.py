"""Where data lives, and a safe download-and-extract.

Taught in 05_computer_vision (``data_root``) and 06_custom_datasets (``download_and_extract``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

ENV_VAR = "TUTORIAL_DATA_DIR"
_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download could not be completed (no network, HTTP error, bad address)."""


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
    installed from a wheel, as on Colab). Tests and CI point the variable at a copy of an
    offline mirror so nothing is downloaded. Taught in 05_computer_vision.

    Raises:
        NotADirectoryError: if the path exists and is not a folder.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        root = Path(value).expanduser()
    else:
        base = _repo_root() or Path.cwd()
        root = base / "data"
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
    """Return the SHA-256 hex digest of a file, read in chunks. Taught in 06_custom_datasets."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, target: Path, timeout: float) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out, _CHUNK)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(
            f"could not download {url} ({reason}). If this machine is offline, copy the data "
            f"there by hand, or set {ENV_VAR} to a folder that already holds it."
        ) from exc


def _safe_member_name(name: str, kind: str) -> str:
    """Reject absolute names and names with '..' parts; return the name."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ValueError(
            f"refusing to extract {kind} member {name!r}: it would land outside the "
            "destination folder (expected relative paths without '..')"
        )
    return name


def _extract_zip(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            _safe_member_name(info.filename, "zip")
            # A zip entry whose Unix mode says "symlink" would point anywhere.
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise ValueError(f"refusing to extract zip member {info.filename!r}: a symlink")
        zf.extractall(into)


def _extract_tar(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for member in members:
            _safe_member_name(member.name, "tar")
            if not (member.isfile() or member.isdir()):
                raise ValueError(
                    f"refusing to extract tar member {member.name!r}: only regular files and "
                    "folders are accepted (links and devices could escape the folder)"
                )
        if hasattr(tarfile, "data_filter"):
            tf.extractall(into, members=members, filter="data")
        else:  # Python < 3.11.4: the checks above are the filter
            tf.extractall(into, members=members)


def download_and_extract(
    url: str,
    dest: str | os.PathLike[str],
    sha256: str | None = None,
    *,
    timeout: float = 60.0,
) -> Path:
    """Download an archive (zip or tar) and unpack it into ``dest``, safely.

    Steps, each of which leaves nothing half-done behind if it fails:

    1. If ``dest`` already holds files, nothing is downloaded: the data is there.
    2. The archive is downloaded to a temporary file next to ``dest``.
    3. If ``sha256`` is given, the file's SHA-256 must match it.
    4. Members with absolute paths, ``..`` parts or links are refused.
    5. The archive is unpacked into a temporary folder, which is renamed to ``dest``.
       When the archive holds a single top-level folder (``hymenoptera_data.zip`` holds
       ``hymenoptera_data/``), that folder's contents become ``dest``.

    Taught in 06_custom_datasets.

    Args:
        url: where to download the archive from (``http(s)://`` or ``file://``).
        dest: the folder to create, e.g. ``data_root() / "hymenoptera_data"``.
        sha256: the expected hex digest, or ``None`` to skip the check.
        timeout: seconds to wait for the server.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        TypeError / ValueError: bad arguments, a hash mismatch, an unsafe or unknown archive.
        DownloadError: the network or server failed; the message names the URL and
            ``TUTORIAL_DATA_DIR``.
    """
    if not isinstance(url, str) or not url:
        raise TypeError(f"url must be a non-empty string, got {url!r}")
    if not isinstance(dest, (str, os.PathLike)):
        raise TypeError(f"dest must be a path (str or pathlib.Path), got {type(dest).__name__}")
    if sha256 is not None:
        if not isinstance(sha256, str) or len(sha256) != 64:
            raise ValueError(f"sha256 must be a 64-character hex string, got {sha256!r}")
        sha256 = sha256.lower()
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"dest must be a folder, but {dest} is a file")
    if _has_data(dest):
        return dest

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}-", suffix=".download", dir=dest.parent)
    os.close(fd)
    archive = Path(tmp_name)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", suffix=".extract", dir=dest.parent))
    try:
        _download(url, archive, timeout)
        if sha256 is not None:
            actual = sha256_of(archive)
            if actual != sha256:
                raise ValueError(
                    f"SHA-256 mismatch for {url}: expected {sha256}, got {actual} "
                    "(the file is corrupt or not the one expected)"
                )
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, staging)
        elif tarfile.is_tarfile(archive):
            _extract_tar(archive, staging)
        else:
            raise ValueError(f"{url} is not a zip or tar archive (expected one of those)")
        entries = list(staging.iterdir())
        source = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        if dest.is_dir():  # an empty folder left by someone else: replace it
            dest.rmdir()
        os.replace(source, dest)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return dest
