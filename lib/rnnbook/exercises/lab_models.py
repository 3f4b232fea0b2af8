"""Checks of Section 7.2, *RNN, LSTM and GRU against a strong baseline*: max and mean pooling over real steps."""

from __future__ import annotations

import numpy as np

from rnnbook.exercises._core import as_array, call, diagnose, fail, max_error, register, same_shape

TOL = 1e-10


def _reference(out: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """[max over t < L_n ; mean over t < L_n] of out (N, T, F), → (N, 2F)."""
    N, T, F = out.shape
    valid = np.arange(T)[None, :, None] < lengths[:, None, None]
    max_ = np.where(valid, out, -np.inf).max(axis=1)
    mean = np.where(valid, out, 0.0).sum(axis=1) / lengths[:, None]
    return np.concatenate([max_, mean], axis=1)


def _mistakes(out: np.ndarray, lengths: np.ndarray):
    T = out.shape[1]
    valid = np.arange(T)[None, :, None] < lengths[:, None, None]
    masked0 = np.where(valid, out, 0.0)
    return [
        ("the maximum runs over the padding too. The padded steps hold zeros (pad_packed_sequence fills them "
         "with 0), and 0 beats every negative output: set the padded steps to −inf before taking the maximum.",
         lambda: np.concatenate([masked0.max(axis=1), masked0.sum(axis=1) / lengths[:, None]], axis=1)),
        ("the mean divides by T, the padded length, instead of each text's own length L_n: a short text in a "
         "batch of long ones gets a mean shrunk towards zero.",
         lambda: np.concatenate([np.where(valid, out, -np.inf).max(axis=1), masked0.sum(axis=1) / T], axis=1)),
        ("the mean includes the padded steps' values: mask them (they are not always zero in general) before summing.",
         lambda: np.concatenate([np.where(valid, out, -np.inf).max(axis=1), out.sum(axis=1) / lengths[:, None]],
                                axis=1)),
        ("the two halves are swapped: the exercise asks for [max ; mean], the maximum first.",
         lambda: np.concatenate(np.split(_reference(out, lengths), 2, axis=1)[::-1], axis=1)),
    ]


def _cases(rng):
    cases = []
    # Negative outputs everywhere: the padding's zeros must not win the maximum.
    out = -rng.uniform(0.1, 1.0, (4, 6, 3))
    lengths = np.array([6, 1, 3, 5])
    cases.append(("negative outputs with lengths 6, 1, 3, 5 (N = 4, T = 6, F = 3)", out, lengths))
    out = rng.standard_normal((5, 7, 4))
    lengths = np.array([7, 2, 7, 4, 1])
    cases.append(("random outputs, N = 5, T = 7, F = 4", out, lengths))
    cases.append(("a single text of full length (N = 1, T = 5, F = 2)", rng.standard_normal((1, 5, 2)), np.array([5])))
    cases.append(("every text of length 1 (N = 3, T = 4, F = 1)", rng.standard_normal((3, 4, 1)), np.array([1, 1, 1])))
    return cases


@register("lab-pooling", exercise="ex-lab-models-pooling", function="max_mean_pool",
          summary="[max ; mean] over each text's real steps against a masked reference: negative outputs, "
                  "lengths 1 and T, N = 1, F = 1; padded steps filled with zeros and with garbage")
def check_max_mean_pool(student_fn) -> str:
    rng = np.random.default_rng(11)
    for what, out, lengths in _cases(rng):
        N, T, F = out.shape
        for fill, fill_name in ((0.0, "zeros"), (None, "garbage")):
            valid = np.arange(T)[None, :, None] < lengths[:, None, None]
            if fill is None:  # garbage in the padding: a correct pooling never looks there
                padded = np.where(valid, out, rng.uniform(5.0, 9.0, out.shape))
            else:  # zeros, as pad_packed_sequence leaves them
                padded = np.where(valid, out, fill)
            where = f"for {what}, padding filled with {fill_name}"
            got = as_array(call(student_fn, (padded.copy(), lengths.copy()), name="max_mean_pool", where=where),
                           "the result", where)
            same_shape(got, (N, 2 * F), "the result", where, "(N, 2F)")
            expected = _reference(padded, lengths)
            if max_error(got, expected) > TOL:
                if fill_name == "zeros":
                    why = diagnose(got, _mistakes(padded, lengths), TOL)
                else:
                    why = ("the result depends on the values in the padding. Use only steps t < lengths[n] "
                           "of each text, for the maximum and for the mean.")
                fail(f"{where}, the pooled features are wrong"
                     + (f": {why}" if why else ". The first F columns are the maximum over t < L_n, the last "
                        "F the mean over the same steps, for each text n."))
    return ("Well done: max_mean_pool pools over the real steps of each text only (maximum, then mean). "
            "It passes with negative outputs, lengths 1 and T, one text, one feature, and any padding.")
