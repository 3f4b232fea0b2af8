"""The NumPy LSTM (scratch.lstm): forward against nn.LSTM / nn.LSTMCell, the six equations one by one,
BPTT against autograd and central differences, the cell path ∂C_t/∂C_{t-1} = diag(f_t), dtypes and bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from _helpers import (
    lstm_autograd,
    AUTOGRAD_TOL,
    FORWARD_TOL,
    SHAPES,
    assert_close,
    assert_grads_close,
    gate_rows,
    max_diff,
    random_params,
    record_gradcheck,
    seed_of,
    shape_id,
    t64,
    torch_lstm,
    torch_lstm_cell,
)
from rnnbook import scratch

KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
SHAPE_IDS = [shape_id(s) for s in SHAPES]
SMALL = SHAPES[:5]  # gradient checks by central differences: small shapes only
SMALL_IDS = SHAPE_IDS[:5]
I, F, G, O = range(4)  # PyTorch's gate order i, f, g, o


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _setup(shape, salt=0):
    N, T, D, H = shape
    seed = seed_of(*shape, salt)
    rng = np.random.default_rng(seed)
    module = torch_lstm(D, H, seed)
    p = scratch.params_from_torch(module)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(scale=0.5, size=(N, H))
    c0 = rng.normal(size=(N, H))
    return rng, module, p, x, h0, c0


# --------------------------------------------------------------------------- forward


@pytest.mark.equation("eq-lstm-cell")
@pytest.mark.equation("eq-lstm-hidden")
@pytest.mark.parametrize("state", ["None", "given", "(h0, None)"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_forward_equals_torch(shape, state):
    N, T, D, H = shape
    _, module, p, x, h0, c0 = _setup(shape)
    if state == "None":
        arg, torch_state = None, None
    elif state == "given":
        arg, torch_state = (h0, c0), (t64(h0)[None], t64(c0)[None])
    else:  # a pair with None: zeros for the cell state
        arg, torch_state = (h0, None), (t64(h0)[None], torch.zeros(1, N, H, dtype=torch.float64))
    out, (h_T, c_T), cache = scratch.lstm_forward(x, arg, p)
    with torch.no_grad():
        out_t, (h_n, c_n) = module(t64(x), torch_state)
    assert out.shape == (N, T, H) and h_T.shape == c_T.shape == (N, H)
    assert out.dtype == h_T.dtype == c_T.dtype == np.float64
    assert_close(out, out_t, FORWARD_TOL, "forward", "out")
    assert_close(h_T, h_n[0], FORWARD_TOL, "forward", "h_T")
    assert_close(c_T, c_n[0], FORWARD_TOL, "forward", "c_T")
    np.testing.assert_array_equal(h_T, out[:, -1])
    assert isinstance(cache, scratch.LSTMCache)
    np.testing.assert_array_equal(cache.c[:, -1], c_T)
    np.testing.assert_array_equal(cache.h0, h0 if state != "None" else np.zeros((N, H)))
    np.testing.assert_array_equal(cache.c0, c0 if state == "given" else np.zeros((N, H)))


@pytest.mark.equation("eq-lstm-cell")
@pytest.mark.equation("eq-lstm-hidden")
@pytest.mark.parametrize("with_state", [False, True], ids=["state=None", "state-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_step_forward_equals_torch_cell(shape, with_state):
    N, _, D, H = shape
    seed = seed_of(*shape, 1)
    rng = np.random.default_rng(seed)
    cell = torch_lstm_cell(D, H, seed)
    p = scratch.params_from_torch(cell)
    x_t, h_prev, c_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    (h_t, c_t), _ = scratch.lstm_step_forward(x_t, (h_prev, c_prev) if with_state else None, p)
    with torch.no_grad():
        h_torch, c_torch = cell(t64(x_t), (t64(h_prev), t64(c_prev)) if with_state else None)
    assert h_t.shape == c_t.shape == (N, H)
    assert_close(h_t, h_torch, FORWARD_TOL, "forward", "h_t")
    assert_close(c_t, c_torch, FORWARD_TOL, "forward", "c_t")


@pytest.mark.parametrize("shape", SHAPES[:5], ids=SHAPE_IDS[:5])
def test_lstm_forward_is_the_step_looped(shape):
    _, _, p, x, h0, c0 = _setup(shape, salt=2)
    out, (h_T, c_T), cache = scratch.lstm_forward(x, (h0, c0), p)
    h, c = h0, c0
    for t in range(x.shape[1]):
        (h, c), _ = scratch.lstm_step_forward(x[:, t], (h, c), p)
        # both loop the same cell function: the same numbers, bit for bit
        np.testing.assert_array_equal(out[:, t], h)
        np.testing.assert_array_equal(cache.c[:, t], c)
    np.testing.assert_array_equal(h_T, h)
    np.testing.assert_array_equal(c_T, c)


# --------------------------------------------------------------------------- the six equations, one by one


def _by_the_notes(shape, salt):
    """Run lstm_forward, and recompute every quantity of the six equations with the notes' column vectors.

    Each gate's matrix is the notes' ``W_k = [W_hk | W_ik]`` of shape (H, H + D), acting on the
    concatenation ``[h_{t-1}, x_t]``, built here from PyTorch's rows (not by params_to_concat).
    The recomputation uses the cache's own h_{t-1}, C_{t-1}, so every equation is checked separately.
    """
    N, T, D, H = shape
    _, _, p, x, h0, c0 = _setup(shape, salt)
    out, _, cache = scratch.lstm_forward(x, (h0, c0), p)
    W = {k: np.hstack([p["weight_hh"][gate_rows(k, H)], p["weight_ih"][gate_rows(k, H)]]) for k in range(4)}
    b = {k: (p["bias_ih"] + p["bias_hh"])[gate_rows(k, H)] for k in range(4)}
    h_prev = np.concatenate([h0[:, None], cache.h[:, :-1]], axis=1)
    c_prev = np.concatenate([c0[:, None], cache.c[:, :-1]], axis=1)
    ours = {name: np.empty((N, T, H)) for name in ("f", "i", "C~", "C", "o", "h")}
    for n in range(N):
        for t in range(T):
            hx = np.concatenate([h_prev[n, t], x[n, t]])  # [h_{t-1}, x_t]
            ours["f"][n, t] = _sigmoid(W[F] @ hx + b[F])
            ours["i"][n, t] = _sigmoid(W[I] @ hx + b[I])
            ours["C~"][n, t] = np.tanh(W[G] @ hx + b[G])
            ours["C"][n, t] = cache.gates[n, t, gate_rows(F, H)] * c_prev[n, t] + (
                cache.gates[n, t, gate_rows(I, H)] * cache.gates[n, t, gate_rows(G, H)]
            )
            ours["o"][n, t] = _sigmoid(W[O] @ hx + b[O])
            ours["h"][n, t] = cache.gates[n, t, gate_rows(O, H)] * np.tanh(cache.c[n, t])
    library = {
        "i": cache.gates[..., gate_rows(I, H)],
        "f": cache.gates[..., gate_rows(F, H)],
        "C~": cache.gates[..., gate_rows(G, H)],
        "o": cache.gates[..., gate_rows(O, H)],
        "C": cache.c,
        "h": out,
    }
    np.testing.assert_array_equal(cache.tanh_c, np.tanh(cache.c))
    return ours, library


EQ_SHAPES = [SHAPES[0], SHAPES[3], SHAPES[5]]
EQ_IDS = [shape_id(s) for s in EQ_SHAPES]


@pytest.mark.equation("eq-lstm-forget")
@pytest.mark.parametrize("shape", EQ_SHAPES, ids=EQ_IDS)
def test_forget_gate_equation(shape):
    """f_t = σ(W_f [h_{t-1}, x_t] + b_f), PyTorch's second block of rows."""
    ours, library = _by_the_notes(shape, salt=3)
    assert_close(library["f"], ours["f"], 1e-14, "equation", "f")
    assert np.all((library["f"] > 0) & (library["f"] < 1))


@pytest.mark.equation("eq-lstm-input")
@pytest.mark.parametrize("shape", EQ_SHAPES, ids=EQ_IDS)
def test_input_gate_equation(shape):
    """i_t = σ(W_i [h_{t-1}, x_t] + b_i), PyTorch's first block of rows."""
    ours, library = _by_the_notes(shape, salt=4)
    assert_close(library["i"], ours["i"], 1e-14, "equation", "i")


@pytest.mark.equation("eq-lstm-candidate")
@pytest.mark.parametrize("shape", EQ_SHAPES, ids=EQ_IDS)
def test_candidate_equation(shape):
    """C̃_t = tanh(W_C [h_{t-1}, x_t] + b_C), PyTorch's third block ("g")."""
    ours, library = _by_the_notes(shape, salt=5)
    assert_close(library["C~"], ours["C~"], 1e-14, "equation", "C~")
    assert np.all(np.abs(library["C~"]) < 1)


@pytest.mark.equation("eq-lstm-cell")
@pytest.mark.parametrize("shape", EQ_SHAPES, ids=EQ_IDS)
def test_cell_state_equation(shape):
    """C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t."""
    ours, library = _by_the_notes(shape, salt=6)
    assert_close(library["C"], ours["C"], 1e-15, "equation", "C")


@pytest.mark.equation("eq-lstm-output")
@pytest.mark.parametrize("shape", EQ_SHAPES, ids=EQ_IDS)
def test_output_gate_equation(shape):
    """o_t = σ(W_o [h_{t-1}, x_t] + b_o), PyTorch's fourth block of rows."""
    ours, library = _by_the_notes(shape, salt=7)
    assert_close(library["o"], ours["o"], 1e-14, "equation", "o")


@pytest.mark.equation("eq-lstm-hidden")
@pytest.mark.parametrize("shape", EQ_SHAPES, ids=EQ_IDS)
def test_hidden_state_equation(shape):
    """h_t = o_t ⊙ tanh(C_t), so |h_t| < 1 whatever C_t."""
    ours, library = _by_the_notes(shape, salt=8)
    assert_close(library["h"], ours["h"], 1e-15, "equation", "h")
    assert np.all(np.abs(library["h"]) < 1)


@pytest.mark.equation("eq-lstm-cell")
def test_gates_fully_open_or_shut():
    """f = 1, i = 0 keeps C exactly; f = 0, i = 1 replaces it by C̃ (huge biases saturate σ to 0 or 1 exactly)."""
    D, H = 2, 3
    rng = np.random.default_rng(0)
    p = random_params(D, H, rng, gates=4)
    x, c0 = rng.normal(size=(2, 6, D)), rng.normal(size=(2, H))
    keep = {k: v.copy() for k, v in p.items()}
    keep["bias_ih"][gate_rows(F, H)] = 1e3
    keep["bias_ih"][gate_rows(I, H)] = -1e3
    _, (_, c_T), cache = scratch.lstm_forward(x, (None, c0), keep)
    np.testing.assert_array_equal(c_T, c0)  # a perfect memory over 6 steps
    replace = {k: v.copy() for k, v in p.items()}
    replace["bias_ih"][gate_rows(F, H)] = -1e3
    replace["bias_ih"][gate_rows(I, H)] = 1e3
    _, (_, c_T), cache = scratch.lstm_forward(x, (None, c0), replace)
    np.testing.assert_array_equal(c_T, cache.gates[:, -1, gate_rows(G, H)])


# --------------------------------------------------------------------------- backward


@pytest.mark.equation("eq-lstm-cell-grad")
@pytest.mark.parametrize("final", ["none", "d_h_T", "d_c_T", "both"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_backward_equals_autograd(shape, final):
    N, T, D, H = shape
    rng, module, p, x, h0, c0 = _setup(shape, salt=10)
    G_out = rng.normal(size=(N, T, H))
    G_h = rng.normal(size=(N, H)) if final in ("d_h_T", "both") else None
    G_c = rng.normal(size=(N, H)) if final in ("d_c_T", "both") else None
    _, _, cache = scratch.lstm_forward(x, (h0, c0), p)
    grads = scratch.lstm_backward(G_out, cache, d_h_T=G_h, d_c_T=G_c)
    assert set(grads) == set(KEYS) | {"x", "h0", "c0"}
    assert_grads_close(grads, lstm_autograd(module, x, h0, c0, G_out, G_h, G_c)[1])
    np.testing.assert_array_equal(grads["bias_ih"], grads["bias_hh"])  # only the sum of the biases matters
    assert not np.shares_memory(grads["bias_ih"], grads["bias_hh"])


@pytest.mark.equation("eq-lstm-cell-grad")
@pytest.mark.parametrize("with_dc", [False, True], ids=["dc_t=None", "dc_t-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_step_backward_equals_autograd(shape, with_dc):
    N, _, D, H = shape
    seed = seed_of(*shape, 11)
    rng = np.random.default_rng(seed)
    cell = torch_lstm_cell(D, H, seed)
    p = scratch.params_from_torch(cell)
    x_t, h_prev, c_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    dh, dc = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    _, cache = scratch.lstm_step_forward(x_t, (h_prev, c_prev), p)
    grads = scratch.lstm_step_backward(dh, dc if with_dc else None, cache)

    xt, ht, ct = t64(x_t, True), t64(h_prev, True), t64(c_prev, True)
    h_t, c_t = cell(xt, (ht, ct))
    loss = (h_t * t64(dh)).sum() + ((c_t * t64(dc)).sum() if with_dc else 0)
    loss.backward()
    expected = {k: getattr(cell, k).grad.numpy() for k in KEYS}
    expected.update(x=xt.grad.numpy(), h_prev=ht.grad.numpy(), c_prev=ct.grad.numpy())
    assert_grads_close(grads, expected)


@pytest.mark.equation("eq-lstm-cell-grad")
@pytest.mark.parametrize("final", ["none", "both"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_hidden_grads_equal_autograd(shape, final):
    """The total ∂L/∂h_t and ∂L/∂C_t, read from autograd through an nn.LSTMCell loop with retain_grad."""
    N, T, D, H = shape
    seed = seed_of(*shape, 12)
    rng = np.random.default_rng(seed)
    cell = torch_lstm_cell(D, H, seed)
    p = scratch.params_from_torch(cell)
    x, h0, c0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    G_out = rng.normal(size=(N, T, H))
    G_h, G_c = (rng.normal(size=(N, H)), rng.normal(size=(N, H))) if final == "both" else (None, None)
    _, _, cache = scratch.lstm_forward(x, (h0, c0), p)
    delta_h, delta_c = scratch.lstm_hidden_grads(G_out, cache, d_h_T=G_h, d_c_T=G_c)
    assert delta_h.shape == delta_c.shape == (N, T, H)

    xt, h, c = t64(x), t64(h0), t64(c0)
    hs, cs = [], []
    for t in range(T):
        h, c = cell(xt[:, t], (h, c))
        h.retain_grad()
        c.retain_grad()
        hs.append(h)
        cs.append(c)
    loss = (torch.stack(hs, dim=1) * t64(G_out)).sum()
    if final == "both":
        loss = loss + (hs[-1] * t64(G_h)).sum() + (cs[-1] * t64(G_c)).sum()
    loss.backward()
    for t in range(T):
        assert_close(delta_h[:, t], hs[t].grad, AUTOGRAD_TOL, "autograd", f"dL/dh_{t + 1}")
        assert_close(delta_c[:, t], cs[t].grad, AUTOGRAD_TOL, "autograd", f"dL/dC_{t + 1}")


@pytest.mark.equation("eq-lstm-cell-grad")
@pytest.mark.parametrize("shape", SHAPES[:6], ids=SHAPE_IDS[:6])
def test_cell_path_jacobian_is_diag_forget_gate(shape):
    """∂C_t/∂C_{t-1} with h_{t-1} held fixed is diag(f_t): autograd's Jacobian against the cached forget gate.

    The Jacobian over the whole batch is (N, H, N, H): block-diagonal in the sequences
    (sequence n's cell does not touch sequence m's), and each block is diag(f_t[n]).
    """
    N, T, D, H = shape
    seed = seed_of(*shape, 13)
    rng = np.random.default_rng(seed)
    cell = torch_lstm_cell(D, H, seed)
    p = scratch.params_from_torch(cell)
    x, h0, c0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    _, _, cache = scratch.lstm_forward(x, (h0, c0), p)
    for t in range(T):
        h_prev = t64(cache.h[:, t - 1] if t else h0)  # a constant: held fixed
        c_prev = t64(cache.c[:, t - 1] if t else c0)
        J = torch.autograd.functional.jacobian(lambda c: cell(t64(x[:, t]), (h_prev, c))[1], c_prev)
        f_t = cache.gates[:, t, gate_rows(F, H)]
        expected = np.einsum("nh,nm,hk->nhmk", f_t, np.eye(N), np.eye(H))
        assert_close(J, expected, 1e-15, "jacobian", f"dC_{t + 1}/dC_{t}")
    # the code's cell-path line: with no gradient at h_t, ∂L/∂C_{t-1} = f_t ⊙ ∂L/∂C_t exactly
    (_, _), step_cache = scratch.lstm_step_forward(x[:, 0], (h0, c0), p)
    v = rng.normal(size=(N, H))
    g = scratch.lstm_step_backward(np.zeros((N, H)), v, step_cache)
    f_0 = step_cache[4]  # the cache of lstm_cell: (x_t, h_prev, c_prev, i_t, f_t, g_t, o_t, c_t, p)
    np.testing.assert_array_equal(f_0, cache.gates[:, 0, gate_rows(F, H)])
    np.testing.assert_array_equal(g["c_prev"], f_0 * v)


@pytest.mark.equation("eq-lstm-cell-grad")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_cell_grads_follow_the_recursion(shape):
    """∂L/∂C_t = f_{t+1} ⊙ ∂L/∂C_{t+1} + ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh² C_t): no weight matrix on the cell path."""
    N, T, D, H = shape
    rng, _, p, x, h0, c0 = _setup(shape, salt=14)
    G_out, G_h, G_c = rng.normal(size=(N, T, H)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    _, _, cache = scratch.lstm_forward(x, (h0, c0), p)
    delta_h, delta_c = scratch.lstm_hidden_grads(G_out, cache, d_h_T=G_h, d_c_T=G_c)
    f = cache.gates[..., gate_rows(F, H)]
    o = cache.gates[..., gate_rows(O, H)]
    through_h = delta_h * o * (1 - np.tanh(cache.c) ** 2)
    assert max_diff(delta_h[:, -1], G_out[:, -1] + G_h) <= 1e-15
    assert max_diff(delta_c[:, -1], G_c + through_h[:, -1]) <= 1e-15
    for t in range(T - 1):
        assert max_diff(delta_c[:, t], f[:, t + 1] * delta_c[:, t + 1] + through_h[:, t]) <= 1e-14
    grads = scratch.lstm_backward(G_out, cache, d_h_T=G_h, d_c_T=G_c)
    assert max_diff(grads["c0"], f[:, 0] * delta_c[:, 0]) <= 1e-15


@pytest.mark.equation("eq-lstm-cell-grad")
@pytest.mark.parametrize("shape", SMALL, ids=SMALL_IDS)
def test_lstm_backward_gradient_check(shape):
    N, T, D, H = shape
    rng, _, p, x, h0, c0 = _setup(shape, salt=15)
    G_out, G_h, G_c = rng.normal(size=(N, T, H)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    arrays = {**p, "x": x, "h0": h0, "c0": c0}

    def loss():
        out, (h_T, c_T), _ = scratch.lstm_forward(arrays["x"], (arrays["h0"], arrays["c0"]), {k: arrays[k] for k in KEYS})
        return float(np.sum(out * G_out) + np.sum(h_T * G_h) + np.sum(c_T * G_c))

    _, _, cache = scratch.lstm_forward(x, (h0, c0), p)
    grads = scratch.lstm_backward(G_out, cache, d_h_T=G_h, d_c_T=G_c)
    errors = scratch.check_gradients(loss, arrays, grads)
    assert set(errors) == set(arrays)
    record_gradcheck(errors)


@pytest.mark.parametrize("shape", SMALL, ids=SMALL_IDS)
def test_lstm_step_backward_gradient_check(shape):
    N, _, D, H = shape
    rng = np.random.default_rng(seed_of(*shape, 16))
    p = random_params(D, H, rng, gates=4)
    arrays = {**p, "x": rng.normal(size=(N, D)), "h_prev": rng.normal(size=(N, H)), "c_prev": rng.normal(size=(N, H))}
    dh, dc = rng.normal(size=(N, H)), rng.normal(size=(N, H))

    def loss():
        (h, c), _ = scratch.lstm_step_forward(arrays["x"], (arrays["h_prev"], arrays["c_prev"]), {k: arrays[k] for k in KEYS})
        return float(np.sum(h * dh) + np.sum(c * dc))

    _, cache = scratch.lstm_step_forward(arrays["x"], (arrays["h_prev"], arrays["c_prev"]), p)
    errors = scratch.check_gradients(loss, arrays, scratch.lstm_step_backward(dh, dc, cache))
    assert set(errors) == set(arrays)
    record_gradcheck(errors)


# --------------------------------------------------------------------------- purity


def test_forward_does_not_modify_its_inputs():
    _, _, p, x, h0, c0 = _setup((3, 4, 2, 5), salt=17)
    saved = copy.deepcopy((x, h0, c0, p))
    out, (h_T, c_T), cache = scratch.lstm_forward(x, (h0, c0), p)
    h_T += 1.0  # copies, not views of the cache
    c_T += 1.0
    assert not np.shares_memory(h_T, out) and not np.shares_memory(c_T, cache.c)
    for a, b in zip((x, h0, c0), saved[:3]):
        np.testing.assert_array_equal(a, b)
    for k in KEYS:
        np.testing.assert_array_equal(p[k], saved[3][k])


@pytest.mark.parametrize("shape", SHAPES[:3], ids=SHAPE_IDS[:3])
def test_backward_does_not_mutate_the_cache_or_upstream_gradients(shape):
    N, T, D, H = shape
    rng, _, p, x, h0, c0 = _setup(shape, salt=18)
    _, _, cache = scratch.lstm_forward(x, (h0, c0), p)
    saved = copy.deepcopy(cache)
    G_out, G_h, G_c = rng.normal(size=(N, T, H)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    upstream = copy.deepcopy((G_out, G_h, G_c))
    first = scratch.lstm_backward(G_out, cache, d_h_T=G_h, d_c_T=G_c)
    scratch.lstm_hidden_grads(G_out, cache, d_h_T=G_h, d_c_T=G_c)
    second = scratch.lstm_backward(G_out, cache)
    for name in ("x", "h0", "c0", "h", "c", "gates", "tanh_c"):
        np.testing.assert_array_equal(getattr(cache, name), getattr(saved, name))
    for k in KEYS:
        np.testing.assert_array_equal(cache.p[k], saved.p[k])
    for a, b in zip((G_out, G_h, G_c), upstream):
        np.testing.assert_array_equal(a, b)
    fresh = scratch.lstm_backward(G_out, saved)
    for k in second:
        np.testing.assert_array_equal(second[k], fresh[k])
    assert max_diff(first["weight_hh"], second["weight_hh"]) > 0  # d_h_T, d_c_T mattered
    # the step backward leaves its cache alone too
    _, step_cache = scratch.lstm_step_forward(x[:, 0], (h0, c0), p)
    step_saved = copy.deepcopy(step_cache)
    scratch.lstm_step_backward(G_h, G_c, step_cache)
    for a, b in zip(step_cache[:8], step_saved[:8]):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- dtypes


def test_float32_in_float32_out():
    rng, _, p, x, h0, c0 = _setup((3, 5, 4, 6), salt=19)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    x32, h32, c32 = x.astype(np.float32), h0.astype(np.float32), c0.astype(np.float32)
    out, (h_T, c_T), cache = scratch.lstm_forward(x32, (h32, c32), p32)
    assert out.dtype == h_T.dtype == c_T.dtype == np.float32
    out64, _, _ = scratch.lstm_forward(x32.astype(np.float64), (h32, c32), p32)
    assert out64.dtype == np.float64
    assert max_diff(out, out64) <= 1e-5
    grads = scratch.lstm_backward(rng.normal(size=out.shape).astype(np.float32), cache)
    for k, g in grads.items():
        assert g.dtype == np.float32, k
    delta_h, delta_c = scratch.lstm_hidden_grads(np.ones_like(out), cache)
    assert delta_h.dtype == delta_c.dtype == np.float32
    # float64 upstream gradients do not promote a float32 computation
    grads = scratch.lstm_backward(np.ones(out.shape), cache, d_h_T=np.ones(h_T.shape), d_c_T=np.ones(c_T.shape))
    for k, g in grads.items():
        assert g.dtype == np.float32, k
    (h_t, c_t), step_cache = scratch.lstm_step_forward(x32[:, 0], (h32, c32), p32)
    assert h_t.dtype == c_t.dtype == np.float32
    for k, g in scratch.lstm_step_backward(np.ones(h_t.shape), np.ones(c_t.shape), step_cache).items():
        assert g.dtype == np.float32, k
    (h_t, _), _ = scratch.lstm_step_forward(x32[:, 0], None, p32)  # zero states take the input's dtype
    assert h_t.dtype == np.float32


# --------------------------------------------------------------------------- bad input


def _valid(N=2, T=3, D=4, H=5):
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H)), random_params(D, H, rng, gates=4)


@pytest.mark.parametrize("cls, gates", [(nn.GRU, 3), (nn.RNN, 1), (nn.GRUCell, 3), (nn.RNNCell, 1)],
                         ids=["GRU", "RNN", "GRUCell", "RNNCell"])
def test_params_of_another_cell(cls, gates):
    x, h0, c0, _ = _valid()
    torch.manual_seed(0)
    p = scratch.params_from_torch(cls(4, 5))
    match = (rf"p\['weight_hh'\] of a LSTM must have shape \(G\*H, H\) = \(20, 5\) with G = 4; "
             rf"got \({gates * 5}, 5\) \(that is {gates} gates: is this the parameter dict of another cell\?\)")
    with pytest.raises(ValueError, match=match):
        scratch.lstm_forward(x, (h0, c0), p)
    with pytest.raises(ValueError, match=match):
        scratch.lstm_step_forward(x[:, 0], None, p)


@pytest.mark.parametrize(
    "state, match",
    [
        ("h0", r"the state must be a pair \(h0, c0\) of \(N, H\) arrays or None; got ndarray"),
        ("stacked", r"the state must be a pair \(h0, c0\).*got ndarray"),
        ("triple", r"the state must be a pair \(h0, c0\).*got tuple"),
        ("single", r"the state must be a pair \(h0, c0\).*got tuple"),
    ],
)
def test_state_must_be_a_pair(state, match):
    x, h0, c0, p = _valid()
    bad = {"h0": h0, "stacked": np.stack([h0, c0]), "triple": (h0, c0, c0), "single": (h0,)}[state]
    with pytest.raises(ValueError, match=match):
        scratch.lstm_forward(x, bad, p)
    with pytest.raises(ValueError, match=match.replace("h0, c0", "h_prev, c_prev")):
        scratch.lstm_step_forward(x[:, 0], bad, p)


def test_wrong_shapes():
    x, h0, c0, p = _valid()
    with pytest.raises(ValueError, match=r"x must have 3 dimensions \(N, T, D\); got shape \(2, 4\)"):
        scratch.lstm_forward(x[:, 0], (h0, c0), p)
    with pytest.raises(ValueError, match=r"x must have D = 4 features.*\(20, 4\).*got x of shape \(2, 3, 3\)"):
        scratch.lstm_forward(x[..., :3], (h0, c0), p)
    with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) = \(2, 5\); got \(2, 4\)"):
        scratch.lstm_forward(x, (h0[:, :4], c0), p)
    with pytest.raises(ValueError, match=r"c0 must have shape \(N, H\) = \(2, 5\); got \(1, 5\)"):
        scratch.lstm_forward(x, (h0, c0[:1]), p)
    with pytest.raises(ValueError, match=r"c0 must have 2 dimensions \(N, H\); got shape \(1, 2, 5\)"):
        scratch.lstm_forward(x, (h0, c0[None]), p)
    with pytest.raises(ValueError, match=r"x_t must have 2 dimensions \(N, D\); got shape \(2, 3, 4\)"):
        scratch.lstm_step_forward(x, (h0, c0), p)
    with pytest.raises(ValueError, match=r"x_t must have D = 4.*got x_t of shape \(2, 3\)"):
        scratch.lstm_step_forward(x[:, 0, :3], (h0, c0), p)
    with pytest.raises(ValueError, match=r"c_prev must have shape \(N, H\) = \(2, 5\); got \(2, 4\)"):
        scratch.lstm_step_forward(x[:, 0], (h0, c0[:, :4]), p)
    with pytest.raises(ValueError, match=r"p\['weight_ih'\] must have shape \(G\*H, D\) with G\*H = 20; got \(19, 4\)"):
        scratch.lstm_forward(x, None, dict(p, weight_ih=p["weight_ih"][:19]))
    with pytest.raises(ValueError, match=r"p\['bias_hh'\] must have shape \(G\*H,\) = \(20,\); got \(5,\)"):
        scratch.lstm_forward(x, None, dict(p, bias_hh=np.zeros(5)))
    with pytest.raises(ValueError, match=r"p is missing \['bias_ih'\]"):
        scratch.lstm_forward(x, None, {k: v for k, v in p.items() if k != "bias_ih"})


@pytest.mark.parametrize("where", ["x", "h0", "c0", "weight_hh", "bias_ih"])
@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinite")])
def test_non_finite_inputs(where, value, word):
    x, h0, c0, p = _valid()
    arrays = {"x": x, "h0": h0, "c0": c0, **p}
    arrays[where].flat[1] = value
    name = where if where in ("x", "h0", "c0") else rf"p\['{where}'\]"
    with pytest.raises(ValueError, match=rf"{name} must be finite; it contains {word}"):
        scratch.lstm_forward(x, (h0, c0), p)


def test_bad_upstream_gradients():
    x, h0, c0, p = _valid()
    _, _, cache = scratch.lstm_forward(x, (h0, c0), p)
    for fn in (scratch.lstm_backward, scratch.lstm_hidden_grads):
        with pytest.raises(ValueError, match=r"d_out must have shape \(N, T, H\) = \(2, 3, 5\); got \(2, 5, 3\)"):
            fn(np.zeros((2, 5, 3)), cache)
        with pytest.raises(ValueError, match=r"d_out must have 3 dimensions \(N, T, H\); got shape \(2, 5\)"):
            fn(np.zeros((2, 5)), cache)
        with pytest.raises(ValueError, match=r"d_out must be finite; it contains NaN"):
            fn(np.full((2, 3, 5), np.nan), cache)
        with pytest.raises(ValueError, match=r"d_h_T must have shape \(N, H\) = \(2, 5\); got \(1, 5\)"):
            fn(np.zeros((2, 3, 5)), cache, d_h_T=np.zeros((1, 5)))
        with pytest.raises(ValueError, match=r"d_c_T must have shape \(N, H\) = \(2, 5\); got \(2, 4\)"):
            fn(np.zeros((2, 3, 5)), cache, d_c_T=np.zeros((2, 4)))
        with pytest.raises(ValueError, match=r"d_c_T must be finite; it contains infinite values"):
            fn(np.zeros((2, 3, 5)), cache, d_c_T=np.full((2, 5), np.inf))
        with pytest.raises(ValueError, match=r"cache must be the LSTMCache returned by lstm_forward; got tuple"):
            fn(np.zeros((2, 3, 5)), (cache.x, cache.h0, cache.c0))
    _, step_cache = scratch.lstm_step_forward(x[:, 0], (h0, c0), p)
    with pytest.raises(ValueError, match=r"dh_t must have shape \(N, H\) = \(2, 5\); got \(5, 2\)"):
        scratch.lstm_step_backward(np.zeros((5, 2)), None, step_cache)
    with pytest.raises(ValueError, match=r"dc_t must have shape \(N, H\) = \(2, 5\); got \(2, 1\)"):
        scratch.lstm_step_backward(np.zeros((2, 5)), np.zeros((2, 1)), step_cache)
    with pytest.raises(ValueError, match=r"dc_t must be finite; it contains NaN"):
        scratch.lstm_step_backward(np.zeros((2, 5)), np.full((2, 5), np.nan), step_cache)
