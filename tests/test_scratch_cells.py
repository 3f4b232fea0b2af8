"""The readable one-step cell functions of the RNN, the LSTM and the GRU (scratch.rnn_cell, lstm_cell, gru_cell
and their *_backward): one naming pattern, one shape of return, no argument checking, one "# eq-…" comment
per equation line; against torch's cells and autograd. And the sequence functions that loop them."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import torch

import rnnbook.nn
from _helpers import AUTOGRAD_TOL, FORWARD_TOL, assert_close, random_params, t64
from rnnbook import scratch
from rnnbook.source import show_source

GRAD_KEYS = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "x"}
#: (N, D, H), sizes 1 included.
CELL_SHAPES = [(1, 1, 1), (3, 4, 5), (4, 1, 3), (2, 3, 1)]
CELL_IDS = ["N{}-D{}-H{}".format(*s) for s in CELL_SHAPES]

CELLS = {  # name → (cell, backward, module, gates, the labels its lines carry)
    "rnn": (scratch.rnn_cell, scratch.rnn_cell_backward, scratch.rnn, 1, ["eq-rnn-hidden"]),
    "lstm": (scratch.lstm_cell, scratch.lstm_cell_backward, scratch.lstm, 4,
             ["eq-lstm-forget", "eq-lstm-input", "eq-lstm-candidate", "eq-lstm-cell", "eq-lstm-output", "eq-lstm-hidden"]),
    "gru": (scratch.gru_cell, scratch.gru_cell_backward, scratch.gru, 3,
            ["eq-gru-reset", "eq-gru-update", "eq-gru-candidate", "eq-gru-hidden", "eq-gru-torch-candidate",
             "eq-gru-torch-hidden"]),
}


def labelled_lines(function, label):
    """The lines of ``function`` whose comment names ``label`` (as the LSTM page finds them: not ``label-…``)."""
    return [line.strip() for line in inspect.getsource(function).splitlines() if re.search(rf"#\s*{label}\b(?!-)", line)]


# --------------------------------------------------------------------------- names, signatures, shapes of return


@pytest.mark.parametrize("name", list(CELLS))
def test_one_naming_pattern_for_the_three_cells(name):
    cell, backward, module, _, _ = CELLS[name]
    assert cell.__name__ == f"{name}_cell" and backward.__name__ == f"{name}_cell_backward"
    assert getattr(module, f"{name}_cell") is cell and getattr(module, f"{name}_cell_backward") is backward
    assert f"{name}_cell" in scratch.__all__ and f"{name}_cell_backward" in scratch.__all__
    first = {"rnn": ["x_t", "h_prev", "p"], "lstm": ["x_t", "state", "p"], "gru": ["x_t", "h_prev", "p", "variant"]}[name]
    assert list(inspect.signature(cell).parameters) == first
    assert list(inspect.signature(backward).parameters) == [{"lstm": "d_state"}.get(name, "dh_t"), "cache_t"]
    if name == "gru":
        assert inspect.signature(cell).parameters["variant"].default == "torch"


@pytest.mark.parametrize("name", list(CELLS))
def test_the_cells_read_like_the_equations(name):
    """No argument checking inside, and each equation's line carries its label exactly once."""
    cell, backward, _, _, labels = CELLS[name]
    for function in (cell, backward):
        text = show_source(function).text
        for word in ("raise", "_validate", "isinstance", "as_float_array", "check_"):
            assert word not in text, f"{function.__name__} checks its arguments ({word!r}): move that to the step function"
        assert len(text.splitlines()) <= 32, f"{function.__name__} is {len(text.splitlines())} lines long"
    for label in labels:
        assert len(labelled_lines(cell, label)) == 1, (label, labelled_lines(cell, label))


@pytest.mark.parametrize("torch_cell, labels", [
    (rnnbook.nn.RNNCell.forward, CELLS["rnn"][4]),
    (rnnbook.nn.LSTMCell.forward, CELLS["lstm"][4]),
    (rnnbook.nn.GRUCell.forward, CELLS["gru"][4]),
], ids=["RNNCell", "LSTMCell", "GRUCell"])
def test_the_torch_cells_carry_the_same_labels(torch_cell, labels):
    for label in labels:
        assert len(labelled_lines(torch_cell, label)) == 1, (label, labelled_lines(torch_cell, label))
    assert "raise" not in show_source(torch_cell).text


def _inputs(name, shape, seed, variant="torch"):
    N, D, H = shape
    rng = np.random.default_rng(seed)
    p = random_params(D, H, rng, gates=CELLS[name][3])
    x_t, h_prev, c_prev = rng.normal(size=(N, D)), rng.normal(scale=0.5, size=(N, H)), rng.normal(size=(N, H))
    state = (h_prev, c_prev) if name == "lstm" else h_prev
    args = (x_t, state, p) + ((variant,) if name == "gru" else ())
    return rng, args


def _torch_cell(name, p, variant):
    D, H = p["weight_ih"].shape[1], p["weight_hh"].shape[1]
    cell = {"rnn": rnnbook.nn.RNNCell(D, H, dtype=torch.float64),
            "lstm": rnnbook.nn.LSTMCell(D, H, dtype=torch.float64),
            "gru": rnnbook.nn.GRUCell(D, H, variant=variant, dtype=torch.float64)}[name]
    cell.load_state_dict({k: torch.tensor(v) for k, v in p.items()})
    return cell


CASES = [("rnn", "torch"), ("lstm", "torch"), ("gru", "torch"), ("gru", "seed")]


@pytest.mark.equation("eq-lstm-forget")
@pytest.mark.equation("eq-gru-hidden")
@pytest.mark.equation("eq-gru-torch-hidden")
@pytest.mark.parametrize("name, variant", CASES, ids=[f"{n}-{v}" for n, v in CASES])
@pytest.mark.parametrize("shape", CELL_SHAPES, ids=CELL_IDS)
def test_cell_forward_and_backward_equal_torch_and_autograd(shape, name, variant):
    """The shape of return: ``(state, cache_t)`` forward, ``(grads_t, d_state_prev)`` backward; the numbers of torch."""
    cell, backward, _, _, _ = CELLS[name]
    rng, (x_t, state, p, *rest) = _inputs(name, shape, seed=sum(shape) + len(name), variant=variant)
    new_state, cache_t = cell(x_t, state, p, *rest)
    N, _, H = shape
    # torch, through rnnbook.nn's cells (equal to nn.RNNCell / LSTMCell / GRUCell, tested elsewhere)
    torch_cell = _torch_cell(name, p, variant)
    xt = t64(x_t, True)
    st = tuple(t64(s, True) for s in state) if name == "lstm" else t64(state, True)
    out = torch_cell(xt, st)
    if name == "lstm":
        assert isinstance(new_state, tuple) and len(new_state) == 2
        for a, b in zip(new_state, out):
            assert_close(a, b, FORWARD_TOL, "forward", f"{name} state")
        d_state = (rng.normal(size=(N, H)), rng.normal(size=(N, H)))
        loss = (out[0] * t64(d_state[0])).sum() + (out[1] * t64(d_state[1])).sum()
    else:
        assert isinstance(new_state, np.ndarray) and new_state.shape == (N, H)
        assert_close(new_state, out, FORWARD_TOL, "forward", f"{name} h_t")
        d_state = rng.normal(size=(N, H))
        loss = (out * t64(d_state)).sum()
    loss.backward()
    grads_t, d_prev = backward(d_state, cache_t)
    assert set(grads_t) == GRAD_KEYS
    for key in GRAD_KEYS - {"x"}:
        assert_close(grads_t[key], getattr(torch_cell, key).grad, AUTOGRAD_TOL, "autograd", f"{name} {key}")
    assert_close(grads_t["x"], xt.grad, AUTOGRAD_TOL, "autograd", f"{name} x")
    if name == "lstm":
        for a, b in zip(d_prev, st):
            assert_close(a, b.grad, AUTOGRAD_TOL, "autograd", f"{name} d_state_prev")
    else:
        assert_close(d_prev, st.grad, AUTOGRAD_TOL, "autograd", f"{name} dh_prev")


@pytest.mark.parametrize("name, variant", CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_the_checked_step_functions_call_the_cells(name, variant):
    """rnn_step_forward … are the cells after one check: the same numbers, bit for bit, and the same cache."""
    cell, backward, _, _, _ = CELLS[name]
    rng, (x_t, state, p, *rest) = _inputs(name, (3, 2, 4), seed=9, variant=variant)
    step_forward = getattr(scratch, f"{name}_step_forward")
    step_backward = getattr(scratch, f"{name}_step_backward")
    new_state, cache_t = cell(x_t, state, p, *rest)
    step_state, step_cache = step_forward(x_t, state, p, *rest)
    pairs = zip(new_state, step_state) if name == "lstm" else [(new_state, step_state)]
    for a, b in pairs:
        np.testing.assert_array_equal(a, b)
    d = rng.normal(size=(3, 4))
    grads_t, d_prev = backward((d, d) if name == "lstm" else d, cache_t)
    step_grads = step_backward(d, d, step_cache) if name == "lstm" else step_backward(d, step_cache)
    for key in GRAD_KEYS:
        np.testing.assert_array_equal(step_grads[key], grads_t[key])
    np.testing.assert_array_equal(step_grads["h_prev"], d_prev[0] if name == "lstm" else d_prev)


# --------------------------------------------------------------------------- the sequence functions loop the cells


LOOPS = [
    (scratch.rnn_forward, "rnn_cell("), (scratch.rnn_backward, "rnn_cell_backward("),
    (scratch.bptt_hidden_grads, "rnn_cell_backward("),
    (scratch.lstm_forward, "lstm_cell("), (scratch.lstm_backward, "lstm_cell_backward("),
    (scratch.lstm_hidden_grads, "lstm_cell_backward("),
    (scratch.gru_forward, "gru_cell("), (scratch.gru_backward, "gru_cell_backward("),
]


@pytest.mark.parametrize("function, cell", LOOPS, ids=[f.__name__ for f, _ in LOOPS])
def test_the_sequence_functions_check_once_and_loop_the_cell(function, cell):
    text = show_source(function).text
    assert cell in text and "for t in " in text
    assert "raise" not in text
    assert sum("_validate." in line for line in text.splitlines()) == 1, "one validating call, at the top"
    assert len(text.splitlines()) <= 14, f"{function.__name__}: {len(text.splitlines())} lines"


@pytest.mark.parametrize("step", ["rnn_step_forward", "rnn_step_backward", "lstm_step_forward", "lstm_step_backward",
                                  "gru_step_forward", "gru_step_backward"])
def test_the_step_functions_are_a_check_and_a_cell(step):
    text = show_source(getattr(scratch, step)).text
    assert "raise" not in text and len(text.splitlines()) <= 6, text
