"""Gradient flow through time: the state Jacobian against autograd, Pascanu's bound,
and clipping by global norm against torch.nn.utils.clip_grad_norm_."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.autograd.functional import jacobian

from _helpers import AUTOGRAD_TOL, SHAPES, max_diff, seed_of, shape_id, t64, torch_rnn
from rnnbook import scratch
from rnnbook.tasks import matrix_with_singular_value

SHAPE_IDS = [shape_id(s) for s in SHAPES]


def _forward(shape, salt=0, scale=None):
    N, T, D, H = shape
    seed = seed_of(*shape, salt)
    rng = np.random.default_rng(seed)
    p = scratch.params_from_torch(torch_rnn(D, H, seed))
    if scale is not None:
        p["weight_hh"] = rng.normal(scale=scale / np.sqrt(H), size=(H, H))
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(scale=0.5, size=(N, H))
    out, _, cache = scratch.rnn_forward(x, h0, p)
    return rng, p, x, h0, out, cache


def _autograd_state_jacobian(p, x, h_k, k, t, activation=torch.tanh):
    """∂h_t/∂h_k by autograd: run steps k+1 … t from h_k; per-sequence blocks of the batch Jacobian."""
    pt = {key: t64(v) for key, v in p.items()}
    xt = t64(x)

    def steps(h):
        for j in range(k, t):  # x[:, j] is the input of step j + 1
            h = activation(xt[:, j] @ pt["weight_ih"].T + pt["bias_ih"] + h @ pt["weight_hh"].T + pt["bias_hh"])
        return h

    J = jacobian(steps, t64(h_k), vectorize=True)  # (N, H, N, H)
    N = h_k.shape[0]
    return np.stack([J[n, :, n, :].numpy() for n in range(N)])


def _pairs(T):
    """(t, k) pairs: the identity t == k, one step, the whole sequence, and one in the middle."""
    pairs = {(0, 0), (T, T), (T, T - 1), (T, 0), (1, 0), ((T + 1) // 2, T // 3)}
    return sorted((t, k) for t, k in pairs if 0 <= k <= t <= T)


# --------------------------------------------------------------------------- Jacobian


@pytest.mark.equation("eq-bptt-jacobian")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_state_jacobian_equals_autograd(shape):
    N, T, D, H = shape
    _, p, x, h0, out, cache = _forward(shape)
    states = np.concatenate([h0[:, None], out], axis=1)  # h_0 … h_T
    for t, k in _pairs(T):
        J = scratch.rnn_state_jacobian(cache, t, k)
        assert J.shape == (N, H, H)
        if t == k:
            np.testing.assert_array_equal(J, np.broadcast_to(np.eye(H), (N, H, H)))
        expected = _autograd_state_jacobian(p, x, states[:, k], k, t)
        assert max_diff(J, expected) <= AUTOGRAD_TOL, (t, k)


@pytest.mark.equation("eq-bptt-jacobian")
@pytest.mark.parametrize("shape", SHAPES[1:], ids=SHAPE_IDS[1:])
def test_state_jacobian_is_the_product_of_step_jacobians(shape):
    """∂h_t/∂h_k = ∏_{j=k+1}^t diag(1 − h_j²) W_hh, and it chains: J(t, k) = J(t, m) J(m, k)."""
    N, T, D, H = shape
    _, p, x, h0, out, cache = _forward(shape, salt=1)
    W = p["weight_hh"]
    for n in range(N):
        product = np.eye(H)
        for j in range(1, T + 1):
            product = np.diag(1 - out[n, j - 1] ** 2) @ W @ product
        assert max_diff(scratch.rnn_state_jacobian(cache, T, 0)[n], product) <= 1e-12
    m = T // 2
    chained = scratch.rnn_state_jacobian(cache, T, m) @ scratch.rnn_state_jacobian(cache, m, 0)
    assert max_diff(scratch.rnn_state_jacobian(cache, T, 0), chained) <= 1e-12


@pytest.mark.equation("eq-bptt-jacobian")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_jacobian_transpose_carries_the_bptt_gradient(shape):
    """With the loss on h_T only, δ_k = (∂h_T/∂h_k)^T ∂L/∂h_T (eq-bptt-delta unrolled)."""
    N, T, D, H = shape
    rng, p, x, h0, out, cache = _forward(shape, salt=2)
    u = rng.normal(size=(N, H))
    d_out = np.zeros_like(out)
    d_out[:, -1] = u
    delta = scratch.bptt_hidden_grads(d_out, cache)
    grads = scratch.rnn_backward(d_out, cache)
    for k in range(T + 1):
        J = scratch.rnn_state_jacobian(cache, T, k)
        via_jacobian = np.einsum("nij,ni->nj", J, u)
        reached = grads["h0"] if k == 0 else delta[:, k - 1]
        assert max_diff(reached, via_jacobian) <= 1e-12, k


# --------------------------------------------------------------------------- Pascanu's bound


@pytest.mark.equation("eq-bptt-bound")
@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_pascanu_bound_holds_for_every_measured_jacobian(shape, scale):
    N, T, D, H = shape
    _, p, _, _, _, cache = _forward(shape, salt=3, scale=scale)
    sigma_max = np.linalg.svd(p["weight_hh"], compute_uv=False)[0]
    for t in range(T + 1):
        for k in range(t + 1):
            bound = scratch.jacobian_norm_bound(p["weight_hh"], t - k)
            assert bound == pytest.approx(sigma_max ** (t - k), rel=1e-12)
            norms = np.linalg.norm(scratch.rnn_state_jacobian(cache, t, k), ord=2, axis=(1, 2))
            assert np.all(norms <= bound * (1 + 1e-12)), (t, k, norms.max(), bound)


@pytest.mark.equation("eq-bptt-bound")
@pytest.mark.parametrize("H", [1, 4, 9])
@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.7])
def test_pascanu_bound_is_attained_at_the_origin(H, sigma):
    """Zero inputs and h0 = 0 keep every h_t at 0, where tanh' = 1 = γ: ‖∂h_t/∂h_k‖ = σ^{t−k} exactly."""
    T = 6
    W = matrix_with_singular_value(H, sigma, seed=H)
    p = {"weight_ih": np.ones((H, 2)), "weight_hh": W, "bias_ih": np.zeros(H), "bias_hh": np.zeros(H)}
    _, _, cache = scratch.rnn_forward(np.zeros((2, T, 2)), None, p)
    for steps in range(T + 1):
        norms = np.linalg.norm(scratch.rnn_state_jacobian(cache, T, T - steps), ord=2, axis=(1, 2))
        np.testing.assert_allclose(norms, scratch.jacobian_norm_bound(W, steps), rtol=1e-12)
        assert scratch.jacobian_norm_bound(W, steps) == pytest.approx(sigma**steps, rel=1e-12)


@pytest.mark.equation("eq-bptt-bound")
@pytest.mark.parametrize("H", [1, 3, 6])
def test_sigmoid_bound_uses_gamma_one_quarter(H):
    rng = np.random.default_rng(H)
    W = rng.normal(size=(H, H)) * 2.0
    sigma_max = np.linalg.svd(W, compute_uv=False)[0]
    for steps in range(5):
        assert scratch.jacobian_norm_bound(W, steps, "sigmoid") == pytest.approx((sigma_max / 4) ** steps, rel=1e-12)
        assert scratch.jacobian_norm_bound(W, steps, activation="tanh") == pytest.approx(sigma_max**steps, rel=1e-12)
    # a sigmoid recurrence h_t = σ(W h_{t-1} + U x_t + b): autograd Jacobians obey the γ = 1/4 bound
    N, T, D = 3, 5, 2
    p = {"weight_ih": rng.normal(size=(H, D)), "weight_hh": W, "bias_ih": rng.normal(size=H), "bias_hh": np.zeros(H)}
    x, h0 = rng.normal(size=(N, T, D)), rng.uniform(size=(N, H))
    for k in range(T):
        with torch.no_grad():  # state h_k of the sigmoid recurrence
            h = t64(h0)
            for j in range(k):
                h = torch.sigmoid(t64(x[:, j]) @ t64(p["weight_ih"]).T + t64(p["bias_ih"]) + h @ t64(W).T)
            h_k = h.numpy()
        J = _autograd_state_jacobian(p, x, h_k, k, T, activation=torch.sigmoid)
        norms = np.linalg.norm(J, ord=2, axis=(1, 2))
        assert np.all(norms <= scratch.jacobian_norm_bound(W, T - k, "sigmoid") * (1 + 1e-12))


@pytest.mark.equation("eq-bptt-bound")
@pytest.mark.parametrize("sigma", [0.8, 4.0])
def test_sigmoid_bound_is_attained_where_the_slope_is_one_quarter(sigma):
    """With a = 0 at every step (h = 1/2, σ'(0) = 1/4) and W = σQ, ‖∂h_t/∂h_k‖ = (σ/4)^{t−k}."""
    H, T = 4, 5
    W = matrix_with_singular_value(H, sigma, seed=7)
    half = np.full((1, H), 0.5)
    b = -(W @ half[0])  # W h + b = 0 at h = 1/2
    p = {"weight_ih": np.zeros((H, 1)), "weight_hh": W, "bias_ih": b, "bias_hh": np.zeros(H)}
    J = _autograd_state_jacobian(p, np.zeros((1, T, 1)), half, 0, T, activation=torch.sigmoid)
    assert np.linalg.norm(J[0], ord=2) == pytest.approx(scratch.jacobian_norm_bound(W, T, "sigmoid"), rel=1e-12)
    assert scratch.jacobian_norm_bound(W, T, "sigmoid") == pytest.approx((sigma / 4) ** T, rel=1e-12)


# --------------------------------------------------------------------------- clipping


def _grads(seed, dtype=np.float64, shapes=((3, 4), (4,), (2, 2, 2), (1,))):
    rng = np.random.default_rng(seed)
    return {f"g{i}": rng.normal(size=s).astype(dtype) for i, s in enumerate(shapes)}


def _torch_clip(grads, max_norm):
    params = []
    for g in grads.values():
        param = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
        param.grad = torch.from_numpy(g.copy())
        params.append(param)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return {k: p.grad.numpy() for k, p in zip(grads, params)}, float(total)


@pytest.mark.equation("eq-bptt-clip")
@pytest.mark.parametrize("ratio", [0.01, 0.5, 0.999, 1.0, 2.0, 100.0])
@pytest.mark.parametrize("n_arrays", [1, 2, 4])
def test_clip_grad_norm_equals_torch(ratio, n_arrays):
    grads = dict(list(_grads(seed=n_arrays).items())[:n_arrays])
    saved = {k: v.copy() for k, v in grads.items()}
    total = float(np.sqrt(sum(np.sum(v**2) for v in grads.values())))
    max_norm = ratio * total
    clipped, total_norm = scratch.clip_grad_norm(grads, max_norm)
    expected, torch_total = _torch_clip(grads, max_norm)
    assert total_norm == pytest.approx(torch_total, rel=1e-14)
    assert total_norm == pytest.approx(total, rel=1e-14)
    assert set(clipped) == set(grads)
    for k in grads:
        assert clipped[k].shape == grads[k].shape and clipped[k].dtype == np.float64
        assert max_diff(clipped[k], expected[k]) <= 1e-14 * max(1.0, np.abs(expected[k]).max())
        np.testing.assert_array_equal(grads[k], saved[k])  # the input is not modified
    new_norm = np.sqrt(sum(np.sum(v**2) for v in clipped.values()))
    if ratio < 1:  # clipped: the norm is c (minus the ε), the direction is kept
        assert new_norm == pytest.approx(max_norm, rel=1e-5) and new_norm <= max_norm
        coef = max_norm / (total + 1e-6)
        for k in grads:
            assert max_diff(clipped[k], grads[k] * coef) <= 1e-15
    elif ratio > 1:  # below the threshold: untouched
        for k in grads:
            np.testing.assert_array_equal(clipped[k], grads[k])


@pytest.mark.equation("eq-bptt-clip")
@pytest.mark.parametrize("ratio", [0.1, 3.0])
def test_clip_grad_norm_keeps_float32(ratio):
    grads = _grads(seed=5, dtype=np.float32)
    total = float(np.sqrt(sum(np.sum(v.astype(np.float64) ** 2) for v in grads.values())))
    clipped, total_norm = scratch.clip_grad_norm(grads, ratio * total)
    expected, torch_total = _torch_clip(grads, ratio * total)
    assert isinstance(total_norm, float)
    assert total_norm == pytest.approx(torch_total, rel=1e-6)  # torch sums in float32
    for k in grads:
        assert clipped[k].dtype == np.float32
        np.testing.assert_allclose(clipped[k], expected[k], rtol=2e-6, atol=1e-7)


def test_clip_grad_norm_of_zero_gradients_and_of_an_rnn_backward():
    zeros, norm = scratch.clip_grad_norm({"a": np.zeros(3)}, 1.0)
    assert norm == 0.0 and not zeros["a"].any()
    rng, p, x, h0, out, cache = _forward((2, 4, 3, 5), salt=9, scale=3.0)
    grads = scratch.rnn_backward(rng.normal(size=out.shape) * 100, cache)
    params = {k: grads[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    clipped, norm = scratch.clip_grad_norm(params, max_norm=1.0)
    expected, torch_norm = _torch_clip(params, 1.0)
    assert norm == pytest.approx(torch_norm, rel=1e-14) and norm > 1.0
    for k in params:
        assert max_diff(clipped[k], expected[k]) <= 1e-15


# --------------------------------------------------------------------------- bad arguments


def test_state_jacobian_bad_arguments():
    _, _, _, _, out, cache = _forward((2, 4, 3, 5))
    with pytest.raises(ValueError, match=r"t must be an integer step in \[0, T\] = \[0, 4\]; got 5"):
        scratch.rnn_state_jacobian(cache, 5, 0)
    with pytest.raises(ValueError, match=r"k must be an integer step in \[0, T\] = \[0, 4\]; got -1"):
        scratch.rnn_state_jacobian(cache, 3, -1)
    with pytest.raises(ValueError, match=r"t must be an integer.*got 2\.0"):
        scratch.rnn_state_jacobian(cache, 2.0, 0)
    with pytest.raises(ValueError, match=r"k must be at most t.*got k = 3, t = 2"):
        scratch.rnn_state_jacobian(cache, 2, 3)
    with pytest.raises(ValueError, match=r"cache must be the RNNCache returned by rnn_forward; got dict"):
        scratch.rnn_state_jacobian({"h": out}, 2, 0)
    assert scratch.rnn_state_jacobian(cache, np.int64(2), np.int64(1)).shape == (2, 5, 5)


def test_jacobian_norm_bound_bad_arguments():
    W = np.eye(3)
    with pytest.raises(ValueError, match=r"W_hh must be square, shape \(H, H\); got \(3, 2\)"):
        scratch.jacobian_norm_bound(np.zeros((3, 2)), 1)
    with pytest.raises(ValueError, match=r"W_hh must have 2 dimensions \(H, H\); got shape \(3,\)"):
        scratch.jacobian_norm_bound(np.zeros(3), 1)
    with pytest.raises(ValueError, match=r"steps must be a non-negative integer.*got -1"):
        scratch.jacobian_norm_bound(W, -1)
    with pytest.raises(ValueError, match=r"steps must be a non-negative integer.*got 1\.5"):
        scratch.jacobian_norm_bound(W, 1.5)
    with pytest.raises(ValueError, match=r"activation must be one of \['sigmoid', 'tanh'\]; got 'relu'"):
        scratch.jacobian_norm_bound(W, 1, activation="relu")
    with pytest.raises(ValueError, match=r"W_hh must be finite"):
        scratch.jacobian_norm_bound(np.full((2, 2), np.nan), 1)


@pytest.mark.parametrize("max_norm", [0.0, -1.0, np.nan, np.inf])
def test_clip_grad_norm_bad_max_norm(max_norm):
    with pytest.raises(ValueError, match=r"max_norm must be a finite number > 0; got"):
        scratch.clip_grad_norm({"a": np.ones(3)}, max_norm)


@pytest.mark.parametrize("grads", [{}, [np.ones(3)], np.ones(3)], ids=["empty", "list", "array"])
def test_clip_grad_norm_bad_grads(grads):
    with pytest.raises(ValueError, match=r"grads must be a non-empty dict of arrays; got"):
        scratch.clip_grad_norm(grads, 1.0)
