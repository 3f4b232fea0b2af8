"""The check of Section 6.3's exercise (rnnbook.exercises.min_experiments): right answers pass, wrong ones are named."""

from __future__ import annotations

import numpy as np
import pytest

import rnnbook.exercises.min_experiments  # noqa: F401  registers the check (also imported by rnnbook.exercises)
from rnnbook.exercises import CheckFailed, available, check

CHECK = "mingru-carry"


def loop_carry(x, p):
    """A right answer written as a loop backwards in time, from ∂h_T/∂h_k = (1 − z_{k+1}) ⊙ ∂h_T/∂h_{k+1}."""
    z = 1 / (1 + np.exp(-(x @ p["weight_z"].T + p["bias_z"])))
    N, T, H = z.shape
    carry = np.ones((N, T + 1, H))
    for k in range(T - 1, -1, -1):
        carry[:, k] = (1 - z[:, k]) * carry[:, k + 1]  # z[:, k] is z_{k+1}
    return carry


def _z(x, p):
    return 1 / (1 + np.exp(-(x @ p["weight_z"].T + p["bias_z"])))


def _suffix(f):
    N, T, H = f.shape
    return np.concatenate([np.cumprod(f[:, ::-1], axis=1)[:, ::-1], np.ones((N, 1, H))], axis=1)


def gates_not_complements(x, p):
    return _suffix(_z(x, p))


def leaves_out_next_factor(x, p):
    c = loop_carry(x, p)
    return np.concatenate([c[:, 1:], np.ones_like(c[:, :1])], axis=1)


def includes_own_factor(x, p):
    c = loop_carry(x, p)
    return np.concatenate([c[:, :1], c[:, :-1]], axis=1)


def forwards(x, p):
    a = 1 - _z(x, p)
    return np.concatenate([np.ones_like(a[:, :1]), np.cumprod(a, axis=1)], axis=1)


def reversed_rows(x, p):
    return loop_carry(x, p)[:, ::-1]


def without_h0_row(x, p):
    return loop_carry(x, p)[:, 1:]


def changes_x(x, p):
    out = loop_carry(x, p)
    x *= 0
    return out


def not_written(x, p):
    raise NotImplementedError()


def test_the_check_is_registered_for_its_exercise():
    spec = available()[CHECK]
    assert spec.exercise == "ex-min-exp-carry" and spec.function == "mingru_carry"


def test_a_right_answer_passes(capsys):
    assert check(CHECK, loop_carry) is None
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1, out


@pytest.mark.parametrize("wrong, words", [
    (gates_not_complements, "not by z_j"),
    (leaves_out_next_factor, "yours leaves out"),
    (includes_own_factor, "not over j = k … T"),
    (forwards, "run forwards in time"),
    (reversed_rows, "reverse order"),
    (without_h0_row, "(N, T + 1, H)"),
    (changes_x, "changed its arguments"),
])
def test_each_usual_mistake_is_named(wrong, words):
    with pytest.raises(CheckFailed, match="Not yet") as failure:
        check(CHECK, wrong)
    assert words in str(failure.value), str(failure.value)


def test_the_placeholder_of_a_student_notebook_passes_through():
    with pytest.raises(NotImplementedError):
        check(CHECK, not_written)
