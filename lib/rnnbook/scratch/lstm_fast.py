"""The LSTM in NumPy, arranged for speed: the same equations as :mod:`rnnbook.scratch.lstm`.

:func:`lstm_forward_fast` and :func:`lstm_backward_fast` take the same arguments and return the
same things as :func:`~rnnbook.scratch.lstm.lstm_forward` and :func:`~rnnbook.scratch.lstm.lstm_backward`,
which loop the readable one-step functions :func:`~rnnbook.scratch.lstm.lstm_cell` and
:func:`~rnnbook.scratch.lstm.lstm_cell_backward`. The tests check that both give the same numbers
(and the same as ``nn.LSTM`` and autograd). Section 2.3, *Making the scratch LSTM fast*, explains
these choices, and the NumPy classifier of Section 7.3 uses these functions:

* **hoisting**: the input term ``W_ih x_t + b`` does not depend on the previous state, so it is
  computed for every step in *one* matrix product before the time loop. Only the recurrent
  product ``W_hh h_{t-1}`` stays inside the loop. Same equations, fewer and larger matrix products;
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

from rnnbook.scratch import _validate
from rnnbook.scratch.activations import sigmoid, tanh


@dataclass
class LSTMFastCache:
    """What :func:`lstm_backward_fast` needs from :func:`lstm_forward_fast`.

    Attributes
    ----------
    x : (N, T, D) inputs.   h0, c0 : (N, H) initial states.
    h, c : (N, T, H) hidden and cell states ``h_1 … h_T``, ``C_1 … C_T``.
    gates : (N, T, 4H) gate activations ``[i, f, g, o]`` after σ / tanh.
    tanh_c : (N, T, H) ``tanh(C_t)``.
    p : the parameter dict, in the computation's dtype.
    z : (T + 1, H + D + 1, N) or None: the column-wise inputs of every step, ``z[t] = [h_{t-1}; x_t; 1]``
        (:func:`lstm_forward_fast` writes ``h_t`` into ``z[t + 1]``; ``h`` is a view of it). None: rebuilt
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


def lstm_forward_fast(x, state, p: Mapping[str, np.ndarray]):
    """The LSTM over a sequence, eq-lstm-forget … eq-lstm-hidden at every step, column-wise and in place.

    Same arguments and results as :func:`rnnbook.scratch.lstm.lstm_forward`, except that the cache is
    an :class:`LSTMFastCache` (for :func:`lstm_backward_fast`) and that ``out`` is a view of column-wise
    storage (see the module's docstring): ``np.ascontiguousarray(out)`` if you need a compact copy.
    """
    x, (h0, c0), p = _validate.lstm_inputs(x, state, p)
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
    cache = LSTMFastCache(
        x=x, h0=h0, c0=c0, h=h, c=c[1:].transpose(2, 0, 1), gates=gates.transpose(2, 0, 1),
        tanh_c=tanh_c.transpose(2, 0, 1), p=p, z=z,
    )
    return h, (h_T, c_T), cache


def _columns(a):
    """(N, T, F) → (T, F, N): the column-wise layout; no copy for the views lstm_forward_fast returns."""
    return np.ascontiguousarray(a.transpose(1, 2, 0))


def _bptt_fast(d_out, cache: LSTMFastCache, d_h_T=None, d_c_T=None):
    """Full BPTT; returns the gradients and every total ∂L/∂h_t and ∂L/∂C_t, each (N, T, H).

    The chain rule of :func:`rnnbook.scratch.lstm.lstm_cell_backward`, column-wise and in place
    (see the module's docstring).
    """
    d_out, d_h_T, d_c_T = _validate.backward_inputs(d_out, cache, LSTMFastCache, "lstm_forward_fast", d_h_T=d_h_T, d_c_T=d_c_T)
    N, T, H = cache.h.shape
    D = cache.x.shape[2]
    dtype = cache.h.dtype
    dh_next = d_h_T.T.copy()  # ∂L/∂h_t arriving from step t + 1, (H, N)
    dc_next = d_c_T.T.copy()  # ∂L/∂C_t arriving from step t + 1, (H, N)
    d_out = _columns(d_out)  # (T, H, N)
    gates, c, tanh_c = (_columns(a) for a in (cache.gates, cache.c, cache.tanh_c))
    z = cache.z
    if z is None:  # a cache not made by lstm_forward_fast: rebuild [h_{t-1}; x_t; 1]
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


def lstm_backward_fast(d_out, cache: LSTMFastCache, d_h_T=None, d_c_T=None) -> dict[str, np.ndarray]:
    """BPTT for :func:`lstm_forward_fast`, including eq-lstm-cell-grad, column-wise and in place.

    Same arguments and results as :func:`rnnbook.scratch.lstm.lstm_backward`, with the
    :class:`LSTMFastCache` of :func:`lstm_forward_fast`.
    """
    grads, _, _ = _bptt_fast(d_out, cache, d_h_T, d_c_T)
    return grads


def lstm_hidden_grads_fast(d_out, cache: LSTMFastCache, d_h_T=None, d_c_T=None):
    """The total gradients ``∂L/∂h_t`` and ``∂L/∂C_t`` (each (N, T, H)), as :func:`rnnbook.scratch.lstm.lstm_hidden_grads`."""
    _, delta_h, delta_c = _bptt_fast(d_out, cache, d_h_T, d_c_T)
    return delta_h, delta_c
