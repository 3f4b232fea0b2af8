"""The linear recurrence and its scans (scratch.scan): every loop-free method equal to the loop in float64,
on random configurations, on long sequences (T ≥ 4096) and with factors within 1e-6 of 0 and of 1; the
operator's algebra; the backward pass against torch autograd and central differences; no loop over t in the
parallel methods (counted); bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from _helpers import AUTOGRAD_TOL, FORWARD_TOL, GRADCHECK_TOL, seed_of, t64
from rnnbook import scratch
from rnnbook.scratch import scan

LOOP_FREE = ("parallel", "hillis-steele", "blelloch")


def factors(rng, shape, kind: str) -> np.ndarray:
    """Factors a_t: uniform in (0, 1), or within 1e-6 of 0 and of 1 (the gates of a saturated cell)."""
    if kind == "uniform":
        return rng.uniform(0, 1, shape)
    near = rng.uniform(0, 1e-6, shape)
    return np.where(rng.random(shape) < 0.5, near, 1 - near)


def rel_diff(h: np.ndarray, ref: np.ndarray, a, b, h0) -> float:
    """max |h − ref| relative to the recurrence's own scale: the states of the same recurrence on |a|, |b|, |h0|.

    That scale bounds every partial sum, so it is what rounding errors are relative to; an entry-wise
    ratio would divide by states that cancel to nearly zero.
    """
    if h.size == 0:
        return 0.0
    scale = scan.linear_recurrence(np.abs(a), np.abs(b), np.abs(h0))
    return float(np.max(np.abs(h - ref) / np.maximum(scale, np.finfo(np.float64).tiny)))


def random_case(seed: int, N: int, T: int, H: int, kind: str):
    rng = np.random.default_rng(seed)
    return factors(rng, (N, T, H), kind), rng.normal(size=(N, T, H)), rng.normal(size=(N, H))


CONFIGS = [(1, 1, 1), (1, 2, 1), (2, 3, 4), (3, 7, 2), (1, 64, 5), (4, 100, 3), (2, 257, 6),
           (1, 4096, 8), (2, 4097, 3), (1, 5000, 2)]
CONFIG_IDS = ["N{}-T{}-H{}".format(*c) for c in CONFIGS]


# --------------------------------------------------------------------------- the loop is the equation


@pytest.mark.equation("eq-scan-linear")
@pytest.mark.parametrize("kind", ["uniform", "saturated"])
def test_sequential_is_the_equation_written_out(kind):
    a, b, h0 = random_case(seed_of(1, kind == "uniform"), 2, 9, 3, kind)
    h = scratch.linear_recurrence(a, b, h0)
    for n in range(2):
        for k in range(3):
            state = h0[n, k]
            for t in range(9):
                state = a[n, t, k] * state + b[n, t, k]  # h_t = a_t h_{t-1} + b_t, one number at a time
                assert h[n, t, k] == pytest.approx(state, rel=1e-15, abs=1e-15)


@pytest.mark.equation("eq-scan-linear")
@pytest.mark.parametrize("method", LOOP_FREE)
@pytest.mark.parametrize("kind", ["uniform", "saturated"])
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_loop_free_equals_loop(config, kind, method):
    N, T, H = config
    a, b, h0 = random_case(seed_of(N, T, H, kind == "uniform"), N, T, H, kind)
    ref = scratch.linear_recurrence(a, b, h0, method="sequential")
    h = scratch.linear_recurrence(a, b, h0, method=method)
    assert h.shape == (N, T, H) and h.dtype == np.float64
    assert rel_diff(h, ref, a, b, h0) <= FORWARD_TOL


@pytest.mark.equation("eq-scan-linear")
@pytest.mark.parametrize("T", [1, 5, 63, 64, 65, 1000])
@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 2000])
def test_chunked_recurrence_any_chunk_length(T, chunk):
    a, b, h0 = random_case(seed_of(T, chunk), 2, T, 3, "uniform")
    ref = scratch.linear_recurrence(a, b, h0)
    assert rel_diff(scan.chunked_recurrence(a, b, h0, chunk=chunk), ref, a, b, h0) <= FORWARD_TOL


def test_zero_steps_give_an_empty_sequence():
    for method in scan.METHODS:
        h = scratch.linear_recurrence(np.ones((2, 0, 3)), np.ones((2, 0, 3)), method=method)
        assert h.shape == (2, 0, 3)


@pytest.mark.parametrize("method", scan.METHODS)
def test_float32_in_float32_out(method):
    a, b, h0 = random_case(3, 2, 50, 4, "uniform")
    h = scratch.linear_recurrence(a.astype(np.float32), b.astype(np.float32), h0.astype(np.float32), method=method)
    assert h.dtype == np.float32
    np.testing.assert_allclose(h, scratch.linear_recurrence(a, b, h0), rtol=1e-4, atol=1e-5)


def test_h0_none_means_zeros_and_inputs_are_not_changed():
    a, b, h0 = random_case(4, 2, 30, 3, "uniform")
    a_copy, b_copy = a.copy(), b.copy()
    for method in scan.METHODS:
        h = scratch.linear_recurrence(a, b, method=method)
        np.testing.assert_allclose(h, scratch.linear_recurrence(a, b, np.zeros((2, 3))), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(a, a_copy)
        np.testing.assert_array_equal(b, b_copy)


# --------------------------------------------------------------------------- the operator and the prefixes


@pytest.mark.equation("eq-scan-op")
def test_combine_is_two_steps_in_a_row_and_associative_not_commutative():
    rng = np.random.default_rng(5)
    x, y, z = [(rng.uniform(0, 1, 6), rng.normal(size=6)) for _ in range(3)]
    h = rng.normal(size=6)
    a12, b12 = scan.combine(x, y)
    np.testing.assert_allclose(a12 * h + b12, y[0] * (x[0] * h + x[1]) + y[1], rtol=1e-14)  # first x, then y
    left = scan.combine(scan.combine(x, y), z)
    right = scan.combine(x, scan.combine(y, z))
    for u, v in zip(left, right):
        np.testing.assert_allclose(u, v, rtol=1e-13)
    assert not np.allclose(scan.combine(x, y)[1], scan.combine(y, x)[1])  # the order of the steps matters


@pytest.mark.equation("eq-scan-unrolled")
@pytest.mark.parametrize("prefixes", [scan.sequential_scan, scan.hillis_steele_scan, scan.blelloch_scan])
@pytest.mark.parametrize("T", [1, 2, 5, 8, 13])
def test_prefixes_are_the_unrolled_sums(prefixes, T):
    a, b, _ = random_case(seed_of(T, 7), 2, T, 3, "uniform")
    A, B = prefixes(a, b)
    for t in range(T):  # A_t = ∏_{j ≤ t} a_j,  B_t = Σ_{k ≤ t} (∏_{k < j ≤ t} a_j) b_k
        np.testing.assert_allclose(A[:, t], np.prod(a[:, : t + 1], axis=1), rtol=1e-13)
        expected = sum(np.prod(a[:, k + 1 : t + 1], axis=1) * b[:, k] for k in range(t + 1))
        np.testing.assert_allclose(B[:, t], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.equation("eq-scan-log")
@pytest.mark.parametrize("config", [(1, 1, 1), (2, 7, 3), (3, 200, 4), (1, 1000, 5)], ids=str)
def test_log_space_equals_loop(config):
    N, T, H = config
    rng = np.random.default_rng(seed_of(*config))
    a, b, h0 = rng.uniform(0.05, 1, (N, T, H)), rng.normal(size=(N, T, H)), rng.normal(size=(N, H))
    ref = scratch.linear_recurrence(a, b, h0)
    assert rel_diff(scratch.linear_recurrence(a, b, h0, method="log-space"), ref, a, b, h0) <= FORWARD_TOL


@pytest.mark.equation("eq-scan-log")
def test_log_space_error_grows_with_the_size_of_log_A():
    """Its rounding error is about eps · |log A_t|: small for factors near 1, larger for long runs of small ones."""
    rng = np.random.default_rng(8)
    errors = []
    for low in (0.9, 1e-3):
        a, b = rng.uniform(low, 1, (1, 4096, 4)), rng.normal(size=(1, 4096, 4))
        h0 = np.zeros((1, 4))
        ref = scratch.linear_recurrence(a, b, h0)
        err = rel_diff(scratch.linear_recurrence(a, b, h0, method="log-space"), ref, a, b, h0)
        bound = 64 * np.finfo(np.float64).eps * (1 + np.abs(np.log(a).sum(axis=1)).max())
        assert err <= bound
        errors.append(err)
    assert errors[1] > errors[0]


# --------------------------------------------------------------------------- no loop over the T steps


def _lines_run(fn, *args) -> int:
    """How many lines of Python the call runs inside scratch/scan.py (the loops show up as lines)."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename == scan.__file__:
            if event == "line":
                count += 1
            return tracer
        return None

    sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("method", LOOP_FREE)
def test_loop_free_methods_run_far_fewer_rounds_than_steps(method):
    rng = np.random.default_rng(9)
    lines = {}
    for T in (1024, 4096, 16384):
        a, b = rng.uniform(0, 1, (1, T, 2)), rng.normal(size=(1, T, 2))
        lines[T] = _lines_run(lambda: scratch.linear_recurrence(a, b, method=method))
    loop = _lines_run(lambda: scratch.linear_recurrence(a, b, method="sequential"))
    assert loop >= 16384  # the loop runs (at least) one line per step
    assert lines[16384] <= 16384 / 10
    # Hillis–Steele and Blelloch: rounds grow like log T; chunked: like √T (twice the chunk length).
    growth = lines[16384] / lines[1024]
    assert growth <= (1.6 if method != "parallel" else 4.5), lines


# --------------------------------------------------------------------------- backward


def torch_loop(a, b, h0):
    h_t, out = h0, []
    for t in range(a.shape[1]):
        h_t = a[:, t] * h_t + b[:, t]
        out.append(h_t)
    return torch.stack(out, dim=1)


@pytest.mark.equation("eq-scan-backward")
@pytest.mark.parametrize("method", ("sequential",) + LOOP_FREE)
@pytest.mark.parametrize("kind", ["uniform", "saturated"])
@pytest.mark.parametrize("config", [(1, 1, 1), (2, 5, 3), (3, 33, 2), (1, 300, 4)], ids=str)
def test_backward_equals_autograd(config, kind, method):
    N, T, H = config
    a, b, h0 = random_case(seed_of(N, T, H, 11), N, T, H, kind)
    d_h = np.random.default_rng(12).normal(size=(N, T, H))
    h = scratch.linear_recurrence(a, b, h0, method=method)
    d_a, d_b, d_h0 = scratch.linear_recurrence_backward(d_h, a, h, h0, method=method)
    ta, tb, th0 = t64(a, True), t64(b, True), t64(h0, True)
    (torch_loop(ta, tb, th0) * t64(d_h)).sum().backward()
    for mine, theirs in ((d_a, ta.grad), (d_b, tb.grad), (d_h0, th0.grad)):
        scale = float(torch.abs(theirs).max()) or 1.0
        assert np.max(np.abs(mine - theirs.numpy())) <= AUTOGRAD_TOL * scale


@pytest.mark.equation("eq-scan-backward")
@pytest.mark.parametrize("method", ["sequential", "parallel"])
def test_backward_against_central_differences(method):
    rng = np.random.default_rng(13)
    a, b, h0 = rng.uniform(0.2, 0.9, (2, 6, 3)), rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 3))
    w = rng.normal(size=(2, 6, 3))  # loss L = Σ w ⊙ h, so d_h = w

    def loss():
        return float(np.sum(w * scratch.linear_recurrence(a, b, h0, method=method)))

    h = scratch.linear_recurrence(a, b, h0, method=method)
    d_a, d_b, d_h0 = scratch.linear_recurrence_backward(w, a, h, h0, method=method)
    errors = scratch.check_gradients(loss, {"a": a, "b": b, "h0": h0}, {"a": d_a, "b": d_b, "h0": d_h0})
    assert max(errors.values()) <= GRADCHECK_TOL, errors


@pytest.mark.equation("eq-scan-backward")
def test_long_backward_parallel_equals_sequential():
    a, b, h0 = random_case(14, 2, 4096, 3, "saturated")
    d_h = np.random.default_rng(15).normal(size=a.shape)
    h = scratch.linear_recurrence(a, b, h0)
    seq = scratch.linear_recurrence_backward(d_h, a, h, h0, method="sequential")
    par = scratch.linear_recurrence_backward(d_h, a, h, h0, method="parallel")
    # g, the gradient at each h_t, is a recurrence on (a_{t+1}, d_h): the same scale argument as the forward.
    a_next = np.concatenate([a[:, 1:], np.zeros_like(a[:, :1])], axis=1)[:, ::-1]
    scale = scan.linear_recurrence(np.abs(a_next), np.abs(d_h[:, ::-1]))[:, ::-1]
    assert np.max(np.abs(seq[1] - par[1]) / scale) <= FORWARD_TOL
    assert np.max(np.abs(seq[0] - par[0])) <= FORWARD_TOL * np.max(np.abs(seq[0]))
    np.testing.assert_allclose(par[2], seq[2], rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(a=np.ones((2, 3)), b=np.ones((2, 3))), r"a must have 3 dimensions \(N, T, H\); got shape \(2, 3\)"),
        (dict(a=np.ones((2, 3, 4)), b=np.ones((2, 3, 5))), r"b must have shape \(N, T, H\), as a = \(2, 3, 4\); got \(2, 3, 5\)"),
        (dict(a=np.ones((2, 3, 4)), b=np.ones((2, 3, 4)), h0=np.ones((3, 4))), r"h0 must have shape \(N, H\) = \(2, 4\); got \(3, 4\)"),
        (dict(a=np.full((1, 2, 1), np.nan), b=np.ones((1, 2, 1))), r"a must be finite; it contains NaN"),
        (dict(a=np.ones((1, 2, 1)), b=np.array([[["x"], ["y"]]])), r"b must hold real numbers"),
        (dict(a=np.ones((1, 2, 1)), b=np.ones((1, 2, 1)), method="scan"), r"method must be one of"),
        (dict(a=np.zeros((1, 2, 1)), b=np.ones((1, 2, 1)), method="log-space"), r"a must be > 0 everywhere for method='log-space'"),
    ],
)
def test_bad_input_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        scratch.linear_recurrence(**kwargs)


def test_backward_bad_input_is_named():
    a = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match=r"h must have shape \(N, T, H\), as a = \(2, 3, 4\); got \(2, 3, 3\)"):
        scratch.linear_recurrence_backward(a, a, np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match=r"d_h must have shape"):
        scratch.linear_recurrence_backward(np.ones((2, 2, 4)), a, a)
    with pytest.raises(ValueError, match=r"method must be one of"):
        scratch.linear_recurrence_backward(a, a, a, method="loop")
