"""Optimisers for parameter dicts, in NumPy: Adam (Kingma & Ba 2015) and SGD with momentum.

Both update a dict of arrays **in place** (``params[name] -= …``), so an optimiser built on
``model.parameters()`` trains the model that owns those arrays, and both follow the arithmetic of
``torch.optim.Adam`` / ``torch.optim.SGD`` step for step, so that a NumPy training run and a torch
run from the same weights and gradients follow the same trajectory (to rounding).

Adam, for a gradient ``g_t`` at step ``t = 1, 2, …`` (all operations elementwise)::

    m_t = β₁ m_{t-1} + (1 − β₁) g_t                 first moment: a running mean of g
    v_t = β₂ v_{t-1} + (1 − β₂) g_t²                second moment: a running mean of g²
    m̂_t = m_t / (1 − β₁ᵗ),   v̂_t = v_t / (1 − β₂ᵗ)    bias correction (m_0 = v_0 = 0 pulls both to 0)
    θ_t = θ_{t-1} − lr · m̂_t / (√v̂_t + ε)

The step is about ``lr`` in size whatever the scale of ``g``: a parameter whose gradient is always
tiny (a rare word's embedding) moves as fast as one whose gradient is large.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np


def _check_number(name: str, value, *, low: float = 0.0, high: float | None = None, high_open: bool = False) -> float:
    """``value`` as a float in ``[low, high]`` (or ``[low, high)``), else ValueError naming ``name``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and value >= low and (high is None or (value < high if high_open else value <= high))
    if not ok:
        interval = f"[{low:g}, {high:g}{')' if high_open else ']'}" if high is not None else f">= {low:g}"
        raise ValueError(f"{name} must be a finite number in {interval}; got {value!r}")
    return value


class _Optimizer:
    """Shared checks: a non-empty dict of writable float arrays, and gradients that fit them."""

    def __init__(self, params: Mapping[str, np.ndarray]):
        if not isinstance(params, Mapping) or not params:
            raise ValueError(f"params must be a non-empty dict name → array (e.g. model.parameters()); got {params!r:.80}")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise ValueError(
                    f"params[{name!r}] must be a float NumPy array (it is updated in place); got "
                    f"{type(p).__name__}{'' if not isinstance(p, np.ndarray) else ' of dtype ' + str(p.dtype)}"
                )
            if not p.flags.writeable:
                raise ValueError(f"params[{name!r}] must be writeable (it is updated in place); got a read-only array")
        self.params = params

    def _grads(self, grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The gradients of the parameters present in ``grads``, checked and cast to the parameters' dtypes.

        A parameter missing from ``grads`` is left alone, as torch leaves one whose ``.grad`` is None;
        a name that is not a parameter is an error (a typo would otherwise train nothing).
        """
        if not isinstance(grads, Mapping):
            raise ValueError(f"grads must be a dict name → array with keys among {list(self.params)}; got {type(grads).__name__}")
        unknown = [k for k in grads if k not in self.params]
        if unknown:
            raise ValueError(f"grads has keys {unknown} that are not parameters; expected keys among {list(self.params)}")
        out = {}
        for name, g in grads.items():
            g = np.asarray(g)
            p = self.params[name]
            if g.shape != p.shape:
                raise ValueError(f"grads[{name!r}] must have the shape of params[{name!r}], {p.shape}; got {g.shape}")
            if g.dtype.kind not in "biuf" or not np.all(np.isfinite(g)):
                raise ValueError(f"grads[{name!r}] must hold finite real numbers; got dtype {g.dtype} with non-finite values")
            out[name] = g.astype(p.dtype, copy=False)
        return out


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; equals ``torch.optim.Adam`` (and ``AdamW``).

    Parameters
    ----------
    params : dict name → float array, updated in place by :meth:`step` (e.g. ``model.parameters()``).
    lr : learning rate, ≥ 0.
    betas : ``(β₁, β₂)``, each in ``[0, 1)``: decay rates of the running means of ``g`` and ``g²``.
    eps : ``ε ≥ 0`` added to ``√v̂``, which keeps the division finite where ``v̂ = 0``.
    weight_decay : ``λ ≥ 0``. Adam's L2 penalty: ``g ← g + λ θ`` before the moments, as in
        ``torch.optim.Adam``. With ``decoupled_weight_decay=True`` it is AdamW's instead
        (Loshchilov & Hutter 2019): ``θ ← θ (1 − lr λ)`` before the step, outside the moments.

    Attributes
    ----------
    m, v : dicts name → array, the moments ``m_t`` and ``v_t`` (zeros before the first step).
    steps : dict name → t, the number of steps that parameter has taken (a parameter left out
        of a step's ``grads`` does not advance, as a torch parameter whose ``.grad`` is None).

    Notes
    -----
    The update is written in torch's order of operations: the first moment as
    ``m += (1 − β₁)(g − m)`` (torch's ``lerp_``, the same as ``β₁ m + (1 − β₁) g``), and
    ``θ −= (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)``, which is ``lr · m̂ / (√v̂ + ε)`` rearranged.
    Same rounding, same trajectory.

    Examples
    --------
    >>> import numpy as np
    >>> theta = {"w": np.array([1.0, -2.0])}
    >>> opt = Adam(theta, lr=0.1)
    >>> opt.step({"w": np.array([0.5, -3.0])})   # the first step moves each entry by lr
    >>> theta["w"]
    array([ 0.9, -1.9])
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        decoupled_weight_decay: bool = False,
    ):
        super().__init__(params)
        self.lr = _check_number("lr", lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1); got {betas!r}")
        self.beta1 = _check_number("betas[0]", betas[0], high=1.0, high_open=True)
        self.beta2 = _check_number("betas[1]", betas[1], high=1.0, high_open=True)
        self.eps = _check_number("eps", eps)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.steps = {k: 0 for k in params}
        # Two scratch arrays per parameter, reused at every step: a (V, D) embedding table is large
        # enough that fresh temporaries (and their page faults) would cost as much as the arithmetic.
        self._work = {k: (np.empty_like(p), np.empty_like(p)) for k, p in params.items()}

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """One Adam step on every parameter named in ``grads`` (each of its parameter's shape)."""
        grads = self._grads(grads)
        beta1, beta2, lr, wd = self.beta1, self.beta2, self.lr, self.weight_decay
        for name, g in grads.items():
            theta, m, v = self.params[name], self.m[name], self.v[name]
            self.steps[name] = t = self.steps[name] + 1
            step_size = lr / (1 - beta1**t)  # lr / (1 − β₁ᵗ): the bias correction of m, folded into the step
            sqrt_bc2 = math.sqrt(1 - beta2**t)  # √(1 − β₂ᵗ): the bias correction of v, under the root
            work, update = self._work[name]
            if wd and self.decoupled_weight_decay:
                theta *= 1 - lr * wd  # AdamW: shrink θ directly, the moments never see λ θ
            elif wd:
                g = g + wd * theta  # Adam's L2 penalty: part of the gradient, so of m and v too
            m += np.multiply(np.subtract(g, m, out=work), 1 - beta1, out=work)  # m_t = β₁ m_{t-1} + (1 − β₁) g_t
            v *= beta2
            v += np.multiply(np.multiply(g, 1 - beta2, out=work), g, out=work)  # v_t = β₂ v_{t-1} + (1 − β₂) g_t²
            denom = np.sqrt(v, out=work)
            denom /= sqrt_bc2
            denom += self.eps  # √v̂_t + ε
            theta -= np.divide(np.multiply(m, step_size, out=update), denom, out=update)  # θ_t = θ_{t-1} − lr m̂_t / (√v̂_t + ε)


class SGD(_Optimizer):
    """Stochastic gradient descent with optional momentum; equals ``torch.optim.SGD``.

    ``b ← μ b + (1 − τ) g`` (``b = g`` at the first step), then ``θ ← θ − lr b``
    (``θ ← θ − lr (g + μ b)`` with ``nesterov=True``); plain SGD ``θ ← θ − lr g`` when ``μ = 0``.

    Parameters
    ----------
    params : dict name → float array, updated in place.
    lr : learning rate, ≥ 0.
    momentum : ``μ ∈ [0, 1)``.   dampening : ``τ ∈ [0, 1]``.
    weight_decay : ``λ ≥ 0``, the L2 penalty ``g ← g + λ θ``.
    nesterov : Nesterov momentum (needs ``μ > 0`` and ``τ = 0``, as in torch).
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        lr: float = 1e-2,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        super().__init__(params)
        self.lr = _check_number("lr", lr)
        self.momentum = _check_number("momentum", momentum, high=1.0, high_open=True)
        self.dampening = _check_number("dampening", dampening, high=1.0)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                f"nesterov=True needs momentum > 0 and dampening = 0; got momentum={momentum!r}, dampening={dampening!r}"
            )
        self.nesterov = bool(nesterov)
        self.buffers: dict[str, np.ndarray] = {}  # the momentum buffers b, created at a parameter's first step

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """One SGD step on every parameter named in ``grads``."""
        grads = self._grads(grads)
        mu = self.momentum
        for name, g in grads.items():
            theta = self.params[name]
            if self.weight_decay:
                g = g + self.weight_decay * theta
            if mu:
                b = self.buffers.get(name)
                if b is None:
                    b = self.buffers[name] = g.copy()  # torch starts the buffer at g, undamped
                else:
                    b *= mu
                    b += (1 - self.dampening) * g
                g = g + mu * b if self.nesterov else b
            theta -= self.lr * g
