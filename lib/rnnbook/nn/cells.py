"""Recurrent cells in torch operations, one line per equation of the book.

These exist to be read next to the equations and checked against PyTorch's
fused implementations (``nn.RNNCell``, ``nn.LSTMCell``, ``nn.GRUCell``), and to
provide the GRU variant of the notes, which PyTorch lacks. They are differentiable
with autograd, run on any device, and keep PyTorch's parameter names and
initialisation, so ``load_state_dict`` moves weights both ways.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnbook._checks import check_int


def _check_input(x: torch.Tensor, name: str, dims: str, ndim: int, last: int, last_name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape {dims}; got {type(x).__name__}")
    if x.dim() != ndim or x.shape[-1] != last:
        raise ValueError(f"{name} must have shape {dims} with {last_name} = {last}; got {tuple(x.shape)}")


class _Cell(nn.Module):
    """Parameters ``weight_ih (G*H, D)``, ``weight_hh (G*H, H)``, ``bias_ih``, ``bias_hh (G*H,)``, as in torch."""

    GATES = 1

    def __init__(self, input_size: int, hidden_size: int, *, dtype=None, device=None):
        super().__init__()
        check_int("input_size", input_size)
        check_int("hidden_size", hidden_size)
        self.input_size, self.hidden_size = input_size, hidden_size
        kw = {"dtype": dtype, "device": device}
        GH = self.GATES * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(GH, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(GH, hidden_size, **kw))
        self.bias_ih = nn.Parameter(torch.empty(GH, **kw))
        self.bias_hh = nn.Parameter(torch.empty(GH, **kw))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every entry uniform in ``[−1/√H, 1/√H]``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def _state(self, x_t: torch.Tensor, s: torch.Tensor | None, name: str) -> torch.Tensor:
        if s is None:
            return x_t.new_zeros(x_t.shape[0], self.hidden_size)
        _check_input(s, name, "(N, H)", 2, self.hidden_size, "H")
        if s.shape[0] != x_t.shape[0]:
            raise ValueError(f"{name} must have shape (N, H) with N = {x_t.shape[0]} (as x_t); got {tuple(s.shape)}")
        return s

    def _checked(self, x_t: torch.Tensor, h_prev: torch.Tensor | None) -> torch.Tensor:
        """Check ``x_t (N, D)`` and return ``h_prev (N, H)`` (zeros for None)."""
        _check_input(x_t, "x_t", "(N, D)", 2, self.input_size, "D")
        return self._state(x_t, h_prev, "h_prev")

    def _gates(self, x_t: torch.Tensor, h_prev: torch.Tensor):
        """``(W_ih x_t + b_ih, W_hh h_{t-1} + b_hh)`` split into the G gates' blocks."""
        H = self.hidden_size
        xw = (x_t @ self.weight_ih.T + self.bias_ih).split(H, dim=1)
        hw = (h_prev @ self.weight_hh.T + self.bias_hh).split(H, dim=1)
        return xw, hw

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class RNNCell(_Cell):
    """Elman RNN cell from eq-rnn-hidden: ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)``.

    Parameters (the names and shapes of ``torch.nn.RNNCell``)
    ---------------------------------------------------------
    weight_ih : (H, D), the book's ``W_xh``.
    weight_hh : (H, H), ``W_hh``.
    bias_ih, bias_hh : (H,), whose sum is ``b_h``.

    Shapes: ``forward(x_t (N, D), h_prev (N, H) or None) -> h_t (N, H)``.
    """

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor | None = None) -> torch.Tensor:
        h_prev = self._checked(x_t, h_prev)
        # Rows are the batch: the book's W_hh h_{t-1} is h_prev @ W_hh^T.
        a_t = x_t @ self.weight_ih.T + self.bias_ih + h_prev @ self.weight_hh.T + self.bias_hh
        h_t = torch.tanh(a_t)  # eq-rnn-hidden
        return h_t


class LSTMCell(_Cell):
    """LSTM cell from the six equations eq-lstm-forget … eq-lstm-hidden, gates stacked i, f, g, o.

    Same parameters as ``torch.nn.LSTMCell``: ``weight_ih (4H, D)``,
    ``weight_hh (4H, H)``, ``bias_ih``, ``bias_hh (4H,)``.

    Shapes: ``forward(x_t (N, D), state = (h_prev, c_prev) each (N, H), or None)
    -> (h_t, c_t)``.
    """

    GATES = 4

    def _checked_pair(self, x_t: torch.Tensor, state):
        """Check ``x_t (N, D)`` and return ``(h_prev, c_prev)``, each (N, H) (zeros for None)."""
        _check_input(x_t, "x_t", "(N, D)", 2, self.input_size, "D")
        if state is not None and (not isinstance(state, (tuple, list)) or len(state) != 2):
            raise ValueError(f"state must be a pair (h_prev, c_prev) of (N, H) tensors or None; got {type(state).__name__}")
        h_prev, c_prev = state if state is not None else (None, None)
        return self._state(x_t, h_prev, "h_prev"), self._state(x_t, c_prev, "c_prev")

    def forward(self, x_t: torch.Tensor, state=None):
        h_prev, c_prev = self._checked_pair(x_t, state)
        (xi, xf, xg, xo), (hi, hf, hg, ho) = self._gates(x_t, h_prev)
        f_t = torch.sigmoid(xf + hf)  # eq-lstm-forget
        i_t = torch.sigmoid(xi + hi)  # eq-lstm-input
        g_t = torch.tanh(xg + hg)  # eq-lstm-candidate, the notes' C̃_t
        c_t = f_t * c_prev + i_t * g_t  # eq-lstm-cell
        o_t = torch.sigmoid(xo + ho)  # eq-lstm-output
        h_t = o_t * torch.tanh(c_t)  # eq-lstm-hidden
        return h_t, c_t


class GRUCell(_Cell):
    """GRU cell, gates stacked r, z, n: ``variant="torch"`` (``nn.GRUCell``) or ``"seed"`` (the notes).

    eq-gru-reset and eq-gru-update are shared; ``"seed"`` computes eq-gru-candidate
    ``h̃ = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)`` and eq-gru-hidden
    ``h = (1 − z) ⊙ h_prev + z ⊙ h̃``; ``"torch"`` computes eq-gru-torch-candidate
    ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`` and eq-gru-torch-hidden
    ``h = (1 − z) ⊙ n + z ⊙ h_prev``.
    Same parameters as ``torch.nn.GRUCell``, so weights move between them with ``load_state_dict``.

    Shapes: ``forward(x_t (N, D), h_prev (N, H) or None) -> h_t (N, H)``.
    """

    GATES = 3

    def __init__(self, input_size: int, hidden_size: int, variant: str = "torch", *, dtype=None, device=None):
        if variant not in ("torch", "seed"):
            raise ValueError(f"variant must be 'torch' or 'seed'; got {variant!r}")
        super().__init__(input_size, hidden_size, dtype=dtype, device=device)
        self.variant = variant

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor | None = None) -> torch.Tensor:
        h_prev = self._checked(x_t, h_prev)
        H = self.hidden_size
        (xr, xz, xn), (hr, hz, hn) = self._gates(x_t, h_prev)
        r_t = torch.sigmoid(xr + hr)  # eq-gru-reset
        z_t = torch.sigmoid(xz + hz)  # eq-gru-update
        if self.variant == "torch":
            n_t = torch.tanh(xn + r_t * hn)  # eq-gru-torch-candidate: r ⊙ (W_hn h + b_hn)
            return (1 - z_t) * n_t + z_t * h_prev  # eq-gru-torch-hidden
        W_hn, b_hn = self.weight_hh[2 * H :], self.bias_hh[2 * H :]
        h_tilde = torch.tanh(xn + (r_t * h_prev) @ W_hn.T + b_hn)  # eq-gru-candidate: W_hn (r ⊙ h)
        return (1 - z_t) * h_prev + z_t * h_tilde  # eq-gru-hidden

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, variant={self.variant!r}"


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
