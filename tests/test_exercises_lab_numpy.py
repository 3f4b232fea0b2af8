"""The check of chapter 7's implement-exercise: the gradient of the embedding table (rnnbook.exercises.lab_numpy)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnbook.exercises import CheckFailed, available, check
from rnnbook.exercises.lab_numpy import _cases, _reference

CHECK = "lab-embedding-backward"


def loop_embedding_backward(d_x, ids, vocab_size):
    """A right answer written without the library: one addition per position."""
    N, T, D = np.shape(d_x)
    dE = np.zeros((vocab_size, D))
    for n in range(N):
        for t in range(T):
            dE[ids[n, t]] += d_x[n, t]
    dE[0] = 0.0
    return dE


def buffered(d_x, ids, vocab_size):
    dE = np.zeros((vocab_size, d_x.shape[2]))
    dE[ids] += d_x
    dE[0] = 0.0
    return dE


def pad_kept(d_x, ids, vocab_size):
    dE = np.zeros((vocab_size, d_x.shape[2]))
    np.add.at(dE, ids, d_x)
    return dE


def mean_of_repeats(d_x, ids, vocab_size):
    dE = pad_kept(d_x, ids, vocab_size)
    dE[0] = 0.0
    return dE / np.maximum(np.bincount(ids.ravel(), minlength=vocab_size), 1)[:, None]


def divided_by_n(d_x, ids, vocab_size):
    return loop_embedding_backward(d_x, ids, vocab_size) / ids.shape[0]


def shape_of_d_x(d_x, ids, vocab_size):
    return d_x * (ids != 0)[..., None]


def transposed(d_x, ids, vocab_size):
    return loop_embedding_backward(d_x, ids, vocab_size).T


def shifted(d_x, ids, vocab_size):
    dE = np.zeros((vocab_size, d_x.shape[2]))
    np.add.at(dE, np.maximum(ids - 1, 0), d_x)
    dE[0] = 0.0
    return dE


def in_place(d_x, ids, vocab_size):
    d_x[ids == 0] = 0.0  # "clean" the padding in the caller's array
    return loop_embedding_backward(d_x, ids, vocab_size)


def absent_rows_filled(d_x, ids, vocab_size):
    dE = loop_embedding_backward(d_x, ids, vocab_size)
    absent = np.bincount(ids.ravel(), minlength=vocab_size) == 0
    dE[absent] = 1.0
    return dE


def test_the_check_is_registered_for_its_exercise():
    spec = available()[CHECK]
    assert (spec.exercise, spec.function) == ("ex-lab-numpy-embedding-grad", "embedding_backward")


def test_a_right_answer_passes(capsys):
    assert check(CHECK, loop_embedding_backward) is None
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1, out


def test_the_cases_cover_repeats_padding_absent_ids_and_size_one():
    cases = _cases()
    assert any(d_x.shape == (1, 1, 1) for _, _, d_x, _ in cases)
    for _, ids, d_x, V in cases:
        assert ids.shape == d_x.shape[:2] and ids.min() >= 0 and ids.max() < V
    counts = [np.bincount(ids.ravel(), minlength=V) for _, ids, _, V in cases]
    assert counts[0][0] > 0 and np.any(counts[0][1:] > 1), "the first case must hold padding and repeated ids"
    assert any(np.any(c == 0) for c in counts), "some case must leave ids out"


def test_a_placeholder_gets_through_as_not_implemented():
    def embedding_backward(d_x, ids, vocab_size):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check(CHECK, embedding_backward)


WRONG = [
    ("dE[ids] += d_x loses repeats", buffered, ["only one of its occurrences", "np.add.at"]),
    ("the <pad> row keeps a gradient", pad_kept, ["<pad>", "padding_idx=0"]),
    ("repeats averaged", mean_of_repeats, ["*mean*", "sum"]),
    ("divided by N", divided_by_n, ["divided by the number of sequences N"]),
    ("the shape of d_x", shape_of_d_x, ["the shape of d_x", "(V, D)"]),
    ("transposed", transposed, ["transpose"]),
    ("ids shifted by one", shifted, ["shifted by one"]),
    ("the caller's d_x changed", in_place, ["changed its arguments"]),
    ("rows of absent ids filled", absent_rows_filled, ["absent from the batch"]),
    ("None returned", lambda d_x, ids, V: None, ["returned None"]),
]


@pytest.mark.parametrize("what, wrong, words", WRONG, ids=[w for w, _, _ in WRONG])
def test_a_wrong_answer_gets_a_message_that_names_the_mistake(what, wrong, words):
    with pytest.raises(CheckFailed) as failure:
        check(CHECK, wrong)
    message = str(failure.value)
    assert message.startswith("Not yet: "), message
    missing = [w for w in words if w not in message]
    assert not missing, f"the message for '{what}' should mention {missing}:\n{message}"
    assert "Traceback" not in message and len(message) < 700, message


def test_an_error_in_the_students_code_is_reported_with_its_line():
    def embedding_backward(d_x, ids, vocab_size):
        dE = np.zeros((vocab_size, d_x.shape[2]))
        np.add.at(dE, ids, d_x.reshape(-1, 7))
        return dE

    with pytest.raises(CheckFailed, match=r"raised ValueError: .*\(line 3 of embedding_backward"):
        check(CHECK, embedding_backward)


@pytest.mark.parametrize("wrong", [w for _, w, _ in WRONG], ids=[w for w, _, _ in WRONG])
def test_a_message_never_shows_the_reference_answer(wrong):
    with pytest.raises(CheckFailed) as failure:
        check(CHECK, wrong)
    message = str(failure.value)
    numbers = {float(m) for m in re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", message)}
    for _, ids, d_x, V in _cases():
        expected = _reference(d_x, ids, V)
        for value in expected[expected != 0]:
            assert not any(abs(n - value) <= 5e-3 * max(1.0, abs(value)) for n in numbers), (
                f"the message shows a number close to an entry of the reference dE ({value}):\n{message}")
