"""Dropout in its two forms, and the masks a recurrent network uses (NumPy only).

Section 4.1, *Dropout*. Note B writes dropout with ``p`` the probability of
*dropping* a unit (as PyTorch does)::

    ĥ = h ⊙ m,   m ~ Bernoulli(1 − p)     while training    (eq-dropout-train)
    ĥ = (1 − p) · h                       at inference      (eq-dropout-inference)

This is the original form of Srivastava et al. (2014), who write ``p`` for the
probability of *keeping* a unit and scale the weights by it at test time. The
scaling keeps the expected activation the same in both phases:
``E[h ⊙ m] = (1 − p) h``.

*Inverted* dropout, what ``nn.Dropout`` does, moves the scaling to training:
``ĥ = h ⊙ m / (1 − p)`` while training (eq-dropout-inverted) and ``ĥ = h`` at inference. Same
expectation, and the trained network needs no change at test time.
"""

from __future__ import annotations

import numpy as np

from rnnbook._checks import check_int
from rnnbook.scratch._validate import as_float_array

MODES = ("standard", "inverted")


def _check_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0 <= p <= 1:
        raise ValueError(f"p must be the drop probability, a number in [0, 1]; got {p!r}")
    return float(p)


def _check_sizes(**sizes) -> None:
    for name, value in sizes.items():
        check_int(name, value)


def _checked(name: str, a, p, mode: str, mask, train: bool, *, mask_required: bool = False):
    """The checked ``(a, p, mask)`` of :func:`dropout_forward` (``name = "h"``) or :func:`dropout_backward` (``"d_out"``).

    ``a`` as a finite float array; ``p`` a probability; in training, a given ``mask`` as a 0/1 array of
    ``a``'s dtype that broadcasts to ``a``'s shape (``mask_required``: it must be given).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    p = _check_p(p)
    a = np.asarray(a)
    a = as_float_array(name, a, ndim=a.ndim, dims="(...)")
    if train and mask is None and mask_required:
        raise ValueError("mask must be the mask returned by dropout_forward in training; got None")
    if train and mask is not None:
        mask = _check_mask(mask, a.shape, a.dtype, name)
    return a, p, mask


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def dropout_mask(shape, p: float, seed=None, dtype=np.float64) -> np.ndarray:
    """A mask ``m ~ Bernoulli(1 − p)`` of the given shape: 1 keeps a unit, 0 drops it (eq-dropout-train).

    Parameters
    ----------
    shape : tuple of ints, e.g. ``(N, H)``.
    p : drop probability in ``[0, 1]``.
    seed : int, None or ``np.random.Generator``.
    dtype : floating dtype of the mask.
    """
    p = _check_p(p)
    return (_rng(seed).random(shape) >= p).astype(dtype)


def sequence_dropout_mask(N: int, T: int, H: int, p: float, *, variational: bool = True, seed=None, dtype=np.float64):
    """A dropout mask for a sequence of hidden vectors, shape ``(N, T, H)``.

    ``variational=True`` (Gal & Ghahramani 2016) draws **one** mask per sequence,
    ``(N, 1, H)`` broadcast over time, so a dropped unit stays dropped for the
    whole sequence; ``False`` draws a fresh mask at every step, as ``nn.Dropout``
    applied to the ``(N, T, H)`` output of ``nn.LSTM`` does.
    """
    _check_sizes(N=N, T=T, H=H)
    if variational:
        return np.broadcast_to(dropout_mask((N, 1, H), p, seed, dtype), (N, T, H)).copy()
    return dropout_mask((N, T, H), p, seed, dtype)


def dropout_forward(h, p: float, *, train: bool = True, mode: str = "inverted", mask=None, seed=None):
    """Apply dropout to ``h``: eq-dropout-train while training, eq-dropout-inference otherwise
    (``mode="standard"``), or inverted dropout eq-dropout-inverted (``mode="inverted"``).

    Parameters
    ----------
    h : array of any shape, e.g. (N, H) or (N, T, H).
    p : drop probability in ``[0, 1]``.
    train : training (random mask) or inference (deterministic).
    mode : ``"standard"`` (the notes and Srivastava et al. 2014: ``h ⊙ m`` in
        training, ``(1 − p) h`` at inference) or ``"inverted"`` (PyTorch:
        ``h ⊙ m / (1 − p)`` in training, ``h`` at inference).
    mask : optional 0/1 array broadcastable to ``h`` (e.g. a variational mask,
        or the mask PyTorch drew); drawn from ``seed`` when None.
    seed : int, None or Generator for the mask.

    Returns
    -------
    out : array shaped like ``h`` (dtype kept).
    mask : the mask used (None at inference), for :func:`dropout_backward`.
    """
    h, p, mask = _checked("h", h, p, mode, mask, train)
    if not train:  # eq-dropout-inference, or nothing (inverted)
        return (h * (1 - p) if mode == "standard" else h.copy()).astype(h.dtype, copy=False), None
    if mask is None:
        mask = dropout_mask(h.shape, p, seed, h.dtype)  # m ~ Bernoulli(1 − p)
    out = h * _train_scale(mask, p, mode)  # eq-dropout-train: h ⊙ m, or eq-dropout-inverted: h ⊙ m / (1 − p)
    return out.astype(h.dtype, copy=False), mask


def _check_mask(mask, shape, dtype, name):
    """``mask`` as a 0/1 array of ``dtype`` that broadcasts *to* ``shape`` (the result keeps ``shape``)."""
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biuf" or not np.all((mask == 0) | (mask == 1)):
        raise ValueError("mask must hold only 0 (drop) and 1 (keep)")
    try:
        broadcast_ok = np.broadcast_shapes(mask.shape, shape) == tuple(shape)
    except ValueError:
        broadcast_ok = False
    if not broadcast_ok:
        raise ValueError(f"mask must be broadcastable to {name}'s shape {tuple(shape)}; got {mask.shape}")
    return mask.astype(dtype, copy=False)


def _train_scale(mask, p, mode):
    """What multiplies ``h`` in training: ``m`` or ``m / (1 − p)`` (all zeros when p = 1, as in torch)."""
    if mode == "standard":
        return mask
    # PyTorch multiplies by the mask already scaled by 1 / (1 − p), computed in the tensor's dtype
    # (1 − p rounded to it first: in float32 that is 1f / float32(1 − p)); the same keeps it bit-exact.
    one = np.ones((), dtype=mask.dtype)
    return mask * (0 * one if p == 1 else one / np.asarray(1.0 - p, dtype=mask.dtype))


def dropout_backward(d_out, mask, p: float, *, train: bool = True, mode: str = "inverted") -> np.ndarray:
    """Gradient of :func:`dropout_forward` with respect to ``h``: the same scaling applied to ``d_out``.

    Dropout is linear in ``h``, so its backward multiplies by what the forward
    multiplied by: ``m`` or ``m / (1 − p)`` in training, ``1 − p`` or 1 at inference.
    """
    d_out, p, mask = _checked("d_out", d_out, p, mode, mask, train, mask_required=True)
    if not train:
        return d_out * (1 - p) if mode == "standard" else d_out.copy()
    return (d_out * _train_scale(mask, p, mode)).astype(d_out.dtype, copy=False)
