"""Checks of Section 6.1, *From the GRU to minGRU, from the LSTM to minLSTM*: minGRU and minLSTM over a
sequence, written as a loop over t."""

from __future__ import annotations

import numpy as np

from rnnbook import scratch
from rnnbook.exercises._core import as_array, call, diagnose, fail, max_error, register, same_shape, sigmoid

#: (N, T, D, H): the smallest case first, then one of each size 1, then ordinary ones.
SHAPES = [(1, 1, 1, 1), (3, 5, 4, 6), (1, 7, 2, 3), (4, 1, 3, 2), (2, 6, 1, 5), (5, 4, 3, 1)]
TOL = 1e-12
DIAGNOSE_TOL = 1e-9


def _loop(x, h0, step):
    """``h_t = step(t, h_{t-1})`` for t = 1 … T; returns ``(out (N, T, H), h_T)``, as the exercises ask."""
    h, states = h0, []
    for t in range(x.shape[1]):
        h = step(t, h)
        states.append(h)
    return np.stack(states, axis=1), h


def mingru_variant(x, h0, p, *, update="notes", tanh=False, use_h0=True, swap_params=False, sigmoid_z=True):
    """minGRU written out, with switches that reproduce common mistakes (the defaults give the right answer)."""
    W_z, b_z, W_h, b_h = (p[k] for k in ("weight_z", "bias_z", "weight_h", "bias_h"))
    if swap_params:
        W_z, b_z, W_h, b_h = W_h, b_h, W_z, b_z
    u_z = x @ W_z.T + b_z
    z = sigmoid(u_z) if sigmoid_z else u_z
    h_tilde = x @ W_h.T + b_h
    if tanh:
        h_tilde = np.tanh(h_tilde)
    h0 = h0 if use_h0 else np.zeros_like(h0)
    if update == "notes":
        return _loop(x, h0, lambda t, h: (1 - z[:, t]) * h + z[:, t] * h_tilde[:, t])
    return _loop(x, h0, lambda t, h: z[:, t] * h + (1 - z[:, t]) * h_tilde[:, t])  # PyTorch's GRU convention


def minlstm_variant(x, h0, p, *, norm="both", tanh=False, use_h0=True, swap_gates=False):
    """minLSTM written out, with switches that reproduce common mistakes (the defaults give the right answer)."""
    f = sigmoid(x @ p["weight_f"].T + p["bias_f"])
    i = sigmoid(x @ p["weight_i"].T + p["bias_i"])
    if swap_gates:
        f, i = i, f
    h_tilde = x @ p["weight_h"].T + p["bias_h"]
    if tanh:
        h_tilde = np.tanh(h_tilde)
    if norm == "both":
        f_n, i_n = f / (f + i), i / (f + i)
    elif norm == "none":
        f_n, i_n = f, i
    elif norm == "f only":
        f_n, i_n = f / (f + i), i
    elif norm == "i only":
        f_n, i_n = f, i / (f + i)
    elif norm == "by f":  # divided by f_t instead of f_t + i_t
        f_n, i_n = np.ones_like(f), i / f
    else:  # norm == "one minus": i' = 1 − f, as in the GRU, the input gate unused
        f_n, i_n = f, 1 - f
    h0 = h0 if use_h0 else np.zeros_like(h0)
    return _loop(x, h0, lambda t, h: f_n[:, t] * h + i_n[:, t] * h_tilde[:, t])


def _random_case(rng, N, T, D, H, keys):
    x = rng.standard_normal((N, T, D))
    h0 = rng.uniform(-1, 1, (N, H))
    p = {k: (rng.standard_normal((H, D)) if k.startswith("weight") else rng.standard_normal(H)) for k in keys}
    return x, h0, p


def _unpack(result, name, where, shapes):
    """The student's ``(out, h_T)`` as two float arrays of the right shapes, or a failure that says why."""
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"{where}, {name} must return a tuple (out, h_T) of two arrays; got {type(result).__name__}"
             + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    out = as_array(result[0], "out", where)
    h_T = as_array(result[1], "h_T", where)
    same_shape(out, shapes[0], "out", where, "(N, T, H)")
    same_shape(h_T, shapes[1], "h_T", where, "(N, H)")
    return out, h_T


def _run_check(student_fn, *, name, keys, reference, mistakes, hint, seed):
    rng = np.random.default_rng(seed)
    worst = 0.0
    for N, T, D, H in SHAPES:
        x, h0, p = _random_case(rng, N, T, D, H, keys)
        expected_out, expected_h_T, _ = reference(x, h0, p)
        where = f"with N = {N}, T = {T}, D = {D}, H = {H}"
        args = (x.copy(), h0.copy(), {k: v.copy() for k, v in p.items()})
        out, h_T = _unpack(call(student_fn, args, name=name, where=where), name, where,
                           (expected_out.shape, expected_h_T.shape))
        error = max_error(out, expected_out)
        if not error <= TOL:
            known = diagnose(out, [(text, lambda c=compute: c(x, h0, p)[0]) for text, compute in mistakes],
                             DIAGNOSE_TOL)
            fail(f"{where}, your states out are wrong: " + (known or (
                f"they differ from the library's by up to {error:.1e}. {hint}")))
        if not max_error(h_T, expected_out[:, -1]) <= TOL:
            first = max_error(h_T, expected_out[:, 0]) <= TOL and T > 1
            fail(f"{where}, your states out are right but h_T is not the last of them"
                 + (": you return the first state, out[:, 0]." if first else ": return out[:, -1].")
                 + " h_T is the state after the last step, of shape (N, H).")
        worst = max(worst, error, max_error(h_T, expected_h_T))
    return worst


MINGRU_MISTAKES = [
    ("z_t weighs the previous state. In minGRU, as in the notes' GRU, it weighs the candidate: "
     "h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t (PyTorch's nn.GRU uses the opposite convention).",
     lambda x, h0, p: mingru_variant(x, h0, p, update="torch")),
    ("the candidate still has a tanh. minGRU drops it: the candidate is the affine map h̃_t = W_h x_t + b_h.",
     lambda x, h0, p: mingru_variant(x, h0, p, tanh=True)),
    ("h0 is ignored: the first step must start from the given h0, h_1 = (1 − z_1) ⊙ h0 + z_1 ⊙ h̃_1, not from zeros.",
     lambda x, h0, p: mingru_variant(x, h0, p, use_h0=False)),
    ("the gate and the candidate have each other's parameters: z_t uses weight_z and bias_z, the candidate "
     "weight_h and bias_h.", lambda x, h0, p: mingru_variant(x, h0, p, swap_params=True)),
    ("the update gate has no sigmoid: z_t = σ(W_z x_t + b_z), a number between 0 and 1.",
     lambda x, h0, p: mingru_variant(x, h0, p, sigmoid_z=False)),
    ("z_t weighs the previous state and the candidate keeps a tanh: that is nearly PyTorch's GRU without the "
     "state in the gates. Use h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t with h̃_t = W_h x_t + b_h.",
     lambda x, h0, p: mingru_variant(x, h0, p, update="torch", tanh=True)),
]

MINLSTM_MISTAKES = [
    ("the gates are not normalised: h_t uses f_t and i_t as they are. Divide both by their sum: "
     "f'_t = f_t / (f_t + i_t) and i'_t = i_t / (f_t + i_t).",
     lambda x, h0, p: minlstm_variant(x, h0, p, norm="none")),
    ("only the forget gate is normalised: the input gate must be divided by f_t + i_t too, so that the two "
     "weights add up to 1.", lambda x, h0, p: minlstm_variant(x, h0, p, norm="f only")),
    ("only the input gate is normalised: the forget gate must be divided by f_t + i_t too, so that the two "
     "weights add up to 1.", lambda x, h0, p: minlstm_variant(x, h0, p, norm="i only")),
    ("the gates are divided by f_t alone; the normaliser is their sum, f_t + i_t.",
     lambda x, h0, p: minlstm_variant(x, h0, p, norm="by f")),
    ("the input gate is taken as 1 − f_t, as in a GRU. minLSTM keeps its own input gate i_t = σ(W_i x_t + b_i) "
     "and divides both gates by f_t + i_t.", lambda x, h0, p: minlstm_variant(x, h0, p, norm="one minus")),
    ("the forget and input gates are swapped: f'_t weighs the previous state h_{t-1}, i'_t the candidate.",
     lambda x, h0, p: minlstm_variant(x, h0, p, swap_gates=True)),
    ("the candidate still has a tanh. minLSTM drops it: the candidate is the affine map h̃_t = W_h x_t + b_h.",
     lambda x, h0, p: minlstm_variant(x, h0, p, tanh=True)),
    ("h0 is ignored: the first step must start from the given h0, h_1 = f'_1 ⊙ h0 + i'_1 ⊙ h̃_1, not from zeros.",
     lambda x, h0, p: minlstm_variant(x, h0, p, use_h0=False)),
]


@register("mingru-forward", exercise="ex-mingru-forward", function="mingru_forward",
          summary="minGRU over a sequence, a loop over t, against scratch.mingru_forward on 6 shapes, "
                  "N = T = D = H = 1 included; names z and 1 − z swapped, a tanh on the candidate, h0 ignored")
def check_mingru_forward(student_fn) -> str:
    worst = _run_check(
        student_fn, name="mingru_forward", keys=scratch.min_cells.MIN_PARAM_KEYS["mingru"],
        reference=scratch.mingru_forward, mistakes=MINGRU_MISTAKES, seed=2024,
        hint="Check the three lines: z_t = σ(W_z x_t + b_z), h̃_t = W_h x_t + b_h (no tanh), and "
             "h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t, starting from h0. With rows as examples, W x_t is x_t @ W.T.")
    return (f"Well done: mingru_forward agrees with scratch.mingru_forward on all {len(SHAPES)} shapes, "
            f"N = T = D = H = 1 included (max difference {worst:.1e}).")


@register("minlstm-forward", exercise="ex-minlstm-forward", function="minlstm_forward",
          summary="minLSTM over a sequence, a loop over t, against scratch.minlstm_forward on 6 shapes, "
                  "N = T = D = H = 1 included; names gates not normalised or normalised by the wrong sum, "
                  "swapped gates, a tanh on the candidate, h0 ignored")
def check_minlstm_forward(student_fn) -> str:
    worst = _run_check(
        student_fn, name="minlstm_forward", keys=scratch.min_cells.MIN_PARAM_KEYS["minlstm"],
        reference=scratch.minlstm_forward, mistakes=MINLSTM_MISTAKES, seed=2025,
        hint="Check the five lines: f_t and i_t are sigmoids of W x_t + b, h̃_t = W_h x_t + b_h (no tanh), "
             "f'_t = f_t / (f_t + i_t), i'_t = i_t / (f_t + i_t), and h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t, "
             "starting from h0.")
    return (f"Well done: minlstm_forward agrees with scratch.minlstm_forward on all {len(SHAPES)} shapes, "
            f"N = T = D = H = 1 included (max difference {worst:.1e}).")
