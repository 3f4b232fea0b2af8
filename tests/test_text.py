"""rnnbook.lab.text: the tweet tokenizer and the vocabulary (train-only, <pad> = 0, encode / decode)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.lab.text import PAD, UNK, TweetTokenizer, Vocabulary, ppmi_embeddings, tokenize


@pytest.mark.parametrize(
    "text, expected",
    [
        ("@united I can't believe it :( http://t.co/abc",
         ["<user>", "i", "can", "n't", "believe", "it", ":(", "<url>"]),
        # negation survives every spelling: don't / dont / won't / isn't / curly apostrophe
        ("don't dont won't isn’t", ["do", "n't", "do", "n't", "will", "n't", "is", "n't"]),
        # the corpus's mojibake of ’ inside "can’t"
        ("canäó»t", ["can", "n't"]),
        ("I'm y'all", ["i", "'m", "y'all"]),
        # emoticons, nose dropped; <3; not confused with the URL's "://" or a time "12:30"
        (":-) :) ;-) <3 :D :/ https://x.co 12:30", [":)", ":)", ";)", "<3", ":d", ":/", "<url>", "<num>"]),
        ("#LoveJetBlue #fail", ["lovejetblue", "fail"]),
        ("thanks!!! really?!? ok...", ["thanks", "!!", "really", "?!", "ok", "..."]),
        ("Flight 1234 delayed 2hrs", ["flight", "<num>", "delayed", "<num>", "hrs"]),
        ("sooooo goooood", ["soo", "good"]),
        ("&amp; you", ["&", "you"]),
        ("", []),
    ],
)
def test_tokenizer_on_crafted_tweets(text, expected):
    assert tokenize(text) == expected


def test_tokenizer_options_keep_mentions_and_mark_hashtags():
    tok = TweetTokenizer(mentions="keep", hashtags="marker", numbers=False, reduce_len=False)
    assert tok("@VirginAmerica #Great 747 sooo") == ["@virginamerica", "<hashtag>", "great", "747", "sooo"]


@pytest.mark.parametrize("kwargs, name", [({"mentions": "drop"}, "mentions"), ({"hashtags": "x"}, "hashtags")])
def test_tokenizer_rejects_bad_options(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TweetTokenizer(**kwargs)


def test_tokenizer_rejects_non_str():
    with pytest.raises(ValueError, match="str"):
        tokenize(None)


TRAIN = ["good flight", "bad flight", "good crew", "good good service"]


def test_vocabulary_pad_unk_and_frequency_order():
    v = Vocabulary.build(TRAIN)
    assert v.itos[:2] == [PAD, UNK] and v.stoi[PAD] == 0 and v.stoi[UNK] == 1
    assert v.itos[2:4] == ["good", "flight"]  # by count (4, 2), then ties alphabetically
    assert v.itos[4:] == ["bad", "crew", "service"]


def test_vocabulary_from_train_only_maps_unseen_words_to_unk():
    v = Vocabulary.build(TRAIN)
    ids, lengths = v.encode(["good awful flight"])  # "awful" exists only outside the training texts
    assert ids.tolist() == [[v.stoi["good"], 1, v.stoi["flight"]]]
    assert lengths.tolist() == [3]


def test_min_freq_and_max_size():
    v = Vocabulary.build(TRAIN, min_freq=2)
    assert v.itos == [PAD, UNK, "good", "flight"]
    assert Vocabulary.build(TRAIN, max_size=1).itos == [PAD, UNK, "good"]


def test_encode_right_pads_with_zero_truncates_and_never_returns_length_zero():
    v = Vocabulary.build(TRAIN)
    ids, lengths = v.encode(["good", "bad flight good crew", ""], max_len=3)
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    assert ids.shape == (3, 3)
    assert lengths.tolist() == [1, 3, 1]
    assert ids[0].tolist() == [v.stoi["good"], 0, 0]
    assert ids[1].tolist() == v.lookup(["bad", "flight", "good"])  # the first max_len tokens
    assert ids[2].tolist() == [1, 0, 0]  # empty text → a single <unk>


def test_encode_decode_round_trip():
    texts = ["@united can't find my bag :( #fail", "thanks!!! great crew", "bag found, thanks"]
    v = Vocabulary.build(texts)
    ids, lengths = v.encode(texts)
    assert v.decode(ids, lengths) == [tokenize(t) for t in texts]
    assert v.decode(ids) == [tokenize(t) for t in texts]  # without lengths: <pad> dropped


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: Vocabulary.build(TRAIN, min_freq=0), "min_freq"),
        (lambda: Vocabulary.build(TRAIN, max_size=-1), "max_size"),
        (lambda: Vocabulary.build("good flight"), "texts"),
        (lambda: Vocabulary.build(TRAIN).encode(TRAIN, max_len=0), "max_len"),
        (lambda: Vocabulary.build(TRAIN).encode([1, 2]), "texts"),
        (lambda: Vocabulary.build(TRAIN).decode(np.zeros(3, dtype=int)), "ids"),
        (lambda: Vocabulary.build(TRAIN).decode(np.array([[99]])), "ids"),
        (lambda: Vocabulary.build(TRAIN).decode(np.zeros((2, 3), dtype=int), [1]), "lengths"),
    ],
)
def test_bad_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_ppmi_embeddings_put_words_of_shared_contexts_together():
    # "delayed" and "cancelled" occur in the same contexts, never together; "thanks" elsewhere.
    texts = (["my flight was delayed again today"] * 5 + ["my flight was cancelled again today"] * 5
             + ["thanks for the great crew"] * 5 + ["thanks for the kind crew"] * 5)
    v = Vocabulary.build(texts)
    ids, lengths = v.encode(texts)
    E = ppmi_embeddings(ids, lengths, len(v), 4, window=2)
    assert E.shape == (len(v), 4) and E.dtype == np.float32
    assert np.all(E[0] == 0)  # <pad>
    assert np.array_equal(E, ppmi_embeddings(ids, lengths, len(v), 4, window=2))  # deterministic

    def cos(a, b):
        x, y = E[v.stoi[a]], E[v.stoi[b]]
        return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))

    assert cos("delayed", "cancelled") > 0.9
    assert cos("delayed", "cancelled") > cos("delayed", "great") + 0.5


@pytest.mark.parametrize(
    "kwargs, name",
    [({"dim": 0}, "dim"), ({"dim": 99}, "dim"), ({"window": 0}, "window"), ({"vocab_size": 4, "dim": 1}, "ids must lie in")],
)
def test_ppmi_embeddings_bad_arguments(kwargs, name):
    v = Vocabulary.build(TRAIN)
    ids, lengths = v.encode(TRAIN)
    args = {"vocab_size": len(v), "dim": 2} | kwargs
    with pytest.raises(ValueError, match=name):
        ppmi_embeddings(ids, lengths, **args)
