"""Checks of Section 7.3, *A NumPy LSTM trained by hand*: the gradient of the embedding table."""

from __future__ import annotations

import numpy as np

from rnnbook import scratch
from rnnbook.exercises._core import as_array, call, diagnose, fail, max_error, register, same_shape

TOL = 1e-12
DIAGNOSE_TOL = 1e-9
PAD = 0


def _case(rng, N, T, D, V, *, lengths=None, hot=None):
    """Right-padded ids (N, T) and a gradient d_x (N, T, D) for a batch of the given ``lengths`` (random if None).

    ``hot``: an id planted up to three times in every row (a word the batch repeats). The gradient
    at a padded position is not zero (an LSTM's ∂L/∂x there is 0, but the function must not rely
    on that: it is the ``<pad>`` row that gets nothing, whatever arrives).
    """
    lengths = rng.integers(1, T + 1, N) if lengths is None else np.asarray(lengths)
    ids = rng.integers(1, V, (N, T))
    if hot is not None:
        for n in range(N):
            ids[n, rng.choice(lengths[n], size=min(3, lengths[n]), replace=False)] = hot
    ids[np.arange(T)[None, :] >= lengths[:, None]] = PAD
    d_x = rng.standard_normal((N, T, D))
    return ids, d_x


def _cases():
    rng = np.random.default_rng(606)
    return [
        ("a batch of N = 3 sequences (T = 6, D = 4, V = 10) with repeated ids and padding",
         *_case(rng, 3, 6, 4, 10, lengths=[6, 4, 2], hot=7), 10),
        ("one sequence of one token (N = T = D = 1, V = 3)", np.array([[2]]), rng.standard_normal((1, 1, 1)), 3),
        ("a batch in which one id fills a whole sequence (N = 2, T = 5, D = 3, V = 6)",
         np.array([[4, 4, 4, 4, 4], [1, 4, 2, 0, 0]]), rng.standard_normal((2, 5, 3)), 6),
        ("a larger batch (N = 16, T = 20, D = 8, V = 50) in which one id occurs in every sequence",
         *_case(rng, 16, 20, 8, 50, hot=3), 50),
        ("a batch without padding (N = 4, T = 3, D = 2, V = 8)", *_case(rng, 4, 3, 2, 8, lengths=[3, 3, 3, 3]), 8),
    ]


def _reference(d_x, ids, vocab_size):
    return scratch.embedding_backward(d_x, ids, vocab_size, padding_idx=PAD)


def _mistakes(d_x, ids, V):
    D = d_x.shape[2]

    def buffered():
        dE = np.zeros((V, D))
        dE[ids] += d_x  # one occurrence per id survives: fancy indexing is buffered
        dE[PAD] = 0
        return dE

    def mean():
        count = np.bincount(ids.ravel(), minlength=V).astype(float)
        dE = _reference(d_x, ids, V) / np.maximum(count, 1)[:, None]
        return dE

    def pad_kept():
        return scratch.embedding_backward(d_x, ids, V, padding_idx=None)

    return [
        ("a word that occurs several times in the batch gets the gradient of only one of its occurrences. "
         "`dE[ids] += d_x` does not add repeated indices (NumPy computes the right-hand side for all of them, "
         "then stores each row once). Use np.add.at(dE, ids, d_x), or a loop over the positions.", buffered),
        ("the row of <pad> (id 0) gets a gradient. Padding is not a word: set that row to zero, as "
         "nn.Embedding(padding_idx=0) does, so the <pad> vector stays at zero.", pad_kept),
        ("the rows of repeated ids hold the *mean* of their gradients. The chain rule adds the contributions "
         "of every position where the word occurs: dE[v] is their sum.", mean),
        ("the result is divided by the number of sequences N. The loss already has its 1/N inside d_x: "
         "the embedding's gradient is a plain sum.", lambda: _reference(d_x, ids, V) / ids.shape[0]),
        ("the result is divided by the number of positions N·T. The loss already has its 1/N inside d_x: "
         "the embedding's gradient is a plain sum.", lambda: _reference(d_x, ids, V) / ids.size),
    ]


def _shifted(got, d_x, ids, V) -> bool:
    """Whether row v of ``got`` holds the gradient of id v ± 1 (away from the ends, where a shift is cut off)."""
    full = scratch.embedding_backward(d_x, ids, V, padding_idx=None)
    inner = slice(2, V - 2)
    return V > 5 and any(max_error(got[inner], np.roll(full, s, axis=0)[inner]) <= DIAGNOSE_TOL for s in (1, -1))


def _wrong_rows(got, expected, ids, V):
    """A plain-words description of which rows are off: repeated, absent or single ids."""
    bad = np.flatnonzero(np.any(np.abs(got - expected) > TOL, axis=1))
    count = np.bincount(ids.ravel(), minlength=V)
    kinds = []
    if np.any(count[bad[bad != PAD]] > 1):
        kinds.append("ids that occur more than once")
    if np.any(count[bad[bad != PAD]] == 1):
        kinds.append("ids that occur once")
    if np.any(count[bad[bad != PAD]] == 0):
        kinds.append("ids absent from the batch, whose rows must be zero")
    if PAD in bad:
        kinds.append("the <pad> row 0")
    shown = ", ".join(str(int(v)) for v in bad[:8]) + (", …" if bad.size > 8 else "")
    return f"rows {shown} are off: {'; '.join(kinds)}"


@register("lab-embedding-backward", exercise="ex-lab-numpy-embedding-grad", function="embedding_backward",
          summary="∂L/∂E of an embedding lookup against scratch.embedding_backward on 5 batches: repeated ids "
                  "(scatter-add), the <pad> row, absent ids, N = T = D = 1; the inputs must stay unchanged")
def check_embedding_backward(student_fn) -> str:
    cases = _cases()
    for what, ids, d_x, V in cases:
        where = f"for {what}"
        N, T, D = d_x.shape
        expected = _reference(d_x, ids, V)
        ids_in, d_x_in = ids.copy(), d_x.copy()
        result = call(student_fn, (d_x_in, ids_in, V), name="embedding_backward", where=where)
        if result is None:
            fail(f"{where}, embedding_backward returned None: return the array dE of shape (V, D).")
        got = as_array(result, "dE", where)
        if not (np.array_equal(ids_in, ids) and np.array_equal(d_x_in, d_x)):
            fail(f"{where}, embedding_backward changed its arguments ids or d_x. Build a new array "
                 "dE = np.zeros((vocab_size, D)) and leave the inputs as they were.")
        if got.shape == (N, T, D) or got.shape == (N * T, D):
            fail(f"{where}, dE has shape {got.shape}, the shape of d_x: the gradient is for the table E, "
                 f"one row per word of the vocabulary, (V, D) = {(V, D)}. Add each d_x[n, t] into row ids[n, t].")
        if got.shape == (D, V) and D != V:
            fail(f"{where}, dE has shape {got.shape}, the transpose of (V, D) = {(V, D)}: the gradient has the "
                 "shape of the table E, one row per word of the vocabulary.")
        same_shape(got, (V, D), "dE", where, "(V, D)")
        if max_error(got, expected) > TOL:
            known = diagnose(got, _mistakes(d_x, ids, V), DIAGNOSE_TOL)
            if known:
                fail(f"{where}, {known}")
            if _shifted(got, d_x, ids, V):
                fail(f"{where}, the ids are read shifted by one: row v holds the gradient of id v + 1 or v − 1. "
                     "Ids start at 0 (<pad>): row v of dE collects d_x[n, t] for every position with ids[n, t] == v.")
            fail(f"{where}, {_wrong_rows(got, expected, ids, V)}. Row v of dE is the sum of d_x[n, t] over "
                 "every position (n, t) with ids[n, t] == v; the <pad> row 0 and the rows of absent ids are zero.")
    return (f"Well done: embedding_backward agrees with scratch.embedding_backward on all {len(cases)} batches: "
            "repeated ids add up, the <pad> row and absent ids get zero, and the inputs are left unchanged.")
