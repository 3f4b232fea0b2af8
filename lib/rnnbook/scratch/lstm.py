"""The LSTM in NumPy: forward and full BPTT, in PyTorch's layout (gates i, f, g, o).

Equations (Section 2.1, *Gates*), in the notes' order; ``[h_{t-1}, x_t]`` is the
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

:func:`lstm_cell` and :func:`lstm_cell_backward` are one step, written like the
equations, with no argument checking. The sequence functions :func:`lstm_forward`
and :func:`lstm_backward` check their arguments once and loop them, as the RNN and
the GRU do. The same computation arranged for speed (Section 2.3) is
:mod:`rnnbook.scratch.lstm_fast`; the tests check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

import numpy as np

from rnnbook.scratch import _validate
from rnnbook.scratch.activations import sigmoid, tanh


@dataclass
class LSTMCache:
    """What :func:`lstm_backward` needs from :func:`lstm_forward`.

    Attributes
    ----------
    x : (N, T, D) inputs.   h0, c0 : (N, H) initial states.
    h : (N, T, H) hidden states ``h_1 … h_T`` (the output ``out``).
    p : the parameter dict, in the computation's dtype.
    steps : the T caches of :func:`lstm_cell`, one per step.

    Read from the steps (properties): ``c (N, T, H)``, the cell states ``C_1 … C_T``;
    ``gates (N, T, 4H)``, the gate activations ``[i, f, g, o]`` after σ / tanh;
    ``tanh_c (N, T, H)``, ``tanh(C_t)``.
    """

    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    h: np.ndarray
    p: dict
    steps: list = field(default_factory=list, repr=False)

    def _stack(self, pick, width: int) -> np.ndarray:
        N, T, H = self.h.shape
        if not self.steps:
            return np.empty((N, 0, width * H), dtype=self.h.dtype)
        return np.stack([pick(s) for s in self.steps], axis=1)

    # Stacked once, on first use (a loop over t that reads cache.gates[:, t] must not stack T times).
    @cached_property
    def c(self) -> np.ndarray:
        return self._stack(lambda s: s[7], 1)

    @cached_property
    def gates(self) -> np.ndarray:
        return self._stack(lambda s: np.concatenate(s[3:7], axis=1), 4)

    @cached_property
    def tanh_c(self) -> np.ndarray:
        return tanh(self.c)


# --------------------------------------------------------------------------- one step: the equations


def lstm_cell(x_t, state, p):
    """One LSTM step: eq-lstm-forget, eq-lstm-input, eq-lstm-candidate, eq-lstm-cell, eq-lstm-output, eq-lstm-hidden.

    No argument checking: this is the six equations as code (:func:`lstm_step_forward` checks, then
    calls it). ``x_t (N, D)``; ``state = (h_prev, c_prev)``, each (N, H); ``p`` as in
    :func:`lstm_forward`. Returns ``(h_t, c_t)`` and the cache for :func:`lstm_cell_backward`.
    """
    h_prev, c_prev = state
    a = x_t @ p["weight_ih"].T + p["bias_ih"] + h_prev @ p["weight_hh"].T + p["bias_hh"]  # (N, 4H)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # the four gates' pre-activations, PyTorch's order
    f_t = sigmoid(a_f)  # eq-lstm-forget
    i_t = sigmoid(a_i)  # eq-lstm-input
    g_t = tanh(a_g)  # eq-lstm-candidate (the notes' C̃_t)
    c_t = f_t * c_prev + i_t * g_t  # eq-lstm-cell
    o_t = sigmoid(a_o)  # eq-lstm-output
    h_t = o_t * tanh(c_t)  # eq-lstm-hidden
    cache_t = (x_t, h_prev, c_prev, i_t, f_t, g_t, o_t, c_t, p)
    return (h_t, c_t), cache_t


def lstm_cell_backward(d_state, cache_t):
    """Backward of :func:`lstm_cell`: the chain rule through the six equations, with eq-lstm-cell-grad.

    ``d_state = (dh_t, dc_t)``: the total gradient reaching ``h_t`` and the gradient reaching ``C_t``
    from step t + 1, each (N, H). Returns ``grads_t``, a dict with this step's ``weight_ih (4H, D)``,
    ``weight_hh (4H, H)``, ``bias_ih``, ``bias_hh (4H,)`` and ``x (N, D)``, and ``(dh_prev, dc_prev)``,
    the gradients passed back to ``h_{t-1}`` and ``C_{t-1}``. No argument checking.
    """
    dh_t, dc_t = d_state
    x_t, h_prev, c_prev, i_t, f_t, g_t, o_t, c_t, p = cache_t
    tanh_c = tanh(c_t)
    do = dh_t * tanh_c  # from h_t = o_t ⊙ tanh(C_t)
    dc = dc_t + dh_t * o_t * (1 - tanh_c**2)  # total ∂L/∂C_t: from C_{t+1} and from h_t
    di, df, dg = dc * g_t, dc * c_prev, dc * i_t  # from C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t
    dc_prev = dc * f_t  # eq-lstm-cell-grad: ∂C_t/∂C_{t-1} = diag(f_t)
    # Through σ (σ' = s(1 − s)) and tanh (tanh' = 1 − g²), back in PyTorch's order i, f, g, o:
    da = np.concatenate([di * i_t * (1 - i_t), df * f_t * (1 - f_t), dg * (1 - g_t**2), do * o_t * (1 - o_t)], axis=1)
    grads_t = {
        "weight_ih": da.T @ x_t,
        "weight_hh": da.T @ h_prev,
        "bias_ih": da.sum(axis=0),
        "bias_hh": da.sum(axis=0),
        "x": da @ p["weight_ih"],
    }
    dh_prev = da @ p["weight_hh"]
    return grads_t, (dh_prev, dc_prev)


# --------------------------------------------------------------------------- one step, checked


def lstm_step_forward(x_t, state, p: Mapping[str, np.ndarray]):
    """One checked LSTM step: :func:`lstm_cell` after checking the arguments.

    Computes eq-lstm-forget, eq-lstm-input, eq-lstm-candidate, eq-lstm-cell, eq-lstm-output, eq-lstm-hidden.

    Parameters
    ----------
    x_t : (N, D) inputs at time t.
    state : ``(h_prev, c_prev)``, each (N, H), or None for zeros.
    p : ``weight_ih (4H, D)``, ``weight_hh (4H, H)``, ``bias_ih (4H,)``, ``bias_hh (4H,)``; gates i, f, g, o.

    Returns
    -------
    (h_t, c_t) : (N, H) each, in the inputs' dtype.
    cache : for :func:`lstm_step_backward` (the cache of :func:`lstm_cell`).
    """
    x_t, state, p = _validate.lstm_inputs(x_t, state, p, step=True)
    return lstm_cell(x_t, state, p)


def lstm_step_backward(dh_t, dc_t, cache) -> dict[str, np.ndarray]:
    """Backward of one checked LSTM step (the chain rule through the six equations).

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
    h_prev = cache[1]
    dh_t = _validate.step_grad("dh_t", dh_t, like=h_prev)
    dc_t = _validate.step_grad("dc_t", dc_t, like=h_prev, allow_none=True)
    grads_t, (dh_prev, dc_prev) = lstm_cell_backward((dh_t, dc_t), cache)
    return {**grads_t, "h_prev": dh_prev, "c_prev": dc_prev}


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

    :func:`rnnbook.scratch.lstm_fast.lstm_forward_fast` computes the same, faster.
    """
    x, (h0, c0), p = _validate.lstm_inputs(x, state, p)
    N, T, _ = x.shape
    out = np.empty((N, T, h0.shape[1]), dtype=x.dtype)  # h_1 … h_T
    h_t, c_t = h0, c0
    steps = []  # the cache of every step, for lstm_backward
    for t in range(T):
        (h_t, c_t), cache_t = lstm_cell(x[:, t], (h_t, c_t), p)
        out[:, t] = h_t
        steps.append(cache_t)
    return out, (h_t, c_t), LSTMCache(x=x, h0=h0, c0=c0, h=out, p=p, steps=steps)


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
    d_out, dh_next, dc_next = _validate.backward_inputs(d_out, cache, LSTMCache, "lstm_forward", d_h_T=d_h_T, d_c_T=d_c_T)
    grads = {k: np.zeros_like(w) for k, w in cache.p.items()}
    grads["x"] = np.empty_like(cache.x)
    for t in reversed(range(len(cache.steps))):
        dh_t = d_out[:, t] + dh_next  # from h_t's own loss and from step t + 1
        grads_t, (dh_next, dc_next) = lstm_cell_backward((dh_t, dc_next), cache.steps[t])
        for k in cache.p:
            grads[k] += grads_t[k]  # the same weights act at every step: their gradients add up
        grads["x"][:, t] = grads_t["x"]
    grads["h0"], grads["c0"] = dh_next, dc_next
    return grads


def lstm_hidden_grads(d_out, cache: LSTMCache, d_h_T=None, d_c_T=None):
    """The total gradients ``∂L/∂h_t`` and ``∂L/∂C_t`` for t = 1 … T, each (N, T, H).

    Same arguments as :func:`lstm_backward`. Both are *total* gradients: ``∂L/∂C_t``
    collects what arrives through ``C_{t+1}`` (the cell-state path of eq-lstm-cell-grad,
    a factor ``f_{t+1}``) and through ``h_t = o_t ⊙ tanh(C_t)``.
    """
    d_out, dh_next, dc_next = _validate.backward_inputs(d_out, cache, LSTMCache, "lstm_forward", d_h_T=d_h_T, d_c_T=d_c_T)
    delta_h, delta_c = np.empty_like(d_out), np.empty_like(d_out)
    for t in reversed(range(len(cache.steps))):
        o_t, c_t = cache.steps[t][6:8]
        delta_h[:, t] = d_out[:, t] + dh_next  # total ∂L/∂h_t
        delta_c[:, t] = dc_next + delta_h[:, t] * o_t * (1 - tanh(c_t) ** 2)  # total ∂L/∂C_t, as in lstm_cell_backward
        _, (dh_next, dc_next) = lstm_cell_backward((delta_h[:, t], dc_next), cache.steps[t])
    return delta_h, delta_c
