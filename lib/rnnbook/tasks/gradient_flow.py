"""Measuring vanishing and exploding gradients in a tanh RNN.

The experiment of chapter 1: build ``W_hh`` with a chosen largest singular
value, run the scratch RNN forward, put a loss on the last step only, and
record how large ``‖∂L/∂h_t‖`` is at every earlier step (eq-bptt-delta,
computed by :func:`rnnbook.scratch.bptt_hidden_grads`).
"""

from __future__ import annotations

import numpy as np

from rnnbook._checks import check_int
from rnnbook.scratch import bptt_hidden_grads, rnn_forward


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def matrix_with_singular_value(H: int, sigma: float, seed=0) -> np.ndarray:
    """A random ``(H, H)`` matrix ``σ Q`` with ``Q`` orthogonal: every singular value equals ``σ``.

    Such a matrix is *normal*, so its eigenvalues have modulus ``σ`` too and the
    powers ``‖W^k‖ = σ^k`` behave exactly as the eigenvalues suggest.
    """
    check_int("H", H)
    if not sigma >= 0:
        raise ValueError(f"sigma must be ≥ 0; got {sigma!r}")
    A = _rng(seed).standard_normal((H, H))
    Q, R = np.linalg.qr(A)
    Q = Q * np.sign(np.diag(R))  # makes Q uniformly (Haar) distributed
    return sigma * Q


def nonnormal_matrix(H: int, rho: float = 0.9, coupling: float = 2.0) -> np.ndarray:
    """An upper bidiagonal ``(H, H)`` matrix: ``rho`` on the diagonal, ``coupling`` above it.

    Its eigenvalues are all ``rho`` (a triangular matrix's diagonal), so with
    ``|rho| < 1`` "every eigenvalue is below 1", yet its largest singular value is
    about ``rho + coupling``, and ``‖W^k‖`` grows for many steps before the
    geometric decay ``rho^k`` wins: the counterexample to the notes' phrasing.
    """
    check_int("H", H)
    return rho * np.eye(H) + coupling * np.eye(H, k=1)


def rnn_params(W_hh, D: int, input_scale: float = 1.0, seed=0) -> dict[str, np.ndarray]:
    """A parameter dict with the given ``W_hh (H, H)``, random ``W_xh (H, D)`` and zero biases.

    ``W_xh`` has entries ``N(0, input_scale² / D)`` so that each pre-activation
    receives an input term of variance about ``input_scale²``.
    """
    W_hh = np.asarray(W_hh, dtype=np.float64)
    if W_hh.ndim != 2 or W_hh.shape[0] != W_hh.shape[1]:
        raise ValueError(f"W_hh must be square, shape (H, H); got {W_hh.shape}")
    H = W_hh.shape[0]
    W_ih = _rng(seed).standard_normal((H, D)) * input_scale / np.sqrt(D)
    return {"weight_ih": W_ih, "weight_hh": W_hh.copy(), "bias_ih": np.zeros(H), "bias_hh": np.zeros(H)}


def gradient_norms_over_time(p, x, h0=None, seed=0) -> np.ndarray:
    """``‖∂L/∂h_t‖₂`` for t = 1 … T when the loss sits on the last step only.

    The loss is ``L = Σ_n u_n · h_T[n]`` with random unit vectors ``u_n``, so
    ``∂L/∂h_T`` has norm 1 and the returned curve shows how much of it is left
    after travelling ``T − t`` steps back.

    Parameters
    ----------
    p : RNN parameter dict (see :func:`rnnbook.scratch.params_from_torch`).
    x : (N, T, D) inputs.
    h0 : (N, H) initial state or None.
    seed : seed or Generator for the directions ``u_n``.

    Returns
    -------
    (T,) array: the mean over the batch of ``‖δ_t‖₂``; the last entry is 1.
    """
    out, _, cache = rnn_forward(x, h0, p)
    N, T, H = out.shape
    u = _rng(seed).standard_normal((N, H))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    d_out = np.zeros_like(out)
    d_out[:, -1] = u
    delta = bptt_hidden_grads(d_out, cache)
    return np.linalg.norm(delta, axis=2).mean(axis=0)
