"""rnnbook.tasks: matrices with chosen singular values and the gradient-norm experiment."""

from __future__ import annotations

import numpy as np
import pytest

from _helpers import t64, torch_rnn_loop
from rnnbook import scratch
from rnnbook.tasks import gradient_norms_over_time, matrix_with_singular_value, nonnormal_matrix, rnn_params


@pytest.mark.parametrize("sigma", [0.0, 0.5, 1.0, 3.0])
@pytest.mark.parametrize("H", [1, 2, 7, 32])
def test_matrix_with_singular_value(H, sigma):
    W = matrix_with_singular_value(H, sigma, seed=H)
    assert W.shape == (H, H) and W.dtype == np.float64
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), sigma, rtol=1e-12, atol=1e-14)
    # normal: the eigenvalues have modulus σ too, and ‖W^k‖ = σ^k
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(W)), sigma, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(W @ W.T, W.T @ W, atol=1e-12 * max(1.0, sigma**2))
    assert np.linalg.norm(np.linalg.matrix_power(W, 5), 2) == pytest.approx(sigma**5, rel=1e-10, abs=1e-14)


def test_matrix_with_singular_value_seeding():
    a = matrix_with_singular_value(5, 1.0, seed=0)
    np.testing.assert_array_equal(a, matrix_with_singular_value(5, 1.0, seed=0))
    assert not np.allclose(a, matrix_with_singular_value(5, 1.0, seed=1))
    np.testing.assert_array_equal(matrix_with_singular_value(5, 1.0, seed=np.random.default_rng(0)), a)


@pytest.mark.parametrize("H, sigma, match", [(0, 1.0, r"H must be an integer ≥ 1; got 0"),
                                             (2.0, 1.0, r"H must be an integer ≥ 1; got 2\.0"),
                                             (3, -0.5, r"sigma must be ≥ 0; got -0\.5"),
                                             (3, np.nan, r"sigma must be ≥ 0; got nan")])
def test_matrix_with_singular_value_bad_arguments(H, sigma, match):
    with pytest.raises(ValueError, match=match):
        matrix_with_singular_value(H, sigma)


@pytest.mark.parametrize("rho", [0.5, 0.9])
@pytest.mark.parametrize("H", [2, 5, 20])
def test_nonnormal_matrix_small_eigenvalues_large_singular_value(H, rho):
    W = nonnormal_matrix(H, rho=rho)
    assert W.shape == (H, H)
    assert np.array_equal(W, np.triu(W))  # triangular: the eigenvalues are the diagonal
    np.testing.assert_array_equal(np.diag(W), rho)
    np.testing.assert_allclose(np.linalg.eigvals(W), rho, atol=1e-12)
    sigma_max = np.linalg.norm(W, 2)
    assert sigma_max > 1.0
    assert sigma_max <= rho + 2.0 + 1e-12  # ≈ rho + coupling, at most that
    # "every eigenvalue below 1" and yet the powers grow for a while before decaying
    norms = [np.linalg.norm(np.linalg.matrix_power(W, k), 2) for k in range(1, 4)]
    assert min(norms) > 1.0
    if H >= 5:  # the longer the chain above the diagonal, the longer the growth lasts
        assert np.all(np.diff(norms) > 0)
    # … but the spectral radius wins in the end
    assert np.linalg.norm(np.linalg.matrix_power(W, 3000), 2) < 1e-3


def test_nonnormal_matrix_bad_size():
    with pytest.raises(ValueError, match=r"H must be an integer ≥ 1; got 0"):
        nonnormal_matrix(0)


def test_rnn_params():
    W = matrix_with_singular_value(6, 0.9)
    p = rnn_params(W, D=4, input_scale=2.0, seed=3)
    assert p["weight_ih"].shape == (6, 4) and p["weight_hh"].shape == (6, 6)
    np.testing.assert_array_equal(p["weight_hh"], W)
    assert not np.shares_memory(p["weight_hh"], W)
    assert not p["bias_ih"].any() and not p["bias_hh"].any()
    np.testing.assert_array_equal(p["weight_ih"], rnn_params(W, D=4, input_scale=2.0, seed=3)["weight_ih"])
    big = rnn_params(np.eye(200), D=50, input_scale=2.0, seed=0)["weight_ih"]
    assert np.var(big) == pytest.approx(4.0 / 50, rel=0.05)  # N(0, scale²/D)
    out, _, _ = scratch.rnn_forward(np.zeros((1, 2, 4)), None, p)  # a valid parameter dict
    assert out.shape == (1, 2, 6)
    with pytest.raises(ValueError, match=r"W_hh must be square, shape \(H, H\); got \(3, 2\)"):
        rnn_params(np.zeros((3, 2)), D=2)


def _torch_gradient_norms(p, x, h0, u):
    """‖∂L/∂h_t‖ for L = Σ_n u_n · h_T[n], by autograd through the recurrence in torch."""
    N, _, _ = x.shape
    H = p["weight_hh"].shape[0]
    h0t = t64(np.zeros((N, H)) if h0 is None else h0, True)
    hs = torch_rnn_loop(t64(x), h0t, {k: t64(v) for k, v in p.items()})
    (hs[-1] * t64(u)).sum().backward()
    return np.array([h.grad.norm(dim=1).mean().item() for h in hs])


def _directions(seed, N, H):
    u = np.random.default_rng(seed).standard_normal((N, H))
    return u / np.linalg.norm(u, axis=1, keepdims=True)


@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("N, T, D, H", [(1, 1, 1, 1), (1, 6, 2, 3), (4, 15, 3, 8)])
def test_gradient_norms_over_time_equal_autograd(N, T, D, H, sigma, with_h0):
    rng = np.random.default_rng(N * 100 + T)
    p = rnn_params(matrix_with_singular_value(H, sigma, seed=1), D, seed=2)
    p["bias_hh"] = rng.normal(scale=0.1, size=H)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(scale=0.3, size=(N, H)) if with_h0 else None
    norms = gradient_norms_over_time(p, x, h0, seed=7)
    assert norms.shape == (T,)
    expected = _torch_gradient_norms(p, x, h0, _directions(7, N, H))
    np.testing.assert_allclose(norms, expected, rtol=1e-10, atol=1e-300)
    assert norms[-1] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("H", [1, 16])
def test_gradients_vanish_for_sigma_one_half(H):
    T = 40
    p = rnn_params(matrix_with_singular_value(H, 0.5, seed=0), D=3, seed=1)
    x = np.random.default_rng(2).normal(size=(8, T, 3))
    norms = gradient_norms_over_time(p, x)
    assert norms[-1] == pytest.approx(1.0, abs=1e-12)
    # each step back multiplies by at most γ σ_max = 0.5 (eq-bptt-bound), per sequence and so on average
    assert np.all(norms[:-1] <= 0.5 * norms[1:] * (1 + 1e-12))
    assert norms[0] <= 0.5 ** (T - 1)
    assert norms[0] < 1e-11


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.5])
def test_gradient_norms_with_zero_input_follow_sigma_powers(sigma):
    """With x = 0 and h0 = 0 the states stay 0, tanh' = 1 and ‖δ_t‖ = σ^{T−t} exactly."""
    T, H = 12, 5
    p = rnn_params(matrix_with_singular_value(H, sigma, seed=3), D=2)
    norms = gradient_norms_over_time(p, np.zeros((3, T, 2)))
    np.testing.assert_allclose(norms, sigma ** np.arange(T - 1, -1, -1.0), rtol=1e-12)


def test_gradient_norms_seed_changes_only_the_directions():
    p = rnn_params(matrix_with_singular_value(4, 1.0), D=2)
    x = np.random.default_rng(0).normal(size=(3, 10, 2))
    a, b = gradient_norms_over_time(p, x, seed=0), gradient_norms_over_time(p, x, seed=1)
    np.testing.assert_array_equal(a, gradient_norms_over_time(p, x, seed=0))
    assert not np.allclose(a[:-1], b[:-1])
    assert a[-1] == pytest.approx(1.0) and b[-1] == pytest.approx(1.0)
