"""Checks of Chapter 2, *Long short-term memory*: one LSTM step (Section 2.1), the gradient along the cell path (Section 2.2)."""

from __future__ import annotations

import itertools

import numpy as np

from rnnbook import scratch
from rnnbook.exercises._core import as_array, call, diagnose, fail, max_error, register, same_shape, sigmoid

#: (N, D, H): a general case, then edge sizes 1 in every position.
SHAPES = [(4, 3, 5), (1, 3, 5), (4, 1, 5), (4, 3, 1), (1, 1, 1)]
TOL = 1e-12
DIAGNOSE_TOL = 1e-9
NOTES_LSTM = ("f", "i", "C", "o")
GATE_NAMES = {"f": "the forget gate f_t", "i": "the input gate i_t", "C": "the candidate C̃_t", "o": "the output gate o_t"}


def notes_lstm_step(x_t, h_prev, c_prev, W, b, *, concat_x_first=False, candidate=np.tanh, h_from="c_t"):
    """The notes' LSTM step, written out, with switches that reproduce common mistakes."""
    hx = np.concatenate([x_t, h_prev] if concat_x_first else [h_prev, x_t], axis=1)
    f_t = sigmoid(hx @ W["f"].T + b["f"])
    i_t = sigmoid(hx @ W["i"].T + b["i"])
    C_tilde = candidate(hx @ W["C"].T + b["C"])
    c_t = f_t * c_prev + i_t * C_tilde
    o_t = sigmoid(hx @ W["o"].T + b["o"])
    h_t = {"c_t": o_t * np.tanh(c_t), "c_t no tanh": o_t * c_t, "c_prev": o_t * np.tanh(c_prev)}[h_from]
    return h_t, c_t


def describe_permutation(perm: dict, names: dict) -> str:
    """``"W['i'], b['i'] where the forget gate f_t should use W['f'], b['f']; …"``."""
    parts = [f"{names[gate]} is computed with W[{used!r}], b[{used!r}]" for gate, used in perm.items() if gate != used]
    return "; ".join(parts)


def _lstm_mistakes(x_t, h_prev, c_prev, W, b):
    D = x_t.shape[1]
    H = h_prev.shape[1]
    out = []
    for order in itertools.permutations(NOTES_LSTM):  # every way of mixing up the four gates' parameters
        perm = dict(zip(NOTES_LSTM, order))
        if all(g == u for g, u in perm.items()):
            continue
        W_p, b_p = {g: W[u] for g, u in perm.items()}, {g: b[u] for g, u in perm.items()}
        out.append((f"the gates are mixed up: {describe_permutation(perm, GATE_NAMES)}. Each gate has its own key: "
                    "f for forget, i for input, C for the candidate, o for output.",
                    lambda W_p=W_p, b_p=b_p: notes_lstm_step(x_t, h_prev, c_prev, W_p, b_p)))
    out += [
        ("the concatenation is [x_t, h_prev]; the notes' W_k acts on [h_{t-1}, x_t], the state first "
         f"(its first H = {H} columns multiply h_prev, the last D = {D} multiply x_t).",
         lambda: notes_lstm_step(x_t, h_prev, c_prev, W, b, concat_x_first=True)),
        ("the candidate C̃_t goes through a sigmoid, but the candidate equation of Section 2.1 uses tanh.",
         lambda: notes_lstm_step(x_t, h_prev, c_prev, W, b, candidate=sigmoid)),
        ("h_t is o_t ⊙ C_t, but the hidden-state equation of Section 2.1 puts the cell through a tanh first: "
         "h_t = o_t ⊙ tanh(C_t).",
         lambda: notes_lstm_step(x_t, h_prev, c_prev, W, b, h_from="c_t no tanh")),
        ("h_t uses the previous cell C_{t-1}, but the hidden-state equation of Section 2.1 uses the new cell: "
         "h_t = o_t ⊙ tanh(C_t).",
         lambda: notes_lstm_step(x_t, h_prev, c_prev, W, b, h_from="c_prev")),
    ]
    swapped = lambda: notes_lstm_step(x_t, h_prev, c_prev, W, b)[::-1]  # noqa: E731
    out.append(("you return (c_t, h_t); the exercise asks for the pair in the order (h_t, c_t).", swapped))
    return out


@register("lstm-step", exercise="ex-lstm-gates-step", function="lstm_step",
          summary="one LSTM step in the notes' form against scratch.lstm_step_forward, on 5 shapes; "
                  "names mixed-up gates, the concatenation order and the tanh of the output")
def check_lstm_step(student_fn) -> str:
    rng = np.random.default_rng(2024)
    worst = 0.0
    for N, D, H in SHAPES:
        x_t = rng.standard_normal((N, D))
        h_prev = rng.uniform(-1, 1, (N, H))
        c_prev = rng.standard_normal((N, H))
        W = {k: rng.standard_normal((H, H + D)) for k in NOTES_LSTM}
        b = {k: rng.standard_normal(H) for k in NOTES_LSTM}
        (h_ref, c_ref), _ = scratch.lstm_step_forward(x_t, (h_prev, c_prev), scratch.params_from_concat(W, b, "lstm"))
        where = f"with N = {N}, D = {D}, H = {H}"
        args = (x_t.copy(), h_prev.copy(), c_prev.copy(), {k: v.copy() for k, v in W.items()},
                {k: v.copy() for k, v in b.items()})
        result = call(student_fn, args, name="lstm_step", where=where)
        if not (isinstance(result, tuple) and len(result) == 2):
            fail(f"lstm_step should return the pair (h_t, c_t); it returned {type(result).__name__}.")
        got = (as_array(result[0], "h_t", where), as_array(result[1], "c_t", where))
        for name, value in zip(("h_t", "c_t"), got):
            same_shape(value, (N, H), name, where, "(N, H)")
        errors = {"h_t": max_error(got[0], h_ref), "c_t": max_error(got[1], c_ref)}
        if max(errors.values()) > TOL:
            known = diagnose(got, _lstm_mistakes(x_t, h_prev, c_prev, W, b), DIAGNOSE_TOL)
            if known:
                fail(f"{where}, {known}")
            if errors["c_t"] > TOL:
                fail(f"{where}, your c_t differs from the library's by up to {errors['c_t']:.1e}. Check the cell "
                     "update C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t, the sigmoids of f_t and i_t, and the tanh of C̃_t.")
            fail(f"{where}, c_t is right but h_t differs by up to {errors['h_t']:.1e}: look at "
                 "h_t = o_t ⊙ tanh(C_t) and the output gate o_t = σ(W_o [h_{t-1}, x_t] + b_o).")
        worst = max(worst, *errors.values())
    return (f"Well done: lstm_step agrees with scratch.lstm_step_forward on all {len(SHAPES)} shapes, "
            f"N, D and H = 1 included (max difference {worst:.1e}).")


# --------------------------------------------------------------------------- the cell path backwards in time

#: (N, T, D, H): T = 1 and H = 1 included; T = 40 makes a long product.
CELL_PATH_SIZES = [(2, 7, 3, 4), (1, 1, 2, 1), (3, 40, 2, 6), (1, 5, 1, 3)]


def _cell_path_mistakes(f):
    T, H = f.shape
    suffix = lambda k: np.prod(f[k:], axis=0)  # noqa: E731  the right answer for row k
    return [
        ("the rows are in reverse order: row k must be ∂C_T/∂C_k, so row 0 is the longest product "
         "(all T forget gates) and row T is all ones.", lambda: np.stack([suffix(T - k) for k in range(T + 1)])),
        ("row k holds the product of the first k forget gates, ∂C_k/∂C_0; the exercise asks for ∂C_T/∂C_k, "
         "the product of the gates *after* step k: f_{k+1} … f_T. Walk backwards from k = T.",
         lambda: np.stack([np.prod(f[:k], axis=0) for k in range(T + 1)])),
        ("each row is off by one step: row k should multiply f_{k+1} … f_T (rows k to T − 1 of f), "
         "not f_k … f_T. Row T − 1 is f_T alone.",
         lambda: np.stack([np.prod(f[max(k - 1, 0):], axis=0) if k else np.prod(f, axis=0) for k in range(T + 1)])),
        ("each row multiplies one forget gate too few: row k should multiply f_{k+1} … f_T, "
         "which is T − k gates.", lambda: np.stack([np.prod(f[k + 1:], axis=0) for k in range(T)] + [np.ones(H)])),
    ]


@register("lstm-cell-path", exercise="ex-lstm-memory-cell-path", function="cell_path_gradient",
          summary="∂C_T/∂C_k for k = 0 … T against the library's BPTT on LSTMs with W_hh = 0, on 4 sizes "
                  "(T = 1, T = 40, H = 1) and T = 0; names the time step where it goes wrong")
def check_cell_path_gradient(student_fn) -> str:
    rng = np.random.default_rng(2024)
    for N, T, D, H in CELL_PATH_SIZES:
        # With W_hh = 0 no gate depends on h_{t-1}: every route through h is cut, only the cell path is left.
        p = {"weight_ih": rng.standard_normal((4 * H, D)), "weight_hh": np.zeros((4 * H, H)),
             "bias_ih": rng.standard_normal(4 * H), "bias_hh": np.zeros(4 * H)}
        _, _, cache = scratch.lstm_forward(rng.standard_normal((N, T, D)), None, p)
        no_loss_on_h, one = np.zeros((N, T, H)), np.ones((N, H))
        _, delta_c = scratch.lstm_hidden_grads(no_loss_on_h, cache, d_c_T=one)  # ∂C_T/∂C_k for k = 1 … T
        dc0 = scratch.lstm_backward(no_loss_on_h, cache, d_c_T=one)["c0"]  # k = 0
        for n in range(N):
            f = cache.gates[n, :, H : 2 * H].copy()  # gates i, f, g, o: the forget gates, (T, H)
            before = f.copy()
            where = f"for forget gates f of shape (T, H) = {f.shape}"
            got = as_array(call(student_fn, (f,), name="cell_path_gradient", where=where), "the result", where)
            if not np.array_equal(f, before):
                fail(f"{where}, cell_path_gradient changed its argument f. Build a new array instead.")
            if got.shape == (T, H):
                fail(f"{where}, the result has T = {T} rows; it needs T + 1, for k = 0 … T. "
                     "The last row, k = T, is all ones: nothing left to multiply.")
            same_shape(got, (T + 1, H), "the result", where, "(T + 1, H)")
            expected = np.concatenate([dc0[n][None], delta_c[n]])
            bad = ~np.isclose(got, expected, rtol=1e-10, atol=0)
            if bad.any():
                known = diagnose(got, _cell_path_mistakes(f), 1e-9)
                k = int(np.flatnonzero(bad.any(axis=1))[-1])  # counting back from T, where it first goes wrong
                fail(f"{where}, " + (known or (
                    f"row k = {k} is the first wrong one, counting back from k = T = {T}: check it against "
                    f"∂C_T/∂C_k = f_(k+1) ⊙ … ⊙ f_T, one more forget gate than row k + 1.")))
    empty = call(student_fn, (np.ones((0, 3)),), name="cell_path_gradient", where="for T = 0 (f of shape (0, 3))")
    empty = as_array(empty, "the result", "for T = 0")
    if empty.shape != (1, 3) or not np.all(empty == 1):
        fail(f"for T = 0 (f of shape (0, 3)) the result has shape {empty.shape}; with nothing to multiply it is "
             "one row of ones, shape (1, 3).")
    return (f"Well done: cell_path_gradient agrees with the library's BPTT through the cell state on all "
            f"{len(CELL_PATH_SIZES)} LSTMs (T up to 40, H = 1 included). It also handles T = 0.")

