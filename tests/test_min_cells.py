"""minGRU and minLSTM: the NumPy functions (scratch.min_cells) against the equations written out in torch here,
against the torch modules rnnbook.nn.MinGRU / MinLSTM, both methods; every gradient against autograd and central
differences; gates within 1e-6 of 0 and 1 and T = 4096; params_from_torch; bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _helpers import AUTOGRAD_TOL, FORWARD_TOL, GRADCHECK_TOL, SHAPES, max_diff, seed_of, shape_id, t64
from rnnbook import scratch
from rnnbook.nn import MinGRU, MinLSTM

KINDS = {
    "mingru": (MinGRU, scratch.mingru_forward, scratch.mingru_backward),
    "minlstm": (MinLSTM, scratch.minlstm_forward, scratch.minlstm_backward),
}
METHODS = ("sequential", "parallel")
SHAPE_IDS = [shape_id(s) for s in SHAPES]


def random_params(kind: str, D: int, H: int, rng, scale: float = 0.6, bias_shift: float = 0.0) -> dict:
    p = {}
    for key in scratch.MIN_PARAM_KEYS[kind]:
        shape = (H, D) if key.startswith("weight") else (H,)
        p[key] = rng.normal(0, scale, shape)
    for key in p:  # push the gates towards 0 or 1
        if key.startswith("bias") and key != "bias_h":
            p[key] = p[key] + bias_shift * rng.choice([-1.0, 1.0], size=p[key].shape)
    return p


def equations(kind: str, x, h0, P) -> torch.Tensor:
    """The chapter's equations written out in torch, one step at a time, from the torch tensors ``P``."""
    h, out = h0, []
    for t in range(x.shape[1]):
        x_t = x[:, t]
        if kind == "mingru":
            z = torch.sigmoid(x_t @ P["weight_z"].T + P["bias_z"])  # eq-mingru-update
            h_tilde = x_t @ P["weight_h"].T + P["bias_h"]  # eq-mingru-candidate
            h = (1 - z) * h + z * h_tilde  # eq-mingru-hidden
        else:
            f = torch.sigmoid(x_t @ P["weight_f"].T + P["bias_f"])  # eq-minlstm-forget
            i = torch.sigmoid(x_t @ P["weight_i"].T + P["bias_i"])  # eq-minlstm-input
            h_tilde = x_t @ P["weight_h"].T + P["bias_h"]  # eq-minlstm-candidate
            f_n, i_n = f / (f + i), i / (f + i)  # eq-minlstm-norm
            h = f_n * h + i_n * h_tilde  # eq-minlstm-hidden
        out.append(h)
    return torch.stack(out, dim=1)


def case(kind, shape, seed, bias_shift=0.0):
    N, T, D, H = shape
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), random_params(kind, D, H, rng, bias_shift=bias_shift)


# --------------------------------------------------------------------------- forward


@pytest.mark.equation("eq-mingru-update")
@pytest.mark.equation("eq-mingru-candidate")
@pytest.mark.equation("eq-mingru-hidden")
@pytest.mark.equation("eq-minlstm-forget")
@pytest.mark.equation("eq-minlstm-input")
@pytest.mark.equation("eq-minlstm-candidate")
@pytest.mark.equation("eq-minlstm-norm")
@pytest.mark.equation("eq-minlstm-hidden")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_forward_equals_the_equations(shape, kind, method):
    x, h0, p = case(kind, shape, seed_of(*shape, len(kind)))
    out, h_T, cache = KINDS[kind][1](x, h0, p, method=method)
    ref = equations(kind, t64(x), t64(h0), {k: t64(v) for k, v in p.items()})
    assert max_diff(out, ref) <= FORWARD_TOL
    np.testing.assert_array_equal(h_T, out[:, -1])
    gate = "z" if kind == "mingru" else "f"
    expected_gate = torch.sigmoid(t64(x) @ t64(p[f"weight_{gate}"]).T + t64(p[f"bias_{gate}"]))
    assert max_diff(cache.gates[gate], expected_gate) <= FORWARD_TOL


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_forward_equals_the_torch_module(shape, kind, method):
    N, T, D, H = shape
    torch.manual_seed(seed_of(*shape))
    module = KINDS[kind][0](D, H, method=method).double()
    x, h0 = torch.randn(N, T, D, dtype=torch.float64), torch.randn(N, H, dtype=torch.float64)
    out, h_T = module(x, h0)
    mine, mine_T, _ = KINDS[kind][1](x.numpy(), h0.numpy(), scratch.params_from_torch(module), method=method)
    assert max_diff(mine, out) <= FORWARD_TOL and max_diff(mine_T, h_T) <= FORWARD_TOL


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("T", [4096])
def test_long_saturated_sequences_parallel_equals_sequential(kind, T):
    """T = 4096 with gates within 1e-6 of 0 and 1 (biases ±14 or more): the scan equals the loop, forward and backward."""
    x, h0, p = case(kind, (2, T, 3, 4), seed_of(T, 21), bias_shift=16.0)
    fwd, bwd = KINDS[kind][1:]
    gate = torch.sigmoid(t64(x) @ t64(p[list(p)[0]]).T + t64(p[list(p)[1]]))
    assert float(torch.minimum(gate, 1 - gate).min()) < 1e-6  # some gates really are that close to 0 or 1
    seq, seq_T, c_seq = fwd(x, h0, p, method="sequential")
    par, par_T, c_par = fwd(x, h0, p, method="parallel")
    scale = scratch.linear_recurrence(np.abs(c_seq.a), np.abs(c_seq.h - c_seq.a * np.concatenate(
        [h0[:, None], c_seq.h[:, :-1]], axis=1)), np.abs(h0))  # the recurrence on |a|, |b|, |h0|
    assert np.max(np.abs(par - seq) / scale) <= FORWARD_TOL
    d_out = np.random.default_rng(22).normal(size=seq.shape)
    g_seq, g_par = bwd(d_out, c_seq), bwd(d_out, c_par)
    for key in g_seq:
        assert np.max(np.abs(g_par[key] - g_seq[key])) <= 1e-9 * max(np.max(np.abs(g_seq[key])), 1.0), key


def test_minlstm_states_stay_within_h0_and_the_candidates():
    x, h0, p = case("minlstm", (3, 500, 4, 5), 23)
    out, _, cache = scratch.minlstm_forward(x, h0, p, method="parallel")
    bound = np.maximum(np.abs(h0), np.abs(cache.gates["h_tilde"]).max(axis=1))  # (N, H)
    assert np.all(np.abs(out) <= bound[:, None] + 1e-12)
    np.testing.assert_allclose(cache.gates["f_norm"] + cache.gates["i_norm"], 1.0, rtol=1e-15)


# --------------------------------------------------------------------------- backward


@pytest.mark.equation("eq-mingru-hidden")
@pytest.mark.equation("eq-minlstm-hidden")
@pytest.mark.equation("eq-minlstm-norm")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias_shift", [0.0, 16.0], ids=["gates-spread", "gates-near-0-and-1"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_backward_equals_autograd(shape, bias_shift, kind, method):
    x, h0, p = case(kind, shape, seed_of(*shape, 31), bias_shift=bias_shift)
    rng = np.random.default_rng(seed_of(*shape, 32))
    out, h_T, cache = KINDS[kind][1](x, h0, p, method=method)
    d_out, d_h_T = rng.normal(size=out.shape), rng.normal(size=h_T.shape)
    grads = KINDS[kind][2](d_out, cache, d_h_T=d_h_T)
    assert set(grads) == set(p) | {"x", "h0"}
    T = {k: t64(v, True) for k, v in {**p, "x": x, "h0": h0}.items()}
    ref = equations(kind, T["x"], T["h0"], T)
    ((ref * t64(d_out)).sum() + (ref[:, -1] * t64(d_h_T)).sum()).backward()
    for key, g in grads.items():
        assert g.shape == T[key].shape, key
        assert max_diff(g, T[key].grad) <= AUTOGRAD_TOL * max(1.0, float(T[key].grad.abs().max())), key


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", KINDS)
def test_backward_against_central_differences(kind, method):
    x, h0, p = case(kind, (2, 5, 3, 4), seed_of(41, len(kind)))
    w = np.random.default_rng(42).normal(size=(2, 5, 4))
    fwd, bwd = KINDS[kind][1:]

    def loss():
        return float(np.sum(w * fwd(x, h0, p, method=method)[0]))

    grads = bwd(w, fwd(x, h0, p, method=method)[2])
    errors = scratch.check_gradients(loss, {**p, "x": x, "h0": h0}, grads)
    assert set(errors) == set(p) | {"x", "h0"}
    assert max(errors.values()) <= GRADCHECK_TOL, errors


@pytest.mark.parametrize("kind", KINDS)
def test_torch_module_backward_sequential_equals_parallel(kind):
    torch.manual_seed(51)
    grads = {}
    for method in METHODS:
        torch.manual_seed(51)
        module = KINDS[kind][0](3, 4, method=method).double()
        x = torch.randn(2, 37, 3, dtype=torch.float64, requires_grad=True)
        out, h_T = module(x)
        (out.pow(2).sum() + h_T.sum()).backward()
        grads[method] = {n: q.grad.clone() for n, q in module.named_parameters()} | {"x": x.grad.clone()}
    for key in grads["sequential"]:
        assert max_diff(grads["sequential"][key], grads["parallel"][key]) <= 1e-12, key


# --------------------------------------------------------------------------- modules and parameters


def test_module_parameter_names_and_shapes():
    assert [(n, tuple(q.shape)) for n, q in MinGRU(3, 5).named_parameters()] == [
        ("weight_z", (5, 3)), ("bias_z", (5,)), ("weight_h", (5, 3)), ("bias_h", (5,))]
    assert [n for n, _ in MinLSTM(3, 5).named_parameters()] == [
        "weight_f", "bias_f", "weight_i", "bias_i", "weight_h", "bias_h"]
    assert sum(q.numel() for q in MinGRU(3, 5).parameters()) == 2 * 5 * (3 + 1)
    assert sum(q.numel() for q in MinLSTM(3, 5).parameters()) == 3 * 5 * (3 + 1)


@pytest.mark.parametrize("kind", KINDS)
def test_params_round_trip(kind):
    module = KINDS[kind][0](3, 4).double()
    assert scratch.module_kind(module) == (kind, False)
    p = scratch.params_from_torch(module)
    assert list(p) == list(scratch.MIN_PARAM_KEYS[kind]) and all(v.dtype == np.float64 for v in p.values())
    p["weight_h"][0, 0] = 123.0
    assert float(module.weight_h.detach()[0, 0]) != 123.0  # copies, not views
    scratch.params_to_torch(p, module)
    assert float(module.weight_h.detach()[0, 0]) == 123.0
    with pytest.raises(ValueError, match=r"p\['bias_h'\] must have shape \(4,\)"):
        scratch.params_to_torch({**p, "bias_h": np.zeros(5)}, module)
    with pytest.raises(ValueError, match=r"p is missing 'weight_h'"):
        scratch.params_to_torch({k: v for k, v in p.items() if k != "weight_h"}, module)


def test_zero_length_and_float32():
    x, h0, p = case("mingru", (2, 0, 3, 4), 61)
    out, h_T, cache = scratch.mingru_forward(x, h0, p, method="parallel")
    assert out.shape == (2, 0, 4)
    np.testing.assert_array_equal(h_T, h0)
    np.testing.assert_array_equal(scratch.mingru_backward(out, cache)["h0"], np.zeros((2, 4)))
    x, h0, p = case("minlstm", (2, 6, 3, 4), 62)
    out32 = scratch.minlstm_forward(x.astype(np.float32), h0.astype(np.float32),
                                    {k: v.astype(np.float32) for k, v in p.items()}, method="parallel")[0]
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, scratch.minlstm_forward(x, h0, p)[0], rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda x, h0, p: (x[0], h0, p), r"x must have 3 dimensions \(N, T, D\); got shape \(5, 3\)"),
        (lambda x, h0, p: (x[..., :2], h0, p), r"x must have D = 3 features in its last axis"),
        (lambda x, h0, p: (x, h0[:, :2], p), r"h0 must have shape \(N, H\) = \(2, 4\); got \(2, 2\)"),
        (lambda x, h0, p: (np.where(x > 0, np.nan, x), h0, p), r"x must be finite; it contains NaN"),
        (lambda x, h0, p: (x, h0, {k: v for k, v in p.items() if k != "bias_z"}), r"p is missing \['bias_z'\]"),
        (lambda x, h0, p: (x, h0, {**p, "weight_z": p["weight_z"][:3]}),
         r"p\['weight_z'\] must have shape \(H, D\), as p\['weight_h'\] = \(4, 3\); got \(3, 3\)"),
        (lambda x, h0, p: (x, h0, {**p, "bias_h": p["bias_h"][:2]}), r"p\['bias_h'\] must have shape \(H,\) = \(4,\)"),
        (lambda x, h0, p: (x, h0, [1, 2]), r"p must be a dict with keys"),
    ],
)
def test_bad_input_is_named(change, match):
    x, h0, p = case("mingru", (2, 5, 3, 4), 71)
    with pytest.raises(ValueError, match=match):
        scratch.mingru_forward(*change(x, h0, p))


def test_bad_method_cache_and_module_input():
    x, h0, p = case("minlstm", (2, 5, 3, 4), 72)
    with pytest.raises(ValueError, match="method must be one of"):
        scratch.minlstm_forward(x, h0, p, method="fast")
    _, _, cache = scratch.minlstm_forward(x, h0, p)
    with pytest.raises(ValueError, match="cache must come from mingru_forward"):
        scratch.mingru_backward(np.zeros((2, 5, 4)), cache)
    with pytest.raises(ValueError, match=r"d_out must have shape \(N, T, H\)"):
        scratch.minlstm_backward(np.zeros((2, 4, 4)), cache)
    with pytest.raises(ValueError, match="cache must be the MinCache"):
        scratch.minlstm_backward(np.zeros((2, 5, 4)), object())
    module = MinGRU(3, 4)
    with pytest.raises(ValueError, match=r"x must be a tensor of shape \(N, T, D\) with D = 3; got \(2, 5, 2\)"):
        module(torch.zeros(2, 5, 2))
    with pytest.raises(ValueError, match=r"h0 must be a tensor of shape \(N, H\) = \(2, 4\); got \(2, 3\)"):
        module(torch.zeros(2, 5, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="x must be finite"):
        module(torch.full((1, 2, 3), float("nan")))
    with pytest.raises(ValueError, match=r"x must have the parameters' dtype torch.float32; got torch.int64"):
        module(torch.zeros(2, 5, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"h0 must have the dtype of x, torch.float32; got torch.float64"):
        module(torch.zeros(2, 5, 3), torch.zeros(2, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="h0 must be finite"):
        module(torch.zeros(2, 5, 3), torch.full((2, 4), float("inf")))
    with pytest.raises(ValueError, match="method must be one of"):
        MinLSTM(3, 4, method="scan")
    with pytest.raises(ValueError, match="hidden_size"):
        MinLSTM(3, 0)
