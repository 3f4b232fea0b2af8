"""Shared helpers of the library tests (imported as ``from _helpers import ...``).

pytest puts this folder on ``sys.path`` (rootdir-relative "prepend" import mode,
no ``__init__.py``), so the test modules import this file directly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: (N, T, D, H): edge sizes 1 in every position, and a couple of larger ones.
SHAPES = [
    (1, 1, 1, 1),
    (1, 4, 3, 2),
    (3, 1, 2, 5),
    (2, 5, 1, 3),
    (2, 3, 4, 1),
    (4, 7, 5, 6),
    (5, 12, 3, 8),
]

#: Equivalence tolerances of the book (float64).
FORWARD_TOL = 1e-10
AUTOGRAD_TOL = 1e-10
GRADCHECK_TOL = 1e-7


def shape_id(shape) -> str:
    return "N{}-T{}-D{}-H{}".format(*shape)


def seed_of(*parts) -> int:
    """A deterministic seed from the test's parameters (hash() of str is salted per process)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def max_diff(a, b) -> float:
    """``max |a − b|`` over all entries, after converting torch tensors to NumPy."""
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    b = b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def t64(a, requires_grad: bool = False) -> torch.Tensor:
    """A float64 torch copy of a NumPy array (never sharing memory with it)."""
    return torch.tensor(np.array(a, dtype=np.float64), dtype=torch.float64, requires_grad=requires_grad)


def torch_rnn(D: int, H: int, seed: int) -> nn.RNN:
    """A float64 ``nn.RNN(D, H, batch_first=True)`` with seeded weights."""
    torch.manual_seed(seed)
    return nn.RNN(D, H, batch_first=True).double()


def torch_rnn_cell(D: int, H: int, seed: int) -> nn.RNNCell:
    torch.manual_seed(seed)
    return nn.RNNCell(D, H).double()


def random_params(D: int, H: int, rng: np.random.Generator, scale: float = 0.6, gates: int = 1) -> dict:
    """A float64 parameter dict in PyTorch's layout with N(0, scale²) entries."""
    G = gates
    return {
        "weight_ih": rng.normal(0, scale, (G * H, D)),
        "weight_hh": rng.normal(0, scale, (G * H, H)),
        "bias_ih": rng.normal(0, scale, G * H),
        "bias_hh": rng.normal(0, scale, G * H),
    }


def torch_rnn_loop(x: torch.Tensor, h0: torch.Tensor, p: dict, activation=torch.tanh):
    """The RNN recurrence written out in torch ops, keeping every ``h_t`` (with ``retain_grad``).

    ``p`` holds torch tensors. Returns the list ``[h_1, …, h_T]``; each ``h_t.grad``
    after ``backward()`` is the *total* gradient ``∂L/∂h_t`` of eq-bptt-delta.
    """
    hs, h = [], h0
    for t in range(x.shape[1]):
        h = activation(x[:, t] @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])
        h.retain_grad()
        hs.append(h)
    return hs


# --------------------------------------------------------------------------- gated cells (LSTM, GRU)


def torch_module(cls, D: int, H: int, seed: int, **kw) -> nn.Module:
    """A float64 torch recurrent module ``cls(D, H, **kw)`` with seeded weights."""
    torch.manual_seed(seed)
    return cls(D, H, **kw).double()


def torch_lstm(D: int, H: int, seed: int) -> nn.LSTM:
    """A float64 ``nn.LSTM(D, H, batch_first=True)`` with seeded weights."""
    return torch_module(nn.LSTM, D, H, seed, batch_first=True)


def torch_lstm_cell(D: int, H: int, seed: int) -> nn.LSTMCell:
    return torch_module(nn.LSTMCell, D, H, seed)


def torch_gru(D: int, H: int, seed: int) -> nn.GRU:
    """A float64 ``nn.GRU(D, H, batch_first=True)`` with seeded weights."""
    return torch_module(nn.GRU, D, H, seed, batch_first=True)


def torch_gru_cell(D: int, H: int, seed: int) -> nn.GRUCell:
    return torch_module(nn.GRUCell, D, H, seed)


def torch_params(p: dict, requires_grad: bool = True) -> dict:
    """Float64 torch leaf copies of a parameter dict (for autograd through a loop written in the test)."""
    return {k: t64(v, requires_grad) for k, v in p.items()}


def gate_rows(k: int, H: int) -> slice:
    """The rows of gate number ``k`` in PyTorch's stacked layout (``k``-th block of ``H`` rows)."""
    return slice(k * H, (k + 1) * H)


#: The largest difference seen by :func:`assert_close` under each name ("forward", "autograd", …),
#: read after a run to report the observed figures.
OBSERVED: dict = {}


def assert_close(a, b, tol: float, kind: str, what: str = "") -> float:
    """Assert ``max |a − b| ≤ tol`` (after :func:`max_diff`), record it under ``kind``, return it."""
    diff = max_diff(a, b)
    OBSERVED[kind] = max(OBSERVED.get(kind, 0.0), diff)
    assert diff <= tol, f"{what}: max |a − b| = {diff:.3e} > {tol:.0e}"
    return diff


def assert_grads_close(got: dict, expected: dict, tol: float = AUTOGRAD_TOL, kind: str = "autograd") -> float:
    """Gradient dicts with the same keys, shapes and dtypes, and entries within ``tol``; return the worst diff."""
    assert set(got) == set(expected), f"keys differ: {sorted(got)} vs {sorted(expected)}"
    worst = 0.0
    for key, value in expected.items():
        value = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        assert got[key].shape == value.shape, key
        assert got[key].dtype == value.dtype, key
        worst = max(worst, assert_close(got[key], value, tol, kind, key))
    return worst


def record_gradcheck(errors: dict, tol: float = GRADCHECK_TOL) -> float:
    """Assert every relative error of ``scratch.check_gradients`` is ≤ ``tol``, record the worst, return it."""
    worst = max(errors.values())
    OBSERVED["gradcheck"] = max(OBSERVED.get("gradcheck", 0.0), worst)
    assert worst <= tol, errors
    return worst


# --------------------------------------------------------------------------- warnings, random counts


def call_recording_warnings(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), [category of each warning raised])``, every warning recorded (filter "always")."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, [w.category for w in caught]


def binomial_tolerance(n: int, q: float, z: float = 6.0) -> float:
    """``z`` standard deviations ``√(n q (1 − q))`` of a Binomial(n, q) count (z = 6: a false alarm ~1e-9)."""
    return z * float(np.sqrt(n * q * (1.0 - q)))


def lstm_autograd(module: nn.LSTM, x, h0, c0, d_out, d_h_T=None, d_c_T=None):
    """Autograd through a float64 ``nn.LSTM`` (1 layer, batch first) of L = Σ out ⊙ d_out (+ Σ h_T ⊙ d_h_T + Σ c_T ⊙ d_c_T).

    Returns ``(out (N, T, H), grads)`` with the parameters' gradients under the scratch names
    (``weight_ih`` …) and ``x``, ``h0``, ``c0``: what ``scratch.lstm_backward`` must equal.
    """
    xt, h0t, c0t = t64(x, True), t64(h0, True), t64(c0, True)
    module.zero_grad()
    out, (h_n, c_n) = module(xt, (h0t[None], c0t[None]))
    loss = (out * t64(d_out)).sum()
    if d_h_T is not None:
        loss = loss + (h_n[0] * t64(d_h_T)).sum()
    if d_c_T is not None:
        loss = loss + (c_n[0] * t64(d_c_T)).sum()
    loss.backward()
    grads = {k: getattr(module, k + "_l0").grad.numpy() for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    grads.update(x=xt.grad.numpy(), h0=h0t.grad.numpy(), c0=c0t.grad.numpy())
    return out.detach().numpy(), grads
