"""minGRU and minLSTM as torch modules (Feng et al. 2024), batch first, trainable with autograd.

The equations are those of :mod:`rnnbook.scratch.min_cells`; the gates and the candidates of all T
steps are computed at once, and the linear recurrence ``h_t = a_t ⊙ h_{t-1} + b_t`` is run by
:func:`linear_recurrence`: a loop over t, or Hillis and Steele's scan in ⌈log₂ T⌉ rounds of whole-tensor
operations, which is what a GPU runs well. The parameter names are fixed (the scratch functions and
:func:`rnnbook.scratch.params_from_torch` read them)::

    MinGRU:   weight_z (H, D)  bias_z (H,)  weight_h (H, D)  bias_h (H,)
    MinLSTM:  weight_f (H, D)  bias_f (H,)  weight_i (H, D)  bias_i (H,)  weight_h (H, D)  bias_h (H,)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnbook._checks import check_int

#: ``method`` of :func:`linear_recurrence` and of the modules.
METHODS = ("sequential", "parallel")


def linear_recurrence(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor, method: str = "parallel") -> torch.Tensor:
    """``h_t = a_t ⊙ h_{t-1} + b_t`` (eq-scan-linear) in torch, differentiable.

    ``method="sequential"``: a loop over t. ``method="parallel"``: Hillis and Steele's scan of the
    pairs ``(a_t, b_t)`` under eq-scan-op, ⌈log₂ T⌉ rounds in which every step combines with the step
    ``d = 1, 2, 4, …`` places earlier; each round is a few whole-tensor operations, out of place, so that
    autograd can go back through them.

    ``a, b (N, T, H)``, ``h0 (N, H)`` → ``h (N, T, H)``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    T = a.shape[1]
    if method == "sequential":
        h_t, out = h0, []
        # unbind: T views made at once. Indexing a[:, t] in the loop would make autograd build a full
        # (N, T, H) gradient for every step, a backward pass quadratic in T.
        for a_t, b_t in zip(a.unbind(1), b.unbind(1)):
            h_t = a_t * h_t + b_t
            out.append(h_t)
        return torch.stack(out, dim=1) if out else b.clone()
    # h_0 folded into the first step, then the prefixes B_t are the states themselves.
    b = torch.cat([b[:, :1] + a[:, :1] * h0[:, None], b[:, 1:]], dim=1)
    d = 1
    while d < T:
        # (A, B)_t ← (A, B)_{t−d} • (A, B)_t for t ≥ d; the first d steps are already complete.
        b = torch.cat([b[:, :d], a[:, d:] * b[:, :-d] + b[:, d:]], dim=1)
        a = torch.cat([a[:, :d], a[:, :-d] * a[:, d:]], dim=1)
        d *= 2
    return b


class _MinCell(nn.Module):
    """Shared by :class:`MinGRU` and :class:`MinLSTM`: parameters, checks and the recurrence."""

    #: (name, shape) of the parameters: "w" is (H, D), "b" is (H,).
    PARAMS: tuple[tuple[str, str], ...] = ()

    def __init__(self, input_size: int, hidden_size: int, *, method: str = "parallel", dtype=None, device=None):
        super().__init__()
        check_int("input_size", input_size)
        check_int("hidden_size", hidden_size)
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}; got {method!r}")
        self.input_size, self.hidden_size, self.method = input_size, hidden_size, method
        kw = {"dtype": dtype, "device": device}
        for name, kind in self.PARAMS:
            shape = (hidden_size, input_size) if kind == "w" else (hidden_size,)
            setattr(self, name, nn.Parameter(torch.empty(*shape, **kw)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation of ``nn.Linear`` for the input projections: uniform in ``[−1/√D, 1/√D]``."""
        bound = 1.0 / math.sqrt(self.input_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def _check(self, x: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor:
        """Check ``x (N, T, D)`` and return ``h0 (N, H)`` (zeros for None)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[2] != self.input_size:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a tensor of shape (N, T, D) with D = {self.input_size}; got {got}")
        if x.dtype != self.weight_h.dtype:
            raise ValueError(f"x must have the parameters' dtype {self.weight_h.dtype}; got {x.dtype} "
                             "(convert it with x.to(...), or the module with .double() / .float())")
        if not torch.isfinite(x).all():
            raise ValueError("x must be finite; it contains NaN or infinite values")
        N = x.shape[0]
        if h0 is None:
            return x.new_zeros(N, self.hidden_size)
        if not isinstance(h0, torch.Tensor) or tuple(h0.shape) != (N, self.hidden_size):
            got = tuple(h0.shape) if isinstance(h0, torch.Tensor) else type(h0).__name__
            raise ValueError(f"h0 must be a tensor of shape (N, H) = ({N}, {self.hidden_size}); got {got}")
        if h0.dtype != x.dtype:
            raise ValueError(f"h0 must have the dtype of x, {x.dtype}; got {h0.dtype}")
        if not torch.isfinite(h0).all():
            raise ValueError("h0 must be finite; it contains NaN or infinite values")
        return h0

    def _run(self, a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = linear_recurrence(a, b, h0, self.method)
        return h, (h[:, -1] if h.shape[1] else h0)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, method={self.method!r}"


class MinGRU(_MinCell):
    """minGRU: eq-mingru-update, eq-mingru-candidate and eq-mingru-hidden, batch first.

    Parameters ``weight_z (H, D)``, ``bias_z (H,)``, ``weight_h (H, D)``, ``bias_h (H,)``.
    ``method``: ``"parallel"`` (the scan, default) or ``"sequential"`` (a loop); both compute the same.

    Shapes: ``forward(x (N, T, D), h0 (N, H) or None)`` → ``(out (N, T, H), h_T (N, H))``.
    """

    PARAMS = (("weight_z", "w"), ("bias_z", "b"), ("weight_h", "w"), ("bias_h", "b"))

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """eq-mingru-update, eq-mingru-candidate, eq-mingru-hidden for all t."""
        h0 = self._check(x, h0)
        u_z = x @ self.weight_z.T + self.bias_z
        z = torch.sigmoid(u_z)  # eq-mingru-update
        h_tilde = x @ self.weight_h.T + self.bias_h  # eq-mingru-candidate
        return self._run(torch.sigmoid(-u_z), z * h_tilde, h0)  # eq-mingru-hidden, with 1 − z = σ(−u)


class MinLSTM(_MinCell):
    """minLSTM: eq-minlstm-forget, eq-minlstm-input, eq-minlstm-candidate, eq-minlstm-norm and
    eq-minlstm-hidden, batch first.

    Parameters ``weight_f``, ``weight_i``, ``weight_h (H, D)`` and ``bias_f``, ``bias_i``, ``bias_h (H,)``.
    ``method`` as in :class:`MinGRU`.

    Shapes: ``forward(x (N, T, D), h0 (N, H) or None)`` → ``(out (N, T, H), h_T (N, H))``.
    """

    PARAMS = (("weight_f", "w"), ("bias_f", "b"), ("weight_i", "w"), ("bias_i", "b"),
              ("weight_h", "w"), ("bias_h", "b"))

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """eq-minlstm-forget, eq-minlstm-input, eq-minlstm-candidate, eq-minlstm-norm, eq-minlstm-hidden."""
        h0 = self._check(x, h0)
        f = torch.sigmoid(x @ self.weight_f.T + self.bias_f)  # eq-minlstm-forget
        i = torch.sigmoid(x @ self.weight_i.T + self.bias_i)  # eq-minlstm-input
        h_tilde = x @ self.weight_h.T + self.bias_h  # eq-minlstm-candidate
        f_norm, i_norm = f / (f + i), i / (f + i)  # eq-minlstm-norm
        return self._run(f_norm, i_norm * h_tilde, h0)  # eq-minlstm-hidden
