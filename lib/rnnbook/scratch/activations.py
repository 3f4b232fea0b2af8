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


def sigmoid(x) -> np.ndarray:
    """Logistic sigmoid ``σ(x) = 1 / (1 + e^{−x})``, stable for any finite ``x``.

    The textbook formula overflows for large negative ``x`` (``e^{−x}`` = inf,
    with a warning). For ``x < 0`` we use the equal form ``e^{x} / (1 + e^{x})``,
    so the exponential only ever sees a non-positive argument.

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    ndarray, same shape and floating dtype as ``x``, values in ``[0, 1]``.

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    >>> float(sigmoid(-1000.0))  # no overflow warning
    0.0
    """
    x = _floating(x)
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent, ``tanh(x) = (e^{x} − e^{−x}) / (e^{x} + e^{−x})``.

    ``np.tanh`` is already stable (it saturates to ±1 without overflow); this
    wrapper exists so the cells read like their equations and keep the dtype of
    integer input predictable (promoted to float64).

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    ndarray, same shape and floating dtype as ``x``, values in ``[−1, 1]``.
    """
    return np.tanh(_floating(x))


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
