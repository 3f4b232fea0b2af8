"""Binary cross-entropy, from probabilities and from logits, with gradients (NumPy only).

Section 4.2, *Binary cross-entropy*. The notes' loss, for labels ``y_i`` and
predicted probabilities ``ŷ_i``::

    L = −(1/N) Σ_i [ y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i) ]          (eq-bce-loss)

With ``ŷ = σ(z)`` the gradient with respect to the logit is simply
``∂L/∂z_i = (σ(z_i) − y_i) / N`` (eq-bce-grad), and the loss can be computed
from ``z`` without ever forming ``ŷ``::

    ℓ(z, y) = max(z, 0) − z y + log(1 + e^{−|z|})                    (eq-bce-logits)

which never overflows and never takes ``log 0``. Computing ``σ(z)`` first and
then the loss fails in float32 as soon as ``σ(z)`` rounds to exactly 1
(``z ≳ 17``): ``log(1 − ŷ) = log 0``. PyTorch's ``BCELoss`` hides that by
clamping each log at −100, which also kills the gradient there.

Argument order is PyTorch's: ``bce(input, target)``.
"""

from __future__ import annotations

import numpy as np

from rnnbook.scratch._validate import as_float_array
from rnnbook.scratch.activations import sigmoid

#: PyTorch's BCELoss clamps log(ŷ) and log(1 − ŷ) to at least this value.
LOG_CLAMP = -100.0

#: PyTorch's BCELoss backward clamps ŷ (1 − ŷ) to at least its EPSILON, the C++ float 1e-12f
#: (9.99999996e-13, also for float64 tensors); using the same number keeps the gradient bit-exact.
_GRAD_CLAMP = float(np.float32(1e-12))


def _pair(name_x: str, x, name_y: str, y, *, probabilities: bool = False):
    """Checked ``(x, y)``: same shape, not empty, labels ``y`` in [0, 1]; with ``probabilities``, ``x`` in [0, 1] too."""
    x, y = np.asarray(x), np.asarray(y)
    x = as_float_array(name_x, x, ndim=x.ndim, dims="(N,) or any shape")
    y = as_float_array(name_y, y, ndim=y.ndim, dims="(N,) or any shape")
    if x.shape != y.shape:
        raise ValueError(f"{name_y} must have the shape of {name_x}, {x.shape}; got {y.shape}")
    if x.size == 0:
        raise ValueError(f"{name_x} must not be empty; got shape {x.shape}")
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"{name_y} must hold labels in [0, 1]; got values from {y.min():g} to {y.max():g}")
    if probabilities and np.any((x < 0) | (x > 1)):
        raise ValueError(f"{name_x} must hold probabilities in [0, 1]; got values from {x.min():g} to {x.max():g}")
    dtype = np.result_type(x, y)
    return x.astype(dtype, copy=False), y.astype(dtype, copy=False)


def bce(p, y) -> float:
    """The notes' binary cross-entropy eq-bce-loss, averaged over all entries; equals ``nn.BCELoss()``.

    Parameters
    ----------
    p : predicted probabilities ``ŷ`` in ``[0, 1]``, any shape (e.g. ``(N,)``).
    y : labels (0/1, or soft labels in ``[0, 1]``), same shape.

    Returns
    -------
    float. Each ``log`` is clamped at −100 as in PyTorch, so ``ŷ = 0`` with
    ``y = 1`` costs 100 rather than infinity.
    """
    p, y = _pair("p", p, "y", y, probabilities=True)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), LOG_CLAMP)
        log_1mp = np.maximum(np.log1p(-p), LOG_CLAMP)
    return float(-np.mean(y * log_p + (1 - y) * log_1mp))


def bce_grad(p, y) -> np.ndarray:
    """``∂L/∂ŷ_i = (ŷ_i − y_i) / (ŷ_i (1 − ŷ_i)) / N`` for eq-bce-loss (shape of ``p``).

    Undefined at ``ŷ ∈ {0, 1}``; PyTorch clamps the denominator at 1e-12, and so do we.
    """
    p, y = _pair("p", p, "y", y, probabilities=True)
    return (p - y) / np.maximum(p * (1 - p), _GRAD_CLAMP) / p.size


def bce_with_logits(z, y) -> float:
    """Binary cross-entropy from logits, the stable form eq-bce-logits; equals ``nn.BCEWithLogitsLoss()``.

    ``mean( max(z, 0) − z y + log(1 + e^{−|z|}) )``, equal to ``bce(σ(z), y)``
    wherever the latter is representable, and finite for every finite ``z``.

    Parameters
    ----------
    z : logits, any shape.   y : labels in ``[0, 1]``, same shape.
    """
    z, y = _pair("z", z, "y", y)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def bce_with_logits_grad(z, y) -> np.ndarray:
    """``∂L/∂z_i = (σ(z_i) − y_i) / N``, eq-bce-grad: the prediction error, nothing else.

    The ``σ'`` of the sigmoid cancels the denominator of the BCE gradient, which
    is why the pair sigmoid + BCE trains well even when the sigmoid saturates.
    """
    z, y = _pair("z", z, "y", y)
    return (sigmoid(z) - y) / z.size
