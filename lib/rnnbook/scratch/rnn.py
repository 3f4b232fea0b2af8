"""The vanilla (Elman) RNN in NumPy: forward, output layer and full BPTT.

Equations (Section 1.1, *The recurrence*, and Section 1.2, *Backpropagation through time*)::

    a_t = W_xh x_t + b_xh + W_hh h_{t-1} + b_hh        (pre-activation)
    h_t = tanh(a_t)                                    (eq-rnn-hidden)
    y_t = W_hy h_t + b_y,   ŷ_t = σ(y_t)               (eq-rnn-output)

The book writes column vectors (``W_hh h_{t-1}``); the code stores a batch as
rows, so the same product reads ``h_prev @ W_hh.T``. Parameters use PyTorch's
names: ``weight_ih`` is the book's ``W_xh`` (the notes' ``W_{xh}`` or
``W_{hx}``), ``weight_hh`` is ``W_hh``, and the bias ``b_h`` is split into
``bias_ih + bias_hh`` as in ``nn.RNN``; only their sum matters.

Shapes are batch-first: ``x (N, T, D)``, states ``(N, H)``, outputs ``(N, T, H)``.
:func:`rnn_cell` and :func:`rnn_cell_backward` are one step, written like the
equations, with no argument checking. The checked functions (:func:`rnn_step_forward`,
:func:`rnn_forward` …) check their arguments once (``_validate``), then call them;
each sequence function loops the cell, as in CS231n's ``rnn_layers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from rnnbook.scratch import _validate
from rnnbook.scratch.activations import sigmoid, tanh


@dataclass
class RNNCache:
    """What :func:`rnn_backward` needs from :func:`rnn_forward`.

    Attributes
    ----------
    x : (N, T, D) inputs.
    h0 : (N, H) initial state.
    h : (N, T, H) hidden states ``h_1 … h_T`` (the output ``out``).
    p : the parameter dict, in the computation's dtype.
    steps : the T caches of :func:`rnn_cell`, one per step (``steps[t]`` for the book's step t + 1).
    """

    x: np.ndarray
    h0: np.ndarray
    h: np.ndarray
    p: dict
    steps: list = field(default_factory=list, repr=False)


# --------------------------------------------------------------------------- one step: the equations


def rnn_cell(x_t, h_prev, p):
    """One step of the RNN, eq-rnn-hidden: ``h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)``.

    No argument checking: this is the equation as code (:func:`rnn_step_forward` checks, then calls it).
    ``x_t (N, D)``, ``h_prev (N, H)``; ``p`` as in :func:`rnn_forward`. Rows are the batch, so the
    book's ``W_hh h_{t-1}`` reads ``h_prev @ W_hh.T``. Returns ``h_t (N, H)`` and the cache for
    :func:`rnn_cell_backward`.
    """
    a_t = x_t @ p["weight_ih"].T + p["bias_ih"] + h_prev @ p["weight_hh"].T + p["bias_hh"]
    h_t = tanh(a_t)  # eq-rnn-hidden
    cache_t = (x_t, h_prev, h_t, p)
    return h_t, cache_t


def rnn_cell_backward(dh_t, cache_t):
    """Backward of :func:`rnn_cell`: eq-bptt-preact, then this step's share of eq-bptt-param-grads.

    ``dh_t (N, H)`` is the total gradient reaching ``h_t``. Returns ``grads_t``, a dict with this
    step's ``weight_ih (H, D)``, ``weight_hh (H, H)``, ``bias_ih``, ``bias_hh (H,)`` and ``x (N, D)``,
    and ``dh_prev (N, H)``, the gradient passed back to ``h_{t-1}``. No argument checking.
    """
    x_t, h_prev, h_t, p = cache_t
    da_t = dh_t * (1 - h_t**2)  # eq-bptt-preact: through tanh, tanh' = 1 - h_t²
    grads_t = {
        "weight_ih": da_t.T @ x_t,  # eq-bptt-param-grads, this step's term
        "weight_hh": da_t.T @ h_prev,
        "bias_ih": da_t.sum(axis=0),
        "bias_hh": da_t.sum(axis=0),  # both biases enter only through their sum
        "x": da_t @ p["weight_ih"],
    }
    dh_prev = da_t @ p["weight_hh"]
    return grads_t, dh_prev


# --------------------------------------------------------------------------- one step, checked


def rnn_step_forward(x_t, h_prev, p: Mapping[str, np.ndarray]):
    """One checked step of the RNN: :func:`rnn_cell` after checking the arguments (eq-rnn-hidden).

    Parameters
    ----------
    x_t : (N, D) inputs at time t.
    h_prev : (N, H) previous hidden state ``h_{t-1}``, or None for zeros.
    p : parameters ``weight_ih (H, D)``, ``weight_hh (H, H)``, ``bias_ih (H,)``, ``bias_hh (H,)``.

    Returns
    -------
    h_t : (N, H) next hidden state, in the dtype of the inputs (float32 in, float32 out).
    cache : for :func:`rnn_step_backward` (the cache of :func:`rnn_cell`).
    """
    x_t, h_prev, p = _validate.rnn_inputs(x_t, h_prev, p, step=True)
    return rnn_cell(x_t, h_prev, p)


def rnn_step_backward(dh_t, cache) -> dict[str, np.ndarray]:
    """Backward of one checked RNN step: eq-bptt-preact and this step's share of eq-bptt-param-grads.

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
    dh_t = _validate.step_grad("dh_t", dh_t, like=cache[1])
    grads_t, dh_prev = rnn_cell_backward(dh_t, cache)
    return {**grads_t, "h_prev": dh_prev}


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
    x, h0, p = _validate.rnn_inputs(x, h0, p)
    N, T, _ = x.shape
    out = np.empty((N, T, h0.shape[1]), dtype=x.dtype)  # h_1 … h_T
    h_t = h0
    steps = []  # the cache of every step, for rnn_backward
    for t in range(T):
        h_t, cache_t = rnn_cell(x[:, t], h_t, p)
        out[:, t] = h_t
        steps.append(cache_t)
    return out, h_t, RNNCache(x=x, h0=h0, h=out, p=p, steps=steps)


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
    d_out, dh_next = _validate.backward_inputs(d_out, cache, RNNCache, "rnn_forward", d_h_T=d_h_T)
    grads = {k: np.zeros_like(w) for k, w in cache.p.items()}
    grads["x"] = np.empty_like(cache.x)
    for t in reversed(range(len(cache.steps))):
        delta_t = d_out[:, t] + dh_next  # eq-bptt-delta: from h_t's own loss and from h_{t+1}
        grads_t, dh_next = rnn_cell_backward(delta_t, cache.steps[t])
        for k in cache.p:
            grads[k] += grads_t[k]  # eq-bptt-param-grads: the same weights act at every step
        grads["x"][:, t] = grads_t["x"]
    grads["h0"] = dh_next
    return grads


def bptt_hidden_grads(d_out, cache: RNNCache, d_h_T=None) -> np.ndarray:
    """Every ``δ_t = ∂L/∂h_t`` of the recursion eq-bptt-delta, for t = 1 … T.

    Same arguments as :func:`rnn_backward`. Returns an array of shape ``(N, T, H)``:
    ``δ[:, t-1]`` is the *total* gradient reaching ``h_t``, from its own output and
    from all later steps. Its norm against t is the vanishing/exploding-gradient plot.
    """
    d_out, dh_next = _validate.backward_inputs(d_out, cache, RNNCache, "rnn_forward", d_h_T=d_h_T)
    delta = np.empty_like(d_out)
    for t in reversed(range(len(cache.steps))):
        delta[:, t] = d_out[:, t] + dh_next  # eq-bptt-delta
        _, dh_next = rnn_cell_backward(delta[:, t], cache.steps[t])
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
    h, W_hy, b_y = _validate.output_inputs(h, W_hy, b_y, activation)
    y = h @ W_hy.T + b_y  # eq-rnn-output: the logit
    return sigmoid(y) if activation == "sigmoid" else y  # ŷ_t = σ(y_t), or y_t itself
