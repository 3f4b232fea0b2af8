"""The notes' concatenated form W_k · [h_{t-1}, x_t] + b_k and PyTorch's stacked layout
(scratch.params_from_concat / params_to_concat): placement, round trips, literal NumPy cells, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from _helpers import (
    FORWARD_TOL,
    assert_close,
    gate_rows,
    random_params,
    seed_of,
    t64,
)
from rnnbook import scratch

KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
SIZES = [(1, 1), (3, 1), (1, 4), (5, 7)]  # (D, H)
SIZE_IDS = [f"D{d}-H{h}" for d, h in SIZES]
#: Where each of the notes' gates sits in PyTorch's rows, written out independently of the library.
ROW_BLOCK = {"lstm": {"i": 0, "f": 1, "C": 2, "o": 3}, "gru": {"r": 0, "z": 1, "h": 2}}


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _notes_form(kind, D, H, rng, scale=0.6):
    """Random weights (H, H + D) and biases (H,) per gate, in the notes' form."""
    weights = {g: rng.normal(0, scale, (H, H + D)) for g in ROW_BLOCK[kind]}
    biases = {g: rng.normal(0, scale, H) for g in ROW_BLOCK[kind]}
    return weights, biases


def test_notes_gate_names():
    assert scratch.NOTES_GATES == {"lstm": ("i", "f", "C", "o"), "gru": ("r", "z", "h")}
    # the same order as PyTorch's rows: i, f, g (the notes' C̃), o and r, z, n (the notes' h̃)
    assert scratch.GATE_ORDER["lstm"] == ("i", "f", "g", "o") and scratch.GATE_ORDER["gru"] == ("r", "z", "n")


@pytest.mark.parametrize("D, H", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_from_concat_splits_each_matrix_into_its_rows(kind, D, H):
    """W_hk = W_k[:, :H] (multiplies h_{t-1}), W_ik = W_k[:, H:] (multiplies x_t), in gate k's block of rows."""
    rng = np.random.default_rng(seed_of(D, H, len(kind)))
    weights, biases = _notes_form(kind, D, H, rng)
    p = scratch.params_from_concat(weights, biases, kind)
    G = len(ROW_BLOCK[kind])
    assert set(p) == set(KEYS)
    assert p["weight_ih"].shape == (G * H, D) and p["weight_hh"].shape == (G * H, H)
    assert p["bias_ih"].shape == p["bias_hh"].shape == (G * H,)
    for gate, k in ROW_BLOCK[kind].items():
        rows = gate_rows(k, H)
        np.testing.assert_array_equal(p["weight_hh"][rows], weights[gate][:, :H])
        np.testing.assert_array_equal(p["weight_ih"][rows], weights[gate][:, H:])
        np.testing.assert_array_equal(p["bias_ih"][rows], biases[gate])
    assert not p["bias_hh"].any()  # one bias in the notes: all of it in bias_ih
    for key in KEYS:
        assert p[key].dtype == np.float64


@pytest.mark.parametrize("D, H", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_round_trips(kind, D, H):
    rng = np.random.default_rng(seed_of(D, H, len(kind), 1))
    weights, biases = _notes_form(kind, D, H, rng)
    # notes → torch layout → notes: exact
    w2, b2 = scratch.params_to_concat(scratch.params_from_concat(weights, biases, kind), kind)
    assert list(w2) == list(b2) == list(ROW_BLOCK[kind])
    for g in weights:
        np.testing.assert_array_equal(w2[g], weights[g])
        np.testing.assert_array_equal(b2[g], biases[g])
    # torch layout → notes → torch layout: exact weights, and the two biases merged into bias_ih
    p = random_params(D, H, rng, gates=len(ROW_BLOCK[kind]))
    q = scratch.params_from_concat(*scratch.params_to_concat(p, kind), kind)
    np.testing.assert_array_equal(q["weight_ih"], p["weight_ih"])
    np.testing.assert_array_equal(q["weight_hh"], p["weight_hh"])
    np.testing.assert_array_equal(q["bias_ih"], p["bias_ih"] + p["bias_hh"])
    assert not q["bias_hh"].any()


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_to_concat_sums_the_two_biases_and_copies(kind):
    D, H = 3, 4
    p = random_params(D, H, np.random.default_rng(2), gates=len(ROW_BLOCK[kind]))
    weights, biases = scratch.params_to_concat(p, kind)
    for gate, k in ROW_BLOCK[kind].items():
        rows = gate_rows(k, H)
        assert weights[gate].shape == (H, H + D)
        np.testing.assert_array_equal(weights[gate], np.hstack([p["weight_hh"][rows], p["weight_ih"][rows]]))
        np.testing.assert_array_equal(biases[gate], p["bias_ih"][rows] + p["bias_hh"][rows])
        weights[gate][...] = 0.0  # new arrays: p is not touched
        biases[gate][...] = 0.0
    assert all(p[key].any() for key in KEYS)


@pytest.mark.parametrize("D, H", SIZES, ids=SIZE_IDS)
def test_from_concat_keeps_float32(D, H):
    weights, biases = _notes_form("lstm", D, H, np.random.default_rng(3))
    p = scratch.params_from_concat({g: w.astype(np.float32) for g, w in weights.items()},
                                   {g: b.astype(np.float32) for g, b in biases.items()}, "lstm")
    for key in KEYS:
        assert p[key].dtype == np.float32, key


# --------------------------------------------------------------------------- literal cells in the notes' form


def notes_lstm_numpy(x, h0, c0, weights, biases):
    """The notes' six LSTM equations, literally: one sequence at a time, column vectors, [h_{t-1}, x_t]."""
    N, T, _ = x.shape
    W, b = weights, biases
    out, C_T = np.empty((N, T, h0.shape[1])), np.empty_like(c0)
    for n in range(N):
        h, C = h0[n], c0[n]
        for t in range(T):
            hx = np.concatenate([h, x[n, t]])
            f = _sigmoid(W["f"] @ hx + b["f"])
            i = _sigmoid(W["i"] @ hx + b["i"])
            C_tilde = np.tanh(W["C"] @ hx + b["C"])
            C = f * C + i * C_tilde
            o = _sigmoid(W["o"] @ hx + b["o"])
            h = o * np.tanh(C)
            out[n, t] = h
        C_T[n] = C
    return out, C_T


def notes_gru_numpy(x, h0, weights, biases):
    """The notes' four GRU equations, literally (Chung et al. 2014's update-gate convention)."""
    N, T, _ = x.shape
    W, b = weights, biases
    out = np.empty((N, T, h0.shape[1]))
    for n in range(N):
        h = h0[n]
        for t in range(T):
            hx = np.concatenate([h, x[n, t]])
            z = _sigmoid(W["z"] @ hx + b["z"])
            r = _sigmoid(W["r"] @ hx + b["r"])
            h_tilde = np.tanh(W["h"] @ np.concatenate([r * h, x[n, t]]) + b["h"])
            h = (1 - z) * h + z * h_tilde
            out[n, t] = h
    return out


CELL_SHAPES = [(1, 1, 1, 1), (2, 5, 1, 3), (3, 4, 2, 1), (4, 7, 5, 6)]
CELL_IDS = ["N{}-T{}-D{}-H{}".format(*s) for s in CELL_SHAPES]


@pytest.mark.equation("eq-lstm-forget")
@pytest.mark.equation("eq-lstm-input")
@pytest.mark.equation("eq-lstm-candidate")
@pytest.mark.equation("eq-lstm-cell")
@pytest.mark.equation("eq-lstm-output")
@pytest.mark.equation("eq-lstm-hidden")
@pytest.mark.parametrize("shape", CELL_SHAPES, ids=CELL_IDS)
def test_literal_notes_lstm_equals_lstm_forward_and_nn_lstm(shape):
    N, T, D, H = shape
    rng = np.random.default_rng(seed_of(*shape, 4))
    weights, biases = _notes_form("lstm", D, H, rng, scale=0.8)
    x, h0, c0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    out_notes, c_notes = notes_lstm_numpy(x, h0, c0, weights, biases)
    p = scratch.params_from_concat(weights, biases, "lstm")
    out, (_, c_T), _ = scratch.lstm_forward(x, (h0, c0), p)
    assert_close(out, out_notes, FORWARD_TOL, "forward", "lstm out")
    assert_close(c_T, c_notes, FORWARD_TOL, "forward", "lstm c_T")
    # and PyTorch, given the converted parameters, computes the notes' LSTM
    module = nn.LSTM(D, H, batch_first=True).double()
    scratch.params_to_torch(p, module)
    with torch.no_grad():
        out_t, (_, c_t) = module(t64(x), (t64(h0)[None], t64(c0)[None]))
    assert_close(out_t, out_notes, FORWARD_TOL, "forward", "nn.LSTM out")
    assert_close(c_t[0], c_notes, FORWARD_TOL, "forward", "nn.LSTM c_T")


@pytest.mark.equation("eq-gru-reset")
@pytest.mark.equation("eq-gru-update")
@pytest.mark.equation("eq-gru-candidate")
@pytest.mark.equation("eq-gru-hidden")
@pytest.mark.parametrize("shape", CELL_SHAPES, ids=CELL_IDS)
def test_literal_notes_gru_equals_the_seed_variant(shape):
    N, T, D, H = shape
    rng = np.random.default_rng(seed_of(*shape, 5))
    weights, biases = _notes_form("gru", D, H, rng, scale=0.8)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    out_notes = notes_gru_numpy(x, h0, weights, biases)
    out, h_T, _ = scratch.gru_forward(x, h0, scratch.params_from_concat(weights, biases, "gru"), variant="seed")
    assert_close(out, out_notes, FORWARD_TOL, "forward", "gru out")
    # the other way round: any seed-variant dict, with a nonzero b_hn, is exactly the notes' GRU of params_to_concat
    p = random_params(D, H, rng, scale=0.8, gates=3)
    out_p, _, _ = scratch.gru_forward(x, h0, p, variant="seed")
    assert_close(out_p, notes_gru_numpy(x, h0, *scratch.params_to_concat(p, "gru")), FORWARD_TOL, "forward", "gru p")


def test_notes_form_cannot_hold_torch_variant_b_hn():
    """In PyTorch's GRU b_hn is multiplied by r; merged into the notes' single bias it computes something else."""
    D, H, N, T = 2, 3, 4, 5
    rng = np.random.default_rng(6)
    p = random_params(D, H, rng, scale=0.8, gates=3)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    out_torch, _, _ = scratch.gru_forward(x, h0, p, variant="torch")
    notes = notes_gru_numpy(x, h0, *scratch.params_to_concat(scratch.negate_update_gate(p), "gru"))
    assert np.max(np.abs(out_torch - notes)) > 1e-2


# --------------------------------------------------------------------------- errors


def _valid(kind="lstm", D=2, H=3):
    return _notes_form(kind, D, H, np.random.default_rng(7))


@pytest.mark.parametrize("bad", ["rnn", "LSTM", "", None])
def test_bad_kind(bad):
    weights, biases = _valid()
    match = r"kind must be one of \['gru', 'lstm'\]; got " + repr(bad)
    with pytest.raises(ValueError, match=match):
        scratch.params_from_concat(weights, biases, bad)
    with pytest.raises(ValueError, match=match):
        scratch.params_to_concat(random_params(2, 3, np.random.default_rng(0), gates=4), bad)


def test_wrong_keys():
    weights, biases = _valid("lstm")
    torch_names = {"g" if k == "C" else k: v for k, v in weights.items()}  # PyTorch's g for the notes' C
    with pytest.raises(ValueError, match=r"weights must be a dict with the LSTM gates \['i', 'f', 'C', 'o'\]; "
                                         r"got \['f', 'g', 'i', 'o'\]"):
        scratch.params_from_concat(torch_names, biases, "lstm")
    with pytest.raises(ValueError, match=r"biases must be a dict with the LSTM gates.*got \['C', 'f', 'i'\]"):
        scratch.params_from_concat(weights, {k: v for k, v in biases.items() if k != "o"}, "lstm")
    with pytest.raises(ValueError, match=r"weights must be a dict with the GRU gates \['r', 'z', 'h'\]; got \['C', 'f', 'i', 'o'\]"):
        scratch.params_from_concat(weights, biases, "gru")  # LSTM gates for a GRU
    with pytest.raises(ValueError, match=r"weights must be a dict with the LSTM gates.*got list"):
        scratch.params_from_concat(list(weights.values()), biases, "lstm")


def test_wrong_shapes():
    weights, biases = _valid("lstm", D=2, H=3)
    with pytest.raises(ValueError, match=r"weights\['i'\] must have shape \(H, H \+ D\) with D ≥ 1; got \(3, 3\)"):
        scratch.params_from_concat(dict(weights, i=weights["i"][:, :3]), biases, "lstm")
    with pytest.raises(ValueError, match=r"weights\['i'\] must have shape \(H, H \+ D\) with D ≥ 1; got \(15,\)"):
        scratch.params_from_concat(dict(weights, i=weights["i"].reshape(-1)), biases, "lstm")
    with pytest.raises(ValueError, match=r"weights\['f'\] must have shape \(H, H \+ D\) = \(3, 5\); got \(5, 3\)"):
        scratch.params_from_concat(dict(weights, f=weights["f"].T), biases, "lstm")
    with pytest.raises(ValueError, match=r"biases\['o'\] must have shape \(H,\) = \(3,\); got \(1, 3\)"):
        scratch.params_from_concat(weights, dict(biases, o=biases["o"][None]), "lstm")
    gw, gb = _valid("gru", D=2, H=3)
    with pytest.raises(ValueError, match=r"weights\['h'\] must have shape \(H, H \+ D\) = \(3, 5\); got \(3, 4\)"):
        scratch.params_from_concat(dict(gw, h=gw["h"][:, :4]), gb, "gru")


def test_to_concat_checks_the_gate_count():
    p_gru = random_params(2, 3, np.random.default_rng(8), gates=3)
    with pytest.raises(ValueError, match=r"p\['weight_hh'\] of a LSTM must have shape \(G\*H, H\) = \(12, 3\) "
                                         r"with G = 4; got \(9, 3\) \(that is 3 gates"):
        scratch.params_to_concat(p_gru, "lstm")
    with pytest.raises(ValueError, match=r"p\['weight_hh'\] of a GRU must have shape .*got \(3, 3\) \(that is 1 gates"):
        scratch.params_to_concat(random_params(2, 3, np.random.default_rng(8)), "gru")
    with pytest.raises(ValueError, match=r"p is missing \['bias_hh'\]"):
        scratch.params_to_concat({k: v for k, v in p_gru.items() if k != "bias_hh"}, "gru")
