"""The LSTM in NumPy: forward and full BPTT, in PyTorch's layout (gates i, f, g, o).

Equations (chapter 2, *Gates*), in the notes' order; ``[h_{t-1}, x_t]`` is the
concatenation, and ``W_f [h_{t-1}, x_t] = W_hf h_{t-1} + W_if x_t``::

    f_t = σ(W_f [h_{t-1}, x_t] + b_f)            (eq-lstm-forget)
    i_t = σ(W_i [h_{t-1}, x_t] + b_i)            (eq-lstm-input)
    C̃_t = tanh(W_C [h_{t-1}, x_t] + b_C)         (eq-lstm-candidate)
    C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t              (eq-lstm-cell)
    o_t = σ(W_o [h_{t-1}, x_t] + b_o)            (eq-lstm-output)
    h_t = o_t ⊙ tanh(C_t)                        (eq-lstm-hidden)

PyTorch stacks the four gates' weights in rows, in the order i, f, g, o
(``g`` is the candidate ``C̃``): ``weight_ih (4H, D)``, ``weight_hh (4H, H)``,
two biases ``(4H,)``. The code keeps that layout, so one matrix product gives
all four pre-activations at once.

**Hoisting.** The input term ``W_ih x_t + b`` does not depend on the previous
state, so :func:`lstm_forward` computes it for every step in *one* matrix
product before the time loop, and :func:`lstm_backward` likewise computes the
input-weight gradient and ``dx`` in one product after it. Only the recurrent
product ``W_hh h_{t-1}`` has to stay inside the loop. Same equations, fewer and
larger matrix products: the single most effective speed-up of a NumPy RNN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from rnnbook.scratch._validate import as_float_array, check_params, check_shape, result_dtype
from rnnbook.scratch.activations import sigmoid, tanh


@dataclass
class LSTMCache:
    """What :func:`lstm_backward` needs from :func:`lstm_forward`.

    Attributes
    ----------
    x : (N, T, D) inputs.   h0, c0 : (N, H) initial states.
    h, c : (N, T, H) hidden and cell states ``h_1 … h_T``, ``C_1 … C_T``.
    gates : (N, T, 4H) gate activations ``[i, f, g, o]`` after σ / tanh.
    tanh_c : (N, T, H) ``tanh(C_t)``.
    p : the parameter dict, in the computation's dtype.
    """

    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    h: np.ndarray
    c: np.ndarray
    gates: np.ndarray
    tanh_c: np.ndarray
    p: dict


# --------------------------------------------------------------------------- one step


def _lstm_cell(xw_t, h_prev, c_prev, W_hh):
    """One LSTM step given the input projection ``xw_t = W_ih x_t + b`` (N, 4H)."""
    H = h_prev.shape[1]
    a = xw_t + h_prev @ W_hh.T  # all four pre-activations, (N, 4H)
    i_t = sigmoid(a[:, 0:H])  # eq-lstm-input
    f_t = sigmoid(a[:, H : 2 * H])  # eq-lstm-forget
    g_t = tanh(a[:, 2 * H : 3 * H])  # eq-lstm-candidate (the notes' C̃_t)
    o_t = sigmoid(a[:, 3 * H : 4 * H])  # eq-lstm-output
    c_t = f_t * c_prev + i_t * g_t  # eq-lstm-cell
    tanh_c = tanh(c_t)
    h_t = o_t * tanh_c  # eq-lstm-hidden
    return h_t, c_t, np.concatenate([i_t, f_t, g_t, o_t], axis=1), tanh_c


def _lstm_cell_backward(dh_t, dc_t, gates, c_prev, tanh_c):
    """Backward of one step: returns (d_a (N, 4H), dc_prev (N, H)), given dh_t and the dc_t from later steps."""
    H = dh_t.shape[1]
    i_t, f_t, g_t, o_t = (gates[:, k * H : (k + 1) * H] for k in range(4))
    do = dh_t * tanh_c
    dc = dc_t + dh_t * o_t * (1 - tanh_c * tanh_c)  # through h_t = o_t ⊙ tanh(C_t)
    di, df, dg = dc * g_t, dc * c_prev, dc * i_t
    dc_prev = dc * f_t  # eq-lstm-cell-grad: ∂C_t/∂C_{t-1} = diag(f_t)
    d_a = np.concatenate(
        [di * i_t * (1 - i_t), df * f_t * (1 - f_t), dg * (1 - g_t * g_t), do * o_t * (1 - o_t)], axis=1
    )
    return d_a, dc_prev


def _prepare(x, state, p, *, x_ndim, x_name="x", state_names=("h0", "c0")):
    dims = "(N, T, D)" if x_ndim == 3 else "(N, D)"
    x = as_float_array(x_name, x, ndim=x_ndim, dims=dims)
    p, D, H = check_params(p, gates=4, kind="LSTM")
    N = x.shape[0]
    if x.shape[-1] != D:
        raise ValueError(
            f"{x_name} must have D = {D} features in its last axis, as p['weight_ih'] {p['weight_ih'].shape} expects; "
            f"got {x_name} of shape {x.shape}"
        )
    if state is None:
        state = (None, None)
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise ValueError(f"the state must be a pair ({state_names[0]}, {state_names[1]}) of (N, H) arrays or None; got {type(state).__name__}")
    arrays = []
    for name, s in zip(state_names, state):
        if s is None:
            s = np.zeros((N, H), dtype=x.dtype)
        else:
            s = as_float_array(name, s, ndim=2, dims="(N, H)")
            check_shape(name, s, (N, H), "(N, H)")
        arrays.append(s)
    dtype = result_dtype(x, *arrays, *p.values())
    p = {k: v.astype(dtype, copy=False) for k, v in p.items()}
    return x.astype(dtype, copy=False), [a.astype(dtype, copy=False) for a in arrays], p


def lstm_step_forward(x_t, state, p: Mapping[str, np.ndarray]):
    """One LSTM step: eq-lstm-forget, eq-lstm-input, eq-lstm-candidate, eq-lstm-cell, eq-lstm-output, eq-lstm-hidden.

    Parameters
    ----------
    x_t : (N, D) inputs at time t.
    state : ``(h_prev, c_prev)``, each (N, H), or None for zeros.
    p : ``weight_ih (4H, D)``, ``weight_hh (4H, H)``, ``bias_ih (4H,)``, ``bias_hh (4H,)``; gates i, f, g, o.

    Returns
    -------
    (h_t, c_t) : (N, H) each, in the inputs' dtype.
    cache : for :func:`lstm_step_backward`.
    """
    x_t, (h_prev, c_prev), p = _prepare(x_t, state, p, x_ndim=2, x_name="x_t", state_names=("h_prev", "c_prev"))
    xw_t = x_t @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])
    h_t, c_t, gates, tanh_c = _lstm_cell(xw_t, h_prev, c_prev, p["weight_hh"])
    return (h_t, c_t), (x_t, h_prev, c_prev, gates, tanh_c, p)


def lstm_step_backward(dh_t, dc_t, cache) -> dict[str, np.ndarray]:
    """Backward of one LSTM step (the chain rule through the six equations).

    Parameters
    ----------
    dh_t, dc_t : (N, H) gradients of the loss with respect to ``h_t`` and ``C_t``
        (``dc_t`` may be None for zeros).
    cache : from :func:`lstm_step_forward`.

    Returns
    -------
    dict with ``x (N, D)``, ``h_prev (N, H)``, ``c_prev (N, H)`` and the parameter
    gradients ``weight_ih (4H, D)``, ``weight_hh (4H, H)``, ``bias_ih``, ``bias_hh (4H,)``.
    """
    x_t, h_prev, c_prev, gates, tanh_c, p = cache
    N, H = h_prev.shape
    dh_t = as_float_array("dh_t", dh_t, ndim=2, dims="(N, H)")
    check_shape("dh_t", dh_t, (N, H), "(N, H)")
    if dc_t is None:
        dc_t = np.zeros((N, H), dtype=h_prev.dtype)
    dc_t = as_float_array("dc_t", dc_t, ndim=2, dims="(N, H)")
    check_shape("dc_t", dc_t, (N, H), "(N, H)")
    d_a, dc_prev = _lstm_cell_backward(dh_t.astype(h_prev.dtype), dc_t.astype(h_prev.dtype), gates, c_prev, tanh_c)
    db = d_a.sum(axis=0)
    return {
        "x": d_a @ p["weight_ih"],
        "h_prev": d_a @ p["weight_hh"],
        "c_prev": dc_prev,
        "weight_ih": d_a.T @ x_t,
        "weight_hh": d_a.T @ h_prev,
        "bias_ih": db,
        "bias_hh": db.copy(),
    }


# --------------------------------------------------------------------------- sequences


def lstm_forward(x, state, p: Mapping[str, np.ndarray]):
    """Run the LSTM over a sequence: the six equations eq-lstm-forget … eq-lstm-hidden at every step.

    Parameters
    ----------
    x : (N, T, D) inputs, batch first.
    state : ``(h0, c0)``, each (N, H), or None (or a pair with None) for zeros.
    p : parameters in PyTorch's layout, gates stacked i, f, g, o (see :func:`params_from_torch`).

    Returns
    -------
    out : (N, T, H) hidden states ``h_1 … h_T`` (``nn.LSTM(batch_first=True)``'s output).
    (h_T, c_T) : (N, H) each.
    cache : :class:`LSTMCache` for :func:`lstm_backward`.
    """
    x, (h0, c0), p = _prepare(x, state, p, x_ndim=3)
    N, T, D = x.shape
    H = p["weight_hh"].shape[1]
    # Hoisted out of the loop: W_ih x_t + b for every t, in one matrix product.
    xw = (x.reshape(N * T, D) @ p["weight_ih"].T).reshape(N, T, 4 * H) + (p["bias_ih"] + p["bias_hh"])
    h = np.empty((N, T, H), dtype=x.dtype)
    c = np.empty_like(h)
    tanh_c = np.empty_like(h)
    gates = np.empty((N, T, 4 * H), dtype=x.dtype)
    h_prev, c_prev = h0, c0
    for t in range(T):
        h_prev, c_prev, gates[:, t], tanh_c[:, t] = _lstm_cell(xw[:, t], h_prev, c_prev, p["weight_hh"])
        h[:, t], c[:, t] = h_prev, c_prev
    h_T, c_T = (h[:, -1].copy(), c[:, -1].copy()) if T else (h0.copy(), c0.copy())
    return h, (h_T, c_T), LSTMCache(x=x, h0=h0, c0=c0, h=h, c=c, gates=gates, tanh_c=tanh_c, p=p)


def _lstm_bptt(d_out, cache: LSTMCache, d_h_T=None, d_c_T=None):
    """Full BPTT; returns the gradients and every total ∂L/∂h_t and ∂L/∂C_t, each (N, T, H)."""
    if not isinstance(cache, LSTMCache):
        raise ValueError(f"cache must be the LSTMCache returned by lstm_forward; got {type(cache).__name__}")
    x, h, c, p = cache.x, cache.h, cache.c, cache.p
    N, T, H = h.shape
    D = x.shape[2]
    d_out = as_float_array("d_out", d_out, ndim=3, dims="(N, T, H)")
    check_shape("d_out", d_out, (N, T, H), "(N, T, H)")
    d_out = d_out.astype(h.dtype, copy=False)
    dh_next = np.zeros((N, H), dtype=h.dtype)
    dc_next = np.zeros((N, H), dtype=h.dtype)
    if d_h_T is not None:
        d_h_T = as_float_array("d_h_T", d_h_T, ndim=2, dims="(N, H)")
        check_shape("d_h_T", d_h_T, (N, H), "(N, H)")
        dh_next = dh_next + d_h_T.astype(h.dtype)
    if d_c_T is not None:
        d_c_T = as_float_array("d_c_T", d_c_T, ndim=2, dims="(N, H)")
        check_shape("d_c_T", d_c_T, (N, H), "(N, H)")
        dc_next = dc_next + d_c_T.astype(h.dtype)

    W_hh = p["weight_hh"]
    d_a = np.empty((N, T, 4 * H), dtype=h.dtype)
    delta_h = np.empty_like(h)  # total ∂L/∂h_t
    delta_c = np.empty_like(h)  # total ∂L/∂C_t
    dW_hh = np.zeros_like(W_hh)
    for t in reversed(range(T)):
        h_prev = h[:, t - 1] if t > 0 else cache.h0
        c_prev = c[:, t - 1] if t > 0 else cache.c0
        delta_h[:, t] = d_out[:, t] + dh_next
        o_t, tanh_c = cache.gates[:, t, 3 * H :], cache.tanh_c[:, t]
        delta_c[:, t] = dc_next + delta_h[:, t] * o_t * (1 - tanh_c * tanh_c)  # from C_{t+1} and from h_t
        d_a[:, t], dc_next = _lstm_cell_backward(delta_h[:, t], dc_next, cache.gates[:, t], c_prev, cache.tanh_c[:, t])
        dW_hh += d_a[:, t].T @ h_prev
        dh_next = d_a[:, t] @ W_hh
    # Hoisted out of the loop, mirroring the forward pass: one product each.
    d_a_flat = d_a.reshape(N * T, 4 * H)
    db = d_a_flat.sum(axis=0)
    grads = {
        "weight_ih": d_a_flat.T @ x.reshape(N * T, D),
        "weight_hh": dW_hh,
        "bias_ih": db,
        "bias_hh": db.copy(),
        "x": (d_a_flat @ p["weight_ih"]).reshape(N, T, D),
        "h0": dh_next,
        "c0": dc_next,
    }
    return grads, delta_h, delta_c


def lstm_backward(d_out, cache: LSTMCache, d_h_T=None, d_c_T=None) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`lstm_forward`, including eq-lstm-cell-grad.

    The cell state carries gradient backwards through ``∂C_t/∂C_{t-1} = diag(f_t)``
    (eq-lstm-cell-grad), with no weight matrix and no squashing in between.

    Parameters
    ----------
    d_out : (N, T, H) gradient of the loss with respect to every output ``h_t``.
    cache : :class:`LSTMCache` from :func:`lstm_forward`.
    d_h_T, d_c_T : optional (N, H) gradients with respect to the returned ``h_T`` and ``c_T``.

    Returns
    -------
    dict with the keys of ``p`` (``weight_ih (4H, D)``, ``weight_hh (4H, H)``,
    ``bias_ih (4H,)``, ``bias_hh (4H,)``) plus ``x (N, T, D)``, ``h0 (N, H)``, ``c0 (N, H)``.
    """
    grads, _, _ = _lstm_bptt(d_out, cache, d_h_T, d_c_T)
    return grads


def lstm_hidden_grads(d_out, cache: LSTMCache, d_h_T=None, d_c_T=None):
    """The total gradients ``∂L/∂h_t`` and ``∂L/∂C_t`` for t = 1 … T, each (N, T, H).

    Same arguments as :func:`lstm_backward`. Both are *total* gradients: ``∂L/∂C_t``
    collects what arrives through ``C_{t+1}`` (the cell-state path of eq-lstm-cell-grad,
    a factor ``f_{t+1}``) and through ``h_t = o_t ⊙ tanh(C_t)``.
    """
    _, delta_h, delta_c = _lstm_bptt(d_out, cache, d_h_T, d_c_T)
    return delta_h, delta_c
