"""The GRU in NumPy, in two variants: PyTorch's and the notes'. Forward and full BPTT.

Both variants compute the reset and update gates the same way (gates stacked
r, z, n in PyTorch's layout)::

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)        (eq-gru-reset)
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)        (eq-gru-update)

They differ in the candidate and in which side of the interpolation z weighs:

``variant="seed"``, the notes (after Chung et al. 2014)::

    h̃_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t-1}) + b_hn)     (eq-gru-candidate)
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t                         (eq-gru-hidden)

``variant="torch"``, PyTorch and cuDNN (after Cho et al. 2014 for z)::

    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))     (eq-gru-torch-candidate)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}                          (eq-gru-torch-hidden)

The side z weighs is only a reparametrisation (negate the z weights and
biases, :func:`negate_update_gate`). Where the reset gate acts, before or after
``W_hn``, is a real difference; ONNX calls PyTorch's choice
``linear_before_reset``. It lets one matrix product ``W_hh h_{t-1}`` serve all
three gates, which is why cuDNN uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from rnnbook.scratch._validate import as_float_array, as_grad, check_params, check_shape, prepare_inputs
from rnnbook.scratch.activations import sigmoid, tanh

VARIANTS = ("torch", "seed")


@dataclass
class GRUCache:
    """What :func:`gru_backward` needs from :func:`gru_forward`.

    Attributes
    ----------
    x : (N, T, D).  h0 : (N, H).  h : (N, T, H) states ``h_1 … h_T``.
    r, z, n : (N, T, H) reset gate, update gate, candidate.
    hn : (N, T, H) ``W_hn h_{t-1} + b_hn`` (torch) or ``W_hn (r_t ⊙ h_{t-1})`` (seed).
    p : parameters, in the computation's dtype.   variant : ``"torch"`` or ``"seed"``.
    """

    x: np.ndarray
    h0: np.ndarray
    h: np.ndarray
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    hn: np.ndarray
    p: dict
    variant: str


def _check_variant(variant):
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}")


# --------------------------------------------------------------------------- one step


def _gru_cell(xw_t, h_prev, W_hh, b_hh, variant):
    """One GRU step given the input projections ``xw_t = W_ih x_t + b_ih`` (N, 3H)."""
    H = h_prev.shape[1]
    W_hr, W_hz, W_hn = W_hh[0:H], W_hh[H : 2 * H], W_hh[2 * H : 3 * H]
    b_hr, b_hz, b_hn = b_hh[0:H], b_hh[H : 2 * H], b_hh[2 * H : 3 * H]
    r_t = sigmoid(xw_t[:, 0:H] + h_prev @ W_hr.T + b_hr)  # eq-gru-reset
    z_t = sigmoid(xw_t[:, H : 2 * H] + h_prev @ W_hz.T + b_hz)  # eq-gru-update
    if variant == "torch":
        hn_t = h_prev @ W_hn.T + b_hn
        n_t = tanh(xw_t[:, 2 * H :] + r_t * hn_t)  # eq-gru-torch-candidate: reset applied after W_hn
        h_t = (1 - z_t) * n_t + z_t * h_prev  # eq-gru-torch-hidden
    else:
        hn_t = (r_t * h_prev) @ W_hn.T
        n_t = tanh(xw_t[:, 2 * H :] + hn_t + b_hn)  # eq-gru-candidate: reset applied before W_hn
        h_t = (1 - z_t) * h_prev + z_t * n_t  # eq-gru-hidden
    return h_t, r_t, z_t, n_t, hn_t


def _gru_cell_backward(dh_t, h_prev, r_t, z_t, n_t, hn_t, W_hh, variant):
    """Backward of one step: returns (d_xw (N, 3H), d_hh (N, 3H), dh_prev (N, H)).

    ``d_xw`` is the gradient at the input projections (so ``dW_ih = d_xwᵀ x``),
    ``d_hh`` at the recurrent pre-activations ``W_hh h`` (or ``W_hn (r ⊙ h)``).
    """
    H = h_prev.shape[1]
    W_hr, W_hz, W_hn = W_hh[0:H], W_hh[H : 2 * H], W_hh[2 * H : 3 * H]
    if variant == "torch":
        dn = dh_t * (1 - z_t)
        dz = dh_t * (h_prev - n_t)
        dh_prev = dh_t * z_t
    else:
        dn = dh_t * z_t
        dz = dh_t * (n_t - h_prev)
        dh_prev = dh_t * (1 - z_t)
    da_n = dn * (1 - n_t * n_t)  # at the candidate's pre-activation
    da_z = dz * z_t * (1 - z_t)
    if variant == "torch":
        d_hn = da_n * r_t  # at W_hn h + b_hn
        dr = da_n * hn_t
        da_r = dr * r_t * (1 - r_t)
        dh_prev = dh_prev + d_hn @ W_hn
    else:
        d_hn = da_n  # at W_hn (r ⊙ h)
        d_rh = da_n @ W_hn  # at r ⊙ h
        dr = d_rh * h_prev
        da_r = dr * r_t * (1 - r_t)
        dh_prev = dh_prev + d_rh * r_t
    dh_prev = dh_prev + da_r @ W_hr + da_z @ W_hz
    d_xw = np.concatenate([da_r, da_z, da_n], axis=1)
    d_hh = np.concatenate([da_r, da_z, d_hn], axis=1)
    return d_xw, d_hh, dh_prev


def _prepare(x, h0, p, *, x_ndim, x_name="x", h_name="h0"):
    x, (h0,), p = prepare_inputs(x, {h_name: h0}, p, gates=3, kind="GRU", x_ndim=x_ndim, x_name=x_name)
    return x, h0, p


def _hh_inputs(d_hh, h_prev, r_t, H, variant):
    """What multiplies each block of ``d_hh`` to give ``dW_hh``: h for r, z (and n in torch), r ⊙ h for n in seed."""
    if variant == "torch":
        return d_hh.T @ h_prev
    return np.concatenate([d_hh[:, : 2 * H].T @ h_prev, d_hh[:, 2 * H :].T @ (r_t * h_prev)], axis=0)


def _hh_bias_grad(d_hh, d_xw, H, variant):
    """``bias_hh`` gradient: at the recurrent pre-activations, except seed's b_hn, which sits with the input term."""
    if variant == "torch":
        return d_hh.sum(axis=0)
    return np.concatenate([d_hh[:, : 2 * H].sum(axis=0), d_xw[:, 2 * H :].sum(axis=0)])


def gru_step_forward(x_t, h_prev, p: Mapping[str, np.ndarray], variant: str = "torch"):
    """One GRU step: eq-gru-reset, eq-gru-update, then eq-gru-candidate and eq-gru-hidden
    (``variant="seed"``) or eq-gru-torch-candidate and eq-gru-torch-hidden (``variant="torch"``).

    Parameters
    ----------
    x_t : (N, D).   h_prev : (N, H) or None for zeros.
    p : ``weight_ih (3H, D)``, ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``; gates r, z, n.
    variant : ``"torch"`` (equals ``nn.GRUCell``) or ``"seed"`` (the notes' equations).

    Returns
    -------
    h_t : (N, H).   cache : for :func:`gru_step_backward`.
    """
    _check_variant(variant)
    x_t, h_prev, p = _prepare(x_t, h_prev, p, x_ndim=2, x_name="x_t", h_name="h_prev")
    xw_t = x_t @ p["weight_ih"].T + p["bias_ih"]
    h_t, r_t, z_t, n_t, hn_t = _gru_cell(xw_t, h_prev, p["weight_hh"], p["bias_hh"], variant)
    return h_t, (x_t, h_prev, r_t, z_t, n_t, hn_t, p, variant)


def gru_step_backward(dh_t, cache) -> dict[str, np.ndarray]:
    """Backward of one GRU step, either variant.

    Returns a dict with ``x (N, D)``, ``h_prev (N, H)`` and the parameter gradients
    ``weight_ih (3H, D)``, ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``.
    """
    x_t, h_prev, r_t, z_t, n_t, hn_t, p, variant = cache
    N, H = h_prev.shape
    dh_t = as_float_array("dh_t", dh_t, ndim=2, dims="(N, H)")
    check_shape("dh_t", dh_t, (N, H), "(N, H)")
    d_xw, d_hh, dh_prev = _gru_cell_backward(dh_t.astype(h_prev.dtype), h_prev, r_t, z_t, n_t, hn_t, p["weight_hh"], variant)
    return {
        "x": d_xw @ p["weight_ih"],
        "h_prev": dh_prev,
        "weight_ih": d_xw.T @ x_t,
        "weight_hh": _hh_inputs(d_hh, h_prev, r_t, H, variant),
        "bias_ih": d_xw.sum(axis=0),
        "bias_hh": _hh_bias_grad(d_hh, d_xw, H, variant),
    }


# --------------------------------------------------------------------------- sequences


def gru_forward(x, h0, p: Mapping[str, np.ndarray], variant: str = "torch"):
    """Run the GRU over a sequence: eq-gru-reset, eq-gru-update, then eq-gru-candidate and
    eq-gru-hidden (``variant="seed"``) or eq-gru-torch-candidate and eq-gru-torch-hidden (``"torch"``).

    Parameters
    ----------
    x : (N, T, D) inputs, batch first.
    h0 : (N, H) initial state or None for zeros.
    p : parameters in PyTorch's layout, gates stacked r, z, n.
    variant : ``"torch"`` (equals ``nn.GRU``) or ``"seed"`` (the notes, Chung et al. 2014).

    Returns
    -------
    out : (N, T, H).   h_T : (N, H).   cache : :class:`GRUCache` for :func:`gru_backward`.
    """
    _check_variant(variant)
    x, h0, p = _prepare(x, h0, p, x_ndim=3)
    N, T, D = x.shape
    H = p["weight_hh"].shape[1]
    xw = (x.reshape(N * T, D) @ p["weight_ih"].T).reshape(N, T, 3 * H) + p["bias_ih"]  # hoisted
    h, r, z, n, hn = (np.empty((N, T, H), dtype=x.dtype) for _ in range(5))
    h_prev = h0
    for t in range(T):
        h_prev, r[:, t], z[:, t], n[:, t], hn[:, t] = _gru_cell(xw[:, t], h_prev, p["weight_hh"], p["bias_hh"], variant)
        h[:, t] = h_prev
    h_T = h[:, -1].copy() if T else h0.copy()
    return h, h_T, GRUCache(x=x, h0=h0, h=h, r=r, z=z, n=n, hn=hn, p=p, variant=variant)


def gru_backward(d_out, cache: GRUCache, d_h_T=None) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`gru_forward` (the variant is read from the cache).

    Parameters
    ----------
    d_out : (N, T, H) gradient of the loss with respect to every output ``h_t``.
    cache : :class:`GRUCache` from :func:`gru_forward`.
    d_h_T : optional (N, H) gradient with respect to the returned ``h_T``.

    Returns
    -------
    dict with the keys of ``p`` (``weight_ih (3H, D)``, ``weight_hh (3H, H)``,
    ``bias_ih (3H,)``, ``bias_hh (3H,)``) plus ``x (N, T, D)`` and ``h0 (N, H)``.
    """
    if not isinstance(cache, GRUCache):
        raise ValueError(f"cache must be the GRUCache returned by gru_forward; got {type(cache).__name__}")
    x, h, p, variant = cache.x, cache.h, cache.p, cache.variant
    N, T, H = h.shape
    D = x.shape[2]
    d_out = as_grad("d_out", d_out, (N, T, H), "(N, T, H)", h.dtype)
    dh_next = np.zeros((N, H), dtype=h.dtype)
    if d_h_T is not None:
        dh_next = dh_next + as_grad("d_h_T", d_h_T, (N, H), "(N, H)", h.dtype)

    W_hh = p["weight_hh"]
    d_xw = np.empty((N, T, 3 * H), dtype=h.dtype)
    d_hh = np.empty((N, T, 3 * H), dtype=h.dtype)
    for t in reversed(range(T)):
        h_prev = h[:, t - 1] if t > 0 else cache.h0
        d_xw[:, t], d_hh[:, t], dh_next = _gru_cell_backward(
            d_out[:, t] + dh_next, h_prev, cache.r[:, t], cache.z[:, t], cache.n[:, t], cache.hn[:, t], W_hh, variant
        )
    # Hoisted out of the loop, as the input projection is in gru_forward: every weight gradient is a
    # sum over t of per-step products, so it is one product over all N·T rows.
    h_prev = np.concatenate([cache.h0[:, None], h[:, :-1]], axis=1)[:, :T].reshape(N * T, H)  # h_{t-1} for every t
    d_xw_flat, d_hh_flat = d_xw.reshape(N * T, 3 * H), d_hh.reshape(N * T, 3 * H)
    return {
        "weight_ih": d_xw_flat.T @ x.reshape(N * T, D),
        "weight_hh": _hh_inputs(d_hh_flat, h_prev, cache.r.reshape(N * T, H), H, variant),
        "bias_ih": d_xw_flat.sum(axis=0),
        "bias_hh": _hh_bias_grad(d_hh_flat, d_xw_flat, H, variant),
        "x": (d_xw_flat @ p["weight_ih"]).reshape(N, T, D),
        "h0": dh_next,
    }


def negate_update_gate(p: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Swap the update-gate convention: ``z ↦ 1 − z`` by negating the z rows of all four arrays.

    ``σ(−a) = 1 − σ(a)``, so negating ``W_iz``, ``W_hz``, ``b_iz``, ``b_hz`` turns a GRU that
    writes ``h = (1 − z) h̃ + z h_prev`` (Cho et al. 2014, PyTorch) into one that writes
    ``h = (1 − z) h_prev + z h̃`` (Chung et al. 2014, the notes), with the same outputs.
    Returns a new dict; ``p`` is unchanged.
    """
    p, _, H = check_params(p, gates=3, kind="GRU")
    out = {k: v.copy() for k, v in p.items()}
    for key in out:
        out[key][H : 2 * H] *= -1
    return out
