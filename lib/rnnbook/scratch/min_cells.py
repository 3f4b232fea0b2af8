"""minGRU and minLSTM in NumPy (Feng et al. 2024): the notes' GRU and LSTM with h_{t-1} taken out of the gates.

The notes' GRU computes its update gate and its candidate from ``[h_{t-1}, x_t]``. Keep only ``x_t``::

    z_t = σ(W_z x_t + b_z)                                       (eq-mingru-update)
    h̃_t = W_h x_t + b_h                                          (eq-mingru-candidate)
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t                        (eq-mingru-hidden)

and the LSTM likewise, with its two gates normalised so that they add up to one::

    f_t = σ(W_f x_t + b_f)                                       (eq-minlstm-forget)
    i_t = σ(W_i x_t + b_i)                                       (eq-minlstm-input)
    h̃_t = W_h x_t + b_h                                          (eq-minlstm-candidate)
    f'_t = f_t / (f_t + i_t),   i'_t = i_t / (f_t + i_t)          (eq-minlstm-norm)
    h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t                            (eq-minlstm-hidden)

Nothing on the right of a gate or a candidate depends on the state any more, so all of them are
computed for every t at once (one matrix product over the whole sequence), and what is left is the
linear recurrence ``h_t = a_t ⊙ h_{t-1} + b_t`` of :mod:`rnnbook.scratch.scan` (eq-scan-linear), with
``a_t = 1 − z_t, b_t = z_t ⊙ h̃_t`` (minGRU) or ``a_t = f'_t, b_t = i'_t ⊙ h̃_t`` (minLSTM). Its
``method`` is that of :func:`~rnnbook.scratch.scan.linear_recurrence`: a loop, or a scan with no loop over t.

Parameters are dicts named like the torch modules :class:`rnnbook.nn.MinGRU` and
:class:`rnnbook.nn.MinLSTM` (read them with :func:`rnnbook.scratch.params_from_torch`)::

    minGRU:   weight_z (H, D)  bias_z (H,)  weight_h (H, D)  bias_h (H,)
    minLSTM:  weight_f (H, D)  bias_f (H,)  weight_i (H, D)  bias_i (H,)  weight_h (H, D)  bias_h (H,)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from rnnbook.scratch import _validate
from rnnbook.scratch.activations import sigmoid
from rnnbook.scratch.scan import _check_method, _recurrence, _recurrence_backward

#: Parameter names of each minimal cell, in the order of the torch modules.
MIN_PARAM_KEYS = {
    "mingru": ("weight_z", "bias_z", "weight_h", "bias_h"),
    "minlstm": ("weight_f", "bias_f", "weight_i", "bias_i", "weight_h", "bias_h"),
}


@dataclass
class MinCache:
    """What :func:`mingru_backward` and :func:`minlstm_backward` need from the forward pass.

    Attributes
    ----------
    kind : ``"mingru"`` or ``"minlstm"``.   method : the method of the forward pass.
    x : (N, T, D).   h0 : (N, H).   h : (N, T, H) the states ``h_1 … h_T``.   p : the parameters.
    gates : the gates and the candidate, each (N, T, H): ``z`` and ``h_tilde`` (minGRU);
        ``f``, ``i``, ``f_norm`` (f'), ``i_norm`` (i') and ``h_tilde`` (minLSTM).
    a : (N, T, H) the factors ``a_t`` of the linear recurrence.
    """

    kind: str
    method: str
    x: np.ndarray
    h0: np.ndarray
    h: np.ndarray
    p: dict
    gates: dict
    a: np.ndarray


def _inputs(x, h0, p, kind: str, method: str):
    """Checked ``x (N, T, D)``, ``h0 (N, H)`` and ``p`` of a minimal cell, in one floating dtype."""
    _check_method(method)
    keys = MIN_PARAM_KEYS[kind]
    name = {"mingru": "minGRU", "minlstm": "minLSTM"}[kind]
    if not isinstance(p, Mapping):
        raise ValueError(f"p must be a dict with keys {list(keys)}; got {type(p).__name__}")
    missing = [k for k in keys if k not in p]
    if missing:
        raise ValueError(f"p is missing {missing}; a {name} expects keys {list(keys)} (see scratch.params_from_torch)")
    W_h = _validate.as_float_array("p['weight_h']", p["weight_h"], ndim=2, dims="(H, D)")
    H, D = W_h.shape
    if H == 0:
        raise ValueError(f"p['weight_h'] must have at least one hidden unit; got shape {W_h.shape}")
    checked = {}
    for key in keys:
        if key.startswith("weight"):
            arr = _validate.as_float_array(f"p[{key!r}]", p[key], ndim=2, dims="(H, D)")
            _validate.check_shape(f"p[{key!r}]", arr, (H, D), "(H, D), as p['weight_h']")
        else:
            arr = _validate.as_float_array(f"p[{key!r}]", p[key], ndim=1, dims="(H,)")
            _validate.check_shape(f"p[{key!r}]", arr, (H,), "(H,)")
        checked[key] = arr
    x = _validate.as_float_array("x", x, ndim=3, dims="(N, T, D)")
    if x.shape[2] != D:
        raise ValueError(f"x must have D = {D} features in its last axis, as p['weight_h'] {W_h.shape} expects; "
                         f"got x of shape {x.shape}")
    if h0 is None:
        h0 = np.zeros((x.shape[0], H), dtype=x.dtype)
    else:
        h0 = _validate.as_float_array("h0", h0, ndim=2, dims="(N, H)")
        _validate.check_shape("h0", h0, (x.shape[0], H), "(N, H)")
    dtype = _validate.result_dtype(x, h0, *checked.values())
    p = {k: v.astype(dtype, copy=False) for k, v in checked.items()}
    return x.astype(dtype, copy=False), h0.astype(dtype, copy=True), p


def _affine(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``W x_t + b`` for every t at once: (N, T, D) → (N, T, H)."""
    return x @ W.T + b


def _affine_backward(du: np.ndarray, x: np.ndarray, W: np.ndarray):
    """Gradients of :func:`_affine`: ``(dW (H, D), db (H,), dx (N, T, D))`` from ``du (N, T, H)``."""
    N, T, H = du.shape
    du2, x2 = du.reshape(N * T, H), x.reshape(N * T, x.shape[2])
    return du2.T @ x2, du2.sum(axis=0), du @ W


def _grad_out(d_out, d_h_T, cache: MinCache, forward: str) -> np.ndarray:
    """The checked gradient reaching every ``h_t``: ``d_out``, plus ``d_h_T`` at the last step."""
    if not isinstance(cache, MinCache):
        raise ValueError(f"cache must be the MinCache returned by {forward}; got {type(cache).__name__}")
    N, T, H = cache.h.shape
    d_h = _validate.as_grad("d_out", d_out, (N, T, H), "(N, T, H)", cache.h.dtype).copy()
    if d_h_T is not None:
        d_h_T = _validate.as_grad("d_h_T", d_h_T, (N, H), "(N, H)", cache.h.dtype)
        if T:
            d_h[:, -1] += d_h_T
    return d_h


# --------------------------------------------------------------------------- minGRU


def mingru_forward(x, h0, p: Mapping[str, np.ndarray], *, method: str = "sequential"):
    """Run minGRU over a sequence: eq-mingru-update, eq-mingru-candidate, then eq-mingru-hidden.

    The gates and candidates of all T steps come from one matrix product each; the states then come
    from :func:`~rnnbook.scratch.scan.linear_recurrence` with ``a_t = 1 − z_t`` and ``b_t = z_t ⊙ h̃_t``.

    Parameters
    ----------
    x : (N, T, D) inputs, batch first.
    h0 : (N, H) initial state, or None for zeros.
    p : ``weight_z (H, D)``, ``bias_z (H,)``, ``weight_h (H, D)``, ``bias_h (H,)``.
    method : ``"sequential"`` (a loop over t) or ``"parallel"`` (a scan with no loop over t), or
        another method of :func:`~rnnbook.scratch.scan.linear_recurrence`.

    Returns
    -------
    out : (N, T, H) the states ``h_1 … h_T``.   h_T : (N, H).   cache : :class:`MinCache` for :func:`mingru_backward`.
    """
    x, h0, p = _inputs(x, h0, p, "mingru", method)
    u_z = _affine(x, p["weight_z"], p["bias_z"])
    z = sigmoid(u_z)  # eq-mingru-update
    h_tilde = _affine(x, p["weight_h"], p["bias_h"])  # eq-mingru-candidate
    a = sigmoid(-u_z)  # 1 − z_t, computed as σ(−u): exact also where z_t is within rounding of 1
    h = _recurrence(a, z * h_tilde, h0, method)  # eq-mingru-hidden
    h_T = h[:, -1].copy() if h.shape[1] else h0.copy()
    cache = MinCache(kind="mingru", method=method, x=x, h0=h0, h=h, p=p, gates={"z": z, "h_tilde": h_tilde}, a=a)
    return h, h_T, cache


def mingru_backward(d_out, cache: MinCache, d_h_T=None) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`mingru_forward` (eq-mingru-hidden, eq-mingru-update,
    eq-mingru-candidate, backwards), with the reverse scan of eq-scan-backward.

    Parameters
    ----------
    d_out : (N, T, H) gradient of the loss with respect to every output ``h_t``.
    cache : :class:`MinCache` from :func:`mingru_forward`.
    d_h_T : optional (N, H) gradient with respect to the returned ``h_T``.

    Returns
    -------
    dict with the keys of ``p`` (``weight_z (H, D)``, ``bias_z (H,)``, ``weight_h (H, D)``,
    ``bias_h (H,)``) plus ``x (N, T, D)`` and ``h0 (N, H)``.
    """
    d_h = _grad_out(d_out, d_h_T, cache, "mingru_forward")
    if cache.kind != "mingru":
        raise ValueError("cache must come from mingru_forward; got the cache of minlstm_forward")
    z, h_tilde, p = cache.gates["z"], cache.gates["h_tilde"], cache.p
    d_a, d_b, d_h0 = _recurrence_backward(d_h, cache.a, cache.h, cache.h0, cache.method)
    d_z = d_b * h_tilde - d_a  # a = 1 − z and b = z ⊙ h̃ both depend on z
    d_u_z = d_z * z * cache.a  # σ'(u) = z (1 − z)
    d_h_tilde = d_b * z
    grads = {}
    grads["weight_z"], grads["bias_z"], dx_z = _affine_backward(d_u_z, cache.x, p["weight_z"])
    grads["weight_h"], grads["bias_h"], dx_h = _affine_backward(d_h_tilde, cache.x, p["weight_h"])
    grads["x"] = dx_z + dx_h
    grads["h0"] = d_h0
    return grads


# --------------------------------------------------------------------------- minLSTM


def minlstm_forward(x, h0, p: Mapping[str, np.ndarray], *, method: str = "sequential"):
    """Run minLSTM over a sequence: eq-minlstm-forget, eq-minlstm-input, eq-minlstm-candidate,
    eq-minlstm-norm, then eq-minlstm-hidden.

    The states come from :func:`~rnnbook.scratch.scan.linear_recurrence` with ``a_t = f'_t`` and
    ``b_t = i'_t ⊙ h̃_t``. Because ``f'_t + i'_t = 1``, every ``h_t`` is a weighted average of ``h_{t-1}``
    and ``h̃_t``, so the states stay within the range of ``h_0`` and the candidates, however long the sequence.

    Parameters
    ----------
    x : (N, T, D) inputs, batch first.
    h0 : (N, H) initial state, or None for zeros.
    p : ``weight_f``, ``weight_i``, ``weight_h`` (H, D) and ``bias_f``, ``bias_i``, ``bias_h`` (H,).
    method : as in :func:`mingru_forward`.

    Returns
    -------
    out : (N, T, H).   h_T : (N, H).   cache : :class:`MinCache` for :func:`minlstm_backward`.
    """
    x, h0, p = _inputs(x, h0, p, "minlstm", method)
    f = sigmoid(_affine(x, p["weight_f"], p["bias_f"]))  # eq-minlstm-forget
    i = sigmoid(_affine(x, p["weight_i"], p["bias_i"]))  # eq-minlstm-input
    h_tilde = _affine(x, p["weight_h"], p["bias_h"])  # eq-minlstm-candidate
    f_norm, i_norm = f / (f + i), i / (f + i)  # eq-minlstm-norm
    h = _recurrence(f_norm, i_norm * h_tilde, h0, method)  # eq-minlstm-hidden
    h_T = h[:, -1].copy() if h.shape[1] else h0.copy()
    gates = {"f": f, "i": i, "f_norm": f_norm, "i_norm": i_norm, "h_tilde": h_tilde}
    cache = MinCache(kind="minlstm", method=method, x=x, h0=h0, h=h, p=p, gates=gates, a=f_norm)
    return h, h_T, cache


def minlstm_backward(d_out, cache: MinCache, d_h_T=None) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`minlstm_forward` (eq-minlstm-hidden, eq-minlstm-norm,
    eq-minlstm-forget, eq-minlstm-input, eq-minlstm-candidate, backwards), with the reverse scan of
    eq-scan-backward.

    Through the normalisation, with ``s = f + i``: ``∂f'/∂f = i/s²``, ``∂f'/∂i = −f/s²``,
    ``∂i'/∂i = f/s²``, ``∂i'/∂f = −i/s²``.

    Parameters
    ----------
    d_out : (N, T, H).   cache : :class:`MinCache` from :func:`minlstm_forward`.
    d_h_T : optional (N, H) gradient with respect to the returned ``h_T``.

    Returns
    -------
    dict with the keys of ``p`` (``weight_f``, ``weight_i``, ``weight_h`` (H, D); ``bias_f``,
    ``bias_i``, ``bias_h`` (H,)) plus ``x (N, T, D)`` and ``h0 (N, H)``.
    """
    d_h = _grad_out(d_out, d_h_T, cache, "minlstm_forward")
    if cache.kind != "minlstm":
        raise ValueError("cache must come from minlstm_forward; got the cache of mingru_forward")
    g, p = cache.gates, cache.p
    f, i = g["f"], g["i"]
    d_f_norm, d_b, d_h0 = _recurrence_backward(d_h, cache.a, cache.h, cache.h0, cache.method)
    d_i_norm = d_b * g["h_tilde"]
    d_h_tilde = d_b * g["i_norm"]
    s2 = (f + i) ** 2
    d_f = (d_f_norm - d_i_norm) * i / s2
    d_i = (d_i_norm - d_f_norm) * f / s2
    grads = {}
    grads["weight_f"], grads["bias_f"], dx_f = _affine_backward(d_f * f * (1 - f), cache.x, p["weight_f"])
    grads["weight_i"], grads["bias_i"], dx_i = _affine_backward(d_i * i * (1 - i), cache.x, p["weight_i"])
    grads["weight_h"], grads["bias_h"], dx_h = _affine_backward(d_h_tilde, cache.x, p["weight_h"])
    grads["x"] = dx_f + dx_i + dx_h
    grads["h0"] = d_h0
    return grads
