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

:func:`gru_cell` and :func:`gru_cell_backward` are one step, written like the
equations, with no argument checking; the checked step and sequence functions
check their arguments once, then call them (the sequence functions in a loop over t).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

import numpy as np

from rnnbook.scratch import _validate
from rnnbook.scratch._validate import VARIANTS, check_params
from rnnbook.scratch.activations import sigmoid, tanh


@dataclass
class GRUCache:
    """What :func:`gru_backward` needs from :func:`gru_forward`.

    Attributes
    ----------
    x : (N, T, D).  h0 : (N, H).  h : (N, T, H) states ``h_1 … h_T``.
    p : parameters, in the computation's dtype.   variant : ``"torch"`` or ``"seed"``.
    steps : the T caches of :func:`gru_cell`, one per step.

    Read from the steps (properties), each (N, T, H): ``r``, ``z``, ``n``, the reset gate, the update
    gate and the candidate; ``hn``, ``W_hn h_{t-1} + b_hn`` (torch) or ``W_hn (r_t ⊙ h_{t-1})`` (seed).
    """

    x: np.ndarray
    h0: np.ndarray
    h: np.ndarray
    p: dict
    variant: str
    steps: list = field(default_factory=list, repr=False)

    def _stack(self, k: int) -> np.ndarray:
        if not self.steps:
            return np.empty_like(self.h)
        return np.stack([s[k] for s in self.steps], axis=1)

    # Stacked once, on first use.
    @cached_property
    def r(self) -> np.ndarray:
        """(N, T, H) reset gates r_t."""
        return self._stack(2)

    @cached_property
    def z(self) -> np.ndarray:
        """(N, T, H) update gates z_t."""
        return self._stack(3)

    @cached_property
    def n(self) -> np.ndarray:
        """(N, T, H) candidates (n_t, or the notes' h̃_t)."""
        return self._stack(4)

    @cached_property
    def hn(self) -> np.ndarray:
        """(N, T, H) the recurrent term of the candidate."""
        return self._stack(5)


# --------------------------------------------------------------------------- one step: the equations


def gru_cell(x_t, h_prev, p, variant="torch"):
    """One GRU step: eq-gru-reset, eq-gru-update, then eq-gru-torch-candidate and eq-gru-torch-hidden
    (``variant="torch"``) or eq-gru-candidate and eq-gru-hidden (``variant="seed"``).

    No argument checking: this is the equations as code (:func:`gru_step_forward` checks, then calls it).
    ``x_t (N, D)``, ``h_prev (N, H)``; ``p`` as in :func:`gru_forward`. Returns ``h_t (N, H)`` and the
    cache for :func:`gru_cell_backward`.
    """
    x_r, x_z, x_n = np.split(x_t @ p["weight_ih"].T + p["bias_ih"], 3, axis=1)  # W_i· x_t + b_i·
    W_hr, W_hz, W_hn = np.split(p["weight_hh"], 3)
    b_hr, b_hz, b_hn = np.split(p["bias_hh"], 3)
    r_t = sigmoid(x_r + h_prev @ W_hr.T + b_hr)  # eq-gru-reset
    z_t = sigmoid(x_z + h_prev @ W_hz.T + b_hz)  # eq-gru-update
    if variant == "torch":
        hn_t = h_prev @ W_hn.T + b_hn
        n_t = tanh(x_n + r_t * hn_t)  # eq-gru-torch-candidate: reset applied after W_hn
        h_t = (1 - z_t) * n_t + z_t * h_prev  # eq-gru-torch-hidden
    else:
        hn_t = (r_t * h_prev) @ W_hn.T
        n_t = tanh(x_n + hn_t + b_hn)  # eq-gru-candidate: reset applied before W_hn
        h_t = (1 - z_t) * h_prev + z_t * n_t  # eq-gru-hidden
    cache_t = (x_t, h_prev, r_t, z_t, n_t, hn_t, p, variant)
    return h_t, cache_t


def gru_cell_backward(dh_t, cache_t):
    """Backward of :func:`gru_cell`, either variant (read from the cache).

    ``dh_t (N, H)`` is the total gradient reaching ``h_t``. Returns ``grads_t``, a dict with this step's
    ``weight_ih (3H, D)``, ``weight_hh (3H, H)``, ``bias_ih``, ``bias_hh (3H,)`` and ``x (N, D)``, and
    ``dh_prev (N, H)``, the gradient passed back to ``h_{t-1}``. No argument checking.
    """
    x_t, h_prev, r_t, z_t, n_t, hn_t, p, variant = cache_t
    W_hr, W_hz, W_hn = np.split(p["weight_hh"], 3)
    if variant == "torch":  # h_t = (1 − z) ⊙ n + z ⊙ h_prev
        dn, dz, dh_prev = dh_t * (1 - z_t), dh_t * (h_prev - n_t), dh_t * z_t
    else:  # h_t = (1 − z) ⊙ h_prev + z ⊙ h̃
        dn, dz, dh_prev = dh_t * z_t, dh_t * (n_t - h_prev), dh_t * (1 - z_t)
    da_n = dn * (1 - n_t**2)  # through tanh
    da_z = dz * z_t * (1 - z_t)  # through σ
    if variant == "torch":  # n = tanh(x_n + r ⊙ (W_hn h_prev + b_hn))
        da_hn = da_n * r_t  # at W_hn h_prev + b_hn
        da_r = da_n * hn_t * r_t * (1 - r_t)
        dh_prev = dh_prev + da_hn @ W_hn
        dW_hn, db_hn = da_hn.T @ h_prev, da_hn.sum(axis=0)
    else:  # h̃ = tanh(x_n + W_hn (r ⊙ h_prev) + b_hn)
        d_rh = da_n @ W_hn  # at r ⊙ h_prev
        da_r = d_rh * h_prev * r_t * (1 - r_t)
        dh_prev = dh_prev + d_rh * r_t
        dW_hn, db_hn = da_n.T @ (r_t * h_prev), da_n.sum(axis=0)
    dh_prev = dh_prev + da_r @ W_hr + da_z @ W_hz
    da_x = np.concatenate([da_r, da_z, da_n], axis=1)  # at the input projections, gates r, z, n
    grads_t = {
        "weight_ih": da_x.T @ x_t,
        "weight_hh": np.concatenate([da_r.T @ h_prev, da_z.T @ h_prev, dW_hn]),
        "bias_ih": da_x.sum(axis=0),
        "bias_hh": np.concatenate([da_r.sum(axis=0), da_z.sum(axis=0), db_hn]),
        "x": da_x @ p["weight_ih"],
    }
    return grads_t, dh_prev


# --------------------------------------------------------------------------- one step, checked


def gru_step_forward(x_t, h_prev, p: Mapping[str, np.ndarray], variant: str = "torch"):
    """One checked GRU step: :func:`gru_cell` after checking the arguments.

    Computes eq-gru-reset, eq-gru-update, then eq-gru-candidate and eq-gru-hidden
    (``variant="seed"``) or eq-gru-torch-candidate and eq-gru-torch-hidden (``variant="torch"``).

    Parameters
    ----------
    x_t : (N, D).   h_prev : (N, H) or None for zeros.
    p : ``weight_ih (3H, D)``, ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``; gates r, z, n.
    variant : ``"torch"`` (equals ``nn.GRUCell``) or ``"seed"`` (the notes' equations).

    Returns
    -------
    h_t : (N, H).   cache : for :func:`gru_step_backward` (the cache of :func:`gru_cell`).
    """
    x_t, h_prev, p = _validate.gru_inputs(x_t, h_prev, p, variant, step=True)
    return gru_cell(x_t, h_prev, p, variant)


def gru_step_backward(dh_t, cache) -> dict[str, np.ndarray]:
    """Backward of one checked GRU step, either variant.

    Returns a dict with ``x (N, D)``, ``h_prev (N, H)`` and the parameter gradients
    ``weight_ih (3H, D)``, ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``.
    """
    dh_t = _validate.step_grad("dh_t", dh_t, like=cache[1])
    grads_t, dh_prev = gru_cell_backward(dh_t, cache)
    return {**grads_t, "h_prev": dh_prev}


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
    x, h0, p = _validate.gru_inputs(x, h0, p, variant)
    N, T, _ = x.shape
    out = np.empty((N, T, h0.shape[1]), dtype=x.dtype)  # h_1 … h_T
    h_t = h0
    steps = []  # the cache of every step, for gru_backward
    for t in range(T):
        h_t, cache_t = gru_cell(x[:, t], h_t, p, variant)
        out[:, t] = h_t
        steps.append(cache_t)
    return out, h_t, GRUCache(x=x, h0=h0, h=out, p=p, variant=variant, steps=steps)


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
    d_out, dh_next = _validate.backward_inputs(d_out, cache, GRUCache, "gru_forward", d_h_T=d_h_T)
    grads = {k: np.zeros_like(w) for k, w in cache.p.items()}
    grads["x"] = np.empty_like(cache.x)
    for t in reversed(range(len(cache.steps))):
        dh_t = d_out[:, t] + dh_next  # from h_t's own loss and from step t + 1
        grads_t, dh_next = gru_cell_backward(dh_t, cache.steps[t])
        for k in cache.p:
            grads[k] += grads_t[k]  # the same weights act at every step: their gradients add up
        grads["x"][:, t] = grads_t["x"]
    grads["h0"] = dh_next
    return grads


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
