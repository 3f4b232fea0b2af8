"""The one integer check of the library: every public function that takes a count uses it."""

from __future__ import annotations

import numpy as np


def check_int(name: str, value, minimum: int = 1, *, allow_none: bool = False) -> int | None:
    """``value`` as an int ≥ ``minimum`` (or None, with ``allow_none``); ValueError naming ``name`` otherwise.

    A bool is refused: ``True`` is an int to Python, but never a count.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        expected = f"an integer ≥ {minimum}" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return int(value)
