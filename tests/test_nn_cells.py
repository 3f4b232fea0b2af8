"""rnnbook.nn: the equation-faithful torch cells against torch.nn.RNNCell and torch.nn.RNN."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import rnnbook.nn as rnn_nn
from _helpers import AUTOGRAD_TOL, FORWARD_TOL, SHAPES, max_diff, seed_of, shape_id
from rnnbook import scratch

SHAPE_IDS = [shape_id(s) for s in SHAPES]
CELL_KEYS = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


def _pair_of_cells(D, H, seed, direction):
    """A book cell and a torch cell with the same state_dict, loaded in the given direction."""
    torch.manual_seed(seed)
    ours = rnn_nn.RNNCell(D, H, dtype=torch.float64)
    theirs = nn.RNNCell(D, H).double()
    if direction == "torch->book":
        ours.load_state_dict(theirs.state_dict())  # strict: same keys and shapes
    else:
        theirs.load_state_dict(ours.state_dict())
    return ours, theirs


@pytest.mark.equation("eq-rnn-hidden")
@pytest.mark.parametrize("direction", ["torch->book", "book->torch"])
@pytest.mark.parametrize("with_h", [False, True], ids=["h_prev=None", "h_prev-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_cell_equals_torch_forward_and_gradients(shape, with_h, direction):
    N, _, D, H = shape
    seed = seed_of(*shape)
    ours, theirs = _pair_of_cells(D, H, seed, direction)
    for key in CELL_KEYS:
        assert torch.equal(getattr(ours, key), getattr(theirs, key)), key
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, D, dtype=torch.float64, generator=g)
    h = torch.randn(N, H, dtype=torch.float64, generator=g)
    up = torch.randn(N, H, dtype=torch.float64, generator=g)

    results = []
    for cell in (ours, theirs):
        xi, hi = x.clone().requires_grad_(), h.clone().requires_grad_()
        out = cell(xi, hi if with_h else None)
        (out * up).sum().backward()
        grads = {k: getattr(cell, k).grad for k in CELL_KEYS}
        grads["x"] = xi.grad
        if with_h:
            grads["h_prev"] = hi.grad
        results.append((out.detach(), grads))
    (out_ours, g_ours), (out_theirs, g_theirs) = results
    assert out_ours.shape == (N, H) and out_ours.dtype == torch.float64
    assert max_diff(out_ours, out_theirs) <= FORWARD_TOL
    for key in g_theirs:
        assert max_diff(g_ours[key], g_theirs[key]) <= AUTOGRAD_TOL, key


@pytest.mark.equation("eq-rnn-hidden")
def test_rnn_cell_equals_the_scratch_step():
    torch.manual_seed(0)
    cell = rnn_nn.RNNCell(3, 4, dtype=torch.float64)
    p = {k: getattr(cell, k).detach().numpy().copy() for k in CELL_KEYS}
    rng = np.random.default_rng(0)
    x, h = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    h_scratch, _ = scratch.rnn_step_forward(x, h, p)
    with torch.no_grad():
        h_torch = cell(torch.from_numpy(x), torch.from_numpy(h))
    assert max_diff(h_scratch, h_torch) <= 1e-14


def test_rnn_cell_state_dict_keys_and_initialisation():
    torch.manual_seed(1)
    ours, theirs = rnn_nn.RNNCell(6, 9), nn.RNNCell(6, 9)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key in CELL_KEYS:
        assert getattr(ours, key).shape == getattr(theirs, key).shape
        assert getattr(ours, key).dtype == torch.float32
    bound = 1 / math.sqrt(9)
    values = torch.cat([p.detach().reshape(-1) for p in ours.parameters()])
    assert values.abs().max() <= bound
    assert values.abs().max() > 0.8 * bound  # really uniform on [−1/√H, 1/√H], not a narrower range
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.2)
    assert "6, 9" in repr(ours)


@pytest.mark.equation("eq-rnn-hidden")
@pytest.mark.parametrize("with_h0", [False, True], ids=["h0=None", "h0-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_equals_torch_rnn_batch_first(shape, with_h0):
    N, T, D, H = shape
    seed = seed_of(*shape, 1)
    torch.manual_seed(seed)
    ours = rnn_nn.RNN(D, H, dtype=torch.float64)
    theirs = nn.RNN(D, H, batch_first=True).double()
    # nn.RNN's "weight_ih_l0" is the book's "cell.weight_ih"
    ours.load_state_dict({"cell." + k.removesuffix("_l0"): v for k, v in theirs.state_dict().items()})
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, T, D, dtype=torch.float64, generator=g)
    h0 = torch.randn(N, H, dtype=torch.float64, generator=g)
    up, up_T = torch.randn(N, T, H, dtype=torch.float64, generator=g), torch.randn(N, H, dtype=torch.float64, generator=g)

    xa, ha = x.clone().requires_grad_(), h0.clone().requires_grad_()
    out_a, h_a = ours(xa, ha if with_h0 else None)
    ((out_a * up).sum() + (h_a * up_T).sum()).backward()
    xb, hb = x.clone().requires_grad_(), h0.clone().requires_grad_()
    out_b, h_b = theirs(xb, hb[None] if with_h0 else None)
    ((out_b * up).sum() + (h_b[0] * up_T).sum()).backward()

    assert out_a.shape == (N, T, H) and h_a.shape == (N, H)
    assert max_diff(out_a, out_b) <= FORWARD_TOL
    assert max_diff(h_a, h_b[0]) <= FORWARD_TOL
    assert max_diff(xa.grad, xb.grad) <= AUTOGRAD_TOL
    if with_h0:
        assert max_diff(ha.grad, hb.grad) <= AUTOGRAD_TOL
    for key in CELL_KEYS:
        assert max_diff(getattr(ours.cell, key).grad, getattr(theirs, key + "_l0").grad) <= AUTOGRAD_TOL, key


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("cls", [rnn_nn.RNNCell, rnn_nn.RNN])
@pytest.mark.parametrize(
    "D, H, match",
    [
        (0, 3, r"input_size must be an integer ≥ 1; got 0"),
        (2, -1, r"hidden_size must be an integer ≥ 1; got -1"),
        (2.0, 3, r"input_size must be an integer ≥ 1; got 2\.0"),
        (2, "3", r"hidden_size must be an integer ≥ 1; got '3'"),
    ],
)
def test_bad_sizes(cls, D, H, match):
    with pytest.raises(ValueError, match=match):
        cls(D, H)


def test_rnn_cell_bad_inputs():
    cell = rnn_nn.RNNCell(3, 4)
    with pytest.raises(ValueError, match=r"x_t must have shape \(N, D\) with D = 3; got \(2, 5\)"):
        cell(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"x_t must have shape \(N, D\) with D = 3; got \(2, 1, 3\)"):
        cell(torch.zeros(2, 1, 3))
    with pytest.raises(ValueError, match=r"x_t must be a torch\.Tensor of shape \(N, D\); got ndarray"):
        cell(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"h_prev must have shape \(N, H\) with H = 4; got \(2, 3\)"):
        cell(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"h_prev must have shape \(N, H\) with N = 2 \(as x_t\); got \(1, 4\)"):
        cell(torch.zeros(2, 3), torch.zeros(1, 4))
    with pytest.raises(ValueError, match=r"h_prev must have shape \(N, H\) with H = 4; got \(4,\)"):
        cell(torch.zeros(2, 3), torch.zeros(4))


def test_rnn_bad_inputs():
    rnn = rnn_nn.RNN(3, 4)
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, D\) with D = 3; got \(2, 3\)"):
        rnn(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, D\) with D = 3; got \(2, 5, 2\)"):
        rnn(torch.zeros(2, 5, 2))
    with pytest.raises(ValueError, match=r"x must have at least one time step.*T ≥ 1; got \(2, 0, 3\)"):
        rnn(torch.zeros(2, 0, 3))
    with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) with H = 4; got \(1, 2, 4\)"):
        rnn(torch.zeros(2, 5, 3), torch.zeros(1, 2, 4))  # nn.RNN's (layers, N, H) layout is not accepted
    with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) with H = 4; got \(2, 3\)"):
        rnn(torch.zeros(2, 5, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) with N = 2 \(as x\); got \(3, 4\)"):
        rnn(torch.zeros(2, 5, 3), torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"h0 must be a torch\.Tensor of shape \(N, H\); got ndarray"):
        rnn(torch.zeros(2, 5, 3), np.zeros((2, 4)))
