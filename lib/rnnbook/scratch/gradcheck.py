"""Gradient checking by central differences.

A backward pass written by hand is checked against the definition of the
derivative. For each entry ``θ_i`` of an array,

    ∂L/∂θ_i ≈ (L(θ + ε e_i) − L(θ − ε e_i)) / (2ε),

whose error is O(ε²) (a one-sided difference would be O(ε)). In float64 with
ε ≈ 1e-6 the truncation error (~ε²) and the rounding error (~1e-16/ε) are both
near 1e-10, so a correct backward agrees to about 1e-8 or better in relative
terms and the book's bar is a relative error ≤ 1e-7 (CS231n: "you should be
happy"). Float32 cannot reach that: check in float64.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np


def relative_error(a, b) -> float:
    """``‖a − b‖ / (‖a‖ + ‖b‖)`` over all entries (0.0 when both are zero), eq-bptt-relative-error.

    A norm-wise error rather than CS231n's entry-wise maximum: an entry-wise
    ratio explodes for gradients that are nearly zero (``1e-12`` against
    ``3e-12`` is "100 % wrong" yet harmless), while this measures the error
    relative to the size of the whole gradient.

    Parameters
    ----------
    a, b : arrays of the same shape.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _check_perturbable(x, eps) -> None:
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(f"x must be a float NumPy array (it is perturbed in place); got {type(x).__name__}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0; got {eps!r}")
    if not np.shares_memory(x.reshape(-1), x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``, eq-bptt-central-difference.

    ``x`` is perturbed **in place**, one entry at a time, and restored exactly,
    so ``f`` should read ``x`` (a closure over it, say) rather than take it as
    an argument.

    Parameters
    ----------
    f : function of no arguments returning a scalar that depends on ``x``.
    x : float array of any shape, modified during the call and restored.
    eps : step ε.

    Returns
    -------
    Array of ``x``'s shape and dtype: the estimate of ``∂f/∂x``.
    """
    _check_perturbable(x, eps)
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)  # views: writing flat_x[i] changes x
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + eps
        f_plus = float(f())
        flat_x[i] = old - eps
        f_minus = float(f())
        flat_x[i] = old
        flat_g[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def check_gradients(
    loss: Callable[[], float],
    arrays: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    eps: float = 1e-6,
) -> dict[str, float]:
    """Compare analytic gradients with central differences, array by array.

    Parameters
    ----------
    loss : function of no arguments that recomputes the loss from ``arrays``.
    arrays : dict name → float64 array that ``loss`` reads (perturbed in place).
    analytic : dict name → gradient of the same shape, from a backward pass.
        Only the names present in both dicts are checked.
    eps : step ε of the central difference.

    Returns
    -------
    dict name → :func:`relative_error` between the two gradients.
    """
    names = [k for k in arrays if k in analytic]
    if not names:
        raise ValueError(f"arrays and analytic share no names; got {list(arrays)} and {list(analytic)}")
    errors = {}
    for name in names:
        if np.shape(analytic[name]) != np.shape(arrays[name]):
            raise ValueError(
                f"analytic[{name!r}] must have the shape of arrays[{name!r}], {np.shape(arrays[name])}; "
                f"got {np.shape(analytic[name])}"
            )
        errors[name] = relative_error(analytic[name], numerical_gradient(loss, arrays[name], eps))
    return errors
