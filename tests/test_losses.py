"""Binary cross-entropy (scratch.losses): values and gradients against nn.BCELoss,
nn.BCEWithLogitsLoss and autograd over many random cases, the −100 log clamp and the
gradient clamp at ŷ ∈ {0, 1}, extreme logits in float32 and float64 (also against an
exact mpmath value), float32 saturation of sigmoid-then-BCE, and bad input."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import torch
from torch import nn

from _helpers import OBSERVED, seed_of
from rnnbook import scratch
from rnnbook.scratch.losses import LOG_CLAMP

DTYPES = [np.float64, np.float32]
N_RANDOM = 300  # random cases per comparison and dtype
#: Logits of the extreme-value tests: |z| up to 200, where e^{|z|} overflows float32 (and e^{200} is 7e86).
EXTREME_Z = np.array([0.0, 1e-3, 1.0, 5.0, 17.0, 20.0, 36.0, 50.0, 88.0, 89.0, 100.0, 150.0, 200.0])
EXTREME_Z = np.concatenate([-EXTREME_Z[::-1], EXTREME_Z[1:]])


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny tensors: torch's intra-op thread pool only adds overhead (×50 on a loaded 2-core machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _eps(dtype) -> float:
    return float(np.finfo(dtype).eps)


def _record(kind: str, value: float) -> None:
    OBSERVED[kind] = max(OBSERVED.get(kind, 0.0), float(value))


def _random_case(rng, dtype, case):
    """A random shape, probabilities with exact 0s and 1s, logits with extremes, hard or soft labels."""
    shape = [(int(rng.integers(1, 60)),), (int(rng.integers(1, 6)), int(rng.integers(1, 9))), (1,)][case % 3]
    p = rng.uniform(0, 1, shape)
    u = rng.random(shape)
    p[u < 0.08] = 0.0
    p[u > 0.92] = 1.0
    z = rng.normal(0, 5, shape)
    z[u < 0.05] = rng.choice([-200.0, -60.0, 60.0, 200.0], size=int((u < 0.05).sum()))
    y = (rng.random(shape) < 0.5).astype(np.float64) if case % 2 else rng.uniform(0, 1, shape)
    return p.astype(dtype), z.astype(dtype), y.astype(dtype)


def _torch_loss_and_grad(loss_fn, x, y):
    xt = torch.tensor(x, requires_grad=True)
    loss = loss_fn(xt, torch.tensor(y))
    loss.backward()
    return loss.item(), xt.grad.numpy()


def _exact_logit_loss(z: float, y: float) -> float:
    """ℓ(z, y) = y log(1 + e^{−z}) + (1 − y) log(1 + e^{z}), in 60-digit arithmetic, of the given floats."""
    with mpmath.workdps(60):
        z, y = mpmath.mpf(float(z)), mpmath.mpf(float(y))
        return float(y * mpmath.log1p(mpmath.exp(-z)) + (1 - y) * mpmath.log1p(mpmath.exp(z)))


# --------------------------------------------------------------------------- BCE from probabilities


@pytest.mark.equation("eq-bce-loss")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_bce_equals_torch_bce_loss_random_cases(dtype):
    """300 random cases: ŷ in [0, 1] with exact 0s and 1s, hard and soft labels, 1-D and 2-D."""
    eps = _eps(dtype)
    rng = np.random.default_rng(seed_of(dtype == np.float32, 1))
    worst = 0.0
    for case in range(N_RANDOM):
        p, _, y = _random_case(rng, dtype, case)
        expected, _ = _torch_loss_and_grad(nn.BCELoss(), p, y)
        got = scratch.bce(p, y)
        assert isinstance(got, float)
        rel = abs(got - expected) / max(1.0, abs(expected))
        worst = max(worst, rel)
        assert rel <= 4 * eps, f"case {case}: {got!r} vs torch {expected!r}"
    _record(f"bce vs torch, {dtype.__name__} (relative)", worst)


@pytest.mark.equation("eq-bce-loss")
def test_bce_is_the_notes_formula():
    """L = −(1/N) Σ [y log ŷ + (1 − y) log(1 − ŷ)], summed term by term with math.log (float64, 0 < ŷ < 1)."""
    import math

    rng = np.random.default_rng(2)
    for n in (1, 2, 10, 100):
        p, y = rng.uniform(1e-6, 1 - 1e-6, n), (rng.random(n) < 0.5).astype(float)
        by_formula = -sum(yi * math.log(pi) + (1 - yi) * math.log(1 - pi) for pi, yi in zip(p, y)) / n
        assert scratch.bce(p, y) == pytest.approx(by_formula, rel=1e-13, abs=0)


@pytest.mark.equation("eq-bce-loss")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_bce_at_exactly_0_and_1_is_clamped_like_torch(dtype):
    """log 0 is clamped at −100 (torch's BCELoss): ŷ = 0 with y = 1 costs exactly 100, not infinity."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1e-50, 1e-300, 1 - 1e-12], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.25, 1.0, 1.0, 0.0], dtype=dtype)
    expected = nn.BCELoss(reduction="none")(torch.tensor(p), torch.tensor(y)).numpy()
    got = np.array([scratch.bce(p[i : i + 1], y[i : i + 1]) for i in range(p.size)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero RuntimeWarning from log(0)
        scratch.bce(p, y)
    np.testing.assert_allclose(got, expected, rtol=2 * _eps(dtype), atol=0)
    assert got[0] == got[1] == 100.0 and got[2] == got[3] == 0.0
    assert got[4] == 50.0 and got[5] == 75.0
    assert got[6] == 100.0  # log(1e-50) = −115 is clamped too (1e-50 is 0 in float32 anyway)
    assert scratch.bce(p, y) == pytest.approx(expected.mean(), rel=2 * _eps(dtype))
    assert LOG_CLAMP == -100.0


@pytest.mark.equation("eq-bce-loss")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_bce_grad_equals_autograd_random_cases(dtype):
    """∂L/∂ŷ = (ŷ − y) / (ŷ (1 − ŷ)) / N, also at ŷ ∈ {0, 1} where torch clamps ŷ (1 − ŷ) at 1e-12."""
    rng = np.random.default_rng(seed_of(dtype == np.float32, 3))
    worst = 0.0
    for case in range(N_RANDOM):
        p, _, y = _random_case(rng, dtype, case)
        _, expected = _torch_loss_and_grad(nn.BCELoss(), p, y)
        got = scratch.bce_grad(p, y)
        assert got.dtype == dtype and got.shape == p.shape
        assert np.all(np.isfinite(got))
        rel = np.abs(got - expected) / np.maximum(np.abs(expected), np.finfo(dtype).tiny)
        worst = max(worst, float(rel.max()))
        np.testing.assert_allclose(got, expected, rtol=2 * _eps(dtype), atol=0, err_msg=f"case {case}")
    _record(f"bce_grad vs autograd, {dtype.__name__} (relative)", worst)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_bce_grad_at_0_and_1_is_torchs_clamped_value(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 0.3], dtype=dtype)
    _, expected = _torch_loss_and_grad(nn.BCELoss(reduction="sum"), p, y)
    np.testing.assert_allclose(scratch.bce_grad(p, y) * p.size, expected, rtol=2 * _eps(dtype), atol=0)
    # one element at a time (N = 1), bit for bit
    got = np.array([scratch.bce_grad(p[i : i + 1], y[i : i + 1])[0] for i in range(p.size)])
    np.testing.assert_array_equal(got, expected)
    clamp = dtype(np.float32(1e-12))  # torch's EPSILON is the float 1e-12f, also for float64
    assert got[0] == dtype(-1) / clamp and got[1] == dtype(1) / clamp
    assert got[2] == got[3] == 0.0


@pytest.mark.equation("eq-bce-loss")
def test_bce_grad_against_central_differences():
    rng = np.random.default_rng(4)
    p, y = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))
    numeric = scratch.numerical_gradient(lambda: scratch.bce(p, y), p)
    err = scratch.relative_error(scratch.bce_grad(p, y), numeric)
    _record("bce_grad vs central differences (relative error)", err)
    assert err <= 1e-8


# --------------------------------------------------------------------------- BCE from logits


@pytest.mark.equation("eq-bce-logits")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_bce_with_logits_equals_torch_random_cases(dtype):
    """300 random cases, logits N(0, 5²) with some at ±60 and ±200, hard and soft labels.

    The terms max(z, 0) and z y are of size |z| and may cancel (z = 200, y = 0.7: 200 − 140),
    so each element carries a rounding error of order ε (1 + |z|), whatever the size of the
    loss: the difference from torch is measured in units of ε · mean(1 + |z|)."""
    eps = _eps(dtype)
    rng = np.random.default_rng(seed_of(dtype == np.float32, 5))
    worst = 0.0
    for case in range(N_RANDOM):
        _, z, y = _random_case(rng, dtype, case)
        expected, _ = _torch_loss_and_grad(nn.BCEWithLogitsLoss(), z, y)
        got = scratch.bce_with_logits(z, y)
        assert isinstance(got, float) and np.isfinite(got)
        units = abs(got - expected) / (eps * float(np.mean(1 + np.abs(z.astype(np.float64)))))
        worst = max(worst, units)
        assert units <= 4, f"case {case}: {got!r} vs torch {expected!r}"
    _record(f"bce_with_logits vs torch, {dtype.__name__} (in units of eps·mean(1+|z|))", worst)


@pytest.mark.equation("eq-bce-logits")
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_bce_with_logits_extreme_logits(dtype, y):
    """|z| up to 200, one element at a time: no overflow or warning, equal to torch, and within a few
    ulps (relative!) of the exact value — also where the loss is e^{−200} ≈ 1e−87, which torch's
    formula rounds to 0 (an absolute error of 1e−87, harmless, but the stable form keeps it)."""
    eps = _eps(dtype)
    z = EXTREME_Z.astype(dtype)
    yy = np.full_like(z, y)
    expected = nn.BCEWithLogitsLoss(reduction="none")(torch.tensor(z), torch.tensor(yy)).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
            got = np.array([scratch.bce_with_logits(z[i : i + 1], yy[i : i + 1]) for i in range(z.size)])
    assert np.all(np.isfinite(got)) and np.all(got >= 0)
    # against torch: the rounding of terms of size |z|
    tol_torch = 4 * eps * (1 + np.abs(z.astype(np.float64)))
    assert np.all(np.abs(got - expected) <= tol_torch)
    _record(f"bce_with_logits vs torch at |z| ≤ 200, {dtype.__name__} (absolute / (1 + |z|))",
            np.max(np.abs(got - expected) / (1 + np.abs(z.astype(np.float64)))))
    # against the exact value of the same (rounded) inputs: relative error, subnormal floor
    exact = np.array([_exact_logit_loss(zi, yi) for zi, yi in zip(z, yy)])
    floor = 2 * np.finfo(dtype).smallest_subnormal
    assert np.all(np.abs(got - exact) <= 8 * eps * np.abs(exact) + floor)
    # the mean over all of them is torch's too
    assert scratch.bce_with_logits(z, yy) == pytest.approx(
        nn.BCEWithLogitsLoss()(torch.tensor(z), torch.tensor(yy)).item(), rel=4 * eps
    )


@pytest.mark.equation("eq-bce-grad")
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_bce_with_logits_grad_extreme_logits(dtype, y):
    z = EXTREME_Z.astype(dtype)
    yy = np.full_like(z, y)
    _, expected = _torch_loss_and_grad(nn.BCEWithLogitsLoss(), z, yy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = scratch.bce_with_logits_grad(z, yy)
    assert got.dtype == dtype and np.all(np.isfinite(got))
    n = z.size
    np.testing.assert_allclose(got * n, expected * n, rtol=0, atol=2 * _eps(dtype))
    _record(f"bce_with_logits_grad vs autograd at |z| ≤ 200, {dtype.__name__} (absolute × N)",
            np.max(np.abs(got - expected)) * n)
    # the gradient is never lost: a confidently wrong logit gets the full error |σ(z) − y| ≈ 1
    if y == 0.0:
        assert scratch.bce_with_logits_grad(z[-1:], yy[-1:])[0] == 1.0
    if y == 1.0:
        assert scratch.bce_with_logits_grad(z[:1], yy[:1])[0] == -1.0


@pytest.mark.equation("eq-bce-grad")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_bce_with_logits_grad_equals_autograd_random_cases(dtype):
    """∂L/∂z_i = (σ(z_i) − y_i) / N against autograd of nn.BCEWithLogitsLoss, 300 random cases."""
    rng = np.random.default_rng(seed_of(dtype == np.float32, 6))
    worst = 0.0
    for case in range(N_RANDOM):
        _, z, y = _random_case(rng, dtype, case)
        _, expected = _torch_loss_and_grad(nn.BCEWithLogitsLoss(), z, y)
        got = scratch.bce_with_logits_grad(z, y)
        assert got.dtype == dtype and got.shape == z.shape
        diff = float(np.max(np.abs(got - expected))) * z.size  # the error in σ(z) − y
        worst = max(worst, diff)
        assert diff <= 2 * _eps(dtype), f"case {case}"
    _record(f"bce_with_logits_grad vs autograd, {dtype.__name__} (absolute × N)", worst)


@pytest.mark.equation("eq-bce-grad")
def test_logit_grad_is_the_chain_rule_through_the_sigmoid():
    """(σ(z) − y)/N = ∂L/∂ŷ · σ'(z): the derivation of eq-bce-grad, where σ' cancels the denominator."""
    rng = np.random.default_rng(7)
    z, y = rng.normal(0, 3, 50).clip(-8, 8), rng.uniform(0, 1, 50)
    chain = scratch.bce_grad(scratch.sigmoid(z), y) * scratch.sigmoid_derivative(z)
    np.testing.assert_allclose(scratch.bce_with_logits_grad(z, y), chain, rtol=1e-11, atol=1e-17)
    np.testing.assert_array_equal(scratch.bce_with_logits_grad(z, y), (scratch.sigmoid(z) - y) / z.size)


@pytest.mark.equation("eq-bce-grad")
def test_logit_grad_against_central_differences():
    rng = np.random.default_rng(8)
    z, y = rng.normal(0, 4, (4, 5)), (rng.random((4, 5)) < 0.5).astype(float)
    numeric = scratch.numerical_gradient(lambda: scratch.bce_with_logits(z, y), z)
    err = scratch.relative_error(scratch.bce_with_logits_grad(z, y), numeric)
    _record("bce_with_logits_grad vs central differences (relative error)", err)
    assert err <= 1e-8


@pytest.mark.equation("eq-bce-logits")
def test_logit_form_equals_bce_of_the_sigmoid_where_representable():
    """In float64 with |z| ≤ 8, 1 − σ(z) keeps its digits and the two forms agree to 1e-12."""
    rng = np.random.default_rng(9)
    for case in range(50):
        n = int(rng.integers(1, 30))
        z, y = rng.uniform(-8, 8, n), (rng.uniform(0, 1, n) if case % 2 else (rng.random(n) < 0.5).astype(float))
        assert scratch.bce_with_logits(z, y) == pytest.approx(scratch.bce(scratch.sigmoid(z), y), rel=0, abs=1e-12)


@pytest.mark.equation("eq-bce-logits")
def test_float32_sigmoid_then_bce_saturates_and_loses_the_gradient():
    """DESIGN.md §7: σ(20) = 1.0 exactly in float32, BCELoss clamps the loss at 100 and autograd through
    sigmoid + BCELoss gives 0; the logit form gives the right loss ≈ 20 and the full gradient 1."""
    z, y = np.array([20.0], dtype=np.float32), np.array([0.0], dtype=np.float32)
    zt = torch.tensor(z, requires_grad=True)
    assert torch.sigmoid(zt).item() == 1.0 and scratch.sigmoid(z)[0] == 1.0
    loss_t = nn.BCELoss()(torch.sigmoid(zt), torch.tensor(y))
    loss_t.backward()
    assert loss_t.item() == 100.0 and zt.grad.item() == 0.0  # the clamp: wrong loss, no gradient
    assert scratch.bce(scratch.sigmoid(z), y) == 100.0  # the same clamp here
    # the stable form: the exact loss 20 + log(1 + e^{−20}) (= 20.000000002 → 20.0 in float32) and gradient 1
    assert scratch.bce_with_logits(z, y) == pytest.approx(_exact_logit_loss(20.0, 0.0), rel=1e-7)
    assert scratch.bce_with_logits(z, y) == nn.BCEWithLogitsLoss()(torch.tensor(z), torch.tensor(y)).item()
    assert scratch.bce_with_logits_grad(z, y)[0] == 1.0
    # in float64 the same happens later: σ(40) = 1.0 there
    assert scratch.sigmoid(np.array([40.0]))[0] == 1.0
    assert scratch.bce(scratch.sigmoid(np.array([40.0])), np.array([0.0])) == 100.0
    assert scratch.bce_with_logits(np.array([40.0]), np.array([0.0])) == 40.0


def test_dtypes():
    z32, y32 = np.array([0.5, -1.0], dtype=np.float32), np.array([1.0, 0.0], dtype=np.float32)
    assert scratch.bce_with_logits_grad(z32, y32).dtype == np.float32
    assert scratch.bce_grad(scratch.sigmoid(z32), y32).dtype == np.float32
    # integer and boolean labels are fine (promoted to float64)
    z = np.array([0.5, -1.0, 3.0])
    for y in (np.array([1, 0, 1]), np.array([True, False, True]), [1, 0, 1]):
        assert scratch.bce_with_logits(z, y) == scratch.bce_with_logits(z, np.array([1.0, 0.0, 1.0]))
        np.testing.assert_array_equal(scratch.bce_with_logits_grad(z, y), scratch.bce_with_logits_grad(z, [1.0, 0, 1]))


def test_inputs_are_not_modified():
    rng = np.random.default_rng(10)
    p, z, y = rng.uniform(0, 1, 6), rng.normal(size=6), rng.uniform(0, 1, 6)
    saved = (p.copy(), z.copy(), y.copy())
    scratch.bce(p, y), scratch.bce_grad(p, y), scratch.bce_with_logits(z, y), scratch.bce_with_logits_grad(z, y)
    for a, b in zip((p, z, y), saved):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- bad input

PROB_FUNCS = [scratch.bce, scratch.bce_grad]
LOGIT_FUNCS = [scratch.bce_with_logits, scratch.bce_with_logits_grad]
ALL = [(f, "p") for f in PROB_FUNCS] + [(f, "z") for f in LOGIT_FUNCS]
ALL_IDS = [f.__name__ for f, _ in ALL]


@pytest.mark.parametrize("fn, x_name", ALL, ids=ALL_IDS)
def test_shapes_differ_raises(fn, x_name):
    with pytest.raises(ValueError, match=rf"y must have the shape of {x_name}, \(3,\); got \(4,\)"):
        fn(np.full(3, 0.5), np.zeros(4))
    with pytest.raises(ValueError, match=rf"y must have the shape of {x_name}"):
        fn(np.full((2, 3), 0.5), np.zeros((3, 2)))


@pytest.mark.parametrize("fn, x_name", ALL, ids=ALL_IDS)
def test_empty_input_raises(fn, x_name):
    with pytest.raises(ValueError, match=f"{x_name} must not be empty"):
        fn(np.array([]), np.array([]))


@pytest.mark.parametrize("bad", [-1.0, 2.0, 1.0000001, -1e-9])
@pytest.mark.parametrize("fn, x_name", ALL, ids=ALL_IDS)
def test_labels_outside_0_1_raise(fn, x_name, bad):
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 1\]"):
        fn(np.full(3, 0.5), np.array([0.0, bad, 1.0]))


@pytest.mark.parametrize("bad, what", [(np.nan, "NaN"), (np.inf, "infinite"), (-np.inf, "infinite")])
@pytest.mark.parametrize("fn, x_name", ALL, ids=ALL_IDS)
def test_nan_and_inf_raise(fn, x_name, bad, what):
    with pytest.raises(ValueError, match=f"{x_name} must be finite; it contains {what}"):
        fn(np.array([0.5, bad]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=f"y must be finite; it contains {what}"):
        fn(np.array([0.5, 0.5]), np.array([0.0, bad]))


@pytest.mark.parametrize("bad", [-0.1, 1.1, -1e-12, 1 + 1e-12])
@pytest.mark.parametrize("fn", PROB_FUNCS, ids=lambda f: f.__name__)
def test_probabilities_outside_0_1_raise(fn, bad):
    """A logit passed to bce by mistake is caught (the classic bug: BCELoss on logits)."""
    with pytest.raises(ValueError, match=r"p must hold probabilities in \[0, 1\]"):
        fn(np.array([0.5, bad]), np.array([0.0, 1.0]))


@pytest.mark.parametrize("fn, x_name", ALL, ids=ALL_IDS)
def test_non_numeric_input_raises(fn, x_name):
    with pytest.raises(ValueError, match=f"{x_name} must hold real numbers"):
        fn(np.array(["a", "b"]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="y must hold real numbers"):
        fn(np.array([0.5, 0.5]), np.array(["0", "1"]))
