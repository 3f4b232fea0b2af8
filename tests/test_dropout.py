"""Dropout (scratch.dropout): nn.Dropout reproduced bit for bit from the mask it drew, the keep
rate and the expectations of the standard and inverted forms, inference, the backward pass
against autograd, the variational and per-step masks of a recurrent network, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from _helpers import binomial_tolerance, max_diff, seed_of, t64
from rnnbook import scratch

DTYPES = [(np.float64, torch.float64), (np.float32, torch.float32)]
DTYPE_IDS = ["float64", "float32"]
P_VALUES = [0.0, 0.1, 0.5, 0.9, 1.0]
SHAPES = [(1,), (7,), (3, 5), (4, 6, 8), (2, 1, 3)]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Small tensors: torch's intra-op thread pool only adds overhead on a loaded 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _nonzero_input(rng, shape, dtype):
    """Entries with |h| in [0.5, 2): never 0, so a 0 in dropout's output is a dropped unit."""
    return (rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)).astype(dtype)


def _torch_dropout(h: np.ndarray, p: float, seed: int, requires_grad: bool = False):
    """``nn.Dropout(p)`` in training mode on a torch copy of ``h``; returns (input tensor, output tensor)."""
    x = torch.tensor(h, requires_grad=requires_grad)
    torch.manual_seed(seed)
    layer = nn.Dropout(p)
    assert layer.training
    return x, layer(x)


def _recovered_mask(out_torch: torch.Tensor) -> np.ndarray:
    """The 0/1 mask torch drew, read off its output (the input has no zeros)."""
    return (out_torch.detach().numpy() != 0).astype(np.int64)


# --------------------------------------------------------------------------- nn.Dropout, bit for bit


@pytest.mark.equation("eq-dropout-inverted")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("dtypes", DTYPES, ids=DTYPE_IDS)
def test_inverted_dropout_reproduces_nn_dropout_bit_for_bit(dtypes, p, shape):
    dtype, _ = dtypes
    seed = seed_of(int(p * 10), *shape, len(shape))
    h = _nonzero_input(np.random.default_rng(seed), shape, dtype)
    _, out_t = _torch_dropout(h, p, seed)
    mask = _recovered_mask(out_t)
    out, used = scratch.dropout_forward(h, p, mask=mask)  # mode="inverted" is the default, as in torch
    assert out.dtype == dtype and out.shape == h.shape
    np.testing.assert_array_equal(out, out_t.numpy())  # bit-exact, not merely close
    np.testing.assert_array_equal(used, mask)
    if p == 1.0:
        assert not np.any(out) and not np.any(mask)  # everything dropped, and no 0/0
    elif p == 0.0:
        np.testing.assert_array_equal(out, h)
    else:  # the equation, ĥ = h ⊙ m / (1 − p), within one rounding of the division
        by_equation = h.astype(np.float64) * mask / (1.0 - p)
        np.testing.assert_allclose(out, by_equation, rtol=2 * np.finfo(dtype).eps, atol=0)


@pytest.mark.equation("eq-dropout-inverted")
@pytest.mark.parametrize("dtypes", DTYPES, ids=DTYPE_IDS)
def test_inverted_dropout_equals_nn_dropout_for_many_random_p(dtypes):
    """100 random (p, shape, seed) cases per dtype, p anywhere in [0, 1): still bit-exact."""
    dtype, _ = dtypes
    rng = np.random.default_rng(seed_of(dtype == np.float32, 45))
    for case in range(100):
        p = float(rng.choice([rng.uniform(0, 1), rng.uniform(0.95, 1), rng.uniform(0, 0.05)]))
        shape = tuple(int(s) for s in rng.integers(1, 9, size=rng.integers(1, 4)))
        h = _nonzero_input(rng, shape, dtype)
        _, out_t = _torch_dropout(h, p, seed=case)
        out, _ = scratch.dropout_forward(h, p, mask=_recovered_mask(out_t))
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, out_t.numpy(), err_msg=f"case {case}: p = {p!r}, shape {shape}")


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_torch_p_is_the_drop_probability(p):
    """nn.Dropout keeps a unit with probability 1 − p (binomial tolerance, 6σ), as note B's p does."""
    n = 200_000
    h = np.ones(n, dtype=np.float32)
    _, out_t = _torch_dropout(h, p, seed=seed_of(int(p * 10), 1))
    kept = int(_recovered_mask(out_t).sum())
    assert abs(kept - n * (1 - p)) <= binomial_tolerance(n, 1 - p)


# --------------------------------------------------------------------------- the mask


@pytest.mark.equation("eq-dropout-train")
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_mask_is_bernoulli_one_minus_p(p):
    n = 200_000
    mask = scratch.dropout_mask((n,), p, seed=seed_of(int(p * 10), 2))
    assert mask.shape == (n,) and mask.dtype == np.float64
    assert set(np.unique(mask)) <= {0.0, 1.0}
    kept = int(mask.sum())
    if p in (0.0, 1.0):
        assert kept == n * (1 - p)  # exactly all kept, exactly all dropped
    else:
        assert abs(kept - n * (1 - p)) <= binomial_tolerance(n, 1 - p)
    # independent entries: the keep rate of each half, and of pairs, is (1 − p) and (1 − p)²
    pairs = int((mask[0::2] * mask[1::2]).sum())
    if 0 < p < 1:
        assert abs(pairs - n / 2 * (1 - p) ** 2) <= binomial_tolerance(n // 2, (1 - p) ** 2)


def test_mask_is_seeded_and_takes_a_generator():
    a = scratch.dropout_mask((4, 50), 0.5, seed=3)
    np.testing.assert_array_equal(a, scratch.dropout_mask((4, 50), 0.5, seed=3))
    np.testing.assert_array_equal(a, scratch.dropout_mask((4, 50), 0.5, seed=np.random.default_rng(3)))
    assert not np.array_equal(a, scratch.dropout_mask((4, 50), 0.5, seed=4))
    assert scratch.dropout_mask((2, 3), 0.5, seed=0, dtype=np.float32).dtype == np.float32
    # dropout_forward draws the same mask from the same seed
    h = np.random.default_rng(0).normal(size=(4, 50))
    out, mask = scratch.dropout_forward(h, 0.5, seed=3)
    np.testing.assert_array_equal(mask, a)
    np.testing.assert_array_equal(out, scratch.dropout_forward(h, 0.5, seed=3)[0])


@pytest.mark.equation("eq-dropout-train")
@pytest.mark.parametrize("p", [0.0, 0.3, 0.8, 1.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_standard_training_is_h_times_mask(dtype, p):
    """ĥ = h ⊙ m, exactly, with m ~ Bernoulli(1 − p) drawn by the function itself or given."""
    rng = np.random.default_rng(seed_of(int(p * 10), 3))
    h = rng.normal(size=(6, 9, 4)).astype(dtype)
    out, mask = scratch.dropout_forward(h, p, mode="standard", seed=5)
    assert out.dtype == mask.dtype == dtype
    np.testing.assert_array_equal(mask, scratch.dropout_mask(h.shape, p, seed=5, dtype=dtype))
    np.testing.assert_array_equal(out, h * mask)
    given = (rng.random(h.shape) >= p).astype(np.int8)
    out, mask = scratch.dropout_forward(h, p, mode="standard", mask=given)
    np.testing.assert_array_equal(out, h * given.astype(dtype))
    assert mask.dtype == dtype


# --------------------------------------------------------------------------- expectations


@pytest.mark.equation("eq-dropout-inference")
@pytest.mark.equation("eq-dropout-inverted")
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("mode", ["standard", "inverted"])
def test_training_output_averages_to_the_inference_output(mode, p):
    """Monte Carlo over R masks: the mean of the training output is the inference output.

    Standard: E[h ⊙ m] = (1 − p) h, what eq-dropout-inference returns; inverted:
    E[h ⊙ m / (1 − p)] = h. Per entry the standard deviation of the mean is
    |h| √(p (1 − p) / R), times 1 / (1 − p) for the inverted form (CLT); allow 6 of them.
    """
    R, H = 20_000, 40
    rng = np.random.default_rng(seed_of(int(p * 10), mode == "inverted"))
    h = rng.normal(size=H)
    out, _ = scratch.dropout_forward(np.broadcast_to(h, (R, H)), p, mode=mode, seed=rng)
    mean = out.mean(axis=0)
    inference, mask = scratch.dropout_forward(h, p, mode=mode, train=False)
    assert mask is None
    sd = np.abs(h) * np.sqrt(p * (1 - p) / R) / ((1 - p) if mode == "inverted" else 1.0)
    assert np.all(np.abs(mean - inference) <= 6 * sd + 1e-15)
    if mode == "standard":  # without the inference scaling the two phases would disagree by p·|h|
        assert np.all(np.abs(mean - h) > 6 * sd)


@pytest.mark.equation("eq-dropout-inference")
@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 1.0])
@pytest.mark.parametrize("dtypes", DTYPES, ids=DTYPE_IDS)
def test_inference(dtypes, p):
    """Standard: ĥ = (1 − p) h. Inverted: ĥ = h, which is what nn.Dropout does in eval mode."""
    dtype, _ = dtypes
    h = np.random.default_rng(seed_of(int(p * 100), 4)).normal(size=(3, 4, 5)).astype(dtype)
    saved = h.copy()
    out, mask = scratch.dropout_forward(h, p, mode="standard", train=False)
    assert mask is None and out.dtype == dtype
    np.testing.assert_array_equal(out, h * dtype(1 - p))
    out, mask = scratch.dropout_forward(h, p, mode="inverted", train=False)
    assert mask is None and out.dtype == dtype
    with torch.no_grad():
        expected = nn.Dropout(p).eval()(torch.from_numpy(h.copy())).numpy()
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out, h)
    assert not np.shares_memory(out, h)  # a copy, safe to modify
    out += 1
    np.testing.assert_array_equal(h, saved)
    # inference ignores any seed: deterministic
    np.testing.assert_array_equal(scratch.dropout_forward(h, p, train=False, seed=1)[0], h)


def test_forward_does_not_modify_its_inputs():
    rng = np.random.default_rng(5)
    h, m = rng.normal(size=(4, 6)), (rng.random((4, 6)) < 0.5).astype(float)
    saved = (h.copy(), m.copy())
    for mode in ("standard", "inverted"):
        out, _ = scratch.dropout_forward(h, 0.5, mode=mode, mask=m)
        assert not np.shares_memory(out, h)
    np.testing.assert_array_equal(h, saved[0])
    np.testing.assert_array_equal(m, saved[1])


# --------------------------------------------------------------------------- backward


@pytest.mark.equation("eq-dropout-inverted")
@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("dtypes", DTYPES, ids=DTYPE_IDS)
def test_inverted_backward_equals_nn_dropout_autograd(dtypes, p):
    dtype, _ = dtypes
    seed = seed_of(int(p * 10), 6)
    rng = np.random.default_rng(seed)
    h = _nonzero_input(rng, (5, 7, 3), dtype)
    G = rng.normal(size=h.shape).astype(dtype)
    x, out_t = _torch_dropout(h, p, seed, requires_grad=True)
    (out_t * torch.from_numpy(G)).sum().backward()
    _, mask = scratch.dropout_forward(h, p, mask=_recovered_mask(out_t))
    d_h = scratch.dropout_backward(G, mask, p)
    assert d_h.dtype == dtype and d_h.shape == h.shape
    np.testing.assert_array_equal(d_h, x.grad.numpy())  # bit-exact, as the forward


@pytest.mark.equation("eq-dropout-train")
@pytest.mark.equation("eq-dropout-inference")
@pytest.mark.parametrize("train", [True, False], ids=["train", "inference"])
@pytest.mark.parametrize("mode", ["standard", "inverted"])
def test_backward_equals_autograd_of_the_equation(mode, train):
    """Autograd of the equations written in torch ops (float64), a variational mask broadcast over time."""
    N, T, H, p = 4, 6, 5, 0.4
    rng = np.random.default_rng(seed_of(mode == "inverted", train, 7))
    h, G = rng.normal(size=(N, T, H)), rng.normal(size=(N, T, H))
    mask = scratch.sequence_dropout_mask(N, T, H, p, seed=rng)[:, :1]  # (N, 1, H)
    out, used = scratch.dropout_forward(h, p, mode=mode, train=train, mask=mask)
    d_h = scratch.dropout_backward(G, used, p, mode=mode, train=train)
    x = t64(h, requires_grad=True)
    if train:
        expected = x * t64(mask) / (1 - p) if mode == "inverted" else x * t64(mask)
    else:
        expected = x * (1 - p) if mode == "standard" else x * 1.0
    (expected * t64(G)).sum().backward()
    assert max_diff(out, expected) <= 1e-15
    assert max_diff(d_h, x.grad) <= 1e-15
    assert d_h.shape == h.shape


def test_backward_is_the_forward_applied_to_the_gradient():
    """Dropout is linear in h, so its backward multiplies by exactly what the forward multiplied by."""
    rng = np.random.default_rng(8)
    G = rng.normal(size=(3, 8))
    for p in (0.0, 0.2, 0.7, 1.0):
        for mode in ("standard", "inverted"):
            _, mask = scratch.dropout_forward(G, p, mode=mode, seed=1)
            np.testing.assert_array_equal(
                scratch.dropout_backward(G, mask, p, mode=mode), scratch.dropout_forward(G, p, mode=mode, mask=mask)[0]
            )
            np.testing.assert_array_equal(
                scratch.dropout_backward(G, None, p, mode=mode, train=False),
                scratch.dropout_forward(G, p, mode=mode, train=False)[0],
            )


# --------------------------------------------------------------------------- masks over time


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_variational_mask_is_constant_over_time(p):
    """Gal & Ghahramani (2016): one mask per sequence, the same at every step."""
    N, T, H = 64, 12, 50
    m = scratch.sequence_dropout_mask(N, T, H, p, variational=True, seed=seed_of(int(p * 10), 9))
    assert m.shape == (N, T, H) and m.dtype == np.float64 and m.flags.writeable
    assert set(np.unique(m)) <= {0.0, 1.0}
    for t in range(T):
        np.testing.assert_array_equal(m[:, t], m[:, 0])
    kept = int(m[:, 0].sum())
    assert abs(kept - N * H * (1 - p)) <= binomial_tolerance(N * H, 1 - p)
    # the masks of different sequences differ
    assert not all(np.array_equal(m[0, 0], m[n, 0]) for n in range(1, N))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_per_step_mask_changes_over_time(p):
    """variational=False: a fresh Bernoulli(1 − p) mask at every step, as nn.Dropout on nn.LSTM's output."""
    N, T, H = 64, 12, 50
    m = scratch.sequence_dropout_mask(N, T, H, p, variational=False, seed=seed_of(int(p * 10), 10))
    assert m.shape == (N, T, H)
    for t in range(1, T):
        assert not np.array_equal(m[:, t], m[:, t - 1])
    # an entry flips between consecutive steps with probability 2 p (1 − p)
    n_pairs = N * (T - 1) * H
    flips = int((m[:, 1:] != m[:, :-1]).sum())
    assert abs(flips - n_pairs * 2 * p * (1 - p)) <= binomial_tolerance(n_pairs, 2 * p * (1 - p))
    kept = int(m.sum())
    assert abs(kept - m.size * (1 - p)) <= binomial_tolerance(m.size, 1 - p)


def test_sequence_mask_edge_cases_and_seed():
    for variational in (True, False):
        assert np.all(scratch.sequence_dropout_mask(2, 3, 4, 0.0, variational=variational, seed=0) == 1)
        assert np.all(scratch.sequence_dropout_mask(2, 3, 4, 1.0, variational=variational, seed=0) == 0)
        m = scratch.sequence_dropout_mask(1, 1, 1, 0.5, variational=variational, seed=0, dtype=np.float32)
        assert m.shape == (1, 1, 1) and m.dtype == np.float32
    a = scratch.sequence_dropout_mask(3, 4, 5, 0.5, seed=11)
    np.testing.assert_array_equal(a, scratch.sequence_dropout_mask(3, 4, 5, 0.5, seed=11))
    # the variational mask is the (N, 1, H) mask of the same seed, broadcast
    np.testing.assert_array_equal(a, np.broadcast_to(scratch.dropout_mask((3, 1, 5), 0.5, seed=11), (3, 4, 5)))


def test_variational_mask_given_as_n1h_equals_the_full_mask():
    N, T, H, p = 3, 5, 4, 0.5
    rng = np.random.default_rng(12)
    h, G = rng.normal(size=(N, T, H)), rng.normal(size=(N, T, H))
    full = scratch.sequence_dropout_mask(N, T, H, p, seed=2)
    for mode in ("standard", "inverted"):
        out_small, _ = scratch.dropout_forward(h, p, mode=mode, mask=full[:, :1])
        out_full, _ = scratch.dropout_forward(h, p, mode=mode, mask=full)
        np.testing.assert_array_equal(out_small, out_full)
        np.testing.assert_array_equal(
            scratch.dropout_backward(G, full[:, :1], p, mode=mode), scratch.dropout_backward(G, full, p, mode=mode)
        )


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("mask_shape", [(5,), (3, 4, 2), (2, 3, 1, 1), (7, 2, 3, 4), (2, 3, 5)], ids=str)
def test_mask_that_does_not_broadcast_to_h_raises(mask_shape):
    """A mask must broadcast *to* h: (7, 2, 3, 4) broadcasts with (2, 3, 4) but would change its shape."""
    h = np.ones((2, 3, 4))
    mask = np.ones(mask_shape)
    with pytest.raises(ValueError, match=r"mask must be broadcastable to h's shape \(2, 3, 4\)"):
        scratch.dropout_forward(h, 0.5, mask=mask)
    with pytest.raises(ValueError, match=r"mask must be broadcastable to d_out's shape \(2, 3, 4\)"):
        scratch.dropout_backward(h, mask, 0.5)


def test_mask_that_grows_h_raises():
    """h (2, 1, 4) with a (2, 3, 4) mask would silently return a (2, 3, 4) output."""
    with pytest.raises(ValueError, match="mask must be broadcastable to h's shape"):
        scratch.dropout_forward(np.ones((2, 1, 4)), 0.5, mask=np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="mask must be broadcastable to d_out's shape"):
        scratch.dropout_backward(np.ones((2, 1, 4)), np.ones((2, 3, 4)), 0.5)


@pytest.mark.parametrize("bad", [[1, 0, 0.5], [1, 2, 0], [1, -1, 0], [1, np.nan, 0], ["1", "0", "1"]], ids=str)
def test_mask_with_values_other_than_0_and_1_raises(bad):
    h = np.ones(3)
    with pytest.raises(ValueError, match=r"mask must hold only 0 \(drop\) and 1 \(keep\)"):
        scratch.dropout_forward(h, 0.5, mask=np.array(bad))
    with pytest.raises(ValueError, match=r"mask must hold only 0 \(drop\) and 1 \(keep\)"):
        scratch.dropout_backward(h, np.array(bad), 0.5)


def test_boolean_and_integer_masks_are_accepted():
    h = np.arange(1.0, 5.0)
    for mask in (np.array([True, False, True, False]), np.array([1, 0, 1, 0]), [1, 0, 1, 0]):
        out, used = scratch.dropout_forward(h, 0.5, mask=mask)
        np.testing.assert_array_equal(out, [2.0, 0.0, 6.0, 0.0])
        assert used.dtype == np.float64


def test_backward_in_training_needs_the_mask():
    with pytest.raises(ValueError, match="mask must be the mask returned by dropout_forward"):
        scratch.dropout_backward(np.ones(3), None, 0.5)


BAD_P = [-0.1, 1.0000001, 2, np.nan, np.inf, "0.5", None, True, [0.5]]


@pytest.mark.parametrize("p", BAD_P, ids=repr)
def test_bad_p_raises(p):
    match = r"p must be the drop probability, a number in \[0, 1\]"
    with pytest.raises(ValueError, match=match):
        scratch.dropout_mask((2, 3), p)
    with pytest.raises(ValueError, match=match):
        scratch.sequence_dropout_mask(2, 3, 4, p)
    for train in (True, False):
        with pytest.raises(ValueError, match=match):
            scratch.dropout_forward(np.ones(3), p, train=train)
        with pytest.raises(ValueError, match=match):
            scratch.dropout_backward(np.ones(3), np.ones(3), p, train=train)


def test_numpy_scalars_are_good_p():
    for p in (np.float32(0.5), np.float64(0.5), np.int64(0), np.int64(1)):
        scratch.dropout_forward(np.ones(3), p, seed=0)


@pytest.mark.parametrize("mode", ["Standard", "inverse", "", None])
def test_bad_mode_raises(mode):
    with pytest.raises(ValueError, match=r"mode must be one of \('standard', 'inverted'\)"):
        scratch.dropout_forward(np.ones(3), 0.5, mode=mode)
    with pytest.raises(ValueError, match=r"mode must be one of \('standard', 'inverted'\)"):
        scratch.dropout_backward(np.ones(3), np.ones(3), 0.5, mode=mode)


@pytest.mark.parametrize(
    "bad, what", [(np.array([1.0, np.nan]), "NaN"), (np.array([np.inf, 1.0]), "infinite"), (np.array(["a"]), "dtype")]
)
def test_bad_h_and_d_out_raise(bad, what):
    with pytest.raises(ValueError, match=f"h must .*{what}"):
        scratch.dropout_forward(bad, 0.5)
    with pytest.raises(ValueError, match=f"d_out must .*{what}"):
        scratch.dropout_backward(bad, np.ones(bad.shape), 0.5)


@pytest.mark.parametrize("name, args", [("N", (0, 3, 4)), ("T", (2, 0, 4)), ("H", (2, 3, -1)), ("N", (2.0, 3, 4))])
def test_bad_sequence_mask_sizes_raise(name, args):
    with pytest.raises(ValueError, match=f"{name} must be an integer ≥ 1"):
        scratch.sequence_dropout_mask(*args, 0.5)
