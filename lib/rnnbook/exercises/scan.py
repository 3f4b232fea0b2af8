"""Checks of Section 6.2, *The linear recurrence and its scan*: the operator, Hillis and Steele's scan, the backward pass."""

from __future__ import annotations

import numpy as np

from rnnbook.exercises._core import as_array, call, diagnose, fail, matches, register, same_shape
from rnnbook.scratch import scan

TOL = 1e-10


def _pair(got, what: str, where: str, names: str) -> tuple:
    """The two arrays of a returned pair, or a failure that says what came back instead."""
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"{where}, {what} must return a tuple {names} of two arrays; got {type(got).__name__}"
             + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "") + ".")
    return got


# --------------------------------------------------------------------------- scan-combine


def _combine_mistakes(first, second):
    (a_1, b_1), (a_2, b_2) = first, second
    return [
        ("the order is swapped: you apply the second step first (a_1 ⊙ b_2 + b_1). The first pair acts first, "
         "so its b_1 then passes through a_2: the new b is a_2 ⊙ b_1 + b_2.", lambda: (a_1 * a_2, a_1 * b_2 + b_1)),
        ("your operator is commutative (a_1 ⊙ b_2 + a_2 ⊙ b_1 treats both steps alike). The real operator is not: "
         "the first step's b_1 passes through the second step's a_2, and b_2 passes through nothing.",
         lambda: (a_1 * a_2, a_1 * b_2 + a_2 * b_1)),
        ("b_1 is not multiplied by a_2: after the second step, what the first step added has been scaled by a_2.",
         lambda: (a_1 * a_2, b_1 + b_2)),
        ("the new a is not the product a_1 ⊙ a_2: two steps in a row scale the state by a_1, then by a_2.",
         lambda: (a_2, a_2 * b_1 + b_2)),
        ("the new a is not the product a_1 ⊙ a_2: two steps in a row scale the state by a_1, then by a_2.",
         lambda: (a_1, a_2 * b_1 + b_2)),
        ("the new a is not the product a_1 ⊙ a_2: two steps in a row scale the state by a_1, then by a_2.",
         lambda: (a_1 + a_2, a_2 * b_1 + b_2)),
    ]


@register("scan-combine", exercise="ex-scan-combine", function="combine",
          summary="(a_1, b_1) • (a_2, b_2) against scratch.scan.combine: scalars, vectors, (N, T, H) arrays; "
                  "swapped order, a commutative version and a missing product of a named")
def check_combine(student_fn) -> str:
    rng = np.random.default_rng(23)
    cases = [("for the numbers (0.5, 1) • (0.25, 2)", ((np.array(0.5), np.array(1.0)), (np.array(0.25), np.array(2.0))))]
    for shape in [(3,), (2, 5), (2, 4, 3)]:
        pairs = tuple((rng.uniform(0.1, 1, shape), rng.standard_normal(shape)) for _ in range(2))
        cases.append((f"for random pairs of shape {shape}", pairs))
    for what, (first, second) in cases:
        args = ((first[0].copy(), first[1].copy()), (second[0].copy(), second[1].copy()))
        got = _pair(call(student_fn, args, name="combine", where=what), "combine", what, "(a, b)")
        got = tuple(as_array(g, name, what) for g, name in zip(got, ("a", "b")))
        for g, name in zip(got, ("a", "b")):
            same_shape(g, first[0].shape, f"the returned {name}", what, "the shape of the arguments")
        expected = scan.combine(first, second)
        if not matches(got, expected, TOL):
            why = diagnose(got, _combine_mistakes(first, second), TOL)
            fail(f"{what}, combine is wrong: " + (why or "two steps in a row are h ↦ a_2 ⊙ (a_1 ⊙ h + b_1) + b_2; "
                                                   "multiply it out and read off the new a and the new b."))
    return ("Well done: combine applies the first step, then the second, as scratch.scan.combine does, on numbers "
            "and on arrays of any shape.")


# --------------------------------------------------------------------------- scan-hillis-steele


def _hs_variant(a, b, *, rounds_while=lambda d, T: d < T, a_first=False, step=lambda d: 2 * d, swapped=False):
    """Hillis and Steele's scan with a planted change; the default is the right scan."""
    A, B = a.copy(), b.copy()
    T, d = A.shape[1], 1
    while rounds_while(d, T):
        if swapped:  # (A_t, B_t) • (A_{t−d}, B_{t−d}): the later pair first
            B[:, d:] = A[:, :-d] * B[:, d:] + B[:, :-d]
        elif a_first:  # A updated first, then read by B's update
            A[:, d:] = A[:, :-d] * A[:, d:]
            B[:, d:] = A[:, d:] * B[:, :-d] + B[:, d:]
            d = step(d)
            continue
        else:
            B[:, d:] = A[:, d:] * B[:, :-d] + B[:, d:]
        A[:, d:] = A[:, :-d] * A[:, d:]
        d = step(d)
    return A, B


def _hs_in_place_loop(a, b):
    """The rounds as a Python loop over t that writes in place, ascending: position t reads t − d already updated."""
    A, B = a.copy(), b.copy()
    T, d = A.shape[1], 1
    while d < T:
        for t in range(d, T):
            A[:, t], B[:, t] = scan.combine((A[:, t - d], B[:, t - d]), (A[:, t], B[:, t]))
        d *= 2
    return A, B


def _hs_mistakes(a, b):
    A, B = scan.hillis_steele_scan(a, b)
    N, _, H = a.shape
    exclusive = (np.concatenate([np.ones((N, 1, H)), A[:, :-1]], axis=1),
                 np.concatenate([np.zeros((N, 1, H)), B[:, :-1]], axis=1))
    return [
        ("a round reads values that this same round has already overwritten. In round d, every position t must "
         "combine the values of the PREVIOUS round at t − d and t: compute all right-hand sides first (slices do "
         "this), or loop over t from the end down to d.", lambda: _hs_in_place_loop(a, b)),
        ("A is updated before B, so B's update reads the new A_t (already the product of 2d steps) instead of the "
         "old one. Update B first, or keep the old A in a temporary.", lambda: _hs_variant(a, b, a_first=True)),
        ("the pairs are combined in the wrong order: position t must compute (A_{t−d}, B_{t−d}) • (A_t, B_t), the "
         "earlier steps first, so the new B is A_t ⊙ B_{t−d} + B_t.", lambda: _hs_variant(a, b, swapped=True)),
        ("the last round is missing: the rounds go on while the distance d is smaller than T (d = 1, 2, 4, … up to "
         "the largest power of two below T).", lambda: _hs_variant(a, b, rounds_while=lambda d, T: 2 * d < T)),
        ("the distance grows by one instead of doubling (d = 1, 2, 3, …): after the round with distance d, "
         "position t holds its last 2d steps, so the next distance is 2d.",
         lambda: _hs_variant(a, b, step=lambda d: d + 1)),
        ("the prefixes are off by one position (exclusive): position t must include its own step, "
         "(A_t, B_t) = (a_1, b_1) • … • (a_t, b_t).", lambda: exclusive),
    ]


def _hs_cases(rng):
    cases = [("for one step (T = 1)", rng.uniform(0.1, 1, (2, 1, 3)), rng.standard_normal((2, 1, 3)))]
    for N, T, H in [(1, 8, 1), (2, 5, 3), (3, 7, 2), (1, 16, 4), (2, 13, 5), (1, 100, 3)]:
        cases.append((f"for a, b of shape (N, T, H) = ({N}, {T}, {H})", rng.uniform(0.1, 1, (N, T, H)),
                      rng.standard_normal((N, T, H))))
    return cases


@register("scan-hillis-steele", exercise="ex-scan-hillis-steele", function="hillis_steele",
          summary="prefixes (A, B) against scratch.scan.hillis_steele_scan: T = 1, powers of two and other T; "
                  "in-place reads, update order, combine order, a missing round and off-by-one named")
def check_hillis_steele(student_fn) -> str:
    rng = np.random.default_rng(29)
    for what, a, b in _hs_cases(rng):
        got = _pair(call(student_fn, (a.copy(), b.copy()), name="hillis_steele", where=what),
                    "hillis_steele", what, "(A, B)")
        got = tuple(as_array(g, name, what) for g, name in zip(got, ("A", "B")))
        for g, name in zip(got, ("A", "B")):
            same_shape(g, a.shape, name, what, "(N, T, H)")
        expected = scan.hillis_steele_scan(a, b)
        if not matches(got, expected, TOL):
            why = diagnose(got, _hs_mistakes(a, b), TOL)
            wrong = "A" if not matches(got[0], expected[0], TOL) else "B"
            fail(f"{what}, the prefixes are wrong (first wrong: {wrong})"
                 + (f": {why}" if why else ". Position t must hold (a_1, b_1) • … • (a_t, b_t); compare with a "
                    "loop on a small example, round by round."))
    return ("Well done: hillis_steele gives the prefixes (A_t, B_t) of every position, for T = 1, for powers of two "
            "and for other lengths, in ⌈log₂ T⌉ rounds.")


# --------------------------------------------------------------------------- scan-backward


def _backward_loop(d_h, a, h, h0, *, a_index=1, use_h_prev=True, d_h0_times_a=True, recurrence=True):
    """The backward pass as a loop over t, with a planted change; the default is right."""
    N, T, H = a.shape
    g = np.zeros_like(d_h)
    g_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        if recurrence and t + 1 < T:
            factor = a[:, t + 1] if a_index == 1 else a[:, t]
            g_next = d_h[:, t] + factor * g_next
        else:
            g_next = d_h[:, t].copy()
        g[:, t] = g_next
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    d_a = g * (h_prev if use_h_prev else h)
    d_h0 = a[:, 0] * g[:, 0] if d_h0_times_a else g[:, 0]
    return d_a, g, d_h0


def _backward_mistakes(d_h, a, h, h0):
    right = _backward_loop(d_h, a, h, h0)
    return [
        ("the gradient does not flow back in time: g_t = ∂L/∂h_t is δ_t PLUS what h_{t+1} sends back, "
         "a_{t+1} ⊙ g_{t+1}.", lambda: _backward_loop(d_h, a, h, h0, recurrence=False)),
        ("the factor of the backward recurrence has the wrong index: h_t reaches h_{t+1} through a_{t+1}, so "
         "g_t = δ_t + a_{t+1} ⊙ g_{t+1}, not a_t ⊙ g_{t+1}.", lambda: _backward_loop(d_h, a, h, h0, a_index=0)),
        ("∂L/∂a_t uses h_t; a_t multiplies the PREVIOUS state, so ∂L/∂a_t = g_t ⊙ h_{t−1} (h_0 at the first step).",
         lambda: _backward_loop(d_h, a, h, h0, use_h_prev=False)),
        ("∂L/∂h_0 is g_1; h_0 reaches h_1 through a_1, so ∂L/∂h_0 = a_1 ⊙ g_1.",
         lambda: _backward_loop(d_h, a, h, h0, d_h0_times_a=False)),
        ("d_a and d_b are swapped: ∂L/∂b_t = g_t and ∂L/∂a_t = g_t ⊙ h_{t−1}.",
         lambda: (right[1], right[0], right[2])),
    ]


@register("scan-backward", exercise="ex-scan-backward", function="recurrence_backward",
          summary="(d_a, d_b, d_h0) against scratch.linear_recurrence_backward: T = 1 and random shapes; "
                  "no flow back in time, the wrong factor a_t, h_t for h_{t−1} and ∂L/∂h_0 without a_1 named")
def check_backward(student_fn) -> str:
    rng = np.random.default_rng(31)
    for N, T, H in [(1, 1, 1), (2, 1, 3), (1, 6, 1), (2, 5, 3), (3, 9, 2), (2, 17, 4)]:
        what = f"for a, d_h of shape (N, T, H) = ({N}, {T}, {H})"
        a, b = rng.uniform(0.1, 1, (N, T, H)), rng.standard_normal((N, T, H))
        h0, d_h = rng.standard_normal((N, H)), rng.standard_normal((N, T, H))
        h = scan.linear_recurrence(a, b, h0)
        got = call(student_fn, (d_h.copy(), a.copy(), h.copy(), h0.copy()), name="recurrence_backward", where=what)
        if not (isinstance(got, (tuple, list)) and len(got) == 3):
            fail(f"{what}, recurrence_backward must return a tuple (d_a, d_b, d_h0) of three arrays; got "
                 f"{type(got).__name__}" + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "") + ".")
        got = tuple(as_array(g, name, what) for g, name in zip(got, ("d_a", "d_b", "d_h0")))
        same_shape(got[0], a.shape, "d_a", what, "(N, T, H)")
        same_shape(got[1], a.shape, "d_b", what, "(N, T, H)")
        same_shape(got[2], h0.shape, "d_h0", what, "(N, H)")
        expected = scan.linear_recurrence_backward(d_h, a, h, h0)
        if not matches(got, tuple(expected), TOL):
            why = diagnose(got, _backward_mistakes(d_h, a, h, h0), TOL)
            wrong = [name for g, e, name in zip(got, expected, ("d_a", "d_b", "d_h0")) if not matches(g, e, TOL)]
            fail(f"{what}, {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong"
                 + (f": {why}" if why else ". Go back from t = T: g_T = δ_T, g_t = δ_t + a_{t+1} ⊙ g_{t+1}; then "
                    "∂L/∂b_t = g_t, ∂L/∂a_t = g_t ⊙ h_{t−1}, ∂L/∂h_0 = a_1 ⊙ g_1."))
    return ("Well done: recurrence_backward gives ∂L/∂a, ∂L/∂b and ∂L/∂h_0 as scratch.linear_recurrence_backward "
            "does, for T = 1 and for longer sequences.")
