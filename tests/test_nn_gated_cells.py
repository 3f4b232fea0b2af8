"""rnnbook.nn.LSTMCell and GRUCell(variant): against torch.nn.LSTMCell / GRUCell with a shared state_dict,
against the scratch steps (the seed variant has no torch counterpart), initialisation and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import rnnbook.nn as rnn_nn
from _helpers import AUTOGRAD_TOL, FORWARD_TOL, SHAPES, assert_close, assert_grads_close, seed_of, shape_id
from rnnbook import scratch

SHAPE_IDS = [shape_id(s) for s in SHAPES]
CELL_KEYS = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


def _pair(ours_cls, theirs_cls, D, H, seed, direction, **kw):
    """A book cell and a torch cell with the same state_dict, loaded in the given direction."""
    torch.manual_seed(seed)
    ours = ours_cls(D, H, dtype=torch.float64, **kw)
    theirs = theirs_cls(D, H).double()
    if direction == "torch->book":
        ours.load_state_dict(theirs.state_dict())  # strict: same keys and shapes
    else:
        theirs.load_state_dict(ours.state_dict())
    for key in CELL_KEYS:
        assert torch.equal(getattr(ours, key), getattr(theirs, key)), key
    return ours, theirs


def _run(cell, x, state, up, is_lstm):
    """Forward, then backward of Σ h ⊙ up_h (+ Σ c ⊙ up_c); returns outputs and the gradients."""
    x = x.clone().requires_grad_()
    if state is not None:
        state = tuple(s.clone().requires_grad_() for s in state) if is_lstm else state.clone().requires_grad_()
    result = cell(x, state)
    outs = result if is_lstm else (result,)
    sum(((o * u).sum() for o, u in zip(outs, up)), torch.zeros((), dtype=torch.float64)).backward()
    grads = {k: getattr(cell, k).grad.numpy() for k in CELL_KEYS}
    grads["x"] = x.grad.numpy()
    if state is not None:
        names = ("h_prev", "c_prev") if is_lstm else ("h_prev",)
        for name, s in zip(names, state if is_lstm else (state,)):
            grads[name] = s.grad.numpy()
    return [o.detach() for o in outs], grads


def _data(N, D, H, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, dtype=torch.float64, generator=g) for shape in [(N, D), (N, H), (N, H), (N, H), (N, H)]]


@pytest.mark.equation("eq-lstm-forget")
@pytest.mark.equation("eq-lstm-input")
@pytest.mark.equation("eq-lstm-candidate")
@pytest.mark.equation("eq-lstm-cell")
@pytest.mark.equation("eq-lstm-output")
@pytest.mark.equation("eq-lstm-hidden")
@pytest.mark.parametrize("direction", ["torch->book", "book->torch"])
@pytest.mark.parametrize("with_state", [False, True], ids=["state=None", "state-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_cell_equals_torch_forward_and_gradients(shape, with_state, direction):
    N, _, D, H = shape
    seed = seed_of(*shape, 1)
    ours, theirs = _pair(rnn_nn.LSTMCell, nn.LSTMCell, D, H, seed, direction)
    x, h, c, up_h, up_c = _data(N, D, H, seed)
    state = (h, c) if with_state else None
    (h_a, c_a), g_a = _run(ours, x, state, (up_h, up_c), True)
    (h_b, c_b), g_b = _run(theirs, x, state, (up_h, up_c), True)
    assert h_a.shape == c_a.shape == (N, H) and h_a.dtype == torch.float64
    assert_close(h_a, h_b, FORWARD_TOL, "forward", "h_t")
    assert_close(c_a, c_b, FORWARD_TOL, "forward", "c_t")
    assert_grads_close(g_a, g_b)


@pytest.mark.equation("eq-gru-reset")
@pytest.mark.equation("eq-gru-update")
@pytest.mark.equation("eq-gru-torch-candidate")
@pytest.mark.equation("eq-gru-torch-hidden")
@pytest.mark.parametrize("direction", ["torch->book", "book->torch"])
@pytest.mark.parametrize("with_h", [False, True], ids=["h_prev=None", "h_prev-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_gru_cell_torch_variant_equals_torch_forward_and_gradients(shape, with_h, direction):
    N, _, D, H = shape
    seed = seed_of(*shape, 2)
    ours, theirs = _pair(rnn_nn.GRUCell, nn.GRUCell, D, H, seed, direction)  # variant="torch" is the default
    assert ours.variant == "torch"
    x, h, _, up, _ = _data(N, D, H, seed)
    (h_a,), g_a = _run(ours, x, h if with_h else None, (up,), False)
    (h_b,), g_b = _run(theirs, x, h if with_h else None, (up,), False)
    assert h_a.shape == (N, H)
    assert_close(h_a, h_b, FORWARD_TOL, "forward", "h_t")
    assert_grads_close(g_a, g_b)


def _scratch_step(cell, x, state, up, variant):
    p = {k: getattr(cell, k).detach().numpy().copy() for k in CELL_KEYS}
    if variant == "lstm":
        (h, c), cache = scratch.lstm_step_forward(x.numpy(), tuple(s.numpy() for s in state), p)
        return (h, c), scratch.lstm_step_backward(up[0].numpy(), up[1].numpy(), cache)
    h, cache = scratch.gru_step_forward(x.numpy(), state.numpy(), p, variant=variant)
    return (h,), scratch.gru_step_backward(up[0].numpy(), cache)


@pytest.mark.equation("eq-gru-reset")
@pytest.mark.equation("eq-gru-update")
@pytest.mark.equation("eq-gru-candidate")
@pytest.mark.equation("eq-gru-hidden")
@pytest.mark.parametrize("variant", ["seed", "torch", "lstm"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_book_cells_equal_the_scratch_steps(shape, variant):
    """GRUCell(variant="seed") has no torch counterpart: the scratch step is its reference (forward and gradients)."""
    N, _, D, H = shape
    seed = seed_of(*shape, 3)
    torch.manual_seed(seed)
    if variant == "lstm":
        cell = rnn_nn.LSTMCell(D, H, dtype=torch.float64)
    else:
        cell = rnn_nn.GRUCell(D, H, variant=variant, dtype=torch.float64)
    x, h, c, up_h, up_c = _data(N, D, H, seed)
    with torch.no_grad():  # a nonzero, not-small b_hn, so that where it sits matters
        cell.bias_hh.uniform_(-1.0, 1.0, generator=torch.Generator().manual_seed(seed))
    is_lstm = variant == "lstm"
    state = (h, c) if is_lstm else h
    up = (up_h, up_c) if is_lstm else (up_h,)
    outs, g_torch = _run(cell, x, state, up, is_lstm)
    outs_scratch, g_scratch = _scratch_step(cell, x, state, up, variant)
    for a, b in zip(outs_scratch, outs):
        assert_close(a, b, FORWARD_TOL, "forward", variant)
    assert_grads_close(g_scratch, g_torch)


def test_the_two_gru_variants_differ():
    torch.manual_seed(4)
    seed_cell = rnn_nn.GRUCell(3, 5, variant="seed", dtype=torch.float64)
    torch_cell = rnn_nn.GRUCell(3, 5, variant="torch", dtype=torch.float64)
    torch_cell.load_state_dict(seed_cell.state_dict())
    x, h, *_ = _data(4, 3, 5, 4)
    with torch.no_grad():
        assert (seed_cell(x, h) - torch_cell(x, h)).abs().max() > 1e-2
    assert seed_cell.state_dict().keys() == torch_cell.state_dict().keys()


@pytest.mark.parametrize("cls, torch_cls, G", [(rnn_nn.LSTMCell, nn.LSTMCell, 4), (rnn_nn.GRUCell, nn.GRUCell, 3)])
def test_state_dict_keys_shapes_and_initialisation(cls, torch_cls, G):
    torch.manual_seed(5)
    ours, theirs = cls(6, 9), torch_cls(6, 9)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key in CELL_KEYS:
        assert getattr(ours, key).shape == getattr(theirs, key).shape
        assert getattr(ours, key).dtype == torch.float32
    assert ours.weight_ih.shape == (G * 9, 6)
    bound = 1 / math.sqrt(9)
    values = torch.cat([p.detach().reshape(-1) for p in ours.parameters()])
    assert values.abs().max() <= bound
    assert values.abs().max() > 0.9 * bound
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)
    assert "6, 9" in repr(ours)
    if cls is rnn_nn.GRUCell:
        assert "variant='torch'" in repr(ours)
        assert "variant='seed'" in repr(cls(2, 3, variant="seed"))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", ["pytorch", "Torch", "", None, 0])
def test_bad_variant(bad):
    with pytest.raises(ValueError, match=r"variant must be 'torch' or 'seed'; got " + repr(bad)):
        rnn_nn.GRUCell(3, 4, variant=bad)


@pytest.mark.parametrize("cls", [rnn_nn.LSTMCell, rnn_nn.GRUCell])
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


@pytest.mark.parametrize("cls", [rnn_nn.LSTMCell, rnn_nn.GRUCell])
def test_bad_x_t(cls):
    cell = cls(3, 4)
    with pytest.raises(ValueError, match=r"x_t must have shape \(N, D\) with D = 3; got \(2, 5\)"):
        cell(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"x_t must have shape \(N, D\) with D = 3; got \(2, 1, 3\)"):
        cell(torch.zeros(2, 1, 3))
    with pytest.raises(ValueError, match=r"x_t must be a torch\.Tensor of shape \(N, D\); got ndarray"):
        cell(np.zeros((2, 3), dtype=np.float32))


@pytest.mark.parametrize("variant", ["torch", "seed"])
def test_gru_cell_bad_h_prev(variant):
    cell = rnn_nn.GRUCell(3, 4, variant=variant)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(N, H\) with H = 4; got \(2, 3\)"):
        cell(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"h_prev must have shape \(N, H\) with N = 2 \(as x_t\); got \(1, 4\)"):
        cell(torch.zeros(2, 3), torch.zeros(1, 4))
    with pytest.raises(ValueError, match=r"h_prev must be a torch\.Tensor of shape \(N, H\); got ndarray"):
        cell(torch.zeros(2, 3), np.zeros((2, 4)))


def test_lstm_cell_bad_state():
    cell = rnn_nn.LSTMCell(3, 4)
    x, s = torch.zeros(2, 3), torch.zeros(2, 4)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(N, H\) with H = 4; got \(2, 3\)"):
        cell(x, (torch.zeros(2, 3), s))
    with pytest.raises(ValueError, match=r"c_prev must have shape \(N, H\) with H = 4; got \(2, 5\)"):
        cell(x, (s, torch.zeros(2, 5)))
    with pytest.raises(ValueError, match=r"c_prev must have shape \(N, H\) with N = 2 \(as x_t\); got \(3, 4\)"):
        cell(x, (s, torch.zeros(3, 4)))
    # a lone h (as for a GRU) or a stacked tensor is not a pair (h_prev, c_prev)
    for bad, name in [(s, "Tensor"), (torch.zeros(3, 4), "Tensor"), (torch.stack([s, s]), "Tensor"), ((s,), "tuple"),
                      ((s, s, s), "tuple")]:
        with pytest.raises(ValueError, match=rf"state must be a pair \(h_prev, c_prev\) of \(N, H\) tensors or None; got {name}"):
            cell(x, bad)
    h, c = cell(x, (s, None))  # a pair with None: zeros for that state
    assert h.shape == c.shape == (2, 4)
