"""The checks of Section 6.2's exercises (rnnbook.exercises.scan): right answers pass, wrong ones are named."""

from __future__ import annotations

import numpy as np
import pytest

import rnnbook.exercises.scan  # noqa: F401  registers the checks (also imported by rnnbook.exercises)
from rnnbook.exercises import CheckFailed, available, check


def not_written(*args):
    raise NotImplementedError()


# --------------------------------------------------------------------------- scan-combine

def combine(first, second):
    a_1, b_1 = first
    a_2, b_2 = second
    return a_1 * a_2, a_2 * b_1 + b_2


def combine_swapped(first, second):
    (a_1, b_1), (a_2, b_2) = first, second
    return a_1 * a_2, a_1 * b_2 + b_1


def combine_commutative(first, second):
    (a_1, b_1), (a_2, b_2) = first, second
    return a_1 * a_2, a_1 * b_2 + a_2 * b_1


def combine_no_a_product(first, second):
    (a_1, b_1), (a_2, b_2) = first, second
    return a_2, a_2 * b_1 + b_2


def combine_b_unscaled(first, second):
    (a_1, b_1), (a_2, b_2) = first, second
    return a_1 * a_2, b_1 + b_2


def combine_one_array(first, second):
    return combine(first, second)[1]


# --------------------------------------------------------------------------- scan-hillis-steele

def hillis_steele(a, b):
    """A right answer: the prefixes by a loop (the definition), not by the library's scan."""
    A, B = a.copy(), b.copy()
    for t in range(1, a.shape[1]):
        A[:, t], B[:, t] = combine((A[:, t - 1], B[:, t - 1]), (a[:, t], b[:, t]))
    return A, B


def hillis_steele_rounds(a, b):
    """A right answer by rounds, reading the old values from copies."""
    A, B = a.copy(), b.copy()
    d = 1
    while d < a.shape[1]:
        A_old, B_old = A.copy(), B.copy()
        A[:, d:], B[:, d:] = combine((A_old[:, :-d], B_old[:, :-d]), (A_old[:, d:], B_old[:, d:]))
        d *= 2
    return A, B


def hs_in_place_loop(a, b):
    A, B = a.copy(), b.copy()
    d = 1
    while d < a.shape[1]:
        for t in range(d, a.shape[1]):
            A[:, t], B[:, t] = combine((A[:, t - d], B[:, t - d]), (A[:, t], B[:, t]))
        d *= 2
    return A, B


def hs_a_first(a, b):
    A, B = a.copy(), b.copy()
    d = 1
    while d < a.shape[1]:
        A[:, d:] = A[:, :-d] * A[:, d:]
        B[:, d:] = A[:, d:] * B[:, :-d] + B[:, d:]
        d *= 2
    return A, B


def hs_swapped_order(a, b):
    A, B = a.copy(), b.copy()
    d = 1
    while d < a.shape[1]:
        A[:, d:], B[:, d:] = combine((A[:, d:], B[:, d:]), (A[:, :-d].copy(), B[:, :-d].copy()))
        d *= 2
    return A, B


def hs_missing_round(a, b):
    A, B = a.copy(), b.copy()
    d = 1
    while 2 * d < a.shape[1]:
        A[:, d:], B[:, d:] = combine((A[:, :-d].copy(), B[:, :-d].copy()), (A[:, d:], B[:, d:]))
        d *= 2
    return A, B


def hs_distance_plus_one(a, b):
    A, B = a.copy(), b.copy()
    d = 1
    while d < a.shape[1]:
        A[:, d:], B[:, d:] = combine((A[:, :-d].copy(), B[:, :-d].copy()), (A[:, d:], B[:, d:]))
        d += 1
    return A, B


def hs_exclusive(a, b):
    A, B = hillis_steele(a, b)
    N, _, H = a.shape
    return (np.concatenate([np.ones((N, 1, H)), A[:, :-1]], axis=1),
            np.concatenate([np.zeros((N, 1, H)), B[:, :-1]], axis=1))


def hs_only_B(a, b):
    return hillis_steele(a, b)[1]


# --------------------------------------------------------------------------- scan-backward

def recurrence_backward(d_h, a, h, h0, *, factor_index=1, h_prev=True, times_a1=True, flow=True):
    """A right answer as a loop (keyword arguments plant the mistakes below)."""
    N, T, H = a.shape
    g = np.zeros_like(d_h)
    for t in range(T - 1, -1, -1):
        g[:, t] = d_h[:, t]
        if flow and t + 1 < T:
            g[:, t] += a[:, t + factor_index] * g[:, t + 1]
    before = np.concatenate([h0[:, None], h[:, :-1]], axis=1) if h_prev else h
    return g * before, g, (a[:, 0] * g[:, 0] if times_a1 else g[:, 0])


def bw_no_flow(d_h, a, h, h0):
    return recurrence_backward(d_h, a, h, h0, flow=False)


def bw_factor_a_t(d_h, a, h, h0):
    return recurrence_backward(d_h, a, h, h0, factor_index=0)


def bw_h_t(d_h, a, h, h0):
    return recurrence_backward(d_h, a, h, h0, h_prev=False)


def bw_d_h0_g1(d_h, a, h, h0):
    return recurrence_backward(d_h, a, h, h0, times_a1=False)


def bw_swapped(d_h, a, h, h0):
    d_a, d_b, d_h0 = recurrence_backward(d_h, a, h, h0)
    return d_b, d_a, d_h0


def bw_two_arrays(d_h, a, h, h0):
    return recurrence_backward(d_h, a, h, h0)[:2]


CHECKS = {"scan-combine": ("ex-scan-combine", "combine"),
          "scan-hillis-steele": ("ex-scan-hillis-steele", "hillis_steele"),
          "scan-backward": ("ex-scan-backward", "recurrence_backward")}


@pytest.mark.parametrize("check_id", CHECKS)
def test_the_checks_are_registered_for_their_exercises(check_id):
    spec = available()[check_id]
    assert (spec.exercise, spec.function) == CHECKS[check_id]


@pytest.mark.parametrize("check_id, right", [
    ("scan-combine", combine),
    ("scan-hillis-steele", hillis_steele),
    ("scan-hillis-steele", hillis_steele_rounds),
    ("scan-backward", recurrence_backward),
])
def test_a_right_answer_passes(check_id, right, capsys):
    assert check(check_id, right) is None
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1, out


@pytest.mark.parametrize("check_id, wrong, words", [
    ("scan-combine", combine_swapped, "the order is swapped"),
    ("scan-combine", combine_commutative, "your operator is commutative"),
    ("scan-combine", combine_no_a_product, "the new a is not the product"),
    ("scan-combine", combine_b_unscaled, "b_1 is not multiplied by a_2"),
    ("scan-combine", combine_one_array, "must return a tuple (a, b)"),
    ("scan-hillis-steele", hs_in_place_loop, "already overwritten"),
    ("scan-hillis-steele", hs_a_first, "A is updated before B"),
    ("scan-hillis-steele", hs_swapped_order, "combined in the wrong order"),
    ("scan-hillis-steele", hs_missing_round, "the last round is missing"),
    ("scan-hillis-steele", hs_distance_plus_one, "grows by one instead of doubling"),
    ("scan-hillis-steele", hs_exclusive, "off by one position"),
    ("scan-hillis-steele", hs_only_B, "must return a tuple (A, B)"),
    ("scan-backward", bw_no_flow, "does not flow back in time"),
    ("scan-backward", bw_factor_a_t, "the wrong index"),
    ("scan-backward", bw_h_t, "∂L/∂a_t uses h_t"),
    ("scan-backward", bw_d_h0_g1, "∂L/∂h_0 = a_1 ⊙ g_1"),
    ("scan-backward", bw_swapped, "d_a and d_b are swapped"),
    ("scan-backward", bw_two_arrays, "must return a tuple (d_a, d_b, d_h0)"),
])
def test_each_usual_mistake_is_named(check_id, wrong, words):
    with pytest.raises(CheckFailed, match="Not yet") as failure:
        check(check_id, wrong)
    assert words in str(failure.value), str(failure.value)


@pytest.mark.parametrize("check_id", CHECKS)
def test_the_placeholder_of_a_student_notebook_passes_through(check_id):
    with pytest.raises(NotImplementedError):
        check(check_id, not_written)
