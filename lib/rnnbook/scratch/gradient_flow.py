"""How gradients travel back through an RNN: Jacobians, Pascanu's bound, clipping.

Section 1.2, *Backpropagation through time*. The gradient that reaches ``h_k``
from a loss at step ``t`` is multiplied by the Jacobian ``∂h_t/∂h_k``, a
product of ``t − k`` factors ``diag(tanh'(a_j)) W_hh`` (eq-bptt-jacobian). Its
norm is bounded by ``(γ σ_max(W_hh))^{t−k}`` (eq-bptt-bound, Pascanu,
Mikolov & Bengio 2013), which is why gradients vanish when the largest
singular value of ``W_hh`` is below ``1/γ``. Clipping by the global norm
(eq-bptt-clip) is the standard remedy for the opposite problem.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from rnnbook.scratch._validate import as_float_array
from rnnbook.scratch.activations import tanh_grad_from_output
from rnnbook.scratch.rnn import RNNCache

#: γ, the largest value of the derivative of each activation.
GAMMA = {"tanh": 1.0, "sigmoid": 0.25}


def _check_steps(cache, t, k) -> None:
    if not isinstance(cache, RNNCache):
        raise ValueError(f"cache must be the RNNCache returned by rnn_forward; got {type(cache).__name__}")
    T = cache.h.shape[1]
    for name, value in (("t", t), ("k", k)):
        if not isinstance(value, (int, np.integer)) or not 0 <= value <= T:
            raise ValueError(f"{name} must be an integer step in [0, T] = [0, {T}]; got {value!r}")
    if k > t:
        raise ValueError(f"k must be at most t (the gradient flows backwards in time); got k = {k}, t = {t}")


def _check_bound(W_hh, steps, activation) -> np.ndarray:
    if activation not in GAMMA:
        raise ValueError(f"activation must be one of {sorted(GAMMA)}; got {activation!r}")
    W_hh = as_float_array("W_hh", W_hh, ndim=2, dims="(H, H)")
    if W_hh.shape[0] != W_hh.shape[1]:
        raise ValueError(f"W_hh must be square, shape (H, H); got {W_hh.shape}")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer t − k; got {steps!r}")
    return W_hh


def _check_clip(grads, max_norm) -> dict[str, np.ndarray]:
    if not isinstance(grads, Mapping) or not grads:
        raise ValueError(f"grads must be a non-empty dict of arrays; got {grads!r:.80}")
    if not np.isfinite(max_norm) or max_norm <= 0:
        raise ValueError(f"max_norm must be a finite number > 0; got {max_norm!r}")
    return {k: np.asarray(v) for k, v in grads.items()}


def rnn_state_jacobian(cache: RNNCache, t: int, k: int) -> np.ndarray:
    """The Jacobian ``∂h_t/∂h_k = ∏_{j=k+1}^{t} diag(1 − h_j²) W_hh`` of eq-bptt-jacobian.

    Parameters
    ----------
    cache : :class:`RNNCache` from :func:`rnn_forward`.
    t, k : time indices with ``0 ≤ k ≤ t ≤ T``, counted as in the book: ``h_0``
        is the initial state and ``h_t`` the output at step t (``out[:, t-1]``).

    Returns
    -------
    (N, H, H) array: one Jacobian per sequence of the batch; the identity when ``t == k``.
    """
    _check_steps(cache, t, k)
    N, _, H = cache.h.shape
    W_hh = cache.p["weight_hh"]
    J = np.broadcast_to(np.eye(H, dtype=W_hh.dtype), (N, H, H)).copy()
    for j in range(k + 1, t + 1):
        # Multiply on the left: J ← diag(1 − h_j²) W_hh J, so J = ∂h_j/∂h_k.
        d_j = tanh_grad_from_output(cache.h[:, j - 1])  # (N, H)
        J = d_j[:, :, None] * (W_hh @ J)
    return J


def jacobian_norm_bound(W_hh, steps: int, activation: str = "tanh") -> float:
    """Pascanu et al.'s bound ``‖∂h_t/∂h_k‖₂ ≤ (γ σ_max(W_hh))^{t−k}``, eq-bptt-bound.

    Parameters
    ----------
    W_hh : (H, H) recurrent weights.
    steps : ``t − k ≥ 0``, the number of steps the gradient travels.
    activation : ``"tanh"`` (γ = 1) or ``"sigmoid"`` (γ = 1/4).

    Returns
    -------
    float. When ``γ σ_max < 1`` it shrinks geometrically: the gradient *must*
    vanish. When it exceeds 1 the bound grows, which allows explosion but does
    not force it (the condition is necessary, not sufficient).
    """
    W_hh = _check_bound(W_hh, steps, activation)
    sigma_max = np.linalg.norm(W_hh, ord=2)  # the largest singular value
    return float((GAMMA[activation] * sigma_max) ** steps)


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float, eps: float = 1e-6):
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``, eq-bptt-clip.

    ``g ← g · min(1, c / (‖g‖ + ε))`` with ``‖g‖`` the norm of all arrays
    concatenated. The direction of the update is kept; only its length is cut.
    The small ``ε = 1e-6`` is PyTorch's, so the result equals
    ``torch.nn.utils.clip_grad_norm_`` exactly.

    Parameters
    ----------
    grads : dict name → array of any shape (pass parameter gradients only).
    max_norm : c > 0.

    Returns
    -------
    clipped : new dict with the same keys, shapes and dtypes.
    total_norm : float, the global norm before clipping.
    """
    arrays = _check_clip(grads, max_norm)
    total_norm = float(np.sqrt(sum(np.sum(np.square(v, dtype=np.float64)) for v in arrays.values())))
    coef = min(1.0, max_norm / (total_norm + eps))
    return {k: (v * coef).astype(v.dtype, copy=False) for k, v in arrays.items()}, total_norm
