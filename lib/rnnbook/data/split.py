"""Seeded, stratified train / validation / test splits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["check_labels", "check_seed", "stratified_split"]


def check_seed(seed: object) -> int:
    """``seed`` as an int; ValueError unless it is an int with 0 ≤ seed < 2**32 (NumPy's range)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed: expected an int with 0 <= seed < 2**32, got {seed!r}")
    return int(seed)


def check_labels(labels: object, argument: str = "labels") -> np.ndarray:
    """``labels`` as a 1-D int64 array; ValueError unless every value is 0 or 1."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"{argument}: expected a 1-D array of 0/1, got shape {y.shape}")
    if y.size and (y.dtype.kind not in "biu" or not np.isin(y, (0, 1)).all()):
        raise ValueError(f"{argument}: expected only the values 0 and 1, got {np.unique(y)[:10]!r}")
    return y.astype(np.int64)


def stratified_split(
    labels: Sequence[int] | np.ndarray,
    seed: int = 0,
    fractions: tuple[float, float, float] = (0.70, 0.15, 0.15),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded stratified split of ``range(N)`` into train / validation / test indices.

    Two calls of scikit-learn's ``train_test_split`` with ``stratify``: the
    test part first, then the validation part out of the rest. Each part keeps
    the positive share of the whole to within a row or so; the same seed
    gives the same split.

    Parameters
    ----------
    labels : array-like of 0/1, shape (N,)
    seed : int
        Seed of the shuffle (``random_state``), 0 ≤ seed < 2**32.
    fractions : (train, val, test)
        Positive, summing to 1.

    Returns
    -------
    train, val, test : np.ndarray of int64
        Disjoint indices covering ``range(N)``, each in shuffled order (the
        corpus is sorted by label, so keeping file order would be harmful).
    """
    from sklearn.model_selection import train_test_split  # scikit-learn is slow to import

    y = check_labels(labels)
    seed = check_seed(seed)
    if (
        not isinstance(fractions, (tuple, list))
        or len(fractions) != 3
        or not all(isinstance(f, (int, float)) and not isinstance(f, bool) and 0 < f < 1 for f in fractions)
        or abs(sum(fractions) - 1) > 1e-9
    ):
        raise ValueError(f"fractions: expected three numbers in (0, 1) summing to 1 (train, val, test), got {fractions!r}")
    _, val_f, test_f = (float(f) for f in fractions)
    counts = np.bincount(y, minlength=2)
    if counts.min() < 3:
        raise ValueError(f"labels: each class needs at least 3 rows to be split three ways, got counts {counts.tolist()}")
    # Whole row counts, rounded once: a float ratio for the second cut (0.15 / 0.85)
    # can land a hair above an integer and take one row too many.
    n_test, n_val = round(test_f * len(y)), round(val_f * len(y))
    if min(n_test, n_val, len(y) - n_test - n_val) < 2:
        raise ValueError(f"labels: {len(y)} rows are too few to split with fractions {fractions}")
    index = np.arange(len(y), dtype=np.int64)
    rest, test = train_test_split(index, test_size=n_test, stratify=y, random_state=seed)
    train, val = train_test_split(rest, test_size=n_val, stratify=y[rest], random_state=seed)
    return train, val, test

