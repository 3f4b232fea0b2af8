"""Recurrent cells in torch operations, one line per equation of the book.

These exist to be read next to the equations and checked against PyTorch's
fused implementations (``nn.RNNCell``, ``nn.RNN``). They are differentiable
with autograd, run on any device, and keep PyTorch's parameter names and
initialisation, so ``load_state_dict`` moves weights both ways.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _check_input(x: torch.Tensor, name: str, dims: str, ndim: int, last: int, last_name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape {dims}; got {type(x).__name__}")
    if x.dim() != ndim or x.shape[-1] != last:
        raise ValueError(f"{name} must have shape {dims} with {last_name} = {last}; got {tuple(x.shape)}")


class RNNCell(nn.Module):
    """Elman RNN cell from eq-rnn-hidden: ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)``.

    Parameters (the names and shapes of ``torch.nn.RNNCell``)
    ---------------------------------------------------------
    weight_ih : (H, D), the book's ``W_xh``.
    weight_hh : (H, H), ``W_hh``.
    bias_ih, bias_hh : (H,), whose sum is ``b_h``.

    Shapes: ``forward(x_t (N, D), h_prev (N, H) or None) -> h_t (N, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, *, dtype=None, device=None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        self.input_size, self.hidden_size = input_size, hidden_size
        kw = {"dtype": dtype, "device": device}
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size, **kw))
        self.bias_ih = nn.Parameter(torch.empty(hidden_size, **kw))
        self.bias_hh = nn.Parameter(torch.empty(hidden_size, **kw))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every entry uniform in ``[−1/√H, 1/√H]``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor | None = None) -> torch.Tensor:
        _check_input(x_t, "x_t", "(N, D)", 2, self.input_size, "D")
        if h_prev is None:
            h_prev = x_t.new_zeros(x_t.shape[0], self.hidden_size)
        _check_input(h_prev, "h_prev", "(N, H)", 2, self.hidden_size, "H")
        if h_prev.shape[0] != x_t.shape[0]:
            raise ValueError(f"h_prev must have shape (N, H) with N = {x_t.shape[0]} (as x_t); got {tuple(h_prev.shape)}")
        # eq-rnn-hidden, with rows as batch: W_hh h_{t-1} is h_prev @ W_hh^T.
        a_t = x_t @ self.weight_ih.T + self.bias_ih + h_prev @ self.weight_hh.T + self.bias_hh
        h_t = torch.tanh(a_t)
        return h_t

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class RNN(nn.Module):
    """A one-layer, batch-first RNN that loops :class:`RNNCell` over time.

    ``forward(x (N, T, D), h0 (N, H) or None) -> (out (N, T, H), h_T (N, H))``,
    the same as ``nn.RNN(D, H, batch_first=True)`` except that ``h0`` and
    ``h_T`` carry no leading layer axis. Parameters live in ``self.cell``.
    """

    def __init__(self, input_size: int, hidden_size: int, *, dtype=None, device=None):
        super().__init__()
        self.cell = RNNCell(input_size, hidden_size, dtype=dtype, device=device)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        _check_input(x, "x", "(N, T, D)", 3, self.cell.input_size, "D")
        if h0 is not None:
            _check_input(h0, "h0", "(N, H)", 2, self.cell.hidden_size, "H")
            if h0.shape[0] != x.shape[0]:
                raise ValueError(f"h0 must have shape (N, H) with N = {x.shape[0]} (as x); got {tuple(h0.shape)}")
        h_t = h0
        outputs = []
        for t in range(x.shape[1]):
            h_t = self.cell(x[:, t], h_t)
            outputs.append(h_t)
        if not outputs:
            raise ValueError(f"x must have at least one time step, shape (N, T, D) with T ≥ 1; got {tuple(x.shape)}")
        return torch.stack(outputs, dim=1), h_t
