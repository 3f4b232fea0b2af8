"""The NumPy sentiment classifier (scratch.classifier): embedding → LSTM → last state → linear → BCE.

Forward and every gradient against the same model in torch (nn.Embedding(padding_idx=0), nn.LSTM on a packed
sequence, nn.Linear, BCEWithLogitsLoss), central differences, padding invariance, the training loop, bad input.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from _helpers import AUTOGRAD_TOL, assert_close, record_gradcheck, seed_of, t64
from rnnbook import scratch
from rnnbook.scratch.classifier import PARAM_NAMES, NumpyLSTMClassifier
from rnnbook.scratch.embedding import embedding_backward, embedding_forward

FORWARD_TOL = 1e-12


def _batch(rng, N, T, V, *, min_len=1, pad_inside=True):
    """Right-padded ids (N, T) with lengths 1 … T (the longest exactly T), <pad> = 0 after each length."""
    lengths = rng.integers(min_len, T + 1, N)
    lengths[rng.integers(N)] = T
    ids = np.zeros((N, T), dtype=np.int64)
    for n, ell in enumerate(lengths):
        ids[n, :ell] = rng.integers(1, V, ell)
    if pad_inside:  # a <pad> id inside a sequence: nn.Embedding(padding_idx=0) still gives its row no gradient
        ids[np.argmax(lengths), 0] = 0
    return ids, lengths


def _torch_model(V, D, H, seed):
    torch.manual_seed(seed)
    return nn.Embedding(V, D, padding_idx=0).double(), nn.LSTM(D, H, batch_first=True).double(), nn.Linear(H, 1).double()


def _torch_logits(modules, ids, lengths, pooling="last", mask=None, p=0.0):
    """The reference: the same classifier in torch, padding handled by pack_padded_sequence."""
    embedding, lstm, linear = modules
    packed = pack_padded_sequence(embedding(torch.as_tensor(ids)), torch.as_tensor(lengths), batch_first=True, enforce_sorted=False)
    out_packed, (h_n, _) = lstm(packed)
    if pooling == "last":
        s = h_n[0]  # the state at each sequence's own length, in the batch's order
    else:
        out, _ = pad_packed_sequence(out_packed, batch_first=True)  # zeros after each length
        s = out.sum(1) / torch.as_tensor(lengths, dtype=torch.float64)[:, None]
    if mask is not None:
        s = s * t64(mask) / (1 - p)  # inverted dropout with a given mask, as nn.Dropout computes it
    return linear(s).squeeze(1)


def _setup(pooling="last", dropout=0.0, salt=0, N=6, T=9, V=13, D=4, H=5):
    seed = seed_of(N, T, V, D, H, salt)
    rng = np.random.default_rng(seed)
    modules = _torch_model(V, D, H, seed)
    model = NumpyLSTMClassifier(V, D, H, dtype=np.float64, dropout=dropout, pooling=pooling)
    model.load_torch(*modules)
    ids, lengths = _batch(rng, N, T, V)
    y = rng.integers(0, 2, N).astype(np.float64)
    return rng, modules, model, ids, lengths, y


def _torch_grads(modules):
    embedding, lstm, linear = modules
    return {
        "embedding": embedding.weight.grad,
        "weight_ih": lstm.weight_ih_l0.grad,
        "weight_hh": lstm.weight_hh_l0.grad,
        "bias_ih": lstm.bias_ih_l0.grad,
        "bias_hh": lstm.bias_hh_l0.grad,
        "fc_weight": linear.weight.grad,
        "fc_bias": linear.bias.grad,
    }


# --------------------------------------------------------------------------- against torch


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_forward_equals_torch_with_packed_sequences(pooling):
    _, modules, model, ids, lengths, _ = _setup(pooling)
    logits = model.forward(ids, lengths)
    assert logits.shape == (len(lengths),) and logits.dtype == np.float64
    assert_close(logits, _torch_logits(modules, ids, lengths, pooling), FORWARD_TOL, "forward", "logits")
    assert_close(model.predict_proba(ids, lengths, batch_size=2), torch.sigmoid(_torch_logits(modules, ids, lengths, pooling)),
                 FORWARD_TOL, "forward", "predict_proba in sorted batches")


@pytest.mark.equation("eq-bce-logits")
@pytest.mark.parametrize("pooling, dropout", [("last", 0.0), ("mean", 0.0), ("last", 0.4)])
def test_loss_and_every_gradient_equal_torch_autograd(pooling, dropout):
    rng, modules, model, ids, lengths, y = _setup(pooling, dropout, salt=1)
    mask = (rng.random((len(lengths), model.hidden_size)) >= dropout).astype(np.float64) if dropout else None
    loss, grads = model.loss_and_grads(ids, lengths, y, train=True, mask=mask)
    for m in modules:
        m.zero_grad()
    z = _torch_logits(modules, ids, lengths, pooling, mask, dropout)
    expected = nn.functional.binary_cross_entropy_with_logits(z, t64(y))
    expected.backward()
    assert abs(loss - expected.item()) <= FORWARD_TOL
    assert list(grads) == list(PARAM_NAMES)
    for name, g in _torch_grads(modules).items():
        assert grads[name].shape == tuple(g.shape) and grads[name].dtype == np.float64, name
        assert_close(grads[name], g, AUTOGRAD_TOL, "autograd", name)
    assert not grads["embedding"][0].any()  # <pad> occurs in the batch (also inside a sequence), yet gets nothing
    assert np.abs(grads["embedding"]).sum(1).astype(bool).sum() > 1  # and the other words do get gradients


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_gradients_against_central_differences(pooling):
    """Every parameter, all entries. padding_idx=None: with a <pad> inside a sequence, row 0's derivative is not zero,
    and only without padding_idx does the backward pass report the true derivative there."""
    rng = np.random.default_rng(seed_of(2))
    model = NumpyLSTMClassifier(6, 2, 3, dtype=np.float64, dropout=0.3, pooling=pooling, padding_idx=None, seed=2)
    ids, lengths = _batch(rng, 3, 5, 6)
    y = np.array([0.0, 1.0, 1.0])
    mask = (rng.random((3, 3)) >= 0.3).astype(np.float64)
    mask[0, 0] = 0  # at least one dropped unit
    _, grads = model.loss_and_grads(ids, lengths, y, mask=mask)
    arrays = model.parameters()
    errors = scratch.check_gradients(lambda: model.loss_and_grads(ids, lengths, y, mask=mask)[0], arrays, grads)
    assert set(errors) == set(PARAM_NAMES)
    record_gradcheck(errors)


def test_load_torch_and_to_torch_round_trip():
    _, modules, model, *_ = _setup()
    other = _torch_model(13, 4, 5, seed=99)
    model.to_torch(*other)
    for a, b in zip(modules, other):
        for pa, pb in zip(a.parameters(), b.parameters()):
            assert torch.equal(pa, pb)
    twin = NumpyLSTMClassifier(13, 4, 5, dtype=np.float64, seed=7)
    twin.load_torch(*other)
    for name in PARAM_NAMES:
        assert np.array_equal(twin.parameters()[name], model.parameters()[name]), name


# --------------------------------------------------------------------------- padding


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_padding_never_changes_logits_or_gradients(pooling):
    rng, _, model, ids, lengths, y = _setup(pooling, salt=3, V=60)
    loss, grads = model.loss_and_grads(ids, lengths, y)
    # more pad columns, and tokens that are not <pad> after each length, inside the batch's longest length
    noisy = np.concatenate([ids, np.zeros((len(ids), 5), dtype=ids.dtype)], axis=1)
    for n, ell in enumerate(lengths):
        noisy[n, ell:] = rng.integers(1, model.vocab_size, noisy.shape[1] - ell)
    seen = np.zeros(model.vocab_size, bool)
    for n, ell in enumerate(lengths):
        seen[ids[n, :ell]] = True
    noise = np.concatenate([noisy[n, ell:] for n, ell in enumerate(lengths)])
    assert (~seen[noise]).any()  # some words occur only after a length: their rows must get no gradient
    loss2, grads2 = model.loss_and_grads(noisy, lengths, y)
    assert_close(model.forward(noisy, lengths), model.forward(ids, lengths), FORWARD_TOL, "padding", "logits")
    assert abs(loss2 - loss) <= FORWARD_TOL
    for name in PARAM_NAMES:
        assert_close(grads2[name], grads[name], FORWARD_TOL, "padding", name)
    assert not grads2["embedding"][~seen].any()


def test_each_sequence_alone_gives_the_batch_logit():
    """Batch rows do not interact: the logit of a short sequence run alone (no padding at all) is its batch logit."""
    _, _, model, ids, lengths, _ = _setup(salt=4)
    batch = model.forward(ids, lengths)
    for n, ell in enumerate(lengths):
        assert abs(model.forward(ids[n : n + 1, :ell], [ell])[0] - batch[n]) <= FORWARD_TOL


# --------------------------------------------------------------------------- embedding


def test_embedding_backward_sums_repeated_ids():
    rng = np.random.default_rng(seed_of(5))
    V, D = 7, 3
    ids = rng.integers(0, V, (4, 6))
    ids[0, :3] = 2  # a word three times in one sequence
    d_x = rng.normal(size=(4, 6, D))
    reference = np.zeros((V, D))
    for n in range(4):
        for t in range(6):
            reference[ids[n, t]] += d_x[n, t]
    got = embedding_backward(d_x, ids, V, padding_idx=None)
    np.testing.assert_allclose(got, reference, rtol=0, atol=1e-14)
    with_pad = embedding_backward(d_x, ids, V)
    assert not with_pad[0].any() and np.array_equal(with_pad[1:], got[1:])
    E = rng.normal(size=(V, D))
    assert np.array_equal(embedding_forward(ids, E), E[ids])


def test_float32_by_default_and_close_to_float64():
    _, _, model64, ids, lengths, y = _setup(salt=6)
    model32 = NumpyLSTMClassifier(13, 4, 5)
    model32.load_state_dict(model64.parameters())
    loss32, grads32 = model32.loss_and_grads(ids, lengths, y)
    loss64, grads64 = model64.loss_and_grads(ids, lengths, y)
    assert model32.forward(ids, lengths).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads32.values())
    assert abs(loss32 - loss64) < 1e-5
    for name in PARAM_NAMES:
        assert_close(grads32[name], grads64[name], 1e-5, "float32", name)


def test_initialisation_follows_torch_defaults():
    model = NumpyLSTMClassifier(50, 8, 16, seed=3)
    p = model.parameters()
    assert not p["embedding"][0].any()
    assert 0.7 < p["embedding"][1:].std() < 1.3  # N(0, 1)
    bound = 1 / np.sqrt(16)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "fc_weight", "fc_bias"):
        assert np.abs(p[name]).max() <= bound, name
    assert model.n_params == 50 * 8 + 4 * 16 * (8 + 16) + 2 * 4 * 16 + 16 + 1
    modules = _torch_model(50, 8, 16, 0)
    assert model.n_params == sum(t.numel() for m in modules for t in m.parameters())
    same = NumpyLSTMClassifier(50, 8, 16, seed=3).parameters()
    assert all(np.array_equal(same[k], p[k]) for k in PARAM_NAMES)


def test_scratch_classifier_does_not_import_torch():
    code = (
        "import sys, numpy as np\n"
        "from rnnbook import scratch\n"
        "from rnnbook.scratch.classifier import NumpyLSTMClassifier\n"
        "from rnnbook.scratch.optim import Adam, SGD\n"
        "m = NumpyLSTMClassifier(5, 2, 3)\n"
        "ids = np.array([[1, 2, 0], [3, 4, 1]]); lengths = np.array([2, 3])\n"
        "loss, grads = m.loss_and_grads(ids, lengths, np.array([0, 1]))\n"
        "Adam(m.parameters()).step(grads)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print(round(loss, 3))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 0.5 < float(result.stdout) < 1.0  # about log 2 for an untrained model


# --------------------------------------------------------------------------- training


def test_overfits_a_tiny_batch_of_random_labels():
    rng = np.random.default_rng(seed_of(7))
    ids, lengths = _batch(rng, 16, 8, 30, min_len=3, pad_inside=False)
    y = rng.integers(0, 2, 16).astype(np.float32)
    model = NumpyLSTMClassifier(30, 8, 16, seed=1)
    optimizer = scratch.optim.Adam(model.parameters(), lr=0.02)
    first = None
    for _ in range(150):
        loss, grads = model.loss_and_grads(ids, lengths, y)
        first = loss if first is None else first
        optimizer.step(grads)
    assert first > 0.5 and loss < 0.05, (first, loss)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "ids, lengths, y, match",
    [
        (np.array([[1, 2, 13]]), [3], [1], r"ids must lie in \[0, vocab_size\) = \[0, 13\); got values from 1 to 13"),
        (np.array([[-1, 2, 3]]), [3], [1], r"ids must lie in \[0, vocab_size\) = \[0, 13\); got values from -1 to 3"),
        (np.array([[1.0, 2.0]]), [2], [1], "ids must be an integer array of token ids, shape \\(N, T\\); got dtype float64"),
        (np.array([1, 2, 3]), [3], [1], r"ids must have shape \(N, T\) .*; got shape \(3,\)"),
        (np.array([[1, 2, 3]]), [4], [1], r"lengths must lie in \[1, T\] = \[1, 3\] .*got values from 4 to 4"),
        (np.array([[1, 2, 3]]), [0], [1], r"lengths must lie in \[1, T\] = \[1, 3\]"),
        (np.array([[1, 2, 3]]), [2, 3], [1], r"lengths must have shape \(N,\) = \(1,\); got \(2,\)"),
        (np.array([[1, 2, 3]]), [2.0], [1], "lengths must be an integer array"),
        (np.array([[1, 2, 3]]), [3], [2], "y must hold labels 0 and 1 only"),
        (np.array([[1, 2, 3]]), [3], [1, 0], r"y must have shape \(N,\) = \(1,\); got \(2,\)"),
    ],
)
def test_bad_input_raises_value_errors_that_say_what_is_wrong(ids, lengths, y, match):
    model = NumpyLSTMClassifier(13, 4, 5)
    with pytest.raises(ValueError, match=match):
        model.loss_and_grads(ids, lengths, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"vocab_size": 0}, "vocab_size must be an integer ≥ 1; got 0"),
        ({"hidden_size": 2.5}, "hidden_size must be an integer ≥ 1; got 2.5"),
        ({"dropout": 1.0}, r"dropout must be the drop probability, a number in \[0, 1\); got 1.0"),
        ({"pooling": "max"}, r"pooling must be one of \('last', 'mean'\); got 'max'"),
        ({"dtype": np.int32}, "dtype must be a floating dtype"),
        ({"padding_idx": 13}, r"padding_idx must be None or an id in \[0, vocab_size\) = \[0, 13\); got 13"),
    ],
)
def test_bad_model_arguments(kwargs, match):
    args = {"vocab_size": 13, "embed_dim": 4, "hidden_size": 5, **kwargs}
    with pytest.raises(ValueError, match=match):
        NumpyLSTMClassifier(args.pop("vocab_size"), args.pop("embed_dim"), args.pop("hidden_size"), **args)


def test_bad_torch_modules_masks_and_states():
    model = NumpyLSTMClassifier(13, 4, 5)
    embedding, lstm, linear = _torch_model(13, 4, 5, 0)
    with pytest.raises(ValueError, match=r"embedding must have padding_idx = 0, as this model; got None"):
        model.load_torch(nn.Embedding(13, 4), lstm, linear)
    with pytest.raises(ValueError, match=r"embedding must be an nn.Embedding\(V, D\) = \(13, 4\); got weight of shape \(12, 4\)"):
        model.load_torch(nn.Embedding(12, 4, padding_idx=0), lstm, linear)
    with pytest.raises(ValueError, match=r"linear must be an nn.Linear\(H, 1\)"):
        model.load_torch(embedding, lstm, nn.Linear(5, 2))
    with pytest.raises(ValueError, match=r"lstm must be an nn.LSTM\(D, H\) = \(4, 5\); got nn.LSTM\(4, 6\)"):
        model.load_torch(embedding, nn.LSTM(4, 6), linear)
    with pytest.raises(ValueError, match=r"lstm must be an nn.LSTM\(D, H\) = \(4, 5\); got nn.LSTM\(3, 5\)"):
        model.to_torch(embedding, nn.LSTM(3, 5), linear)
    ids, lengths = np.array([[1, 2], [3, 0]]), np.array([2, 1])
    with pytest.raises(ValueError, match=r"mask is used only in training with dropout > 0; got train=True, dropout=0.0"):
        model.loss_and_grads(ids, lengths, [0, 1], mask=np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"mask must be broadcastable to h's shape \(2, 5\); got \(2, 4\)"):
        NumpyLSTMClassifier(13, 4, 5, dropout=0.5).loss_and_grads(ids, lengths, [0, 1], mask=np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"state must be a dict with keys"):
        model.load_state_dict({"embedding": np.zeros((13, 4))})
    with pytest.raises(ValueError, match=r"state\['fc_weight'\] must have shape \(1, 5\); got \(5,\)"):
        model.load_state_dict({**model.state_dict(), "fc_weight": np.zeros(5)})
