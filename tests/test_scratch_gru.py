"""The NumPy GRU (scratch.gru), both variants: "torch" against nn.GRU / nn.GRUCell, "seed" against the notes'
equations written out here in torch, both against rnnbook.nn.GRUCell; BPTT against autograd and central
differences; how the variants differ; the update-gate convention (negate_update_gate); dtypes and bad input."""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
import torch
from torch import nn

import rnnbook.nn as rnn_nn
from _helpers import (
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
    torch_gru,
    torch_gru_cell,
    torch_params,
)
from rnnbook import scratch

KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
SHAPE_IDS = [shape_id(s) for s in SHAPES]
SMALL = SHAPES[:5]
SMALL_IDS = SHAPE_IDS[:5]
VARIANTS = ["torch", "seed"]
R, Z, N_ = range(3)  # PyTorch's gate order r, z, n


# --------------------------------------------------------------------------- reference GRUs written in the test


def notes_gru(x, h0, P):
    """The notes' GRU (Chung et al. 2014), in their concatenated form, with torch ops.

    z_t = σ(W_z [h_{t-1}, x_t] + b_z),   r_t = σ(W_r [h_{t-1}, x_t] + b_r),
    h̃_t = tanh(W_h [r_t ⊙ h_{t-1}, x_t] + b_h),   h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t.

    ``P`` holds torch tensors in PyTorch's layout; each notes matrix ``W_k = [W_hk | W_ik]`` is
    built from them with torch.cat, so autograd gives the gradients in PyTorch's layout.
    Returns the list of states ``[h_1, …, h_T]``.
    """
    H = P["weight_hh"].shape[1]

    def W(k):
        return torch.cat([P["weight_hh"][gate_rows(k, H)], P["weight_ih"][gate_rows(k, H)]], dim=1)

    def b(k):
        return P["bias_ih"][gate_rows(k, H)] + P["bias_hh"][gate_rows(k, H)]

    hs, h = [], h0
    for t in range(x.shape[1]):
        hx = torch.cat([h, x[:, t]], dim=1)  # [h_{t-1}, x_t]
        z = torch.sigmoid(hx @ W(Z).T + b(Z))
        r = torch.sigmoid(hx @ W(R).T + b(R))
        h_tilde = torch.tanh(torch.cat([r * h, x[:, t]], dim=1) @ W(N_).T + b(N_))
        h = (1 - z) * h + z * h_tilde
        hs.append(h)
    return hs


def torch_gru_flipped(x, h0, P):
    """PyTorch's GRU (reset after W_hn) with the *other* update-gate convention: h = (1 − z) h_prev + z n."""
    H = P["weight_hh"].shape[1]
    hs, h = [], h0
    for t in range(x.shape[1]):
        xw = x[:, t] @ P["weight_ih"].T + P["bias_ih"]
        hw = h @ P["weight_hh"].T + P["bias_hh"]
        r = torch.sigmoid(xw[:, gate_rows(R, H)] + hw[:, gate_rows(R, H)])
        z = torch.sigmoid(xw[:, gate_rows(Z, H)] + hw[:, gate_rows(Z, H)])
        n = torch.tanh(xw[:, gate_rows(N_, H)] + r * hw[:, gate_rows(N_, H)])
        h = (1 - z) * h + z * n
        hs.append(h)
    return hs


def _setup(shape, salt=0, scale=None):
    """Data and a seeded nn.GRU; with ``scale``, parameters N(0, scale²) instead of PyTorch's init."""
    N, T, D, H = shape
    seed = seed_of(*shape, salt)
    rng = np.random.default_rng(seed)
    module = torch_gru(D, H, seed)
    if scale is not None:
        scratch.params_to_torch(random_params(D, H, rng, scale=scale, gates=3), module)
    p = scratch.params_from_torch(module)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(scale=0.5, size=(N, H))
    return rng, module, p, x, h0


def _nngru_grads(module, x, h0, G, G_T=None):
    """Autograd gradients of L = Σ out ⊙ G (+ Σ h_T ⊙ G_T) through nn.GRU."""
    xt, h0t = t64(x, True), t64(h0, True)
    module.zero_grad()
    out, h_n = module(xt, h0t[None])
    loss = (out * t64(G)).sum() + ((h_n[0] * t64(G_T)).sum() if G_T is not None else 0)
    loss.backward()
    grads = {k: getattr(module, k + "_l0").grad.numpy() for k in KEYS}
    grads.update(x=xt.grad.numpy(), h0=h0t.grad.numpy())
    return grads


def _loop_grads(step_fn, p, x, h0, G, G_T=None):
    """Output and autograd gradients of L = Σ out ⊙ G (+ Σ h_T ⊙ G_T) for ``step_fn(x, h0, P) -> [h_1 … h_T]``."""
    P = torch_params(p)
    xt, h0t = t64(x, True), t64(h0, True)
    hs = step_fn(xt, h0t, P)
    out = torch.stack(hs, dim=1)
    loss = (out * t64(G)).sum() + ((hs[-1] * t64(G_T)).sum() if G_T is not None else 0)
    loss.backward()
    grads = {k: P[k].grad.numpy() for k in KEYS}
    grads.update(x=xt.grad.numpy(), h0=h0t.grad.numpy())
    return out.detach(), grads


# --------------------------------------------------------------------------- variant "torch" against PyTorch


@pytest.mark.equation("eq-gru-torch-candidate")
@pytest.mark.equation("eq-gru-torch-hidden")
@pytest.mark.parametrize("with_h0", [False, True], ids=["h0=None", "h0-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_torch_variant_forward_equals_nn_gru(shape, with_h0):
    N, T, D, H = shape
    _, module, p, x, h0 = _setup(shape)
    out, h_T, cache = scratch.gru_forward(x, h0 if with_h0 else None, p)  # "torch" is the default
    with torch.no_grad():
        out_t, h_n = module(t64(x), t64(h0)[None] if with_h0 else None)
    assert out.shape == (N, T, H) and h_T.shape == (N, H)
    assert out.dtype == h_T.dtype == np.float64
    assert_close(out, out_t, FORWARD_TOL, "forward", "out")
    assert_close(h_T, h_n[0], FORWARD_TOL, "forward", "h_T")
    np.testing.assert_array_equal(h_T, out[:, -1])
    assert not np.shares_memory(h_T, out)
    assert isinstance(cache, scratch.GRUCache) and cache.variant == "torch"
    np.testing.assert_array_equal(cache.h0, h0 if with_h0 else np.zeros((N, H)))


@pytest.mark.equation("eq-gru-torch-hidden")
@pytest.mark.parametrize("with_d_h_T", [False, True], ids=["d_out", "d_out+d_h_T"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_torch_variant_backward_equals_nn_gru_autograd(shape, with_d_h_T):
    N, T, D, H = shape
    rng, module, p, x, h0 = _setup(shape, salt=1)
    G = rng.normal(size=(N, T, H))
    G_T = rng.normal(size=(N, H)) if with_d_h_T else None
    _, _, cache = scratch.gru_forward(x, h0, p, variant="torch")
    grads = scratch.gru_backward(G, cache, d_h_T=G_T)
    assert set(grads) == set(KEYS) | {"x", "h0"}
    assert_grads_close(grads, _nngru_grads(module, x, h0, G, G_T))


@pytest.mark.equation("eq-gru-torch-candidate")
@pytest.mark.equation("eq-gru-torch-hidden")
@pytest.mark.parametrize("with_h", [False, True], ids=["h_prev=None", "h_prev-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_torch_variant_step_equals_nn_gru_cell(shape, with_h):
    N, _, D, H = shape
    seed = seed_of(*shape, 2)
    rng = np.random.default_rng(seed)
    cell = torch_gru_cell(D, H, seed)
    p = scratch.params_from_torch(cell)
    x_t, h_prev, dh = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    h_t, cache = scratch.gru_step_forward(x_t, h_prev if with_h else None, p, variant="torch")
    grads = scratch.gru_step_backward(dh, cache)
    xt, ht = t64(x_t, True), t64(h_prev if with_h else np.zeros((N, H)), True)
    h_torch = cell(xt, ht)
    (h_torch * t64(dh)).sum().backward()
    assert h_t.shape == (N, H)
    assert_close(h_t, h_torch, FORWARD_TOL, "forward", "h_t")
    expected = {k: getattr(cell, k).grad.numpy() for k in KEYS}
    expected.update(x=xt.grad.numpy(), h_prev=ht.grad.numpy())
    assert_grads_close(grads, expected)


# --------------------------------------------------------------------------- variant "seed" against the notes


@pytest.mark.equation("eq-gru-reset")
@pytest.mark.equation("eq-gru-update")
@pytest.mark.equation("eq-gru-candidate")
@pytest.mark.equation("eq-gru-hidden")
@pytest.mark.parametrize("with_d_h_T", [False, True], ids=["d_out", "d_out+d_h_T"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_seed_variant_equals_the_notes_equations(shape, with_d_h_T):
    """Forward and every gradient of variant "seed" against notes_gru (autograd), nonzero bias_hh included."""
    N, T, D, H = shape
    rng, _, p, x, h0 = _setup(shape, salt=3, scale=0.6)
    G = rng.normal(size=(N, T, H))
    G_T = rng.normal(size=(N, H)) if with_d_h_T else None
    out, h_T, cache = scratch.gru_forward(x, h0, p, variant="seed")
    assert cache.variant == "seed"
    grads = scratch.gru_backward(G, cache, d_h_T=G_T)
    out_notes, expected = _loop_grads(notes_gru, p, x, h0, G, G_T)
    assert_close(out, out_notes, FORWARD_TOL, "forward", "out")
    np.testing.assert_array_equal(h_T, out[:, -1])
    assert_grads_close(grads, expected)


@pytest.mark.equation("eq-gru-candidate")
@pytest.mark.equation("eq-gru-hidden")
@pytest.mark.parametrize("with_h", [False, True], ids=["h_prev=None", "h_prev-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_seed_variant_step_equals_the_notes_equations(shape, with_h):
    N, _, D, H = shape
    rng = np.random.default_rng(seed_of(*shape, 4))
    p = random_params(D, H, rng, gates=3)
    x_t, h_prev, dh = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    h_t, cache = scratch.gru_step_forward(x_t, h_prev if with_h else None, p, variant="seed")
    grads = scratch.gru_step_backward(dh, cache)
    h_notes, expected = _loop_grads(notes_gru, p, x_t[:, None], h_prev if with_h else np.zeros((N, H)), dh[:, None])
    assert_close(h_t, h_notes[:, 0], FORWARD_TOL, "forward", "h_t")
    expected["x"] = expected["x"][:, 0]
    expected["h_prev"] = expected.pop("h0")
    assert_grads_close(grads, expected)


@pytest.mark.equation("eq-gru-reset")
@pytest.mark.equation("eq-gru-update")
@pytest.mark.equation("eq-gru-candidate")
@pytest.mark.equation("eq-gru-hidden")
@pytest.mark.equation("eq-gru-torch-candidate")
@pytest.mark.equation("eq-gru-torch-hidden")
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", [SHAPES[0], SHAPES[3], SHAPES[5]], ids=[SHAPE_IDS[0], SHAPE_IDS[3], SHAPE_IDS[5]])
def test_cached_gates_follow_their_equations(shape, variant):
    """Every cached quantity, recomputed per sequence with column vectors from the equation it implements."""
    N, T, D, H = shape
    _, _, p, x, h0 = _setup(shape, salt=5, scale=0.6)
    out, _, cache = scratch.gru_forward(x, h0, p, variant=variant)
    Wi = {k: p["weight_ih"][gate_rows(k, H)] for k in range(3)}
    Wh = {k: p["weight_hh"][gate_rows(k, H)] for k in range(3)}
    bi = {k: p["bias_ih"][gate_rows(k, H)] for k in range(3)}
    bh = {k: p["bias_hh"][gate_rows(k, H)] for k in range(3)}

    def sig(a):
        return 1 / (1 + np.exp(-a))

    for n in range(N):
        for t in range(T):
            x_t, h_prev = x[n, t], (h0[n] if t == 0 else out[n, t - 1])
            r, z, n_t = cache.r[n, t], cache.z[n, t], cache.n[n, t]
            assert max_diff(r, sig(Wi[R] @ x_t + bi[R] + Wh[R] @ h_prev + bh[R])) <= 1e-15  # eq-gru-reset
            assert max_diff(z, sig(Wi[Z] @ x_t + bi[Z] + Wh[Z] @ h_prev + bh[Z])) <= 1e-15  # eq-gru-update
            if variant == "torch":
                assert max_diff(n_t, np.tanh(Wi[N_] @ x_t + bi[N_] + r * (Wh[N_] @ h_prev + bh[N_]))) <= 1e-15
                assert max_diff(out[n, t], (1 - z) * n_t + z * h_prev) <= 1e-15
            else:
                assert max_diff(n_t, np.tanh(Wi[N_] @ x_t + bi[N_] + Wh[N_] @ (r * h_prev) + bh[N_])) <= 1e-15
                assert max_diff(out[n, t], (1 - z) * h_prev + z * n_t) <= 1e-15


# --------------------------------------------------------------------------- both variants against rnnbook.nn.GRUCell


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_both_variants_equal_the_book_torch_cell(shape, variant):
    """gru_forward / gru_backward against rnnbook.nn.GRUCell(variant=...) looped over time, with autograd."""
    N, T, D, H = shape
    rng, _, p, x, h0 = _setup(shape, salt=6, scale=0.6)
    G, G_T = rng.normal(size=(N, T, H)), rng.normal(size=(N, H))
    cell = rnn_nn.GRUCell(D, H, variant=variant, dtype=torch.float64)
    cell.load_state_dict({k: torch.from_numpy(v) for k, v in p.items()})

    def book_loop(xt, h0t, P):
        hs, h = [], h0t
        for t in range(xt.shape[1]):
            h = cell(xt[:, t], h)
            hs.append(h)
        return hs

    xt, h0t = t64(x, True), t64(h0, True)
    hs = book_loop(xt, h0t, None)
    ((torch.stack(hs, 1) * t64(G)).sum() + (hs[-1] * t64(G_T)).sum()).backward()
    expected = {k: getattr(cell, k).grad.numpy() for k in KEYS}
    expected.update(x=xt.grad.numpy(), h0=h0t.grad.numpy())

    out, _, cache = scratch.gru_forward(x, h0, p, variant=variant)
    assert_close(out, torch.stack(hs, 1), FORWARD_TOL, "forward", "out")
    assert_grads_close(scratch.gru_backward(G, cache, d_h_T=G_T), expected)


# --------------------------------------------------------------------------- gradient checks


@pytest.mark.equation("eq-gru-candidate")
@pytest.mark.equation("eq-gru-torch-candidate")
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SMALL, ids=SMALL_IDS)
def test_gru_backward_gradient_check(shape, variant):
    N, T, D, H = shape
    rng, _, p, x, h0 = _setup(shape, salt=7, scale=0.6)
    assert np.all(p["bias_hh"] != 0)  # b_hn sits inside r ⊙ (…) in "torch": it must be checked nonzero
    G, G_T = rng.normal(size=(N, T, H)), rng.normal(size=(N, H))
    arrays = {**p, "x": x, "h0": h0}

    def loss():
        out, h_T, _ = scratch.gru_forward(arrays["x"], arrays["h0"], {k: arrays[k] for k in KEYS}, variant=variant)
        return float(np.sum(out * G) + np.sum(h_T * G_T))

    _, _, cache = scratch.gru_forward(x, h0, p, variant=variant)
    errors = scratch.check_gradients(loss, arrays, scratch.gru_backward(G, cache, d_h_T=G_T))
    assert set(errors) == set(arrays)
    record_gradcheck(errors)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SMALL, ids=SMALL_IDS)
def test_gru_step_backward_gradient_check(shape, variant):
    N, _, D, H = shape
    rng = np.random.default_rng(seed_of(*shape, 8))
    p = random_params(D, H, rng, gates=3)
    arrays = {**p, "x": rng.normal(size=(N, D)), "h_prev": rng.normal(size=(N, H))}
    dh = rng.normal(size=(N, H))

    def loss():
        h, _ = scratch.gru_step_forward(arrays["x"], arrays["h_prev"], {k: arrays[k] for k in KEYS}, variant=variant)
        return float(np.sum(h * dh))

    _, cache = scratch.gru_step_forward(arrays["x"], arrays["h_prev"], p, variant=variant)
    errors = scratch.check_gradients(loss, arrays, scratch.gru_step_backward(dh, cache))
    assert set(errors) == set(arrays)
    record_gradcheck(errors)


@pytest.mark.parametrize("shape", SHAPES[1:4], ids=SHAPE_IDS[1:4])
def test_bias_gradients_show_where_b_hn_sits(shape):
    """Only b_hn is not interchangeable with b_in in "torch" (it is multiplied by r); in "seed" every pair is."""
    N, T, D, H = shape
    rng, _, p, x, h0 = _setup(shape, salt=9, scale=0.6)
    G = rng.normal(size=(N, T, H))
    g = {v: scratch.gru_backward(G, scratch.gru_forward(x, h0, p, variant=v)[2]) for v in VARIANTS}
    rz = slice(0, 2 * H)
    # equal up to the order of the sums (bias_hh is accumulated step by step, bias_ih in one sum)
    assert max_diff(g["seed"]["bias_ih"], g["seed"]["bias_hh"]) <= 1e-13
    assert not np.shares_memory(g["seed"]["bias_ih"], g["seed"]["bias_hh"])
    assert max_diff(g["torch"]["bias_ih"][rz], g["torch"]["bias_hh"][rz]) <= 1e-13
    assert max_diff(g["torch"]["bias_ih"][2 * H :], g["torch"]["bias_hh"][2 * H :]) > 1e-3


# --------------------------------------------------------------------------- how the variants differ


def _flip_and_run(x, h0, p):
    """(torch variant with p, seed variant with z negated): equal iff the reset placement does not matter."""
    out_torch, _, _ = scratch.gru_forward(x, h0, p, variant="torch")
    out_seed, _, _ = scratch.gru_forward(x, h0, scratch.negate_update_gate(p), variant="seed")
    return out_torch, out_seed


@pytest.mark.parametrize("shape", SHAPES[1:], ids=SHAPE_IDS[1:])
def test_variants_differ_for_generic_parameters(shape):
    """Even after flipping the update-gate convention, reset-before-W_hn ≠ reset-after-W_hn."""
    N, T, D, H = shape
    _, _, p, x, h0 = _setup(shape, salt=10, scale=0.8)
    out_torch, out_seed = _flip_and_run(x, h0, p)
    assert max_diff(out_torch, out_seed) > 1e-2
    same_p, _, _ = scratch.gru_forward(x, h0, p, variant="seed")
    assert max_diff(out_torch, same_p) > 1e-2  # and without flipping, z weighs opposite sides


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_variants_coincide_when_the_reset_gate_is_open(shape):
    """r ≡ 1 (a huge reset bias saturates σ to exactly 1.0): r ⊙ (W_hn h + b_hn) = W_hn (r ⊙ h) + b_hn."""
    N, T, D, H = shape
    _, _, p, x, h0 = _setup(shape, salt=11, scale=0.8)
    p["bias_ih"][gate_rows(R, H)] = 1e3
    _, _, cache = scratch.gru_forward(x, h0, p)
    assert np.all(cache.r == 1.0)
    out_torch, out_seed = _flip_and_run(x, h0, p)
    assert_close(out_torch, out_seed, 1e-13, "variants", "r ≡ 1")


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_variants_coincide_for_diagonal_W_hn_without_b_hn(shape):
    """A diagonal W_hn commutes with r ⊙ ·, so with b_hn = 0 the variants agree; every H = 1 GRU is such a case."""
    N, T, D, H = shape
    _, _, p, x, h0 = _setup(shape, salt=12, scale=0.8)
    n_rows = gate_rows(N_, H)
    p["weight_hh"][n_rows] = np.diag(np.diag(p["weight_hh"][n_rows]))
    with_b_hn = {k: v.copy() for k, v in p.items()}
    p["bias_hh"][n_rows] = 0.0
    out_torch, out_seed = _flip_and_run(x, h0, p)
    assert_close(out_torch, out_seed, 1e-13, "variants", "diagonal W_hn")
    # b_hn ≠ 0 breaks it again: r ⊙ b_hn versus b_hn
    out_torch, out_seed = _flip_and_run(x, h0, with_b_hn)
    assert max_diff(out_torch, out_seed) > 1e-3


# --------------------------------------------------------------------------- the update-gate convention


@pytest.mark.equation("eq-gru-torch-hidden")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_negated_update_gate_reproduces_torch_in_the_other_convention(shape):
    """nn.GRU with p equals PyTorch's GRU written with h = (1 − z) h_prev + z n and negate_update_gate(p)."""
    N, T, D, H = shape
    rng, module, p, x, h0 = _setup(shape, salt=13)
    q = scratch.negate_update_gate(p)
    G = rng.normal(size=(N, T, H))
    out_flipped, grads_flipped = _loop_grads(torch_gru_flipped, q, x, h0, G)
    with torch.no_grad():
        out_nn, _ = module(t64(x), t64(h0)[None])
    assert_close(out_flipped, out_nn, FORWARD_TOL, "forward", "flipped convention")
    # the gradients agree too, with the z rows negated (d/d(−w) = −d/dw)
    expected = _nngru_grads(module, x, h0, G)
    for k in KEYS:
        expected[k][gate_rows(Z, H)] *= -1
    assert_grads_close(grads_flipped, expected)


@pytest.mark.parametrize("D, H", [(1, 1), (3, 2), (2, 5)])
def test_negate_update_gate_touches_only_z_and_twice_is_the_identity(D, H):
    p = random_params(D, H, np.random.default_rng(D * 10 + H), gates=3)
    saved = copy.deepcopy(p)
    q = scratch.negate_update_gate(p)
    for k in KEYS:
        np.testing.assert_array_equal(p[k], saved[k])  # p unchanged
        assert not np.shares_memory(q[k], p[k])
        np.testing.assert_array_equal(q[k][gate_rows(Z, H)], -p[k][gate_rows(Z, H)])
        np.testing.assert_array_equal(q[k][gate_rows(R, H)], p[k][gate_rows(R, H)])
        np.testing.assert_array_equal(q[k][gate_rows(N_, H)], p[k][gate_rows(N_, H)])
    twice = scratch.negate_update_gate(q)
    for k in KEYS:
        np.testing.assert_array_equal(twice[k], p[k])
    # σ(−a) = 1 − σ(a): at the same (x_t, h_prev), the update gate of q is 1 − z of p
    rng = np.random.default_rng(0)
    x_t, h_prev = rng.normal(size=(4, D)), rng.normal(size=(4, H))
    for v in VARIANTS:
        _, c_p = scratch.gru_step_forward(x_t, h_prev, p, variant=v)
        _, c_q = scratch.gru_step_forward(x_t, h_prev, q, variant=v)
        assert max_diff(c_q[3], 1 - c_p[3]) <= 1e-15  # the step cache is (x_t, h_prev, r, z, n, hn, p, variant)
        np.testing.assert_array_equal(c_q[2], c_p[2])  # r untouched
    with pytest.raises(ValueError, match=r"p\['weight_hh'\] of a GRU must have shape .*that is 4 gates"):
        scratch.negate_update_gate(random_params(D, H, np.random.default_rng(0), gates=4))


# --------------------------------------------------------------------------- variant handling


@pytest.mark.parametrize("bad", ["pytorch", "Seed", "", None, 1])
def test_bad_variant(bad):
    rng = np.random.default_rng(0)
    p = random_params(2, 3, rng, gates=3)
    x = rng.normal(size=(2, 4, 2))
    match = r"variant must be one of \('torch', 'seed'\); got " + repr(bad).replace("(", r"\(")
    with pytest.raises(ValueError, match=match):
        scratch.gru_forward(x, None, p, variant=bad)
    with pytest.raises(ValueError, match=match):
        scratch.gru_step_forward(x[:, 0], None, p, variant=bad)


def test_gru_backward_reads_the_variant_from_the_cache():
    N, T, D, H = 3, 4, 2, 5
    rng, _, p, x, h0 = _setup((N, T, D, H), salt=14, scale=0.6)
    G = rng.normal(size=(N, T, H))
    assert "variant" not in inspect.signature(scratch.gru_backward).parameters
    assert "variant" not in inspect.signature(scratch.gru_step_backward).parameters
    _, expected = _loop_grads(notes_gru, p, x, h0, G)
    _, _, seed_cache = scratch.gru_forward(x, h0, p, variant="seed")
    assert_grads_close(scratch.gru_backward(G, seed_cache), expected)
    _, _, torch_cache = scratch.gru_forward(x, h0, p, variant="torch")
    assert max_diff(scratch.gru_backward(G, torch_cache)["weight_hh"], expected["weight_hh"]) > 1e-3
    # the step caches carry their variant too
    _, step_cache = scratch.gru_step_forward(x[:, 0], h0, p, variant="seed")
    assert step_cache[-1] == "seed"


# --------------------------------------------------------------------------- purity and dtypes


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_mutation_of_inputs_cache_or_upstream(variant):
    N, T, D, H = 3, 4, 2, 5
    rng, _, p, x, h0 = _setup((N, T, D, H), salt=15, scale=0.6)
    saved_inputs = copy.deepcopy((x, h0, p))
    _, _, cache = scratch.gru_forward(x, h0, p, variant=variant)
    saved = copy.deepcopy(cache)
    G, G_T = rng.normal(size=(N, T, H)), rng.normal(size=(N, H))
    G0, G_T0 = G.copy(), G_T.copy()
    first = scratch.gru_backward(G, cache, d_h_T=G_T)
    second = scratch.gru_backward(G, cache)
    for name in ("x", "h0", "h", "r", "z", "n", "hn"):
        np.testing.assert_array_equal(getattr(cache, name), getattr(saved, name))
    for k in KEYS:
        np.testing.assert_array_equal(cache.p[k], saved.p[k])
        np.testing.assert_array_equal(p[k], saved_inputs[2][k])
    np.testing.assert_array_equal(x, saved_inputs[0])
    np.testing.assert_array_equal(h0, saved_inputs[1])
    np.testing.assert_array_equal(G, G0)
    np.testing.assert_array_equal(G_T, G_T0)
    fresh = scratch.gru_backward(G, saved)
    for k in second:
        np.testing.assert_array_equal(second[k], fresh[k])
    assert max_diff(first["weight_hh"], second["weight_hh"]) > 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_float32_in_float32_out(variant):
    rng, _, p, x, h0 = _setup((3, 5, 4, 6), salt=16)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    x32, h32 = x.astype(np.float32), h0.astype(np.float32)
    out, h_T, cache = scratch.gru_forward(x32, h32, p32, variant=variant)
    assert out.dtype == h_T.dtype == np.float32
    out64, _, _ = scratch.gru_forward(x32.astype(np.float64), h32, p32, variant=variant)
    assert out64.dtype == np.float64 and max_diff(out, out64) <= 1e-5
    for k, g in scratch.gru_backward(np.ones(out.shape), cache, d_h_T=np.ones(h_T.shape)).items():
        assert g.dtype == np.float32, k
    h_t, step_cache = scratch.gru_step_forward(x32[:, 0], None, p32, variant=variant)
    assert h_t.dtype == np.float32
    for k, g in scratch.gru_step_backward(np.ones(h_t.shape), step_cache).items():
        assert g.dtype == np.float32, k


# --------------------------------------------------------------------------- bad input


def _valid(N=2, T=3, D=4, H=5):
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), random_params(D, H, rng, gates=3)


@pytest.mark.parametrize("cls, gates", [(nn.LSTM, 4), (nn.RNN, 1), (nn.LSTMCell, 4)], ids=["LSTM", "RNN", "LSTMCell"])
def test_params_of_another_cell(cls, gates):
    x, h0, _ = _valid()
    torch.manual_seed(0)
    p = scratch.params_from_torch(cls(4, 5))
    match = (rf"p\['weight_hh'\] of a GRU must have shape \(G\*H, H\) = \(15, 5\) with G = 3; "
             rf"got \({gates * 5}, 5\) \(that is {gates} gates")
    for v in VARIANTS:
        with pytest.raises(ValueError, match=match):
            scratch.gru_forward(x, h0, p, variant=v)
        with pytest.raises(ValueError, match=match):
            scratch.gru_step_forward(x[:, 0], h0, p, variant=v)


def test_wrong_shapes_and_values():
    x, h0, p = _valid()
    with pytest.raises(ValueError, match=r"x must have 3 dimensions \(N, T, D\); got shape \(2, 4\)"):
        scratch.gru_forward(x[:, 0], h0, p)
    with pytest.raises(ValueError, match=r"x must have D = 4 features.*\(15, 4\).*got x of shape \(2, 3, 2\)"):
        scratch.gru_forward(x[..., :2], h0, p, variant="seed")
    with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) = \(2, 5\); got \(3, 5\)"):
        scratch.gru_forward(x, np.zeros((3, 5)), p)
    with pytest.raises(ValueError, match=r"h0 must have 2 dimensions \(N, H\); got shape \(1, 2, 5\)"):
        scratch.gru_forward(x, h0[None], p)  # nn.GRU's (layers, N, H) layout is not accepted
    with pytest.raises(ValueError, match=r"x_t must have 2 dimensions \(N, D\); got shape \(2, 3, 4\)"):
        scratch.gru_step_forward(x, h0, p)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(N, H\) = \(2, 5\); got \(2, 4\)"):
        scratch.gru_step_forward(x[:, 0], h0[:, :4], p)
    with pytest.raises(ValueError, match=r"p\['bias_ih'\] must have shape \(G\*H,\) = \(15,\); got \(5,\)"):
        scratch.gru_forward(x, h0, dict(p, bias_ih=np.zeros(5)))
    with pytest.raises(ValueError, match=r"p must be a dict.*got list"):
        scratch.gru_forward(x, h0, list(p.values()))
    for name in ("x", "h0"):
        arrays = {"x": x.copy(), "h0": h0.copy()}
        arrays[name].flat[0] = np.nan
        with pytest.raises(ValueError, match=rf"{name} must be finite; it contains NaN"):
            scratch.gru_forward(arrays["x"], arrays["h0"], p)
    with pytest.raises(ValueError, match=r"p\['bias_hh'\] must be finite; it contains infinite values"):
        scratch.gru_forward(x, h0, dict(p, bias_hh=np.full(15, np.inf)))


def test_bad_upstream_gradients():
    x, h0, p = _valid()
    _, _, cache = scratch.gru_forward(x, h0, p, variant="seed")
    with pytest.raises(ValueError, match=r"d_out must have shape \(N, T, H\) = \(2, 3, 5\); got \(2, 5, 3\)"):
        scratch.gru_backward(np.zeros((2, 5, 3)), cache)
    with pytest.raises(ValueError, match=r"d_out must be finite; it contains NaN"):
        scratch.gru_backward(np.full((2, 3, 5), np.nan), cache)
    with pytest.raises(ValueError, match=r"d_h_T must have shape \(N, H\) = \(2, 5\); got \(1, 5\)"):
        scratch.gru_backward(np.zeros((2, 3, 5)), cache, d_h_T=np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"cache must be the GRUCache returned by gru_forward; got tuple"):
        scratch.gru_backward(np.zeros((2, 3, 5)), (cache.x, cache.h0, cache.h))
    _, step_cache = scratch.gru_step_forward(x[:, 0], h0, p)
    with pytest.raises(ValueError, match=r"dh_t must have shape \(N, H\) = \(2, 5\); got \(5, 2\)"):
        scratch.gru_step_backward(np.zeros((5, 2)), step_cache)
