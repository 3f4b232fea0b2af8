"""Gradient checking: central differences, the relative error, and check_gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import scratch

SHAPES = [(1,), (5,), (3, 4), (2, 1, 3)]


@pytest.mark.equation("eq-bptt-central-difference")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_numerical_gradient_of_cubic(shape):
    x = np.random.default_rng(len(shape)).normal(size=shape)
    g = scratch.numerical_gradient(lambda: np.sum(x**3), x)
    assert g.shape == x.shape and g.dtype == x.dtype
    # (x+ε)³ − (x−ε)³ = 6x²ε + 2ε³: the estimate is 3x² + ε², plus rounding
    assert np.max(np.abs(g - 3 * x**2)) <= 1e-8


@pytest.mark.equation("eq-bptt-central-difference")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_numerical_gradient_equals_autograd(shape):
    rng = np.random.default_rng(len(shape) + 10)
    x = rng.normal(size=shape)
    A = rng.normal(size=(x.size, x.size))

    def f_np():
        v = x.reshape(-1)
        return np.sin(v) @ A @ np.tanh(v) + np.sum(np.exp(0.3 * v))

    xt = torch.tensor(x, requires_grad=True)
    v = xt.reshape(-1)
    (torch.sin(v) @ torch.from_numpy(A) @ torch.tanh(v) + torch.exp(0.3 * v).sum()).backward()
    g = scratch.numerical_gradient(f_np, x)
    assert scratch.relative_error(g, xt.grad.numpy()) <= 1e-8
    assert np.max(np.abs(g - xt.grad.numpy())) <= 1e-7


@pytest.mark.equation("eq-bptt-central-difference")
def test_numerical_gradient_is_second_order():
    """A central difference has error O(ε²): halving ε divides the error by 4 (a one-sided one: by 2)."""
    x = np.array([0.3, -1.2, 2.0])
    exact = np.exp(x)
    errors = []
    for eps in (1e-2, 5e-3, 2.5e-3):
        g = scratch.numerical_gradient(lambda: np.sum(np.exp(x)), x, eps=eps)
        errors.append(np.abs(g - exact))
        # leading term of the error: f'''(x) ε² / 6
        np.testing.assert_allclose(g - exact, exact * eps**2 / 6, rtol=1e-2)
    np.testing.assert_allclose(errors[0] / errors[1], 4.0, rtol=1e-2)
    np.testing.assert_allclose(errors[1] / errors[2], 4.0, rtol=1e-2)


@pytest.mark.equation("eq-bptt-central-difference")
def test_numerical_gradient_restores_x_exactly():
    # values where (x + ε) − ε != x in floating point
    x = np.array([[0.1, 1e8 + 0.3, -3.3e-7], [1.0 / 3.0, 7.7, -1e-300]])
    saved = x.copy()
    seen = []

    def f():
        seen.append(x.copy())
        return float(np.sum(np.sin(x)))

    scratch.numerical_gradient(f, x, eps=1e-6)
    np.testing.assert_array_equal(x, saved)
    assert x.tobytes() == saved.tobytes()
    # exactly one entry is perturbed per evaluation, by ±ε, and 2 evaluations per entry
    assert len(seen) == 2 * x.size
    for i, xs in enumerate(seen):
        changed = np.flatnonzero(xs != saved)
        assert list(changed) in ([i // 2], [])  # [] when ±ε is below the spacing of a huge entry


def test_numerical_gradient_float32_shape_and_dtype():
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    g = scratch.numerical_gradient(lambda: float(np.sum(x.astype(np.float64) ** 2)), x, eps=1e-2)
    assert g.dtype == np.float32 and g.shape == (2, 3)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.arange(4), r"x must be a float NumPy array.*got ndarray"),
        (np.arange(4).astype(np.int32), r"x must be a float NumPy array"),
        ([1.0, 2.0], r"x must be a float NumPy array.*got list"),
        (np.array([True, False]), r"x must be a float NumPy array"),
        (np.ones((3, 4)).T, r"x must be contiguous"),
        (np.ones((4, 6))[::2, ::3], r"x must be contiguous"),
    ],
    ids=["int64", "int32", "list", "bool", "transposed", "strided-view"],
)
def test_numerical_gradient_rejects_bad_x(x, match):
    with pytest.raises(ValueError, match=match):
        scratch.numerical_gradient(lambda: 0.0, x)


def test_numerical_gradient_of_a_view_that_flattens_in_place():
    base = np.random.default_rng(4).normal(size=(3, 4))
    x = base[:, ::2]  # strides 32 and 16 bytes: flattens to a view with one stride
    saved = base.copy()
    g = scratch.numerical_gradient(lambda: np.sum(x**3), x)
    assert np.max(np.abs(g - 3 * x**2)) <= 1e-8
    np.testing.assert_array_equal(base, saved)


@pytest.mark.parametrize("eps", [0.0, -1e-6, np.nan])
def test_numerical_gradient_rejects_bad_eps(eps):
    with pytest.raises(ValueError, match=r"eps must be > 0"):
        scratch.numerical_gradient(lambda: 0.0, np.ones(2), eps=eps)


# --------------------------------------------------------------------------- relative error


@pytest.mark.equation("eq-bptt-relative-error")
def test_relative_error_values():
    a = np.array([1.0, 2.0, 2.0])
    assert scratch.relative_error(a, a) == 0.0
    assert scratch.relative_error(np.zeros(3), np.zeros(3)) == 0.0  # defined as 0, not NaN
    assert scratch.relative_error(a, np.zeros(3)) == 1.0
    assert scratch.relative_error(a, -a) == 1.0  # the largest possible value
    assert scratch.relative_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(np.sqrt(2) / 2, rel=1e-15)
    # ‖a − b‖ / (‖a‖ + ‖b‖) with ‖a‖ = 3, b = a(1 + δ): δ·3 / (3 + 3(1 + δ)) = δ / (2 + δ)
    delta = 1e-6
    assert scratch.relative_error(a, a * (1 + delta)) == pytest.approx(delta / (2 + delta), rel=1e-9)
    assert isinstance(scratch.relative_error(a, a), float)


@pytest.mark.equation("eq-bptt-relative-error")
@pytest.mark.parametrize("shape", [(1,), (4,), (3, 5), (2, 2, 2)], ids=str)
def test_relative_error_properties(shape):
    rng = np.random.default_rng(len(shape))
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    e = scratch.relative_error(a, b)
    expected = np.linalg.norm((a - b).ravel()) / (np.linalg.norm(a.ravel()) + np.linalg.norm(b.ravel()))
    assert e == pytest.approx(expected, rel=1e-14)
    assert scratch.relative_error(b, a) == e  # symmetric
    assert 0.0 <= e <= 1.0  # triangle inequality
    assert scratch.relative_error(1e-9 * a, 1e-9 * b) == pytest.approx(e, rel=1e-12)  # scale-free
    # tiny gradients: an entry-wise ratio would call 1e-12 vs 3e-12 "100 % wrong"; the norm-wise one does not
    big = np.concatenate([a.ravel(), [1e-12]])
    other = np.concatenate([a.ravel(), [3e-12]])
    assert scratch.relative_error(big, other) <= 1e-11


@pytest.mark.parametrize("a_shape, b_shape", [((3,), (4,)), ((2, 3), (3, 2)), ((6,), (2, 3))])
def test_relative_error_shape_mismatch(a_shape, b_shape):
    with pytest.raises(ValueError, match=rf"a and b must have the same shape; got {a_shape} and {b_shape}".replace(
            "(", r"\(").replace(")", r"\)")):
        scratch.relative_error(np.zeros(a_shape), np.zeros(b_shape))


# --------------------------------------------------------------------------- check_gradients


def _quadratic_problem(seed=0):
    rng = np.random.default_rng(seed)
    A, B = rng.normal(size=(4, 3)), rng.normal(size=(4,))
    arrays = {"W": rng.normal(size=(3, 4)), "v": rng.normal(size=3)}

    def loss():  # L = ‖W A + v 1ᵀ‖²_F + B · W[0], a scalar of both arrays
        return float(np.sum((arrays["W"] @ A + arrays["v"][:, None]) ** 2) + B @ arrays["W"][0])

    M = arrays["W"] @ A + arrays["v"][:, None]
    dW = 2 * M @ A.T
    dW[0] += B
    dv = 2 * M.sum(axis=1)
    return loss, arrays, {"W": dW, "v": dv}


def test_check_gradients_passes_a_correct_gradient():
    loss, arrays, grads = _quadratic_problem()
    errors = scratch.check_gradients(loss, arrays, grads)
    assert set(errors) == {"W", "v"}
    assert max(errors.values()) <= 1e-9


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda g: {**g, "W": g["W"].T.reshape(g["W"].shape)},  # a transposed weight gradient
        lambda g: {**g, "v": 1.01 * g["v"]},  # 1 % too large
        lambda g: {**g, "W": g["W"] - np.eye(3, 4) * g["W"]},  # one term forgotten
    ],
    ids=["transposed", "scaled", "dropped-terms"],
)
def test_check_gradients_catches_a_wrong_gradient(corrupt):
    loss, arrays, grads = _quadratic_problem(seed=1)
    bad = corrupt(grads)
    errors = scratch.check_gradients(loss, arrays, bad)
    assert max(errors.values()) >= 1e-3
    # and the arrays that were right stay right
    for name in errors:
        if np.array_equal(bad[name], grads[name]):
            assert errors[name] <= 1e-9


def test_check_gradients_catches_a_wrong_rnn_backward():
    rng = np.random.default_rng(3)
    N, T, D, H = 2, 4, 3, 5
    x = rng.normal(size=(N, T, D))
    p = {"weight_ih": rng.normal(size=(H, D)), "weight_hh": rng.normal(size=(H, H)) * 0.5,
         "bias_ih": rng.normal(size=H), "bias_hh": rng.normal(size=H)}
    G = rng.normal(size=(N, T, H))

    def loss():
        return float(np.sum(scratch.rnn_forward(x, None, p)[0] * G))

    _, _, cache = scratch.rnn_forward(x, None, p)
    good = scratch.rnn_backward(G, cache)
    # a classic BPTT bug: forgetting the path through h_{t+1}, i.e. only d_out at each step
    wrong = {k: np.zeros_like(v) for k, v in p.items()}
    out = cache.h
    for t in range(T):
        h_prev = out[:, t - 1] if t else np.zeros((N, H))
        da = G[:, t] * (1 - out[:, t] ** 2)
        wrong["weight_hh"] += da.T @ h_prev
        wrong["weight_ih"] += da.T @ x[:, t]
        wrong["bias_ih"] += da.sum(0)
        wrong["bias_hh"] += da.sum(0)
    errors_good = scratch.check_gradients(loss, p, good)
    errors_wrong = scratch.check_gradients(loss, p, wrong)
    assert max(errors_good.values()) <= 1e-7
    assert min(errors_wrong.values()) >= 1e-2


def test_check_gradients_checks_only_shared_names_and_restores_arrays():
    loss, arrays, grads = _quadratic_problem(seed=2)
    saved = {k: v.copy() for k, v in arrays.items()}
    errors = scratch.check_gradients(loss, arrays, {"v": grads["v"], "unused": np.zeros(2)})
    assert set(errors) == {"v"}
    for k in arrays:
        np.testing.assert_array_equal(arrays[k], saved[k])


def test_check_gradients_bad_arguments():
    loss, arrays, grads = _quadratic_problem()
    with pytest.raises(ValueError, match=r"arrays and analytic share no names; got \['W', 'v'\] and \['w'\]"):
        scratch.check_gradients(loss, arrays, {"w": grads["W"]})
    with pytest.raises(ValueError, match=r"analytic\['W'\] must have the shape of arrays\['W'\], \(3, 4\); got \(4, 3\)"):
        scratch.check_gradients(loss, arrays, {"W": grads["W"].T})
    with pytest.raises(ValueError, match=r"x must be a float NumPy array"):
        scratch.check_gradients(loss, {"W": np.ones((3, 4), dtype=int)}, {"W": np.ones((3, 4))})
