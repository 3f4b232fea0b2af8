"""The embedding layer in NumPy: a table lookup, and its gradient, a scatter-add into the table's rows.

::

    x = embedding_forward(ids, E)                 # (N, T) ids, (V, D) table → (N, T, D)
    dE = embedding_backward(d_x, ids, V)          # (N, T, D) → (V, D), the pad row kept at zero

The twin of ``nn.Embedding(V, D, padding_idx=0)``; :class:`~rnnbook.scratch.classifier.NumpyLSTMClassifier`
uses both.
"""

from __future__ import annotations

import numpy as np

from rnnbook._checks import check_int
from rnnbook.scratch._validate import as_float_array


def check_ids(ids, vocab_size: int, name: str = "ids") -> np.ndarray:
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an integer array of token ids, shape (N, T); got dtype {ids.dtype}")
    if ids.ndim != 2 or 0 in ids.shape:
        raise ValueError(f"{name} must have shape (N, T) with N, T ≥ 1 (right-padded token ids); got shape {ids.shape}")
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0 or hi >= vocab_size:
        raise ValueError(f"{name} must lie in [0, vocab_size) = [0, {vocab_size}); got values from {lo} to {hi}")
    return ids


def _check_embedding_grad(d_x, ids, vocab_size):
    """Checked ``(d_x (N, T, D), ids (N, T), vocab_size)`` of :func:`embedding_backward`."""
    vocab_size = check_int("vocab_size", vocab_size)
    ids = check_ids(ids, vocab_size)
    d_x = as_float_array("d_x", d_x, ndim=3, dims="(N, T, D)")
    if d_x.shape[:2] != ids.shape:
        raise ValueError(f"d_x must have shape (N, T, D) with (N, T) = ids.shape = {ids.shape}; got {d_x.shape}")
    return d_x, ids, vocab_size


def embedding_forward(ids, E) -> np.ndarray:
    """Look up the rows of the embedding table: ``x[n, t] = E[ids[n, t]]``.

    Parameters
    ----------
    ids : (N, T) integer token ids in ``[0, V)``.
    E : (V, D) embedding table.

    Returns
    -------
    x : (N, T, D), in E's dtype (a new array).
    """
    E = as_float_array("E", E, ndim=2, dims="(V, D)")
    return E[check_ids(ids, E.shape[0])]


def embedding_backward(d_x, ids, vocab_size: int, padding_idx: int | None = 0) -> np.ndarray:
    """Gradient of :func:`embedding_forward` with respect to the table: ``dE[v] = Σ_{(n,t): ids[n,t] = v} d_x[n, t]``.

    A word that occurs several times in the batch collects the sum of its gradients, so this is a
    scatter-*add*: ``np.add.at`` adds every occurrence, where ``dE[ids] += d_x`` would keep only one
    of them (buffered fancy indexing). Since NumPy 2 it is as fast as sorting the ids and summing
    each run with ``np.add.reduceat`` (measured at the lab's sizes), and reads like the sum.

    Parameters
    ----------
    d_x : (N, T, D) gradient of the loss with respect to the looked-up vectors.
    ids : (N, T) the ids of the forward pass.
    vocab_size : V.
    padding_idx : the row that gets no gradient (``<pad>``, as ``nn.Embedding(padding_idx=0)``),
        so it stays at its initial zeros; None for none.

    Returns
    -------
    dE : (V, D), in d_x's dtype; zero in the rows of ids absent from the batch.
    """
    d_x, ids, vocab_size = _check_embedding_grad(d_x, ids, vocab_size)
    dE = np.zeros((vocab_size, d_x.shape[2]), dtype=d_x.dtype)
    np.add.at(dE, ids, d_x)  # dE[ids[n, t]] += d_x[n, t] for every (n, t), repeats included
    if padding_idx is not None:
        dE[padding_idx] = 0
    return dE
