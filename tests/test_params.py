"""Parameters read from and written to PyTorch modules (scratch.params_from_torch / params_to_torch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnbook import scratch

# (module class, family, is_cell, gate count G)
KINDS = [
    (nn.RNN, "rnn", False, 1),
    (nn.LSTM, "lstm", False, 4),
    (nn.GRU, "gru", False, 3),
    (nn.RNNCell, "rnn", True, 1),
    (nn.LSTMCell, "lstm", True, 4),
    (nn.GRUCell, "gru", True, 3),
]
KIND_IDS = [k[0].__name__ for k in KINDS]
SIZES = [(1, 1), (3, 1), (1, 4), (5, 7)]  # (D, H)
KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _module(cls, D, H, seed=0, **kw):
    torch.manual_seed(seed)
    return cls(D, H, **kw)


def _torch_param(module, key, is_cell):
    return getattr(module, key if is_cell else key + "_l0")


@pytest.mark.parametrize("D, H", SIZES)
@pytest.mark.parametrize("cls, family, is_cell, G", KINDS, ids=KIND_IDS)
def test_params_from_torch_shapes_and_values(cls, family, is_cell, G, D, H):
    module = _module(cls, D, H, seed=D * 10 + H)
    p = scratch.params_from_torch(module)
    assert set(p) == set(KEYS)
    expected_shapes = {"weight_ih": (G * H, D), "weight_hh": (G * H, H), "bias_ih": (G * H,), "bias_hh": (G * H,)}
    for key in KEYS:
        assert p[key].shape == expected_shapes[key], key
        assert p[key].dtype == np.float64, key
        # float32 -> float64 is exact: the values must be identical
        np.testing.assert_array_equal(p[key], _torch_param(module, key, is_cell).detach().numpy().astype(np.float64))
    assert scratch.module_kind(module) == (family, is_cell)
    assert scratch.GATES[family] == G
    assert len(scratch.GATE_ORDER[family]) == G


@pytest.mark.parametrize("torch_dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("cls, family, is_cell, G", KINDS, ids=KIND_IDS)
def test_params_from_torch_copies_do_not_alias_the_module(cls, family, is_cell, G, torch_dtype):
    module = _module(cls, 3, 4, seed=1).to(torch_dtype)  # float64: the copy needs no conversion
    before = {k: _torch_param(module, k, is_cell).detach().clone() for k in KEYS}
    p = scratch.params_from_torch(module)
    for key in KEYS:
        p[key][...] = 123.0  # changing the copy ...
        assert torch.equal(_torch_param(module, key, is_cell).detach(), before[key]), key  # ... leaves the module
    q = scratch.params_from_torch(module)
    with torch.no_grad():
        for key in KEYS:
            _torch_param(module, key, is_cell).add_(1.0)  # changing the module ...
    for key in KEYS:
        np.testing.assert_array_equal(q[key], before[key].numpy().astype(np.float64))  # ... leaves the copy
        assert not np.shares_memory(q[key], _torch_param(module, key, is_cell).detach().numpy())


@pytest.mark.parametrize("cls, family, is_cell, G", KINDS, ids=KIND_IDS)
def test_params_from_torch_float64_module_and_dtype_argument(cls, family, is_cell, G):
    module = _module(cls, 2, 3, seed=2).double()
    p = scratch.params_from_torch(module)
    for key in KEYS:
        np.testing.assert_array_equal(p[key], _torch_param(module, key, is_cell).detach().numpy())
    p32 = scratch.params_from_torch(module, dtype=np.float32)
    for key in KEYS:
        assert p32[key].dtype == np.float32
        np.testing.assert_array_equal(p32[key], p[key].astype(np.float32))


@pytest.mark.parametrize("cls, family, is_cell, G", KINDS, ids=KIND_IDS)
def test_bias_false_gives_zero_biases(cls, family, is_cell, G):
    D, H = 3, 2
    module = _module(cls, D, H, bias=False)
    p = scratch.params_from_torch(module)
    for key in ("bias_ih", "bias_hh"):
        assert p[key].shape == (G * H,)
        assert p[key].dtype == np.float64
        assert not p[key].any()
    np.testing.assert_array_equal(p["weight_ih"], _torch_param(module, "weight_ih", is_cell).detach().numpy())


def test_subclass_of_a_torch_module_is_accepted():
    class MyLSTM(nn.LSTM):
        pass

    module = _module(MyLSTM, 2, 3)
    assert scratch.module_kind(module) == ("lstm", False)
    assert scratch.params_from_torch(module)["weight_hh"].shape == (12, 3)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: nn.RNN(2, 3, num_layers=2), r"num_layers = 1.*got 2"),
        (lambda: nn.LSTM(2, 3, num_layers=3), r"num_layers = 1.*got 3"),
        (lambda: nn.GRU(2, 3, bidirectional=True), r"bidirectional = False.*got True"),
        (lambda: nn.LSTM(2, 3, bidirectional=True), r"bidirectional = False"),
        (lambda: nn.LSTM(2, 3, proj_size=2), r"proj_size = 0.*got 2"),
        (lambda: nn.RNN(2, 3, nonlinearity="relu"), r"nonlinearity = 'tanh'.*got 'relu'"),
        (lambda: nn.RNNCell(2, 3, nonlinearity="relu"), r"nonlinearity = 'tanh'.*got 'relu'"),
        (lambda: nn.Linear(2, 3), r"module must be a torch nn\.RNN.*got Linear"),
        (lambda: {"weight_ih": np.zeros((3, 2))}, r"module must be.*got dict"),
        (lambda: np.zeros((3, 2)), r"module must be.*got ndarray"),
        (lambda: None, r"module must be.*got NoneType"),
    ],
    ids=["rnn-2-layers", "lstm-3-layers", "gru-bidir", "lstm-bidir", "lstm-proj", "rnn-relu", "rnncell-relu",
         "linear", "dict", "ndarray", "none"],
)
def test_params_from_torch_rejects_unsupported_modules(make, match):
    module = make()
    with pytest.raises(ValueError, match=match):
        scratch.params_from_torch(module)
    if isinstance(module, nn.RNNBase) or isinstance(module, nn.RNNCellBase) or not isinstance(module, nn.Module):
        with pytest.raises(ValueError, match=match):
            scratch.params_to_torch({}, module)


@pytest.mark.parametrize("D, H", SIZES)
@pytest.mark.parametrize("cls, family, is_cell, G", KINDS, ids=KIND_IDS)
def test_params_to_torch_round_trip(cls, family, is_cell, G, D, H):
    rng = np.random.default_rng(D * 100 + H)
    p = {
        "weight_ih": rng.normal(size=(G * H, D)),
        "weight_hh": rng.normal(size=(G * H, H)),
        "bias_ih": rng.normal(size=G * H),
        "bias_hh": rng.normal(size=G * H),
    }
    module64 = _module(cls, D, H).double()
    scratch.params_to_torch(p, module64)
    back = scratch.params_from_torch(module64)
    for key in KEYS:
        np.testing.assert_array_equal(back[key], p[key])  # float64 module: exact
        param = _torch_param(module64, key, is_cell)
        assert param.is_leaf and param.requires_grad and param.grad_fn is None
    module32 = _module(cls, D, H)
    scratch.params_to_torch(p, module32)
    back32 = scratch.params_from_torch(module32)
    for key in KEYS:
        np.testing.assert_array_equal(back32[key], p[key].astype(np.float32).astype(np.float64))
    # the copy does not alias the dict either
    p["weight_hh"][...] = 0.0
    assert _torch_param(module64, "weight_hh", is_cell).detach().abs().sum() > 0


def test_params_to_torch_makes_torch_compute_the_scratch_rnn():
    rng = np.random.default_rng(0)
    D, H, N, T = 3, 4, 2, 5
    p = {"weight_ih": rng.normal(size=(H, D)), "weight_hh": rng.normal(size=(H, H)) * 0.5,
         "bias_ih": rng.normal(size=H), "bias_hh": rng.normal(size=H)}
    module = nn.RNN(D, H, batch_first=True).double()
    scratch.params_to_torch(p, module)
    x = rng.normal(size=(N, T, D))
    out_scratch, _, _ = scratch.rnn_forward(x, None, p)
    out_torch, _ = module(torch.from_numpy(x))
    assert np.max(np.abs(out_scratch - out_torch.detach().numpy())) <= 1e-12


@pytest.mark.parametrize("cls, family, is_cell, G", KINDS, ids=KIND_IDS)
def test_params_to_torch_shape_mismatch(cls, family, is_cell, G):
    D, H = 3, 2
    module = _module(cls, D, H)
    p = {k: v.copy() for k, v in scratch.params_from_torch(module).items()}
    bad = dict(p, weight_ih=p["weight_ih"].T.copy())
    with pytest.raises(ValueError, match=rf"p\['weight_ih'\] must have shape \({G * H}, {D}\).*got \({D}, {G * H}\)"):
        scratch.params_to_torch(bad, module)
    bad = dict(p, bias_hh=np.zeros(G * H + 1))
    with pytest.raises(ValueError, match=rf"p\['bias_hh'\] must have shape \({G * H},\).*got \({G * H + 1},\)"):
        scratch.params_to_torch(bad, module)
    missing = {k: v for k, v in p.items() if k != "weight_hh"}
    with pytest.raises(ValueError, match=r"missing 'weight_hh'"):
        scratch.params_to_torch(missing, module)
    with pytest.raises(ValueError, match=r"p must be a dict.*got list"):
        scratch.params_to_torch([p], module)


@pytest.mark.parametrize("cls, family, is_cell, G", KINDS, ids=KIND_IDS)
def test_params_to_torch_bias_false(cls, family, is_cell, G):
    D, H = 2, 3
    module = _module(cls, D, H, bias=False).double()
    p = scratch.params_from_torch(module)
    p["weight_hh"] = p["weight_hh"] * 2.0
    scratch.params_to_torch(p, module)  # zero biases are accepted
    np.testing.assert_array_equal(_torch_param(module, "weight_hh", is_cell).detach().numpy(), p["weight_hh"])
    p["bias_ih"] = np.ones(G * H)
    with pytest.raises(ValueError, match=r"p\['bias_ih'\] must be zero.*bias=False"):
        scratch.params_to_torch(p, module)
