"""Checks of Chapter 3, *Gated recurrent units*: one step of the notes' GRU forward and backward (Section 3.1),
counting parameters (Section 3.2)."""

from __future__ import annotations

import itertools

import numpy as np

from rnnbook import scratch
from rnnbook.exercises._core import as_array, call, diagnose, fail, max_error, register, same_shape, sigmoid
from rnnbook.exercises.lstm import describe_permutation

SHAPES = [(4, 3, 5), (1, 3, 5), (4, 1, 5), (4, 3, 1), (1, 1, 1)]
TOL = 1e-12
DIAGNOSE_TOL = 1e-9
NOTES_GRU = ("z", "r", "h")
GATE_NAMES = {"z": "the update gate z_t", "r": "the reset gate r_t", "h": "the candidate h̃_t"}


def notes_gru_step(x_t, h_prev, W, b, *, concat_x_first=False, reset="before", update="notes"):
    """The notes' GRU step, written out, with switches that reproduce common mistakes."""
    H = h_prev.shape[1]
    cat = (lambda h, x: np.concatenate([x, h], axis=1)) if concat_x_first else (lambda h, x: np.concatenate([h, x], axis=1))
    hx = cat(h_prev, x_t)
    z_t = sigmoid(hx @ W["z"].T + b["z"])
    r_t = sigmoid(hx @ W["r"].T + b["r"])
    if reset == "before":  # the notes: W_h [r ⊙ h, x]
        h_tilde = np.tanh(cat(r_t * h_prev, x_t) @ W["h"].T + b["h"])
    elif reset == "after":  # PyTorch's placement: r ⊙ (W_hn h)
        W_hn, W_in = (W["h"][:, -H:], W["h"][:, :-H]) if concat_x_first else (W["h"][:, :H], W["h"][:, H:])
        h_tilde = np.tanh(x_t @ W_in.T + r_t * (h_prev @ W_hn.T) + b["h"])
    else:  # reset gate ignored
        h_tilde = np.tanh(hx @ W["h"].T + b["h"])
    if update == "notes":
        return (1 - z_t) * h_prev + z_t * h_tilde
    return z_t * h_prev + (1 - z_t) * h_tilde  # PyTorch's convention


def _gru_mistakes(x_t, h_prev, W, b):
    out = []
    for order in itertools.permutations(NOTES_GRU):
        perm = dict(zip(NOTES_GRU, order))
        if all(g == u for g, u in perm.items()):
            continue
        W_p, b_p = {g: W[u] for g, u in perm.items()}, {g: b[u] for g, u in perm.items()}
        out.append((f"the gates are mixed up: {describe_permutation(perm, GATE_NAMES)}. Each has its own key: "
                    "z for the update gate, r for the reset gate, h for the candidate.",
                    lambda W_p=W_p, b_p=b_p: notes_gru_step(x_t, h_prev, W_p, b_p)))
    out += [
        ("z_t weighs the previous state; in the notes' GRU it weighs the candidate: "
         "h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t (PyTorch uses the opposite convention).",
         lambda: notes_gru_step(x_t, h_prev, W, b, update="torch")),
        ("the reset gate multiplies W_h's product with h_{t-1}, as PyTorch does; in the notes it multiplies the "
         "state before the product: the candidate sees [r_t ⊙ h_{t-1}, x_t].",
         lambda: notes_gru_step(x_t, h_prev, W, b, reset="after")),
        ("the candidate does not use the reset gate: it must see [r_t ⊙ h_{t-1}, x_t], not [h_{t-1}, x_t].",
         lambda: notes_gru_step(x_t, h_prev, W, b, reset="none")),
        ("the concatenation is [x_t, h]; the notes' matrices act on [h, x_t], the state first.",
         lambda: notes_gru_step(x_t, h_prev, W, b, concat_x_first=True)),
    ]
    return out


@register("gru-step-seed", exercise="ex-gru-step-seed", function="gru_step_seed",
          summary="one step of the notes' GRU against scratch.gru_step_forward(variant='seed'), on 5 shapes; "
                  "names mixed-up gates, the update convention and the reset placement")
def check_gru_step_seed(student_fn) -> str:
    rng = np.random.default_rng(2024)
    worst = 0.0
    for N, D, H in SHAPES:
        x_t = rng.standard_normal((N, D))
        h_prev = rng.uniform(-1, 1, (N, H))
        W = {g: rng.standard_normal((H, H + D)) for g in NOTES_GRU}
        b = {g: rng.standard_normal(H) for g in NOTES_GRU}
        expected, _ = scratch.gru_step_forward(x_t, h_prev, scratch.params_from_concat(W, b, "gru"), variant="seed")
        where = f"with N = {N}, D = {D}, H = {H}"
        args = (x_t.copy(), h_prev.copy(), {k: v.copy() for k, v in W.items()}, {k: v.copy() for k, v in b.items()})
        got = as_array(call(student_fn, args, name="gru_step_seed", where=where), "h_t", where)
        same_shape(got, expected.shape, "h_t", where, "(N, H)")
        error = max_error(got, expected)
        if not error <= TOL:
            known = diagnose(got, _gru_mistakes(x_t, h_prev, W, b), DIAGNOSE_TOL)
            fail(f"{where}, your h_t is wrong: " + (known or (
                f"it differs from the notes' GRU by up to {error:.1e}. Check the order [h, x] in both "
                "concatenations, that the candidate sees r_t ⊙ h_prev, and that z_t weighs the candidate.")))
        worst = max(worst, error)
    return (f"Well done: gru_step_seed agrees with scratch.gru_step_forward(variant='seed') on all {len(SHAPES)} "
            f"shapes, N, D and H = 1 included (max difference {worst:.1e}).")


# --------------------------------------------------------------------------- one step backward (notes' GRU)

GRADIENT_HINTS = {  # what each gradient is, and a question that leads to it (not the answer)
    "W['z']": "the update gate's weights: how does h_t change with z_t, and what is σ' at z_t?",
    "W['r']": "the reset gate's weights: r_t reaches h_t only through the candidate, via r_t ⊙ h_{t-1}.",
    "W['h']": "the candidate's weights: W_h multiplies [r_t ⊙ h_{t-1}, x_t], not [h_{t-1}, x_t].",
    "b['z']": "the update gate's bias: the pre-activation gradient, summed over the batch.",
    "b['r']": "the reset gate's bias: the pre-activation gradient, summed over the batch.",
    "b['h']": "the candidate's bias: the pre-activation gradient, summed over the batch.",
    "x_t": "x_t enters all three pre-activations: add the three routes.",
    "h_prev": "h_{t-1} reaches h_t four ways: directly through (1 − z_t), through z_t, through r_t, and through "
              "the candidate's r_t ⊙ h_{t-1}.",
}


def _seed_backward_routes(dh_t, x_t, h_prev, W, b):
    """The notes' GRU step backward, written out; the gradient of h_prev also route by route."""
    H = h_prev.shape[1]
    hx = np.concatenate([h_prev, x_t], axis=1)
    z_t, r_t = sigmoid(hx @ W["z"].T + b["z"]), sigmoid(hx @ W["r"].T + b["r"])
    rhx = np.concatenate([r_t * h_prev, x_t], axis=1)
    h_tilde = np.tanh(rhx @ W["h"].T + b["h"])
    da_h = dh_t * z_t * (1 - h_tilde**2)
    da_z = dh_t * (h_tilde - h_prev) * z_t * (1 - z_t)
    d_rhx = da_h @ W["h"]
    da_r = d_rhx[:, :H] * h_prev * r_t * (1 - r_t)
    routes = {"direct": dh_t * (1 - z_t), "through z_t": (da_z @ W["z"])[:, :H],
              "through r_t": (da_r @ W["r"])[:, :H], "through the candidate": d_rhx[:, :H] * r_t}
    return {"da": {"z": da_z, "r": da_r, "h": da_h}, "hx": hx, "rhx": rhx, "routes": routes}


def _reference_seed_backward(dh_t, x_t, h_prev, W, b) -> dict[str, np.ndarray]:
    """scratch.gru_step_backward(variant="seed"), its gradients put back in the notes' form, flat."""
    H = h_prev.shape[1]
    _, cache = scratch.gru_step_forward(x_t, h_prev, scratch.params_from_concat(W, b, "gru"), variant="seed")
    g = scratch.gru_step_backward(dh_t, cache)
    rows = {"z": slice(H, 2 * H), "r": slice(0, H), "h": slice(2 * H, 3 * H)}  # PyTorch stacks r, z, n
    out = {}
    for gate, rows_g in rows.items():
        out[f"W[{gate!r}]"] = np.concatenate([g["weight_hh"][rows_g], g["weight_ih"][rows_g]], axis=1)
        out[f"b[{gate!r}]"] = g["bias_ih"][rows_g]  # the notes' single bias sits in bias_ih
    out["x_t"], out["h_prev"] = g["x"], g["h_prev"]
    return out


def _flatten_student(result, where) -> dict[str, np.ndarray]:
    if not isinstance(result, dict) or set(result) != {"W", "b", "x_t", "h_prev"}:
        got = sorted(result) if isinstance(result, dict) else type(result).__name__
        fail(f"{where}, gru_step_backward_seed should return a dict with the keys 'W', 'b', 'x_t' and 'h_prev'; "
             f"got {got}.")
    out = {}
    for group in ("W", "b"):
        if not isinstance(result[group], dict) or set(result[group]) != set(NOTES_GRU):
            got = sorted(result[group]) if isinstance(result[group], dict) else type(result[group]).__name__
            fail(f"{where}, result[{group!r}] should be a dict over the gates 'z', 'r', 'h', like the argument "
                 f"{group}; got {got}.")
        for gate in NOTES_GRU:
            out[f"{group}[{gate!r}]"] = as_array(result[group][gate], f"the gradient of {group}[{gate!r}]", where)
    out["x_t"] = as_array(result["x_t"], "the gradient of x_t", where)
    out["h_prev"] = as_array(result["h_prev"], "the gradient of h_prev", where)
    return out


@register("gru-step-backward-seed", exercise="ex-gru-step-backward", function="gru_step_backward_seed",
          summary="the gradients of one step of the notes' GRU against scratch.gru_step_backward(variant='seed'), "
                  "on 5 shapes; names each gradient that is off, and the missing route into h_{t-1}")
def check_gru_step_backward_seed(student_fn) -> str:
    rng = np.random.default_rng(2024)
    worst = 0.0
    for N, D, H in SHAPES:
        x_t, h_prev, dh_t = rng.standard_normal((N, D)), rng.uniform(-1, 1, (N, H)), rng.standard_normal((N, H))
        W = {g: rng.standard_normal((H, H + D)) for g in NOTES_GRU}
        b = {g: rng.standard_normal(H) for g in NOTES_GRU}
        where = f"with N = {N}, D = {D}, H = {H}"
        args = (dh_t.copy(), x_t.copy(), h_prev.copy(), {k: v.copy() for k, v in W.items()},
                {k: v.copy() for k, v in b.items()})
        got = _flatten_student(call(student_fn, args, name="gru_step_backward_seed", where=where), where)
        expected = _reference_seed_backward(dh_t, x_t, h_prev, W, b)
        problems = {}  # gradient name → what is wrong with it
        for name, want in expected.items():
            value = got[name]
            if value.shape != want.shape:
                if value.shape == want.shape[::-1] and want.ndim == 2:
                    problems[name] = (f"the gradient of {name} is transposed: it must have the shape of {name}, "
                                      f"{want.shape} (with rows as examples, dW = da.T @ inputs)")
                elif name.startswith("b[") and value.shape == (N, H):
                    problems[name] = (f"the gradient of {name} is not summed over the batch: shape {value.shape}, "
                                      f"should be {want.shape}")
                else:
                    problems[name] = f"the gradient of {name} has shape {value.shape}; it should be {want.shape}"
            elif max_error(value, want) > TOL:
                other = next((o for o in expected if o != name and expected[o].shape == want.shape
                              and max_error(value, expected[o]) <= TOL), None)
                if other:
                    problems[name] = f"what you return as the gradient of {name} is the gradient of {other}"
                elif name == "h_prev":
                    routes = _seed_backward_routes(dh_t, x_t, h_prev, W, b)["routes"]
                    missing = [r for r in routes if max_error(value, want - routes[r]) <= DIAGNOSE_TOL]
                    problems[name] = (f"the gradient of h_prev is off: {GRADIENT_HINTS['h_prev']}"
                                      + (f" You left out the route {missing[0]}" if missing else ""))
                else:
                    problems[name] = f"the gradient of {name} is off: {GRADIENT_HINTS[name]}"
            else:
                worst = max(worst, max_error(value, want))
        if problems:
            right = [n for n in expected if n not in problems]
            text = "; ".join(p.rstrip(".") for p in problems.values())
            fail(f"{where}, {text}." + (f" (Right: {', '.join(right)}.)" if right else ""))
    return (f"Well done: all eight gradients of gru_step_backward_seed agree with scratch.gru_step_backward"
            f"(variant='seed') on all {len(SHAPES)} shapes, N, D and H = 1 included (max difference {worst:.1e}).")


# --------------------------------------------------------------------------- parameter count

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _count(cell, D, H, num_layers, bidirectional, *, biases=2, gates=None, upper_input="directions*H", per_direction=True):
    G = GATES[cell] if gates is None else gates
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        D_l = D if layer == 0 else {"directions*H": directions * H, "H": H, "D": D}[upper_input]
        total += (directions if per_direction else 1) * G * (H * D_l + H * H + biases * H)
    return total


def _n_params_mistakes(cell, D, H, L, bi):
    return [
        ("you count one bias vector per gate; PyTorch's layers have two, bias_ih and bias_hh.",
         lambda: _count(cell, D, H, L, bi, biases=1)),
        ("the bias vectors are missing from your count (PyTorch has bias_ih and bias_hh).",
         lambda: _count(cell, D, H, L, bi, biases=0)),
        ("the layers above the first read the outputs of the layer below, which are H wide per direction "
         "(2H when bidirectional), not D wide.", lambda: _count(cell, D, H, L, bi, upper_input="D")),
        ("a bidirectional layer below makes the next layer's input 2H wide (both directions concatenated), not H.",
         lambda: _count(cell, D, H, L, bi, upper_input="H")),
        ("a bidirectional layer has its own parameters for each of the two directions.",
         lambda: _count(cell, D, H, L, bi, per_direction=False)),
    ] + [(f"the number of gates G is off for {cell!r}: G = 1 for the RNN, 4 for the LSTM, 3 for the GRU.",
          lambda g=g: _count(cell, D, H, L, bi, gates=g)) for g in (1, 3, 4) if g != GATES[cell]]


@register("n-params", exercise="ex-compare-n-params", function="n_params",
          summary="the parameter count of nn.RNN/LSTM/GRU, stacked and bidirectional, against PyTorch's modules "
                  "on 26 configurations, D = H = 1 included")
def check_n_params(student_fn) -> str:
    from torch import nn  # only this check needs torch

    rng = np.random.default_rng(7)
    layers = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
    cases = [(cell, 1, 1, 1, False) for cell in layers]  # the smallest possible layers
    cases += [(cell, 1, 1, 3, True) for cell in layers]
    cases += [(str(rng.choice(list(layers))), int(rng.integers(1, 40)), int(rng.integers(1, 40)),
               int(rng.integers(1, 4)), bool(rng.integers(0, 2))) for _ in range(20)]
    for cell, D, H, L, bi in cases:
        where = f"for cell = {cell!r}, D = {D}, H = {H}, num_layers = {L}, bidirectional = {bi}"
        got = call(student_fn, (cell, D, H, L, bi), name="n_params", where=where)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            fail(f"{where}, n_params returned {type(got).__name__}; return the count as an int.")
        expected = sum(q.numel() for q in layers[cell](D, H, num_layers=L, bidirectional=bi).parameters())
        if got != expected:
            # A scalar can match a wrong formula by chance: a mistake is named only if it also explains
            # the student's counts on a few more configurations of the same cell.
            probes = [(cell, D, H, L, bi), (cell, 3, 5, 1, False), (cell, 3, 5, 2, True), (cell, 2, 7, 3, False)]
            answers = tuple(call(student_fn, probe, name="n_params", where=where) for probe in probes)
            texts = [text for text, _ in _n_params_mistakes(*probes[0])]
            known = diagnose(answers, [
                (text, lambda k=k: tuple(_n_params_mistakes(*probe)[k][1]() for probe in probes))
                for k, text in enumerate(texts)
            ], 0)
            fail(f"{where}, your count {got} does not match PyTorch's module: " + (known or (
                "count, for each layer and each direction, G (H D_layer + H² + 2H) with D_layer = D in the first "
                "layer and the width of the layer below's output after that.")))
    return f"Well done: n_params agrees with PyTorch on all {len(cases)} configurations, including D = H = 1."
