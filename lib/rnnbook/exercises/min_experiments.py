"""Checks of Section 6.3, *minGRU and minLSTM at work*: how much gradient minGRU carries back in time."""

from __future__ import annotations

import numpy as np

from rnnbook.exercises._core import as_array, call, diagnose, fail, max_error, register, same_shape, sigmoid
from rnnbook.scratch.min_cells import mingru_forward
from rnnbook.scratch.scan import linear_recurrence_backward

TOL = 1e-10


def _reference(x: np.ndarray, p: dict) -> np.ndarray:
    """Row k of the result is ∂h_T/∂h_k (a diagonal, so a vector), k = 0 … T, from the scan's backward pass.

    With ∂L/∂h_T = 1 and no loss at the other steps, the backward recursion g_k = δ_k + a_{k+1} ⊙ g_{k+1}
    (Section 6.2) gives g_k = ∂h_T/∂h_k for k ≥ 1
    (= ∂L/∂b_k) and ∂L/∂h_0 for k = 0.
    """
    N, T, _ = x.shape
    H = p["bias_z"].shape[0]
    h, _, cache = mingru_forward(x, np.zeros((N, H)), p)
    d_h = np.zeros((N, T, H))
    d_h[:, -1] = 1.0
    _, d_b, d_h0 = linear_recurrence_backward(d_h, cache.a, h, np.zeros((N, H)))
    return np.concatenate([d_h0[:, None], d_b], axis=1)


def _mistakes(x: np.ndarray, p: dict):
    u = x @ p["weight_z"].T + p["bias_z"]
    z, a = sigmoid(u), sigmoid(-u)
    N, T, H = a.shape
    ones = np.ones((N, 1, H))

    def suffix_products(factors):  # row k: product of factors[:, k:], row T: 1
        rev = np.cumprod(factors[:, ::-1], axis=1)[:, ::-1]
        return np.concatenate([rev, ones], axis=1)

    return [
        ("the factors are the update gates z_j; in minGRU's new state (Section 6.1) the old state is multiplied by 1 − z_j, "
         "not by z_j.", lambda: suffix_products(z)),
        ("each row is off by one step: row k must hold the product over j = k + 1 … T; yours leaves out "
         "1 − z_{k+1}, the factor of the step that reads h_k.",
         lambda: np.concatenate([suffix_products(a)[:, 1:], ones], axis=1)),
        ("each row is off by one step: row k must hold the product over j = k + 1 … T, not over j = k … T "
         "(1 − z_k belongs to the step that reads h_{k−1}).",
         lambda: np.concatenate([suffix_products(a)[:, :1], suffix_products(a)[:, :-1]], axis=1)),
        ("the products run forwards in time (a cumulative product from step 1). The gradient flows backwards: "
         "row k multiplies the factors of the steps AFTER k, up to T.",
         lambda: np.concatenate([ones, np.cumprod(a, axis=1)], axis=1)),
        ("the rows are in reverse order: row 0 is the longest product (h_0 is furthest from h_T), row T is ones.",
         lambda: suffix_products(a)[:, ::-1]),
    ]


def _cases(rng):
    def params(D, H, scale=1.0):
        return {"weight_z": scale * rng.standard_normal((H, D)), "bias_z": scale * rng.standard_normal(H),
                "weight_h": rng.standard_normal((H, D)), "bias_h": rng.standard_normal(H)}

    cases = [
        ("for one sequence of T = 6 steps with D = 1 and H = 1", rng.standard_normal((1, 6, 1)), params(1, 1)),
        ("for N = T = D = H = 1", rng.standard_normal((1, 1, 1)), params(1, 1)),
        ("for N = 2, T = 5, D = 3, H = 4", rng.standard_normal((2, 5, 3)), params(3, 4)),
        ("for gates close to 0 and 1 (large weights), N = 3, T = 8, D = 2, H = 3",
         rng.standard_normal((3, 8, 2)), params(2, 3, scale=6.0)),
    ]
    for k in range(6):
        N, T, D, H = (int(v) for v in rng.integers(1, 7, 4))
        cases.append((f"for a random case with N = {N}, T = {T}, D = {D}, H = {H} (random case {k + 1})",
                      rng.standard_normal((N, T, D)), params(D, H)))
    return cases


@register("mingru-carry", exercise="ex-min-exp-carry", function="mingru_carry",
          summary="∂h_T/∂h_k of minGRU for k = 0 … T against the scan's backward pass "
                  "(scratch.scan.linear_recurrence_backward): T = 1, N = H = 1, saturated gates; "
                  "z instead of 1 − z, off-by-one products and the wrong direction named")
def check_mingru_carry(student_fn) -> str:
    rng = np.random.default_rng(63)
    for what, x, p in _cases(rng):
        N, T, _ = x.shape
        H = p["bias_z"].shape[0]
        args = (x.copy(), {k: v.copy() for k, v in p.items()})
        got = as_array(call(student_fn, args, name="mingru_carry", where=what), "the result", what)
        same_shape(got, (N, T + 1, H), "the result", what, "(N, T + 1, H)")
        if not np.array_equal(args[0], x) or any(not np.array_equal(args[1][k], p[k]) for k in p):
            fail(f"{what}, mingru_carry changed its arguments x or p; compute into new arrays instead.")
        expected = _reference(x, p)
        if max_error(got, expected) > TOL:
            why = diagnose(got, _mistakes(x, p), TOL)
            fail(f"{what}, the result is wrong" + (f": {why}" if why else
                 ". Row k is ∂h_T/∂h_k = (1 − z_{k+1}) ⊙ … ⊙ (1 − z_T), with z_j = σ(W_z x_j + b_z), "
                 "and row T is all ones."))
    return ("Well done: mingru_carry gives ∂h_T/∂h_k = (1 − z_{k+1}) ⊙ … ⊙ (1 − z_T) for every k, as the "
            "backward pass of the scan does. It passes for T = 1, single units, saturated gates and random sizes.")
