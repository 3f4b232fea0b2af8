"""Writing files so that a crash never leaves half of one: the one helper the library and its scripts share."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``: to a temporary name beside it first, then renamed over it.

    The rename is atomic on one file system, so a reader sees the old file or the new one, never a part of it,
    and a crash leaves at most a ``*.partial`` file beside an intact old one. Missing parent folders are made.
    Returns ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")  # the pid: two writers never share it
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def load_average() -> str:
    """The 1-minute load average, for the record of a measurement ("unknown" where the platform has none)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:  # pragma: no cover  (not on every platform)
        return "unknown"
