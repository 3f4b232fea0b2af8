"""The checks of chapter 7, *The lab's data* (rnnbook.exercises.lab_data): deduplication and padding.

Right answers pass, wrong ones get a message that names the mistake in plain
words, and no message shows what the reference computed.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnbook.data import deduplicate
from rnnbook.exercises import CheckFailed, check
from rnnbook.exercises.lab_data import _dedup_cases, _pad_cases, _reference_pad

# --------------------------------------------------------------------------- deduplication


def dedup(texts, labels, key=lambda t: " ".join(t.lower().split()), drop_conflicts=True, keep="first",
          out=lambda texts, kept: [texts[i] for i in kept], order=sorted):
    """Written independently of the library; its options reproduce the usual mistakes."""
    keys = [key(t) for t in texts]
    labels_of = {}
    for k, y in zip(keys, labels):
        labels_of.setdefault(k, set()).add(int(y))
    first = {}
    for i in (range(len(keys)) if keep == "first" else reversed(range(len(keys)))):
        if drop_conflicts and len(labels_of[keys[i]]) > 1:
            continue
        first.setdefault(keys[i], i)
    kept = order(first.values())
    return out(texts, kept), np.asarray([labels[i] for i in kept], dtype=np.int64)


def dedup_sorted_by_text(texts, labels):
    kept_texts, kept_labels = dedup(texts, labels)
    pairs = sorted(zip(kept_texts, kept_labels.tolist()))
    return [t for t, _ in pairs], np.array([y for _, y in pairs], dtype=np.int64)


def dedup_in_place(texts, labels):
    kept_texts, kept_labels = dedup(texts, labels)
    texts[:] = kept_texts
    return texts, kept_labels


DEDUP_RIGHT = [
    ("independent", dedup),
    ("library", lambda texts, labels: deduplicate(texts, labels)[:2]),
    ("labels as a list", lambda texts, labels: (dedup(texts, labels)[0], dedup(texts, labels)[1].tolist())),
]

DEDUP_WRONG = [
    ("raw strings compared", lambda t, y: dedup(t, y, key=lambda s: s), ["case or spacing", "normalise_for_dedup"]),
    ("lowercase only", lambda t, y: dedup(t, y, key=str.lower), ["spacing", "collapse the whitespace"]),
    ("whitespace only", lambda t, y: dedup(t, y, key=lambda s: " ".join(s.split())), ["only in case"]),
    ("one copy of a conflict kept", lambda t, y: dedup(t, y, drop_conflicts=False), ["both labels", "every copy"]),
    ("last copy kept", lambda t, y: dedup(t, y, keep="last"), ["first one", "not the last"]),
    ("keys returned", lambda t, y: dedup(t, y, out=lambda texts, kept: [" ".join(texts[i].lower().split())
                                                                        for i in kept]), ["normalised keys"]),
    ("order lost", dedup_sorted_by_text, ["input order"]),
    ("labels not aligned", lambda t, y: (dedup(t, y)[0], dedup(t, y)[1][::-1]), ["labels do not belong"]),
    ("nothing removed", lambda t, y: (list(t), np.asarray(y)), ["should be gone"]),
    ("a list of texts only", lambda t, y: dedup(t, y)[0], ["return a pair"]),
    ("the input changed", dedup_in_place, ["changed the lists"]),
    ("indices instead of texts", lambda t, y: (list(range(len(dedup(t, y)[0]))), dedup(t, y)[1]), ["str"]),
]


@pytest.mark.parametrize("name, fn", DEDUP_RIGHT, ids=[n for n, _ in DEDUP_RIGHT])
def test_a_right_deduplication_passes(name, fn, capsys):
    assert check("lab-dedup", fn) is None
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1, out


@pytest.mark.parametrize("what, wrong, words", DEDUP_WRONG, ids=[w for w, _, _ in DEDUP_WRONG])
def test_a_wrong_deduplication_gets_a_message_that_names_the_mistake(what, wrong, words):
    with pytest.raises(CheckFailed) as failure:
        check("lab-dedup", wrong)
    message = str(failure.value)
    assert message.startswith("Not yet: "), message
    missing = [w for w in words if w not in message]
    assert not missing, f"the message for '{what}' should mention {missing}:\n{message}"
    assert "Traceback" not in message and len(message) < 700, message


def test_a_dedup_message_never_shows_the_reference_answer():
    # Keeps the first copy of a conflicting text too: the first failing case is the first hand-made one,
    # whose answer is ['@united thanks!', 'great crew'] with labels [1, 1].
    def wrong(texts, labels):
        kept_texts, kept_labels = dedup(texts, labels, drop_conflicts=False)
        return kept_texts[:1], kept_labels[:1]  # also drops what it should keep

    with pytest.raises(CheckFailed) as failure:
        check("lab-dedup", wrong)
    message = str(failure.value)
    before = message.split(", you", 1)[1]  # the part after the description of the input
    assert "great crew" not in before and "[1, 1]" not in before, message
    assert "too few" in message


def test_the_dedup_cases_include_the_edges_and_conflicts():
    cases = _dedup_cases()
    sizes = [len(t) for _, t, _ in cases]
    assert 0 in sizes and 1 in sizes and len(cases) >= 60
    reports = [deduplicate(t, np.asarray(y, dtype=np.int64))[2] for _, t, y in cases]
    assert sum(r.conflicting_texts > 0 for r in reports) >= 10
    assert sum(r.duplicates_dropped > 0 for r in reports) >= 30


# --------------------------------------------------------------------------- padding


def pad(sequences, pad_id=0):
    """Written independently of the library and of the check's reference."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    T = max(lengths, default=0)
    ids = np.array([list(s) + [pad_id] * (T - len(s)) for s in sequences], dtype=np.int64).reshape(len(sequences), T)
    return ids, lengths


def pad_left(sequences, pad_id=0):
    T = max(len(s) for s in sequences)
    return np.array([[pad_id] * (T - len(s)) + list(s) for s in sequences]), np.array([len(s) for s in sequences])


def pad_with_zero(sequences, pad_id=0):
    return pad(sequences, 0)


def pad_lengths_T(sequences, pad_id=0):
    ids, _ = pad(sequences, pad_id)
    return ids, np.full(len(sequences), ids.shape[1], dtype=np.int64)


def pad_float(sequences, pad_id=0):
    ids, lengths = pad(sequences, pad_id)
    return ids.astype(float), lengths


def pad_transposed(sequences, pad_id=0):
    ids, lengths = pad(sequences, pad_id)
    return ids.T, lengths


def pad_fixed_width(sequences, pad_id=0):
    ids, lengths = pad(sequences, pad_id)
    return np.pad(ids, ((0, 0), (0, 2)), constant_values=pad_id), lengths


def pad_in_place(sequences, pad_id=0):
    T = max(len(s) for s in sequences)
    for s in sequences:
        s += [pad_id] * (T - len(s))
    return np.array(sequences, dtype=np.int64), np.array([len(s) for s in sequences])


def pad_no_empty(sequences, pad_id=0):
    T = np.max([len(s) for s in sequences])
    return pad(sequences, pad_id)[0][:, :T], np.array([len(s) for s in sequences], dtype=np.int64)


PAD_WRONG = [
    ("left padding", pad_left, ["on the left", "Pad on the right"]),
    ("padded with 0", pad_with_zero, ["padded with 0", "pad_id"]),
    ("lengths = T", pad_lengths_T, ["every length is T", "without its padding"]),
    ("float ids", pad_float, ["dtype float64", "integers"]),
    ("transposed", pad_transposed, ["transpose"]),
    ("too wide", pad_fixed_width, ["longest sequence"]),
    ("input changed", pad_in_place, ["changed the sequences"]),
    ("empty batch fails", pad_no_empty, ["empty batch", "(0, 0)", "(0,)"]),
    ("a single array", lambda s, pad_id=0: pad(s, pad_id)[0], ["return a pair"]),
]


def test_a_right_padding_passes(capsys):
    assert check("lab-pad-batch", pad) is None
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1, out


@pytest.mark.parametrize("what, wrong, words", PAD_WRONG, ids=[w for w, _, _ in PAD_WRONG])
def test_a_wrong_padding_gets_a_message_that_names_the_mistake(what, wrong, words):
    with pytest.raises(CheckFailed) as failure:
        check("lab-pad-batch", wrong)
    message = str(failure.value)
    assert message.startswith("Not yet: "), message
    missing = [w for w in words if w not in message]
    assert not missing, f"the message for '{what}' should mention {missing}:\n{message}"
    assert "Traceback" not in message and len(message) < 700, message


def test_a_pad_message_never_shows_the_reference_answer():
    # Row 1 wrong in the first case ([[5, 8, 2], [7], [4, 4]]): the answer's row [7, 0, 0] must not appear.
    def wrong(sequences, pad_id=0):
        ids, lengths = pad(sequences, pad_id)
        if len(ids) > 1:
            ids[1, -1] = 1
        return ids, lengths

    with pytest.raises(CheckFailed) as failure:
        check("lab-pad-batch", wrong)
    message = str(failure.value)
    assert "row 1" in message and not re.search(r"7,? 0,? 0", message), message


def test_the_pad_cases_include_the_edges():
    cases = _pad_cases()
    assert [] in [s for _, s, _ in cases]
    assert any(p not in (None, 0) for _, _, p in cases)
    assert any(len(s) == 1 for _, s, _ in cases)
    assert any(len(s) > 1 and len({len(x) for x in s}) == 1 for _, s, _ in cases)
    ids, lengths = _reference_pad([], 0)
    assert ids.shape == (0, 0) and lengths.shape == (0,) and ids.dtype == lengths.dtype == np.int64


def test_a_placeholder_gets_through_as_not_implemented():
    def placeholder(*args):
        raise NotImplementedError()

    for check_id in ("lab-dedup", "lab-pad-batch"):
        with pytest.raises(NotImplementedError):
            check(check_id, placeholder)
