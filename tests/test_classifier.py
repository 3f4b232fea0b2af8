"""rnnbook.nn.classifier.SentimentClassifier: padding never reaches a prediction (also for the minimal cells,
which run over the padded batch); argument checks."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnbook.nn.classifier import MinLayers, SentimentClassifier, reverse_within_lengths


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

CASES = list(itertools.product(["rnn", "lstm", "gru", "mingru", "minlstm"], [False, True]))
V = 30


def _batch(seed=0, N=5, T=7):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([7, 1, 4, 2, 6])[:N]
    ids = torch.randint(2, V, (N, T), generator=g)
    ids[torch.arange(T)[None, :] >= lengths[:, None]] = 0  # right padding
    return ids, lengths


def _model(cell, bidirectional, pooling="last+max+mean", num_layers=1):
    torch.manual_seed(0)
    m = SentimentClassifier(V, 6, 5, cell=cell, bidirectional=bidirectional, num_layers=num_layers,
                            dropout=0.5, embed_dropout=0.5, pooling=pooling).double()
    return m.eval()


@pytest.mark.parametrize("cell, bidirectional", CASES, ids=[f"{c}-{'bi' if b else 'uni'}" for c, b in CASES])
def test_extra_padding_columns_do_not_change_predictions(cell, bidirectional):
    m = _model(cell, bidirectional, num_layers=2)
    ids, lengths = _batch()
    padded = torch.cat([ids, torch.zeros(ids.shape[0], 9, dtype=ids.dtype)], dim=1)
    # Garbage (not 0) after each length must not matter either: only `lengths` says where a text ends.
    garbage = padded.clone()
    garbage[torch.arange(padded.shape[1])[None, :] >= lengths[:, None]] = 3
    with torch.no_grad():
        ref = m(ids, lengths)
        assert ref.shape == (5,)
        torch.testing.assert_close(m(padded, lengths), ref, rtol=0, atol=1e-12)
        torch.testing.assert_close(m(garbage, lengths), ref, rtol=0, atol=1e-12)
        # each text alone, without any padding, gives the same logit as inside the batch
        alone = torch.cat([m(ids[i:i + 1, :n], lengths[i:i + 1]) for i, n in enumerate(lengths.tolist())])
        torch.testing.assert_close(alone, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell, bidirectional", CASES, ids=[f"{c}-{'bi' if b else 'uni'}" for c, b in CASES])
def test_packed_final_state_equals_the_unpadded_run(cell, bidirectional):
    m = _model(cell, bidirectional, pooling="last")
    ids, lengths = _batch(seed=1)
    with torch.no_grad():
        feats = m.features(ids, lengths)  # (N, D·H)
        for i, n in enumerate(lengths.tolist()):
            _, h_n = m.rnn(m.embedding(ids[i:i + 1, :n]))  # the recurrence over the real tokens only
            if isinstance(h_n, tuple):
                h_n = h_n[0]
            expected = torch.cat(list(h_n[:, 0]), dim=0)  # forward state, then backward state
            torch.testing.assert_close(feats[i], expected, rtol=0, atol=1e-12)
            if not bidirectional:
                # and it is *not* the state after the padded steps (the bug that packing avoids)
                _, h_pad = m.rnn(m.embedding(ids[i:i + 1]))
                h_pad = h_pad[0] if isinstance(h_pad, tuple) else h_pad
                if n < ids.shape[1]:
                    assert not torch.allclose(h_pad[-1, 0], expected)


def test_reverse_within_lengths_keeps_the_padding_in_place():
    x = torch.arange(2 * 5, dtype=torch.float64).reshape(2, 5, 1)
    lengths = torch.tensor([3, 5])
    rev = reverse_within_lengths(x, lengths)
    assert rev[0, :, 0].tolist() == [2, 1, 0, 3, 4] and rev[1, :, 0].tolist() == [9, 8, 7, 6, 5]
    torch.testing.assert_close(reverse_within_lengths(rev, lengths), x)


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_min_layers_equal_two_cells_run_by_hand(cell):
    """Two layers, both directions: the backward cell reads each text from its last real token to its first."""
    torch.manual_seed(3)
    layers = MinLayers(cell, 4, 3, num_layers=2, bidirectional=True).double().eval()
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    out, h_n = layers(x, lengths)
    assert out.shape == (3, 6, 6) and h_n.shape == (4, 3, 3)
    for i, n in enumerate(lengths.tolist()):
        inp = x[i:i + 1, :n]
        finals = []
        for fwd, bwd in layers.layers:
            o_f, h_f = fwd(inp)
            o_b, h_b = bwd(inp.flip(1))
            inp = torch.cat([o_f, o_b.flip(1)], dim=2)
            finals += [h_f[0], h_b[0]]
        torch.testing.assert_close(out[i, :n], inp[0], rtol=0, atol=1e-12)
        assert torch.all(out[i, n:] == 0)
        torch.testing.assert_close(h_n[:, i], torch.stack(finals), rtol=0, atol=1e-12)


def test_mean_and_max_pooling_use_only_real_steps():
    m = _model("gru", True, pooling="max+mean")
    ids, lengths = _batch(seed=2)
    with torch.no_grad():
        feats = m.features(ids, lengths)
        H2 = 2 * m.rnn.hidden_size
        for i, n in enumerate(lengths.tolist()):
            out, _ = m.rnn(m.embedding(ids[i:i + 1, :n]))
            torch.testing.assert_close(feats[i, :H2], out[0].amax(0), rtol=0, atol=1e-12)
            torch.testing.assert_close(feats[i, H2:], out[0].mean(0), rtol=0, atol=1e-12)


def test_pad_embedding_is_zero_and_gets_no_gradient():
    m = SentimentClassifier(V, 4, 3, cell="lstm").train()
    assert torch.all(m.embedding.weight[0] == 0)
    ids, lengths = _batch()
    m(ids, lengths).sum().backward()
    assert torch.all(m.embedding.weight.grad[0] == 0)


def test_n_params_counts_every_weight():
    m = SentimentClassifier(100, 8, 4, cell="gru", bidirectional=False, pooling="last")
    # embedding 100·8, GRU 3·4·(8 + 4) + 2·3·4, linear 4 + 1
    assert m.n_params == 800 + 144 + 24 + 5


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"cell": "transformer"}, "cell"),
        ({"pooling": "median"}, "pooling"),
        ({"pooling": "max+max"}, "pooling"),
        ({"dropout": 1.0}, "dropout"),
        ({"embed_dropout": -0.1}, "embed_dropout"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"num_layers": 0}, "num_layers"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SentimentClassifier(V, **kwargs)


def test_bad_inputs_name_the_argument():
    m = SentimentClassifier(V, 4, 3)
    ids, lengths = _batch()
    with pytest.raises(ValueError, match="lengths"):
        m(ids, lengths[:3])
    with pytest.raises(ValueError, match="lengths"):
        m(ids, torch.tensor([0, 1, 1, 1, 1]))
    with pytest.raises(ValueError, match="ids"):
        m(ids[0], lengths)
