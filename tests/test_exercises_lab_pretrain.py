"""The check of Section 7.4's exercise (rnnbook.exercises.lab_pretrain): right answers pass, wrong ones are named."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.exercises import CheckFailed, available, check

CHECK = "lab-lm-targets"


def loop_targets(ids, lengths):
    """A right answer written as loops, from the definition."""
    forward, backward = np.full(ids.shape, -1), np.full(ids.shape, -1)
    for n, ell in enumerate(lengths):
        for t in range(ell):
            if t + 1 < ell:
                forward[n, t] = ids[n, t + 1]
            if t >= 1:
                backward[n, t] = ids[n, t - 1]
    return forward, backward


def swapped(ids, lengths):
    return loop_targets(ids, lengths)[::-1]


def unshifted(ids, lengths):
    real = np.where(np.arange(ids.shape[1])[None, :] < lengths[:, None], ids, -1)
    return real, real.copy()


def predicts_padding(ids, lengths):
    forward, backward = loop_targets(ids, lengths)
    for n, ell in enumerate(lengths):
        if ell < ids.shape[1]:
            forward[n, ell - 1] = ids[n, ell]  # the <pad> after the last token
    return forward, backward


def backward_over_padding(ids, lengths):
    forward, _ = loop_targets(ids, lengths)
    backward = np.concatenate([np.full((ids.shape[0], 1), -1), ids[:, :-1]], axis=1)
    return forward, backward


def one_array(ids, lengths):
    return loop_targets(ids, lengths)[0]


def not_written(ids, lengths):
    raise NotImplementedError()


def test_the_check_is_registered_for_its_exercise():
    spec = available()[CHECK]
    assert spec.exercise == "ex-lab-pretrain-targets" and spec.function == "language_model_targets"


def test_a_right_answer_passes(capsys):
    assert check(CHECK, loop_targets) is None
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1, out


@pytest.mark.parametrize("wrong, words", [
    (swapped, "forward and backward are swapped"),
    (unshifted, "the targets are the tokens themselves"),
    (predicts_padding, "the padding is predicted too"),
    (backward_over_padding, "the padding steps get backward targets"),
    (one_array, "must return a tuple (forward, backward)"),
])
def test_each_usual_mistake_is_named(wrong, words):
    with pytest.raises(CheckFailed, match="Not yet") as failure:
        check(CHECK, wrong)
    assert words in str(failure.value), str(failure.value)


def test_the_placeholder_of_a_student_notebook_passes_through():
    with pytest.raises(NotImplementedError):
        check(CHECK, not_written)
