"""Downloading and unpacking datasets without ever leaving a half-written file.

Three promises, each kept by one function:

* :func:`download` streams a URL into a temporary file next to the
  destination, checks its sha256 and only then renames it into place, so the
  destination is either absent or complete and verified. Any failure,
  including Ctrl-C, removes the temporary file.
* :func:`safe_extract` unpacks a tar archive into a temporary folder next to
  the target and renames it when every member has been written. It refuses
  members that would land outside the target (absolute paths, ``..``), links
  of any kind and device files, naming the member.
* :func:`resolve_cache_dir` picks the cache folder: the argument, else the
  environment variable ``RNNBOOK_DATA_DIR``, else ``~/.cache/rnnbook``.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath


__all__ = [
    "CACHE_ENV_VAR",
    "ChecksumError",
    "DownloadError",
    "check_sha256",
    "download",
    "resolve_cache_dir",
    "safe_extract",
    "sha256_of",
    "verify_sha256",
]

#: Environment variable that overrides the default cache folder.
CACHE_ENV_VAR = "RNNBOOK_DATA_DIR"

_CHUNK = 1 << 20  # 1 MiB: large enough for speed, small enough for a smooth progress bar
_HEX64 = re.compile(r"[0-9a-f]{64}")


class DownloadError(RuntimeError):
    """A download failed: no network, refused connection, HTTP error, or a cut transfer."""


class ChecksumError(ValueError):
    """A file's sha256 is not the one expected (corrupt, truncated or a different file)."""


def resolve_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder where datasets are cached.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Used as given when not None.

    Returns
    -------
    Path
        ``cache_dir``, else ``$RNNBOOK_DATA_DIR`` when set and non-empty, else
        ``~/.cache/rnnbook``. The folder is not created here.
    """
    if cache_dir is not None:
        if not isinstance(cache_dir, (str, os.PathLike)):
            raise ValueError(f"cache_dir: expected a path (str or os.PathLike) or None, got {type(cache_dir).__name__}")
        return Path(cache_dir).expanduser()
    from_env = os.environ.get(CACHE_ENV_VAR, "")
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".cache" / "rnnbook"


def check_sha256(sha256: str, argument: str = "sha256") -> str:
    """``sha256`` in lowercase; ValueError naming ``argument`` unless it is 64 hex digits."""
    if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256.lower()):
        raise ValueError(f"{argument}: expected 64 hexadecimal digits, got {sha256!r}")
    return sha256.lower()


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file as 64 lowercase hex digits, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str | os.PathLike, expected: str) -> Path:
    """Check that the file at ``path`` has sha256 ``expected``.

    Returns
    -------
    Path
        ``path``, when the checksum matches.

    Raises
    ------
    ChecksumError
        (a ``ValueError``) naming the file, the expected and the found checksum.
    FileNotFoundError
        When there is no file at ``path``.
    """
    expected = check_sha256(expected)
    path = Path(path)
    found = sha256_of(path)
    if found != expected:
        raise ChecksumError(
            f"{path}: sha256 mismatch, expected {expected}, found {found}. "
            "The file is corrupt, truncated or not the one this course was written for."
        )
    return path


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; directories cannot be opened on Windows.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _no_network_message(url: str, dest: Path, sha256: str, reason: object) -> str:
    return (
        f"Could not download {url}: {reason}. "
        "This dataset needs internet access (is the network down, or is this machine offline?). "
        "Run the notebook in Google Colab or anywhere with internet, "
        f"or download the file by hand and place it at {dest} (its sha256 must be {sha256})."
    )


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str,
    *,
    size: int | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` atomically and verify its sha256.

    If ``dest`` already exists with the right checksum nothing is downloaded
    (no network needed). Otherwise the body is streamed into a temporary file
    in ``dest``'s folder, flushed with ``fsync``, checked, and renamed onto
    ``dest`` with ``os.replace``. On any exception, KeyboardInterrupt
    included, the temporary file is removed: ``dest`` is never half-written.

    Parameters
    ----------
    url : str
        ``http://``, ``https://`` or ``file://`` URL.
    dest : str or path-like
        Where the file ends up. Missing parent folders are created.
    sha256 : str
        Expected checksum, 64 hex digits.
    size : int, optional
        Expected size in bytes, used (for the progress bar and to detect a
        cut transfer) when the server sends no ``Content-Length``.
    progress : bool
        Show a tqdm progress bar.
    timeout : float
        Seconds to wait for the connection and for each read.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DownloadError
        (a ``RuntimeError``) when the network fails, the server answers with
        an HTTP error, or the transfer stops early; the message says what to do.
    ChecksumError
        (a ``ValueError``) when the downloaded bytes have the wrong sha256;
        nothing is left on disk.
    """
    if not isinstance(url, str) or not re.match(r"(?i)(https?|file)://", url):
        raise ValueError(f"url: expected an http://, https:// or file:// URL, got {url!r}")
    if not isinstance(dest, (str, os.PathLike)):
        raise ValueError(f"dest: expected a path (str or os.PathLike), got {type(dest).__name__}")
    sha256 = check_sha256(sha256)
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
        raise ValueError(f"size: expected a positive int or None, got {size!r}")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
        raise ValueError(f"timeout: expected a positive number of seconds, got {timeout!r}")

    dest = Path(dest).expanduser()
    if dest.is_file() and sha256_of(dest) == sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        received = 0
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)
            except urllib.error.HTTPError as e:
                raise DownloadError(
                    f"Could not download {url}: the server answered HTTP {e.code} ({e.reason}). "
                    f"Check the URL, or place the file by hand at {dest} (sha256 {sha256})."
                ) from e
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                reason = getattr(e, "reason", e)
                raise DownloadError(_no_network_message(url, dest, sha256, reason)) from e
            # Imported here: tqdm.auto picks the notebook widget in Jupyter (Colab has it) and
            # warns at import where ipywidgets is missing, so only a real download should import it.
            from tqdm.auto import tqdm

            with response:
                length = response.headers.get("Content-Length")
                expected_bytes = int(length) if length and length.isdigit() else size
                with tqdm(
                    total=expected_bytes,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=dest.name,
                    disable=not progress,
                ) as bar:
                    while True:
                        try:
                            chunk = response.read(_CHUNK)
                        except (OSError, http.client.HTTPException) as e:
                            # socket.timeout is an OSError; IncompleteRead an HTTPException.
                            raise DownloadError(
                                _no_network_message(url, dest, sha256, f"transfer interrupted after {received} bytes ({e!r})")
                            ) from e
                        if not chunk:
                            break
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
            # http.client returns b"" when the peer closes early, even with a
            # Content-Length pending, so a cut transfer must be detected here.
            if expected_bytes is not None and received != expected_bytes:
                raise DownloadError(
                    _no_network_message(
                        url, dest, sha256, f"transfer interrupted: received {received} of {expected_bytes} bytes"
                    )
                )
            out.flush()
            os.fsync(out.fileno())
        found = digest.hexdigest()
        if found != sha256:
            raise ChecksumError(
                f"Downloaded {url} ({received} bytes) has the wrong sha256: expected {sha256}, got {found}. "
                "Nothing was saved; the server sent a different or damaged file."
            )
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return dest


def _member_error(member: tarfile.TarInfo, why: str) -> ValueError:
    return ValueError(f"safe_extract: refusing archive member {member.name!r}: {why}")


def _check_member(member: tarfile.TarInfo, root: Path) -> Path:
    """Where ``member`` would be written under ``root``; ValueError if it is unsafe."""
    name = member.name
    if member.issym() or member.islnk():
        raise _member_error(member, f"links are not allowed (it points to {member.linkname!r})")
    if not (member.isreg() or member.isdir()):
        raise _member_error(member, "only regular files and folders are allowed (device, FIFO or other special file)")
    if not name or "\x00" in name:
        raise _member_error(member, "empty or NUL-containing name")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith(("/", "\\")):
        raise _member_error(member, "absolute path")
    if ".." in posix.parts or ".." in windows.parts:
        raise _member_error(member, "'..' in the path")
    resolved = (root / name).resolve()
    if resolved != root and root not in resolved.parents:
        raise _member_error(member, f"it would be written outside the target folder ({resolved})")
    return resolved


def _is_skipped(name: str, skip_parts: list[tuple[str, ...]]) -> bool:
    parts = tuple(p for p in PurePosixPath(name).parts if p != ".")
    return any(parts[: len(s)] == s for s in skip_parts)


def safe_extract(
    archive: str | os.PathLike,
    target: str | os.PathLike,
    *,
    skip: Iterable[str] = (),
) -> Path:
    """Extract a tar archive (``.tar``, ``.tar.gz``, ...) into ``target``, refusing unsafe members.

    Every member is checked before it is written: absolute paths, ``..``
    components, paths that resolve outside ``target``, symbolic and hard links
    (all of them) and device files or FIFOs raise ``ValueError`` naming the
    member. Files are written by this function (no permissions, owners or
    times taken from the archive); where the Python has it, tarfile's own
    ``"data"`` filter checks each member a second time.

    The archive is unpacked into a temporary folder next to ``target`` which
    is renamed to ``target`` at the end, so an error or an interruption
    leaves no partial ``target`` behind.

    Parameters
    ----------
    archive : str or path-like
        The tar file; compression is detected.
    target : str or path-like
        Folder to create; it must not exist yet.
    skip : iterable of str
        Member paths to leave out, each with everything below it, e.g.
        ``["aclImdb/train/unsup"]``. They are still checked for safety.

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    ValueError
        An unsafe member (nothing is left on disk), or bad arguments.
    FileExistsError
        ``target`` exists already.
    """
    if not isinstance(archive, (str, os.PathLike)):
        raise ValueError(f"archive: expected a path (str or os.PathLike), got {type(archive).__name__}")
    if not isinstance(target, (str, os.PathLike)):
        raise ValueError(f"target: expected a path (str or os.PathLike), got {type(target).__name__}")
    if isinstance(skip, str):
        raise ValueError(f"skip: expected an iterable of member paths, got a single str {skip!r}; wrap it in a list")
    skip_parts = [tuple(p for p in PurePosixPath(s).parts if p != ".") for s in skip]
    archive, target = Path(archive), Path(target).expanduser()
    if target.exists():
        raise FileExistsError(f"safe_extract: target {target} exists already; remove it or choose another folder")
    target.parent.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    root = tmp.resolve()
    data_filter = getattr(tarfile, "data_filter", None)  # Python 3.12+, and 3.8.17+/3.11.4+ backports
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                path = _check_member(member, root)
                if data_filter is not None:
                    try:
                        data_filter(member, str(root))
                    except tarfile.FilterError as e:
                        raise _member_error(member, f"tarfile's data filter refused it ({e})") from e
                if _is_skipped(member.name, skip_parts):
                    continue
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:  # cannot happen for a regular file; guard anyway
                    raise _member_error(member, "tarfile could not read its content")
                # "x": never overwrite, so a name repeated in the archive cannot replace a checked file.
                with source, open(path, "xb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
        os.rename(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
