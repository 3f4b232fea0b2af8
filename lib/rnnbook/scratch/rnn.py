"""The vanilla (Elman) RNN in NumPy: forward, output layer and full BPTT.

Equations (chapter 1, *The recurrence* and *Backpropagation through time*)::

    a_t = W_xh x_t + b_xh + W_hh h_{t-1} + b_hh        (pre-activation)
    h_t = tanh(a_t)                                    (eq-rnn-hidden)
    y_t = W_hy h_t + b_y,   ŷ_t = σ(y_t)               (eq-rnn-output)

The book writes column vectors (``W_hh h_{t-1}``); the code stores a batch as
rows, so the same product reads ``h_prev @ W_hh.T``. Parameters use PyTorch's
names: ``weight_ih`` is the book's ``W_xh`` (the notes' ``W_{xh}`` or
``W_{hx}``), ``weight_hh`` is ``W_hh``, and the bias ``b_h`` is split into
``bias_ih + bias_hh`` as in ``nn.RNN``; only their sum matters.

Shapes are batch-first: ``x (N, T, D)``, states ``(N, H)``, outputs ``(N, T, H)``.
Each sequence function loops the step function, as in CS231n's ``rnn_layers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from rnnbook.scratch._validate import as_float_array, as_grad, check_shape, prepare_inputs
from rnnbook.scratch.activations import sigmoid, tanh, tanh_grad_from_output


@dataclass
class RNNCache:
    """What :func:`rnn_backward` needs from :func:`rnn_forward`.

    Attributes
    ----------
    x : (N, T, D) inputs.
    h0 : (N, H) initial state.
    h : (N, T, H) hidden states ``h_1 … h_T`` (the output ``out``).
    p : the parameter dict, in the computation's dtype.
    """

    x: np.ndarray
    h0: np.ndarray
    h: np.ndarray
    p: dict


# --------------------------------------------------------------------------- one step


def _step_forward(x_t, h_prev, W_xh, W_hh, b_h):
    a_t = x_t @ W_xh.T + h_prev @ W_hh.T + b_h  # W_xh x_t + W_hh h_{t-1} + b_h, rows as batch
    h_t = tanh(a_t)
    return h_t


def _step_backward(dh_t, x_t, h_prev, h_t, W_xh, W_hh):
    da_t = dh_t * tanh_grad_from_output(h_t)  # eq-bptt-preact: through tanh, 1 - h_t^2
    return {
        "x": da_t @ W_xh,
        "h_prev": da_t @ W_hh,
        "weight_ih": da_t.T @ x_t,
        "weight_hh": da_t.T @ h_prev,
        "bias": da_t.sum(axis=0),
    }


def _prepare(x, h0, p, *, x_ndim, x_name="x", h_name="h0"):
    x, (h0,), p = prepare_inputs(x, {h_name: h0}, p, gates=1, kind="RNN", x_ndim=x_ndim, x_name=x_name)
    return x, h0, p


def rnn_step_forward(x_t, h_prev, p: Mapping[str, np.ndarray]):
    """One step of the RNN: ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)``, eq-rnn-hidden.

    Parameters
    ----------
    x_t : (N, D) inputs at time t.
    h_prev : (N, H) previous hidden state ``h_{t-1}``, or None for zeros.
    p : parameters ``weight_ih (H, D)``, ``weight_hh (H, H)``, ``bias_ih (H,)``, ``bias_hh (H,)``.

    Returns
    -------
    h_t : (N, H) next hidden state, in the dtype of the inputs (float32 in, float32 out).
    cache : tuple for :func:`rnn_step_backward`.
    """
    x_t, h_prev, p = _prepare(x_t, h_prev, p, x_ndim=2, x_name="x_t", h_name="h_prev")
    h_t = _step_forward(x_t, h_prev, p["weight_ih"], p["weight_hh"], p["bias_ih"] + p["bias_hh"])
    return h_t, (x_t, h_prev, h_t, p)


def rnn_step_backward(dh_t, cache) -> dict[str, np.ndarray]:
    """Backward of one RNN step: eq-bptt-preact and this step's share of eq-bptt-param-grads.

    Parameters
    ----------
    dh_t : (N, H) gradient of the loss with respect to ``h_t``.
    cache : from :func:`rnn_step_forward`.

    Returns
    -------
    dict with ``x (N, D)``, ``h_prev (N, H)`` and the parameter gradients
    ``weight_ih (H, D)``, ``weight_hh (H, H)``, ``bias_ih (H,)``, ``bias_hh (H,)``
    (the two bias gradients are equal: both biases enter only through their sum).
    """
    x_t, h_prev, h_t, p = cache
    dh_t = as_float_array("dh_t", dh_t, ndim=2, dims="(N, H)")
    check_shape("dh_t", dh_t, h_t.shape, "(N, H)")
    g = _step_backward(dh_t.astype(h_t.dtype, copy=False), x_t, h_prev, h_t, p["weight_ih"], p["weight_hh"])
    b = g.pop("bias")
    return {**g, "bias_ih": b, "bias_hh": b.copy()}


# --------------------------------------------------------------------------- sequences


def rnn_forward(x, h0, p: Mapping[str, np.ndarray]):
    """Run the RNN over a whole sequence: eq-rnn-hidden at every step t = 1 … T.

    Parameters
    ----------
    x : (N, T, D) input sequences, batch first.
    h0 : (N, H) initial hidden state, or None for zeros.
    p : parameters in PyTorch's layout (see :func:`params_from_torch`),
        ``weight_ih (H, D)``, ``weight_hh (H, H)``, ``bias_ih (H,)``, ``bias_hh (H,)``.

    Returns
    -------
    out : (N, T, H) hidden states ``h_1 … h_T``, like ``nn.RNN(batch_first=True)``'s output.
    h_T : (N, H) last hidden state.
    cache : :class:`RNNCache` for :func:`rnn_backward`.

    The dtype of the result is NumPy's promotion of the inputs' dtypes: float32
    arrays in give float32 out.
    """
    x, h0, p = _prepare(x, h0, p, x_ndim=3)
    N, T, _ = x.shape
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    h = np.empty((N, T, H), dtype=x.dtype)
    h_prev = h0
    for t in range(T):
        h_prev = h[:, t] = _step_forward(x[:, t], h_prev, p["weight_ih"], p["weight_hh"], b)
    h_T = h[:, -1].copy() if T else h0.copy()
    return h, h_T, RNNCache(x=x, h0=h0, h=h, p=p)


def _bptt(d_out, cache: RNNCache, d_h_T=None):
    """Full backpropagation through time; returns the gradients and every δ_t = ∂L/∂h_t."""
    if not isinstance(cache, RNNCache):
        raise ValueError(f"cache must be the RNNCache returned by rnn_forward; got {type(cache).__name__}")
    x, h0, h, p = cache.x, cache.h0, cache.h, cache.p
    N, T, H = h.shape
    d_out = as_grad("d_out", d_out, (N, T, H), "(N, T, H)", h.dtype)
    dh_next = np.zeros((N, H), dtype=h.dtype)
    if d_h_T is not None:
        dh_next = dh_next + as_grad("d_h_T", d_h_T, (N, H), "(N, H)", h.dtype)

    grads = {
        "weight_ih": np.zeros_like(p["weight_ih"]),
        "weight_hh": np.zeros_like(p["weight_hh"]),
        "bias": np.zeros(H, dtype=h.dtype),
        "x": np.empty_like(x),
    }
    delta = np.empty_like(h)
    for t in reversed(range(T)):
        # eq-bptt-delta: the loss reaches h_t directly (d_out) and through h_{t+1}.
        delta[:, t] = d_out[:, t] + dh_next
        h_prev = h[:, t - 1] if t > 0 else h0
        g = _step_backward(delta[:, t], x[:, t], h_prev, h[:, t], p["weight_ih"], p["weight_hh"])
        # eq-bptt-param-grads: the same weights act at every step, so their gradients add up.
        grads["weight_ih"] += g["weight_ih"]
        grads["weight_hh"] += g["weight_hh"]
        grads["bias"] += g["bias"]
        grads["x"][:, t] = g["x"]
        dh_next = g["h_prev"]
    b = grads.pop("bias")
    grads.update(bias_ih=b, bias_hh=b.copy(), h0=dh_next)
    return grads, delta


def rnn_backward(d_out, cache: RNNCache, d_h_T=None) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`rnn_forward`: eq-bptt-delta, eq-bptt-preact, eq-bptt-param-grads.

    Parameters
    ----------
    d_out : (N, T, H) gradient of the loss with respect to every output ``h_t``
        (zeros where a step's output is not used by the loss).
    cache : :class:`RNNCache` from :func:`rnn_forward`.
    d_h_T : optional (N, H) gradient with respect to the returned ``h_T``, added
        to ``d_out[:, -1]`` (``h_T`` is the same array as ``out[:, -1]``).

    Returns
    -------
    dict of gradients with the keys of ``p`` (``weight_ih (H, D)``,
    ``weight_hh (H, H)``, ``bias_ih (H,)``, ``bias_hh (H,)``) plus
    ``x (N, T, D)`` and ``h0 (N, H)``.
    """
    grads, _ = _bptt(d_out, cache, d_h_T)
    return grads


def bptt_hidden_grads(d_out, cache: RNNCache, d_h_T=None) -> np.ndarray:
    """Every ``δ_t = ∂L/∂h_t`` of the recursion eq-bptt-delta, for t = 1 … T.

    Same arguments as :func:`rnn_backward`. Returns an array of shape ``(N, T, H)``:
    ``δ[:, t-1]`` is the *total* gradient reaching ``h_t``, from its own output and
    from all later steps. Its norm against t is the vanishing/exploding-gradient plot.
    """
    _, delta = _bptt(d_out, cache, d_h_T)
    return delta


# --------------------------------------------------------------------------- output layer


def rnn_output(h, W_hy, b_y, activation: str = "sigmoid") -> np.ndarray:
    """The output layer eq-rnn-output: ``y_t = W_hy h_t + b_y``, then ``ŷ_t = σ(y_t)`` or nothing.

    One note writes ``ŷ_t = σ(W_hy h_t + b_y)``, a probability, right for a binary
    label such as sentiment; the other writes ``y_t = W_hy h_t + b_y``, a real
    number, right for regression or as the *logit* that a numerically stable
    loss takes (``BCEWithLogitsLoss``).

    Parameters
    ----------
    h : (..., H) hidden states, e.g. ``(N, H)`` or ``(N, T, H)``.
    W_hy : (K, H) output weights.
    b_y : (K,) output bias.
    activation : ``"sigmoid"`` (probabilities) or ``"linear"`` (logits / scores).

    Returns
    -------
    (..., K) array in the promoted dtype of the inputs.
    """
    if activation not in ("sigmoid", "linear"):
        raise ValueError(f"activation must be 'sigmoid' or 'linear'; got {activation!r}")
    h = np.asarray(h)
    if h.ndim < 1:
        raise ValueError(f"h must have shape (..., H); got a scalar of shape {h.shape}")
    h = as_float_array("h", h, ndim=h.ndim, dims="(..., H)")
    W_hy = as_float_array("W_hy", W_hy, ndim=2, dims="(K, H)")
    if W_hy.shape[1] != h.shape[-1]:
        raise ValueError(f"W_hy must have shape (K, H) with H = {h.shape[-1]} (the last axis of h); got {W_hy.shape}")
    b_y = as_float_array("b_y", b_y, ndim=1, dims="(K,)")
    check_shape("b_y", b_y, (W_hy.shape[0],), "(K,)")
    y = h @ W_hy.T + b_y
    return sigmoid(y) if activation == "sigmoid" else y
