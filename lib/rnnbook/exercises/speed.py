"""Checks of Section 2.3, *Making the scratch LSTM fast*: a sigmoid computed in place."""

from __future__ import annotations

import warnings

import numpy as np

from rnnbook import scratch
from rnnbook.exercises._core import call, fail, register

EXTREMES = (-1000.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1000.0)
ULPS = 8  # allowed relative error, in units of the dtype's epsilon


def _run(student_fn, a, where):
    """Call the student's function on ``a``; fail on a warning; return what it returned."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(student_fn, (a,), name="sigmoid_inplace", where=where)
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if runtime:
        fail(f"{where}, sigmoid_inplace gave the warning “{runtime[0].message}”. An overflow of e^(−a) to inf is "
             "harmless here (1 / (1 + inf) = 0); silence it with np.errstate(over=\"ignore\").")
    return result


@register("lstm-sigmoid-inplace", exercise="ex-lstm-speed-sigmoid", function="sigmoid_inplace",
          summary="σ in place against scratch.sigmoid: float32 and float64, random and extreme inputs (±1000), "
                  "a 0-d array and a slice of a larger array; the result must be the argument itself, no warning")
def check_sigmoid_inplace(student_fn) -> str:
    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        big = rng.normal(0.0, 20.0, (6, 12)).astype(dtype)
        cases = {"random inputs of shape (6, 12)": big.copy(), "extreme inputs (±1000, ±100, …)": np.array(EXTREMES, dtype=dtype),
                 "a 0-d array": np.array(0.3, dtype=dtype)}
        for what, a in cases.items():
            where = f"for {what} in {name}"
            expected = scratch.sigmoid(a.copy())
            result = _run(student_fn, a, where)
            if not (isinstance(result, np.ndarray) and np.shares_memory(result, a) and result.shape == a.shape):
                fail(f"{where}, sigmoid_inplace returned a new array. Write the result into a itself "
                     "(with out=a) and return a.")
            if a.dtype != dtype:
                fail(f"{where}, the dtype of a changed to {a.dtype}; keep {name}.")
            error = np.max(np.abs(a - expected) / np.maximum(expected, np.finfo(dtype).tiny))
            if not error <= ULPS * np.finfo(dtype).eps:
                fail(f"{where}, the values are off by up to {error:.1e} (relative). σ(a) = 1 / (1 + e^(−a)): "
                     "negate, exponentiate, add one, take the reciprocal.")
        whole = big.copy()
        outside = whole[:, :5].copy()
        where = f"for the slice x[:, 5:9] of a (6, 12) {name} array"
        _run(student_fn, whole[:, 5:9], where)
        if not np.array_equal(whole[:, :5], outside):
            fail(f"{where}, entries outside the slice changed.")
        if not np.allclose(whole[:, 5:9], scratch.sigmoid(big[:, 5:9]), rtol=ULPS * np.finfo(dtype).eps, atol=0):
            fail(f"{where}, the slice does not hold σ of its old values afterwards: write into the slice itself.")
    return ("Well done: sigmoid_inplace agrees with scratch.sigmoid in float32 and float64, extremes included. "
            "It works in place on arrays, 0-d arrays and slices, and gives no warning.")
