"""The check of chapter 7's pooling exercise (rnnbook.exercises.lab_models): right answers pass, wrong ones are named."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnbook.exercises import CheckFailed, available, check

CHECK = "lab-pooling"


def loop_pool(out, lengths):
    """A right answer written without masks: one text at a time, its real steps only."""
    return np.stack([np.concatenate([out[n, :L].max(axis=0), out[n, :L].mean(axis=0)])
                     for n, L in enumerate(lengths)])


def max_over_padding(out, lengths):
    return np.concatenate([out.max(axis=1), loop_pool(out, lengths)[:, out.shape[2]:]], axis=1)


def mean_over_T(out, lengths):
    F = out.shape[2]
    real = loop_pool(out, lengths)
    return np.concatenate([real[:, :F], real[:, F:] * lengths[:, None] / out.shape[1]], axis=1)


def swapped(out, lengths):
    F = out.shape[2]
    real = loop_pool(out, lengths)
    return np.concatenate([real[:, F:], real[:, :F]], axis=1)


def padding_in_the_mean(out, lengths):
    F = out.shape[2]
    return np.concatenate([loop_pool(out, lengths)[:, :F], out.sum(axis=1) / lengths[:, None]], axis=1)


def over_the_batch(out, lengths):
    return np.concatenate([out.max(axis=0), out.mean(axis=0)], axis=1)


def not_written(out, lengths):
    raise NotImplementedError()


def test_the_check_is_registered_for_its_exercise():
    spec = available()[CHECK]
    assert spec.exercise == "ex-lab-models-pooling" and spec.function == "max_mean_pool"


def test_a_right_answer_passes(capsys):
    assert check(CHECK, loop_pool) is None
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1, out


@pytest.mark.parametrize("wrong, words", [
    (max_over_padding, "0 beats every negative output"),
    (mean_over_T, "divides by T"),
    (swapped, "swapped"),
    (padding_in_the_mean, "depends on the values in the padding"),
    (over_the_batch, "shape"),
])
def test_a_wrong_answer_gets_a_message_that_names_the_mistake(wrong, words):
    with pytest.raises(CheckFailed, match="^Not yet") as failure:
        check(CHECK, wrong)
    assert words in str(failure.value)


def test_a_placeholder_gets_through_as_not_implemented():
    with pytest.raises(NotImplementedError):
        check(CHECK, not_written)


def test_a_message_never_shows_the_pooled_values():
    with pytest.raises(CheckFailed) as failure:
        check(CHECK, max_over_padding)
    numbers = [float(x) for x in re.findall(r"-?\d+\.\d{3,}", str(failure.value))]
    assert numbers == [], f"the message shows values: {numbers}"
