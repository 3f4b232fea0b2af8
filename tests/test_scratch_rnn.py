"""The NumPy RNN (scratch.rnn): forward against nn.RNN / nn.RNNCell, BPTT against
autograd and central differences, the output layer, dtypes and bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from _helpers import (
    AUTOGRAD_TOL,
    FORWARD_TOL,
    GRADCHECK_TOL,
    SHAPES,
    max_diff,
    random_params,
    seed_of,
    shape_id,
    t64,
    torch_rnn,
    torch_rnn_cell,
    torch_rnn_loop,
)
from rnnbook import scratch

KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
SHAPE_IDS = [shape_id(s) for s in SHAPES]


def _setup(shape, salt=0):
    N, T, D, H = shape
    seed = seed_of(*shape, salt)
    rng = np.random.default_rng(seed)
    module = torch_rnn(D, H, seed)
    p = scratch.params_from_torch(module)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(scale=0.5, size=(N, H))
    return rng, module, p, x, h0


def _torch_grads(module, x, h0, G, G_T=None):
    """Autograd gradients of L = Σ out ⊙ G (+ Σ h_T ⊙ G_T) through nn.RNN."""
    xt, h0t = t64(x, True), t64(h0, True)
    module.zero_grad()
    out, h_n = module(xt, h0t[None])
    loss = (out * t64(G)).sum()
    if G_T is not None:
        loss = loss + (h_n[0] * t64(G_T)).sum()
    loss.backward()
    grads = {k: getattr(module, k + "_l0").grad.numpy() for k in KEYS}
    grads.update(x=xt.grad.numpy(), h0=h0t.grad.numpy())
    return grads


# --------------------------------------------------------------------------- forward


@pytest.mark.equation("eq-rnn-hidden")
@pytest.mark.parametrize("with_h0", [False, True], ids=["h0=None", "h0-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_forward_equals_torch(shape, with_h0):
    N, T, D, H = shape
    _, module, p, x, h0 = _setup(shape)
    out, h_T, cache = scratch.rnn_forward(x, h0 if with_h0 else None, p)
    with torch.no_grad():
        out_t, h_n = module(t64(x), t64(h0)[None] if with_h0 else None)
    assert out.shape == (N, T, H) and h_T.shape == (N, H)
    assert out.dtype == h_T.dtype == np.float64
    assert max_diff(out, out_t) <= FORWARD_TOL
    assert max_diff(h_T, h_n[0]) <= FORWARD_TOL
    np.testing.assert_array_equal(h_T, out[:, -1])
    assert isinstance(cache, scratch.RNNCache)
    np.testing.assert_array_equal(cache.h0, h0 if with_h0 else np.zeros((N, H)))


@pytest.mark.equation("eq-rnn-hidden")
@pytest.mark.parametrize("with_h", [False, True], ids=["h_prev=None", "h_prev-given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_step_forward_equals_torch_cell(shape, with_h):
    N, _, D, H = shape
    seed = seed_of(*shape, 1)
    rng = np.random.default_rng(seed)
    cell = torch_rnn_cell(D, H, seed)
    p = scratch.params_from_torch(cell)
    x_t, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    h_t, _ = scratch.rnn_step_forward(x_t, h_prev if with_h else None, p)
    with torch.no_grad():
        h_torch = cell(t64(x_t), t64(h_prev) if with_h else None)
    assert h_t.shape == (N, H)
    assert max_diff(h_t, h_torch) <= FORWARD_TOL
    # the equation itself, written out with column vectors per sequence
    b_h = p["bias_ih"] + p["bias_hh"]
    hp = h_prev if with_h else np.zeros((N, H))
    by_equation = np.stack([np.tanh(p["weight_hh"] @ hp[n] + p["weight_ih"] @ x_t[n] + b_h) for n in range(N)])
    assert max_diff(h_t, by_equation) <= 1e-14


@pytest.mark.parametrize("shape", SHAPES[:4], ids=SHAPE_IDS[:4])
def test_rnn_forward_is_the_step_looped(shape):
    _, _, p, x, h0 = _setup(shape)
    out, h_T, _ = scratch.rnn_forward(x, h0, p)
    h = h0
    for t in range(x.shape[1]):
        h, _ = scratch.rnn_step_forward(x[:, t], h, p)
        np.testing.assert_array_equal(out[:, t], h)
    np.testing.assert_array_equal(h_T, h)


def test_rnn_forward_does_not_modify_its_inputs():
    _, _, p, x, h0 = _setup((3, 4, 2, 5))
    saved = copy.deepcopy((x, h0, p))
    out, h_T, _ = scratch.rnn_forward(x, h0, p)
    h_T += 1.0  # h_T is a copy, not a view of out
    assert not np.shares_memory(h_T, out)
    np.testing.assert_array_equal(x, saved[0])
    np.testing.assert_array_equal(h0, saved[1])
    for k in KEYS:
        np.testing.assert_array_equal(p[k], saved[2][k])


# --------------------------------------------------------------------------- backward


@pytest.mark.equation("eq-bptt-param-grads")
@pytest.mark.parametrize("with_d_h_T", [False, True], ids=["d_out", "d_out+d_h_T"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_backward_equals_autograd(shape, with_d_h_T):
    N, T, D, H = shape
    rng, module, p, x, h0 = _setup(shape, salt=2)
    G = rng.normal(size=(N, T, H))
    G_T = rng.normal(size=(N, H)) if with_d_h_T else None
    _, _, cache = scratch.rnn_forward(x, h0, p)
    grads = scratch.rnn_backward(G, cache, d_h_T=G_T)
    expected = _torch_grads(module, x, h0, G, G_T)
    assert set(grads) == set(KEYS) | {"x", "h0"}
    for key, value in expected.items():
        assert grads[key].shape == value.shape, key
        assert grads[key].dtype == np.float64, key
        assert max_diff(grads[key], value) <= AUTOGRAD_TOL, key


@pytest.mark.equation("eq-bptt-param-grads")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_param_grads_are_sums_over_time(shape):
    """∂L/∂W_hh = Σ_t ∂L/∂a_t h_{t-1}^T, ∂L/∂W_xh = Σ_t ∂L/∂a_t x_t^T, ∂L/∂b_h = Σ_t ∂L/∂a_t."""
    N, T, D, H = shape
    rng, _, p, x, h0 = _setup(shape, salt=3)
    G = rng.normal(size=(N, T, H))
    out, _, cache = scratch.rnn_forward(x, h0, p)
    grads = scratch.rnn_backward(G, cache)
    delta = scratch.bptt_hidden_grads(G, cache)
    da = delta * (1 - out**2)  # eq-bptt-preact, every t at once
    h_prev = np.concatenate([h0[:, None], out[:, :-1]], axis=1)
    W_hh = sum(da[:, t].T @ h_prev[:, t] for t in range(T))
    W_xh = sum(da[:, t].T @ x[:, t] for t in range(T))
    b_h = da.sum(axis=(0, 1))
    assert max_diff(grads["weight_hh"], W_hh) <= 1e-12
    assert max_diff(grads["weight_ih"], W_xh) <= 1e-12
    assert max_diff(grads["bias_ih"], b_h) <= 1e-12
    np.testing.assert_array_equal(grads["bias_ih"], grads["bias_hh"])
    assert not np.shares_memory(grads["bias_ih"], grads["bias_hh"])


@pytest.mark.equation("eq-bptt-preact")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_step_backward_equals_autograd(shape):
    N, _, D, H = shape
    seed = seed_of(*shape, 4)
    rng = np.random.default_rng(seed)
    cell = torch_rnn_cell(D, H, seed)
    p = scratch.params_from_torch(cell)
    x_t, h_prev, dh = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    h_t, cache = scratch.rnn_step_forward(x_t, h_prev, p)
    grads = scratch.rnn_step_backward(dh, cache)

    xt, ht = t64(x_t, True), t64(h_prev, True)
    # the pre-activation a_t, kept to read ∂L/∂a_t from autograd
    a = xt @ cell.weight_ih.T + cell.bias_ih + ht @ cell.weight_hh.T + cell.bias_hh
    a.retain_grad()
    (torch.tanh(a) * t64(dh)).sum().backward()
    expected = {k: getattr(cell, k).grad.numpy() for k in KEYS}
    expected.update(x=xt.grad.numpy(), h_prev=ht.grad.numpy())
    assert set(grads) == set(expected)
    for key, value in expected.items():
        assert grads[key].shape == value.shape, key
        assert max_diff(grads[key], value) <= AUTOGRAD_TOL, key
    # eq-bptt-preact: ∂L/∂a_t = δ_t ⊙ (1 − h_t²); its batch sum is the bias gradient
    da = dh * (1 - h_t**2)
    assert max_diff(da, a.grad) <= AUTOGRAD_TOL
    assert max_diff(grads["bias_ih"], da.sum(axis=0)) <= 1e-14
    assert max_diff(grads["x"], da @ p["weight_ih"]) <= 1e-14


@pytest.mark.equation("eq-bptt-preact")
def test_step_backward_saturated_unit_passes_no_gradient():
    """With |a| huge, 1 − h² = 0: nothing reaches the weights of that unit."""
    p = {"weight_ih": np.array([[1.0], [1.0]]), "weight_hh": np.eye(2),
         "bias_ih": np.array([100.0, 0.0]), "bias_hh": np.zeros(2)}
    h_t, cache = scratch.rnn_step_forward(np.array([[0.3]]), np.array([[0.1, 0.2]]), p)
    assert h_t[0, 0] == 1.0
    g = scratch.rnn_step_backward(np.ones((1, 2)), cache)
    assert g["bias_ih"][0] == 0.0 and g["bias_ih"][1] > 0.0
    assert np.all(g["weight_hh"][0] == 0.0) and np.all(g["weight_ih"][0] == 0.0)


@pytest.mark.equation("eq-bptt-param-grads")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_backward_gradient_check(shape):
    N, T, D, H = shape
    rng, _, p, x, h0 = _setup(shape, salt=5)
    G = rng.normal(size=(N, T, H))
    G_T = rng.normal(size=(N, H))
    arrays = {**p, "x": x, "h0": h0}

    def loss():
        out, h_T, _ = scratch.rnn_forward(arrays["x"], arrays["h0"], {k: arrays[k] for k in KEYS})
        return float(np.sum(out * G) + np.sum(h_T * G_T))

    _, _, cache = scratch.rnn_forward(x, h0, p)
    grads = scratch.rnn_backward(G, cache, d_h_T=G_T)
    errors = scratch.check_gradients(loss, arrays, grads)
    assert set(errors) == set(arrays)
    worst = max(errors.values())
    assert worst <= GRADCHECK_TOL, errors


@pytest.mark.equation("eq-bptt-delta")
@pytest.mark.parametrize("with_d_h_T", [False, True], ids=["d_out", "d_out+d_h_T"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_bptt_hidden_grads_equal_autograd(shape, with_d_h_T):
    N, T, D, H = shape
    rng, module, p, x, h0 = _setup(shape, salt=6)
    G = rng.normal(size=(N, T, H))
    G_T = rng.normal(size=(N, H)) if with_d_h_T else None
    _, _, cache = scratch.rnn_forward(x, h0, p)
    delta = scratch.bptt_hidden_grads(G, cache, d_h_T=G_T)
    assert delta.shape == (N, T, H)

    hs = torch_rnn_loop(t64(x), t64(h0, True), {k: t64(v) for k, v in p.items()})
    loss = (torch.stack(hs, dim=1) * t64(G)).sum()
    if with_d_h_T:
        loss = loss + (hs[-1] * t64(G_T)).sum()
    loss.backward()
    for t in range(T):  # hs[t].grad is the total gradient reaching h_{t+1}
        assert max_diff(delta[:, t], hs[t].grad) <= AUTOGRAD_TOL, t


@pytest.mark.equation("eq-bptt-delta")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_bptt_hidden_grads_follow_the_recursion(shape):
    """δ_t = ∂L_t/∂h_t + W_hh^T (δ_{t+1} ⊙ (1 − h_{t+1}²)), and δ_T = ∂L_T/∂h_T (+ d_h_T)."""
    N, T, D, H = shape
    rng, _, p, x, h0 = _setup(shape, salt=7)
    G, G_T = rng.normal(size=(N, T, H)), rng.normal(size=(N, H))
    out, _, cache = scratch.rnn_forward(x, h0, p)
    delta = scratch.bptt_hidden_grads(G, cache, d_h_T=G_T)
    assert max_diff(delta[:, -1], G[:, -1] + G_T) <= 1e-15
    W_hh = p["weight_hh"]
    for t in range(T - 1):
        for n in range(N):
            rhs = G[n, t] + W_hh.T @ (delta[n, t + 1] * (1 - out[n, t + 1] ** 2))
            assert max_diff(delta[n, t], rhs) <= 1e-13
    # and δ_0 (the gradient reaching h0) continues the same recursion
    grads = scratch.rnn_backward(G, cache, d_h_T=G_T)
    h0_rhs = (delta[:, 0] * (1 - out[:, 0] ** 2)) @ W_hh
    assert max_diff(grads["h0"], h0_rhs) <= 1e-13


@pytest.mark.parametrize("shape", SHAPES[:3], ids=SHAPE_IDS[:3])
def test_backward_does_not_mutate_the_cache(shape):
    N, T, D, H = shape
    rng, _, p, x, h0 = _setup(shape, salt=8)
    _, _, cache = scratch.rnn_forward(x, h0, p)
    saved = copy.deepcopy(cache)
    G = rng.normal(size=(N, T, H))
    first = scratch.rnn_backward(G, cache, d_h_T=rng.normal(size=(N, H)))
    scratch.bptt_hidden_grads(G, cache)
    second = scratch.rnn_backward(G, cache, d_h_T=np.zeros((N, H)))
    for name in ("x", "h0", "h"):
        np.testing.assert_array_equal(getattr(cache, name), getattr(saved, name))
    for k in KEYS:
        np.testing.assert_array_equal(cache.p[k], saved.p[k])
    # a second backward gives the same gradients as a fresh cache would
    fresh = scratch.rnn_backward(G, saved)
    for k in second:
        np.testing.assert_array_equal(second[k], fresh[k])
    assert max_diff(first["weight_hh"], second["weight_hh"]) > 0  # d_h_T mattered


def test_backward_does_not_mutate_the_upstream_gradient():
    rng, _, p, x, h0 = _setup((2, 3, 2, 4), salt=9)
    _, _, cache = scratch.rnn_forward(x, h0, p)
    G, G_T = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4))
    G0, G_T0 = G.copy(), G_T.copy()
    scratch.rnn_backward(G, cache, d_h_T=G_T)
    np.testing.assert_array_equal(G, G0)
    np.testing.assert_array_equal(G_T, G_T0)


# --------------------------------------------------------------------------- dtypes


def test_float32_in_float32_out():
    rng, module, p, x, h0 = _setup((3, 5, 4, 6), salt=10)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    x32, h32 = x.astype(np.float32), h0.astype(np.float32)
    out, h_T, cache = scratch.rnn_forward(x32, h32, p32)
    assert out.dtype == h_T.dtype == np.float32
    out64, _, _ = scratch.rnn_forward(x32.astype(np.float64), h32.astype(np.float64), p32)
    assert max_diff(out, out64) <= 1e-5
    grads = scratch.rnn_backward(rng.normal(size=out.shape).astype(np.float32), cache)
    for k, g in grads.items():
        assert g.dtype == np.float32, k
    h_t, step_cache = scratch.rnn_step_forward(x32[:, 0], h32, p32)
    assert h_t.dtype == np.float32
    for k, g in scratch.rnn_step_backward(np.ones_like(h_t), step_cache).items():
        assert g.dtype == np.float32, k
    assert scratch.bptt_hidden_grads(np.ones_like(out), cache).dtype == np.float32
    # float64 upstream gradients do not promote a float32 computation
    assert scratch.rnn_backward(np.ones(out.shape), cache)["weight_hh"].dtype == np.float32


def test_mixed_dtypes_promote_to_float64_and_ints_are_accepted():
    _, _, p, x, h0 = _setup((2, 3, 2, 3), salt=11)
    out, _, _ = scratch.rnn_forward(x.astype(np.float32), h0, p)
    assert out.dtype == np.float64
    xi = np.arange(12).reshape(2, 3, 2) % 3
    out_i, _, _ = scratch.rnn_forward(xi, None, p)
    out_f, _, _ = scratch.rnn_forward(xi.astype(np.float64), None, p)
    assert out_i.dtype == np.float64
    np.testing.assert_array_equal(out_i, out_f)


# --------------------------------------------------------------------------- output layer


@pytest.mark.equation("eq-rnn-output")
@pytest.mark.parametrize("activation", ["sigmoid", "linear"])
@pytest.mark.parametrize("lead", [(1,), (4,), (1, 1), (3, 5)], ids=["N1", "N4", "N1T1", "N3T5"])
@pytest.mark.parametrize("H, K", [(1, 1), (6, 1), (5, 3)])
def test_rnn_output_equals_torch_linear(lead, H, K, activation):
    seed = seed_of(*lead, H, K)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    linear = nn.Linear(H, K).double()
    W_hy, b_y = linear.weight.detach().numpy().copy(), linear.bias.detach().numpy().copy()
    h = np.tanh(rng.normal(size=(*lead, H)))
    y = scratch.rnn_output(h, W_hy, b_y, activation=activation)
    with torch.no_grad():
        logits = linear(t64(h))
        expected = torch.sigmoid(logits) if activation == "sigmoid" else logits
    assert y.shape == (*lead, K)
    assert max_diff(y, expected) <= FORWARD_TOL
    if activation == "sigmoid":
        assert np.all((y > 0) & (y < 1))


@pytest.mark.equation("eq-rnn-output")
def test_rnn_output_default_is_sigmoid_and_saturates_without_warning():
    h = np.array([[1.0], [-1.0]])
    with np.errstate(over="raise"):
        y = scratch.rnn_output(h, np.array([[800.0]]), np.array([0.0]))
    np.testing.assert_array_equal(y, [[1.0], [0.0]])
    logits = scratch.rnn_output(h, np.array([[800.0]]), np.array([0.0]), activation="linear")
    np.testing.assert_array_equal(logits, [[800.0], [-800.0]])


def test_rnn_output_dtype():
    h = np.ones((2, 3), dtype=np.float32)
    W, b = np.ones((1, 3), dtype=np.float32), np.zeros(1, dtype=np.float32)
    assert scratch.rnn_output(h, W, b).dtype == np.float32
    assert scratch.rnn_output(h, W.astype(np.float64), b).dtype == np.float64


# --------------------------------------------------------------------------- bad input


def _valid(N=2, T=3, D=4, H=5):
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), random_params(D, H, rng)


def test_x_with_two_dimensions():
    x, h0, p = _valid()
    with pytest.raises(ValueError, match=r"x must have 3 dimensions \(N, T, D\); got shape \(2, 4\)"):
        scratch.rnn_forward(x[:, 0], h0, p)


def test_x_with_wrong_feature_count():
    x, h0, p = _valid()
    with pytest.raises(ValueError, match=r"x must have D = 4 features.*\(5, 4\).*got x of shape \(2, 3, 3\)"):
        scratch.rnn_forward(x[..., :3], h0, p)


@pytest.mark.parametrize("bad_shape", [(3, 5), (2, 4), (1, 2, 5)])
def test_h0_with_wrong_shape(bad_shape):
    x, _, p = _valid()
    h0 = np.zeros(bad_shape)
    if len(bad_shape) == 2:
        match = rf"h0 must have shape \(N, H\) = \(2, 5\); got \({bad_shape[0]}, {bad_shape[1]}\)"
    else:
        match = r"h0 must have 2 dimensions \(N, H\); got shape \(1, 2, 5\)"
    with pytest.raises(ValueError, match=match):
        scratch.rnn_forward(x, h0, p)


def test_step_forward_names_its_own_arguments():
    x, h0, p = _valid()
    with pytest.raises(ValueError, match=r"x_t must have 2 dimensions \(N, D\); got shape \(2, 3, 4\)"):
        scratch.rnn_step_forward(x, h0, p)
    with pytest.raises(ValueError, match=r"x_t must have D = 4.*got x_t of shape \(2, 3\)"):
        scratch.rnn_step_forward(x[:, 0, :3], h0, p)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(N, H\) = \(2, 5\); got \(2, 4\)"):
        scratch.rnn_step_forward(x[:, 0], h0[:, :4], p)


@pytest.mark.parametrize("where", ["x", "h0"])
@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinite")])
def test_non_finite_inputs(where, value, word):
    x, h0, p = _valid()
    (x if where == "x" else h0)[1, 0] = value
    with pytest.raises(ValueError, match=rf"{where} must be finite; it contains {word}"):
        scratch.rnn_forward(x, h0, p)


@pytest.mark.parametrize("key", KEYS)
def test_non_finite_params(key):
    x, h0, p = _valid()
    p[key].flat[0] = np.inf
    with pytest.raises(ValueError, match=rf"p\['{key}'\] must be finite; it contains infinite values"):
        scratch.rnn_forward(x, h0, p)


@pytest.mark.parametrize("gates, name", [(4, "LSTM"), (3, "GRU")])
def test_params_of_another_cell(gates, name):
    x, h0, _ = _valid()
    torch.manual_seed(0)
    module = (nn.LSTM if name == "LSTM" else nn.GRU)(4, 5, batch_first=True)
    p = scratch.params_from_torch(module)
    with pytest.raises(ValueError, match=rf"p\['weight_hh'\] of a RNN must have shape \(G\*H, H\) = \(5, 5\) "
                                         rf"with G = 1; got \({gates * 5}, 5\) \(that is {gates} gates"):
        scratch.rnn_forward(x, h0, p)


def test_inconsistent_param_shapes():
    x, h0, p = _valid()
    with pytest.raises(ValueError, match=r"p\['weight_ih'\] must have shape \(G\*H, D\) with G\*H = 5; got \(4, 4\)"):
        scratch.rnn_forward(x, h0, dict(p, weight_ih=p["weight_ih"][:4]))
    with pytest.raises(ValueError, match=r"p\['bias_hh'\] must have shape \(G\*H,\) = \(5,\); got \(6,\)"):
        scratch.rnn_forward(x, h0, dict(p, bias_hh=np.zeros(6)))
    with pytest.raises(ValueError, match=r"p\['bias_ih'\] must have 1 dimensions \(G\*H,\); got shape \(1, 5\)"):
        scratch.rnn_forward(x, h0, dict(p, bias_ih=np.zeros((1, 5))))


@pytest.mark.parametrize("missing", KEYS)
def test_missing_param_keys(missing):
    x, h0, p = _valid()
    del p[missing]
    with pytest.raises(ValueError, match=rf"p is missing \['{missing}'\]; expected keys"):
        scratch.rnn_forward(x, h0, p)


def test_params_not_a_dict():
    x, h0, p = _valid()
    with pytest.raises(ValueError, match=r"p must be a dict.*got list"):
        scratch.rnn_forward(x, h0, list(p.values()))


def test_bad_upstream_gradients():
    x, h0, p = _valid()
    _, _, cache = scratch.rnn_forward(x, h0, p)
    with pytest.raises(ValueError, match=r"d_out must have shape \(N, T, H\) = \(2, 3, 5\); got \(2, 5, 3\)"):
        scratch.rnn_backward(np.zeros((2, 5, 3)), cache)
    with pytest.raises(ValueError, match=r"d_out must have 3 dimensions \(N, T, H\); got shape \(2, 5\)"):
        scratch.bptt_hidden_grads(np.zeros((2, 5)), cache)
    with pytest.raises(ValueError, match=r"d_out must be finite; it contains NaN"):
        scratch.rnn_backward(np.full((2, 3, 5), np.nan), cache)
    with pytest.raises(ValueError, match=r"d_h_T must have shape \(N, H\) = \(2, 5\); got \(1, 5\)"):
        scratch.rnn_backward(np.zeros((2, 3, 5)), cache, d_h_T=np.zeros((1, 5)))
    h_t, step_cache = scratch.rnn_step_forward(x[:, 0], h0, p)
    with pytest.raises(ValueError, match=r"dh_t must have shape \(N, H\) = \(2, 5\); got \(5, 2\)"):
        scratch.rnn_step_backward(np.zeros((5, 2)), step_cache)


@pytest.mark.parametrize("fn", [scratch.rnn_backward, scratch.bptt_hidden_grads])
def test_cache_must_be_an_rnn_cache(fn):
    x, h0, p = _valid()
    _, _, cache = scratch.rnn_forward(x, h0, p)
    as_tuple = (cache.x, cache.h0, cache.h, cache.p)
    with pytest.raises(ValueError, match=r"cache must be the RNNCache returned by rnn_forward; got tuple"):
        fn(np.zeros((2, 3, 5)), as_tuple)


def test_rnn_output_bad_arguments():
    h = np.zeros((2, 3, 5))
    W, b = np.zeros((1, 5)), np.zeros(1)
    with pytest.raises(ValueError, match=r"activation must be 'sigmoid' or 'linear'; got 'tanh'"):
        scratch.rnn_output(h, W, b, activation="tanh")
    with pytest.raises(ValueError, match=r"W_hy must have shape \(K, H\) with H = 5.*got \(1, 4\)"):
        scratch.rnn_output(h, np.zeros((1, 4)), b)
    with pytest.raises(ValueError, match=r"W_hy must have 2 dimensions \(K, H\); got shape \(5,\)"):
        scratch.rnn_output(h, np.zeros(5), b)
    with pytest.raises(ValueError, match=r"b_y must have shape \(K,\) = \(1,\); got \(2,\)"):
        scratch.rnn_output(h, W, np.zeros(2))
    with pytest.raises(ValueError, match=r"h must have shape \(\.\.\., H\); got a scalar"):
        scratch.rnn_output(1.0, W, b)
    with pytest.raises(ValueError, match=r"h must be finite; it contains NaN"):
        scratch.rnn_output(np.full((2, 5), np.nan), W, b)
