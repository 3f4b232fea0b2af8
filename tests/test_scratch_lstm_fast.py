"""The LSTM arranged for speed (scratch.lstm_fast) against the readable one (scratch.lstm), nn.LSTM and autograd.

scratch.lstm_forward / lstm_backward loop the readable one-step functions lstm_cell / lstm_cell_backward;
scratch.lstm_forward_fast / lstm_backward_fast compute the same equations column-wise and in place. Both
must give the same numbers (float64, to rounding), and both must equal nn.LSTM and its autograd gradients.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
import torch

from _helpers import (
    lstm_autograd,
    AUTOGRAD_TOL,
    FORWARD_TOL,
    SHAPES,
    assert_close,
    assert_grads_close,
    random_params,
    seed_of,
    shape_id,
    t64,
    torch_lstm,
)
from rnnbook import scratch
from rnnbook.scratch import lstm_fast

KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
SHAPE_IDS = [shape_id(s) for s in SHAPES]
#: fast against readable: the same equations, the sums in another order (the bias folded into W_ih's product).
SAME_TOL = 1e-13
STATES = ["None", "given", "(h0, None)", "(None, c0)"]
FINALS = ["none", "d_h_T", "d_c_T", "both"]


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


def _state(kind, h0, c0):
    return {"None": None, "given": (h0, c0), "(h0, None)": (h0, None), "(None, c0)": (None, c0)}[kind]


def _finals(kind, rng, N, H):
    d_h_T = rng.normal(size=(N, H)) if kind in ("d_h_T", "both") else None
    d_c_T = rng.normal(size=(N, H)) if kind in ("d_c_T", "both") else None
    return d_h_T, d_c_T


# --------------------------------------------------------------------------- fast == readable


@pytest.mark.equation("eq-lstm-hidden")
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_fast_forward_equals_readable_forward(shape, state):
    N, T, D, H = shape
    _, _, p, x, h0, c0 = _setup(shape)
    out_r, (h_r, c_r), cache_r = scratch.lstm_forward(x, _state(state, h0, c0), p)
    out_f, (h_f, c_f), cache_f = scratch.lstm_forward_fast(x, _state(state, h0, c0), p)
    assert isinstance(cache_r, scratch.LSTMCache) and isinstance(cache_f, scratch.LSTMFastCache)
    assert out_f.shape == out_r.shape == (N, T, H) and out_f.dtype == out_r.dtype == np.float64
    assert_close(out_f, out_r, SAME_TOL, "fast-vs-readable", "out")
    assert_close(h_f, h_r, SAME_TOL, "fast-vs-readable", "h_T")
    assert_close(c_f, c_r, SAME_TOL, "fast-vs-readable", "c_T")
    for name in ("h", "c", "gates", "tanh_c"):
        assert_close(getattr(cache_f, name), getattr(cache_r, name), SAME_TOL, "fast-vs-readable", f"cache.{name}")
    for name in ("x", "h0", "c0"):
        np.testing.assert_array_equal(getattr(cache_f, name), getattr(cache_r, name))


@pytest.mark.equation("eq-lstm-cell-grad")
@pytest.mark.parametrize("final", FINALS)
@pytest.mark.parametrize("state", ["None", "given"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_fast_backward_equals_readable_backward(shape, state, final):
    N, T, D, H = shape
    rng, _, p, x, h0, c0 = _setup(shape, salt=1)
    d_out = rng.normal(size=(N, T, H))
    d_h_T, d_c_T = _finals(final, rng, N, H)
    _, _, cache_r = scratch.lstm_forward(x, _state(state, h0, c0), p)
    _, _, cache_f = scratch.lstm_forward_fast(x, _state(state, h0, c0), p)
    grads_r = scratch.lstm_backward(d_out, cache_r, d_h_T=d_h_T, d_c_T=d_c_T)
    grads_f = scratch.lstm_backward_fast(d_out, cache_f, d_h_T=d_h_T, d_c_T=d_c_T)
    assert set(grads_f) == set(grads_r) == set(KEYS) | {"x", "h0", "c0"}
    for key in grads_r:
        assert grads_f[key].shape == grads_r[key].shape and grads_f[key].dtype == grads_r[key].dtype, key
        assert_close(grads_f[key], grads_r[key], SAME_TOL, "fast-vs-readable", key)
    # the total gradients at every step, too
    for fast, readable in zip(lstm_fast.lstm_hidden_grads_fast(d_out, cache_f, d_h_T=d_h_T, d_c_T=d_c_T),
                              scratch.lstm_hidden_grads(d_out, cache_r, d_h_T=d_h_T, d_c_T=d_c_T)):
        assert_close(fast, readable, SAME_TOL, "fast-vs-readable", "dL/dh_t, dL/dC_t")


# --------------------------------------------------------------------------- both == nn.LSTM and autograd


@pytest.mark.equation("eq-lstm-cell-grad")
@pytest.mark.parametrize("version", ["readable", "fast"])
@pytest.mark.parametrize("final", ["none", "both"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_both_lstms_equal_torch_and_autograd(shape, final, version):
    N, T, D, H = shape
    rng, module, p, x, h0, c0 = _setup(shape, salt=2)
    d_out = rng.normal(size=(N, T, H))
    d_h_T, d_c_T = _finals(final, rng, N, H)
    forward, backward = {"readable": (scratch.lstm_forward, scratch.lstm_backward),
                         "fast": (scratch.lstm_forward_fast, scratch.lstm_backward_fast)}[version]
    out, _, cache = forward(x, (h0, c0), p)
    out_torch, grads_torch = lstm_autograd(module, x, h0, c0, d_out, d_h_T, d_c_T)
    assert_close(out, out_torch, FORWARD_TOL, "forward", f"{version} out")
    assert_grads_close(backward(d_out, cache, d_h_T=d_h_T, d_c_T=d_c_T), grads_torch, AUTOGRAD_TOL)


def test_the_classifier_and_the_benchmark_use_the_fast_lstm():
    from rnnbook import bench
    from rnnbook.scratch import classifier

    source = inspect.getsource(classifier.NumpyLSTMClassifier)
    assert "lstm_forward_fast(" in source and "lstm_backward_fast(" in source
    assert "lstm_forward(" not in source.replace("lstm_forward_fast(", "")
    assert "scratch.lstm_forward_fast" in inspect.getsource(bench.make_case)


def test_the_module_docstring_explains_the_speed_tricks():
    doc = lstm_fast.__doc__
    for idea in ("hoisting", "column-wise", "preallocated", "[h_{t-1}; x_t; 1]", "views"):
        assert idea in doc, idea


# --------------------------------------------------------------------------- purity, dtypes, bad input


def test_fast_backward_leaves_the_cache_and_the_upstream_gradients_alone():
    rng, _, p, x, h0, c0 = _setup((3, 4, 2, 5), salt=3)
    _, _, cache = scratch.lstm_forward_fast(x, (h0, c0), p)
    saved = copy.deepcopy(cache)
    d_out, d_h_T, d_c_T = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    upstream = copy.deepcopy((d_out, d_h_T, d_c_T))
    first = scratch.lstm_backward_fast(d_out, cache, d_h_T=d_h_T, d_c_T=d_c_T)
    again = scratch.lstm_backward_fast(d_out, cache, d_h_T=d_h_T, d_c_T=d_c_T)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    for name in ("x", "h0", "c0", "h", "c", "gates", "tanh_c", "z"):
        np.testing.assert_array_equal(getattr(cache, name), getattr(saved, name))
    for a, b in zip((d_out, d_h_T, d_c_T), upstream):
        np.testing.assert_array_equal(a, b)


def test_fast_float32_in_float32_out():
    rng, _, p, x, h0, c0 = _setup((3, 5, 4, 6), salt=4)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    out, (h_T, c_T), _ = scratch.lstm_forward_fast(x.astype(np.float32), (h0.astype(np.float32), c0.astype(np.float32)), p32)
    assert out.dtype == h_T.dtype == c_T.dtype == np.float32
    out64, _, _ = scratch.lstm_forward_fast(x.astype(np.float32), (h0, None), p32)  # a float64 state promotes, as NumPy does
    assert out64.dtype == np.float64
    out32, _, cache32 = scratch.lstm_forward_fast(x.astype(np.float32), None, p32)
    assert out32.dtype == np.float32 and float(np.abs(out32 - scratch.lstm_forward(x.astype(np.float32), None, p32)[0]).max()) <= 1e-6
    grads = scratch.lstm_backward_fast(np.ones(out32.shape), cache32, d_h_T=np.ones(h_T.shape))
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


def test_fast_bad_input_is_reported_like_the_readable_one():
    rng = np.random.default_rng(0)
    x, h0, p = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5)), random_params(4, 5, rng, gates=4)
    for forward in (scratch.lstm_forward, scratch.lstm_forward_fast):
        with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) = \(2, 5\); got \(2, 4\)"):
            forward(x, (h0[:, :4], None), p)
        with pytest.raises(ValueError, match=r"the state must be a pair \(h0, c0\)"):
            forward(x, h0, p)
    _, _, cache = scratch.lstm_forward_fast(x, None, p)
    with pytest.raises(ValueError, match=r"d_out must have shape \(N, T, H\) = \(2, 3, 5\); got \(2, 5, 3\)"):
        scratch.lstm_backward_fast(np.zeros((2, 5, 3)), cache)
    with pytest.raises(ValueError, match=r"d_c_T must be finite; it contains NaN"):
        scratch.lstm_backward_fast(np.zeros((2, 3, 5)), cache, d_c_T=np.full((2, 5), np.nan))
    _, _, readable_cache = scratch.lstm_forward(x, None, p)
    with pytest.raises(ValueError, match=r"cache must be the LSTMFastCache returned by lstm_forward_fast; got LSTMCache"):
        scratch.lstm_backward_fast(np.zeros((2, 3, 5)), readable_cache)
    with pytest.raises(ValueError, match=r"cache must be the LSTMCache returned by lstm_forward; got LSTMFastCache"):
        scratch.lstm_backward(np.zeros((2, 3, 5)), cache)


def test_zero_steps_return_copies_of_the_initial_state():
    rng = np.random.default_rng(1)
    x, h0, c0, p = rng.normal(size=(2, 0, 4)), rng.normal(size=(2, 5)), rng.normal(size=(2, 5)), random_params(4, 5, rng, gates=4)
    for forward in (scratch.lstm_forward, scratch.lstm_forward_fast):
        out, (h_T, c_T), cache = forward(x, (h0, c0), p)
        assert out.shape == (2, 0, 5) and cache.gates.shape == (2, 0, 20)
        np.testing.assert_array_equal(h_T, h0)
        np.testing.assert_array_equal(c_T, c0)
        assert not np.shares_memory(h_T, h0) and not np.shares_memory(c_T, c0)
