"""Activation functions of the recurrent cells and their derivatives (NumPy only).

The backward passes need the derivatives at points where the forward pass has
already computed the activation, so each derivative also exists in a form that
takes the *output*: ``σ'(a) = σ(a)(1 − σ(a))`` and ``tanh'(a) = 1 − tanh(a)²``.
That saves an exponential per element and is how every BPTT in this library
is written.

All functions work elementwise on arrays of any shape and keep the dtype
(float32 in, float32 out).
"""

from __future__ import annotations

import numpy as np


def _floating(x) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def sigmoid(x, out=None) -> np.ndarray:
    """Logistic sigmoid ``σ(x) = 1 / (1 + e^{−x})``, for any finite ``x``, without a warning.

    For large negative ``x`` the exponential ``e^{−x}`` overflows to ``inf``, and
    ``1 / (1 + inf) = 0`` is exactly the right limit: the overflow is harmless, so
    its warning is silenced rather than avoided. (Avoiding it with
    ``np.where(x >= 0, 1 / (1 + e^{−x}), e^{x} / (1 + e^{x}))`` costs about twice the
    work and four temporary arrays; the time loop of an LSTM calls this three times
    per step.) Relative accuracy is kept at both ends: for ``x ≪ 0`` the result is
    the reciprocal of a large, accurately computed number, not a difference close to 0.

    Parameters
    ----------
    x : array_like, any shape
    out : ndarray, optional
        Where to write the result (same shape, floating dtype); may be ``x`` itself
        for an in-place sigmoid. Four passes, no temporary array.

    Returns
    -------
    ndarray, same shape and floating dtype as ``x``, values in ``[0, 1]``
    (``out`` if it was given).

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    >>> float(sigmoid(-1000.0))  # no overflow warning
    0.0
    """
    x = _floating(x)
    if out is None:
        out = np.empty(x.shape, dtype=x.dtype)
    with np.errstate(over="ignore"):  # e^{−x} = inf for x ≪ 0, and then σ(x) = 1 / inf = 0, as it should be
        np.exp(np.negative(x, out=out), out=out)
    out += 1
    return np.reciprocal(out, out=out)


def tanh(x, out=None) -> np.ndarray:
    """Hyperbolic tangent, ``tanh(x) = (e^{x} − e^{−x}) / (e^{x} + e^{−x})``.

    ``np.tanh`` is already stable (it saturates to ±1 without overflow); this
    wrapper exists so the cells read like their equations and keep the dtype of
    integer input predictable (promoted to float64).

    Parameters
    ----------
    x : array_like, any shape
    out : ndarray, optional
        Where to write the result; may be ``x`` itself (in place).

    Returns
    -------
    ndarray, same shape and floating dtype as ``x``, values in ``[−1, 1]``.
    """
    return np.tanh(_floating(x), out=out)


def sigmoid_grad_from_output(y) -> np.ndarray:
    """``σ'(a)`` given ``y = σ(a)``: ``y (1 − y)``. Shape and dtype of ``y``."""
    y = _floating(y)
    return y * (1 - y)


def tanh_grad_from_output(y) -> np.ndarray:
    """``tanh'(a)`` given ``y = tanh(a)``: ``1 − y²``. Shape and dtype of ``y``."""
    y = _floating(y)
    return 1 - y * y


def sigmoid_derivative(x) -> np.ndarray:
    """``dσ/dx`` at ``x``, equal to ``σ(x)(1 − σ(x))``, at most 1/4 (at ``x = 0``)."""
    return sigmoid_grad_from_output(sigmoid(x))


def tanh_derivative(x) -> np.ndarray:
    """``d tanh/dx`` at ``x``, equal to ``1 − tanh(x)²``, at most 1 (at ``x = 0``)."""
    return tanh_grad_from_output(tanh(x))
