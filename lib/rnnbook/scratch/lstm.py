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
product before the time loop. Only the recurrent product ``W_hh h_{t-1}`` has to
stay inside the loop. Same equations, fewer and larger matrix products.

**The fast sequence functions.** :func:`lstm_forward` and :func:`lstm_backward` compute the
same equations as the step functions :func:`_lstm_cell` and :func:`_lstm_cell_backward` (which
read like the equations and serve :func:`lstm_step_forward` / :func:`lstm_step_backward`), but
arranged for speed (chapter 2, *Making the scratch LSTM fast*):

* column-wise storage, time first: a step works on ``(features, N)`` blocks, e.g. ``W_hh h_{t-1}``
  is ``W_hh @ h_prev`` with ``h_prev`` of shape ``(H, N)``, as in the book's equations. Then each
  gate is a block of *rows*, one contiguous piece of memory, and NumPy processes it in one sweep
  (a block of columns of an ``(N, 4H)`` array is N separate pieces);
* preallocated arrays written in place (``out=``), no ``np.concatenate`` in the loop, float32 kept;
* in the backward pass, the three weight gradients are one matrix product per step with the
  notes' concatenation ``z_t = [h_{t-1}; x_t; 1]``: ``d_a z_tᵀ`` holds ``dW_hh``, ``dW_ih`` and
  ``db`` side by side, and ``[W_hh | W_ih | b]ᵀ d_a`` gives ``∂L/∂h_{t-1}`` and ``∂L/∂x_t`` at once.
  (Gathering every step's ``d_a`` for one product after the loop, as hoisting would, needs a
  transposed copy of all of them, which costs more than it saves at the lab's sizes.)

The batch-first arrays they return (``out``, the cache's ``h``, ``c``, ``gates``, ``tanh_c``) are
*views* of that storage, as ``nn.LSTM(batch_first=True)``'s output is: right shape, not C-contiguous.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from rnnbook.scratch._validate import as_float_array, as_grad, check_shape, prepare_inputs
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
    z : (T + 1, H + D + 1, N) or None: the column-wise inputs of every step, ``z[t] = [h_{t-1}; x_t; 1]``
        (:func:`lstm_forward` writes ``h_t`` into ``z[t + 1]``; ``h`` is a view of it). None: rebuilt
        from ``h0``, ``h`` and ``x`` when needed.
    """

    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    h: np.ndarray
    c: np.ndarray
    gates: np.ndarray
    tanh_c: np.ndarray
    p: dict
    z: np.ndarray | None = None


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
    if state is None:
        state = (None, None)
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise ValueError(f"the state must be a pair ({state_names[0]}, {state_names[1]}) of (N, H) arrays or None; got {type(state).__name__}")
    x, states, p = prepare_inputs(x, dict(zip(state_names, state)), p, gates=4, kind="LSTM", x_ndim=x_ndim, x_name=x_name)
    return x, states, p


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
    out : (N, T, H) hidden states ``h_1 … h_T`` (``nn.LSTM(batch_first=True)``'s output). A view
        of column-wise storage (see the module's docstring): ``np.ascontiguousarray(out)`` if you
        need a compact copy.
    (h_T, c_T) : (N, H) each.
    cache : :class:`LSTMCache` for :func:`lstm_backward`.
    """
    x, (h0, c0), p = _prepare(x, state, p, x_ndim=3)
    N, T, D = x.shape
    H = p["weight_hh"].shape[1]
    dtype = x.dtype
    # Column-wise, time first: z[t] = [h_{t-1}; x_t; 1] (the notes' [h_{t-1}, x_t], plus a 1 for the
    # bias), one column per sequence. The loop writes h_t straight into z[t + 1].
    z = np.empty((T + 1, H + D + 1, N), dtype=dtype)
    z[0, :H] = h0.T
    z[:T, H : H + D] = x.transpose(1, 2, 0)
    z[T, H : H + D] = 0  # no x_{T+1}
    z[:, H + D] = 1
    # Hoisted out of the loop: W_ih x_t + b for every t, as [W_ih | b] [x_t; 1], written straight into
    # the gates' array, where each step adds W_hh h_{t-1} and squashes the sum in place.
    W_ih_b = np.concatenate([p["weight_ih"], (p["bias_ih"] + p["bias_hh"])[:, None]], axis=1)
    gates = np.matmul(W_ih_b, z[:T, H:])  # (T, 4H, N)
    c = np.empty((T + 1, H, N), dtype=dtype)  # c[t] is C_{t-1}: c[0] = c0
    c[0] = c0.T
    tanh_c = np.empty((T, H, N), dtype=dtype)
    W_hh = p["weight_hh"]
    hh = np.empty((4 * H, N), dtype=dtype)
    ig = np.empty((H, N), dtype=dtype)
    for t in range(T):
        a = gates[t]  # W_ih x_t + b for the four gates, rows i, f, g, o
        a += np.matmul(W_hh, z[t, :H], out=hh)  # + W_hh h_{t-1}: the four pre-activations
        i_t, f_t, g_t, o_t = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        sigmoid(a[: 2 * H], out=a[: 2 * H])  # eq-lstm-input and eq-lstm-forget: adjacent rows, one call
        tanh(g_t, out=g_t)  # eq-lstm-candidate
        sigmoid(o_t, out=o_t)  # eq-lstm-output
        c_t = np.multiply(f_t, c[t], out=c[t + 1])
        c_t += np.multiply(i_t, g_t, out=ig)  # eq-lstm-cell
        np.multiply(o_t, tanh(c_t, out=tanh_c[t]), out=z[t + 1, :H])  # eq-lstm-hidden
    h_T, c_T = z[T, :H].T.copy(), c[T].T.copy()
    h = z[1:, :H].transpose(2, 0, 1)  # batch-first views (N, T, ·)
    cache = LSTMCache(
        x=x, h0=h0, c0=c0, h=h, c=c[1:].transpose(2, 0, 1), gates=gates.transpose(2, 0, 1),
        tanh_c=tanh_c.transpose(2, 0, 1), p=p, z=z,
    )
    return h, (h_T, c_T), cache


def _columns(a):
    """(N, T, F) → (T, F, N): the column-wise layout; no copy for the views lstm_forward returns."""
    return np.ascontiguousarray(a.transpose(1, 2, 0))


def _lstm_bptt(d_out, cache: LSTMCache, d_h_T=None, d_c_T=None):
    """Full BPTT; returns the gradients and every total ∂L/∂h_t and ∂L/∂C_t, each (N, T, H).

    The chain rule of :func:`_lstm_cell_backward`, column-wise and in place (see the module's docstring).
    """
    if not isinstance(cache, LSTMCache):
        raise ValueError(f"cache must be the LSTMCache returned by lstm_forward; got {type(cache).__name__}")
    N, T, H = cache.h.shape
    D = cache.x.shape[2]
    dtype = cache.h.dtype
    d_out = as_grad("d_out", d_out, (N, T, H), "(N, T, H)", dtype)
    dh_next = np.zeros((H, N), dtype=dtype)  # ∂L/∂h_t arriving from step t + 1
    dc_next = np.zeros((H, N), dtype=dtype)  # ∂L/∂C_t arriving from step t + 1
    if d_h_T is not None:
        dh_next += as_grad("d_h_T", d_h_T, (N, H), "(N, H)", dtype).T
    if d_c_T is not None:
        dc_next += as_grad("d_c_T", d_c_T, (N, H), "(N, H)", dtype).T
    d_out = _columns(d_out)  # (T, H, N)
    gates, c, tanh_c = (_columns(a) for a in (cache.gates, cache.c, cache.tanh_c))
    z = cache.z
    if z is None:  # a cache not made by lstm_forward: rebuild [h_{t-1}; x_t; 1]
        z = np.ones((T + 1, H + D + 1, N), dtype=dtype)
        z[0, :H], z[1:, :H] = cache.h0.T, _columns(cache.h)
        z[:T, H : H + D], z[T, H : H + D] = _columns(cache.x), 0
    p = cache.p
    # [W_hh | W_ih | b]ᵀ maps d_a to the gradients at z[t] = [h_{t-1}; x_t; 1] in one product (stored
    # transposed, C-contiguous: a little faster than the transposed view).
    W_cat_T = np.ascontiguousarray(np.concatenate([p["weight_hh"], p["weight_ih"], (p["bias_ih"] + p["bias_hh"])[:, None]], axis=1).T)
    dW_cat = np.zeros((4 * H, H + D + 1), dtype=dtype)  # [dW_hh | dW_ih | db], summed over t
    dz = np.empty((T, H + D + 1, N), dtype=dtype)  # ∂L/∂z[t]: rows :H are ∂L/∂h_{t-1}, rows H:H+D ∂L/∂x_t
    delta_h = np.empty((T, H, N), dtype=dtype)  # total ∂L/∂h_t
    delta_c = np.empty((T, H, N), dtype=dtype)  # total ∂L/∂C_t
    d_a = np.empty((4 * H, N), dtype=dtype)  # ∂L/∂(pre-activations) of one step, rows i, f, g, o
    d_if, d_i, d_f, d_g, d_o = d_a[: 2 * H], d_a[:H], d_a[H : 2 * H], d_a[2 * H : 3 * H], d_a[3 * H :]
    work = np.empty((2 * H, N), dtype=dtype)  # room for the activations' derivatives
    c0 = cache.c0.T
    for t in reversed(range(T)):
        if_t, i_t, f_t, g_t, o_t = gates[t, : 2 * H], *(gates[t, k * H : (k + 1) * H] for k in range(4))
        c_prev = c[t - 1] if t else c0
        dh = np.add(d_out[t], dh_next, out=delta_h[t])  # ∂L/∂h_t: from its own loss and from step t + 1
        dc = np.multiply(dh, o_t, out=delta_c[t])  # ∂L/∂C_t: through h_t = o_t ⊙ tanh(C_t) ...
        dc *= np.subtract(1, np.square(tanh_c[t], out=work[:H]), out=work[:H])  # ... tanh' = 1 − tanh²(C_t) ...
        dc += dc_next  # ... and from C_{t+1}
        np.multiply(dc, g_t, out=d_i)  # ∂L/∂i_t = dc ⊙ C̃_t
        np.multiply(dc, c_prev, out=d_f)  # ∂L/∂f_t = dc ⊙ C_{t-1}
        d_if *= np.multiply(if_t, np.subtract(1, if_t, out=work), out=work)  # σ' = s (1 − s), i and f at once
        np.multiply(dc, i_t, out=d_g)  # ∂L/∂C̃_t = dc ⊙ i_t
        d_g *= np.subtract(1, np.square(g_t, out=work[:H]), out=work[:H])  # tanh' = 1 − C̃_t²
        np.multiply(dh, tanh_c[t], out=d_o)  # ∂L/∂o_t = dh ⊙ tanh(C_t)
        d_o *= np.multiply(o_t, np.subtract(1, o_t, out=work[:H]), out=work[:H])  # σ'
        np.multiply(dc, f_t, out=dc_next)  # eq-lstm-cell-grad: ∂C_t/∂C_{t-1} = diag(f_t)
        np.matmul(W_cat_T, d_a, out=dz[t])  # ∂L/∂h_{t-1} and ∂L/∂x_t in one product
        dh_next = dz[t, :H]
        dW_cat += d_a @ z[t].T  # [dW_hh | dW_ih | db] += d_a [h_{t-1}; x_t; 1]ᵀ
    db = dW_cat[:, H + D].copy()
    grads = {
        "weight_ih": dW_cat[:, H : H + D].copy(),
        "weight_hh": dW_cat[:, :H].copy(),
        "bias_ih": db,
        "bias_hh": db.copy(),
        "x": np.ascontiguousarray(dz[:, H : H + D].transpose(2, 0, 1)),
        "h0": np.ascontiguousarray(dh_next.T),
        "c0": np.ascontiguousarray(dc_next.T),
    }
    return grads, delta_h.transpose(2, 0, 1), delta_c.transpose(2, 0, 1)


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
