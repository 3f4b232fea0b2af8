"""Checks of Chapter 1, *Recurrent networks*: one RNN step (Section 1.1), clipping by the global norm (Section 1.2)."""

from __future__ import annotations

import numpy as np

from rnnbook import scratch
from rnnbook.exercises._core import as_array, call, diagnose, fail, max_error, register, same_shape

#: (N, D, H): a square case first (D = H, so a missing transpose gives numbers to diagnose rather
#: than a shape error), then edge sizes 1 in every position.
STEP_SHAPES = [(3, 4, 4), (4, 3, 5), (1, 3, 5), (4, 1, 5), (4, 3, 1), (1, 1, 1)]
TOL = 1e-12  # float64: the same formula in another order differs by a few 1e-16
DIAGNOSE_TOL = 1e-9


def _rnn_step_ref(x_t, h_prev, W_xh, W_hh, b_h, act=np.tanh):
    return act(h_prev @ W_hh.T + x_t @ W_xh.T + b_h)


def _rnn_step_mistakes(x_t, h_prev, W_xh, W_hh, b_h):
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    return [
        ("W_hh is used without its transpose. With one example per row, W_hh h_{t-1} is h_prev @ W_hh.T.",
         lambda: np.tanh(h_prev @ W_hh + x_t @ W_xh.T + b_h)),
        ("W_xh is used without its transpose. With one example per row, W_xh x_t is x_t @ W_xh.T.",
         lambda: np.tanh(h_prev @ W_hh.T + x_t @ W_xh + b_h)),
        ("neither W_xh nor W_hh is transposed. With one example per row, W v is v @ W.T.",
         lambda: np.tanh(h_prev @ W_hh + x_t @ W_xh + b_h)),
        ("W_xh and W_hh have swapped places: W_hh multiplies the previous state h_prev, W_xh the input x_t.",
         lambda: np.tanh(h_prev @ W_xh.T + x_t @ W_hh.T + b_h)),
        ("the bias b_h is missing from the pre-activation.", lambda: np.tanh(h_prev @ W_hh.T + x_t @ W_xh.T)),
        ("the tanh is missing: h_t is the tanh of the pre-activation, not the pre-activation itself.",
         lambda: h_prev @ W_hh.T + x_t @ W_xh.T + b_h),
        ("you use a sigmoid, but the recurrence of Section 1.1 uses tanh.", lambda: _rnn_step_ref(x_t, h_prev, W_xh, W_hh, b_h, sig)),
        ("the previous state h_prev is not used: h_t depends on h_{t-1} through W_hh.",
         lambda: np.tanh(x_t @ W_xh.T + b_h)),
    ]


@register("rnn-step", exercise="ex-rnn-step-numpy", function="rnn_step",
          summary="one step of the recurrence of Section 1.1 against scratch.rnn_step_forward, on 6 shapes "
                  "including N, D, H = 1")
def check_rnn_step(student_fn) -> str:
    rng = np.random.default_rng(2024)
    worst = 0.0
    for N, D, H in STEP_SHAPES:
        x_t = rng.standard_normal((N, D))
        h_prev = rng.uniform(-1, 1, (N, H))
        W_xh, W_hh, b_h = rng.standard_normal((H, D)), rng.standard_normal((H, H)), rng.standard_normal(H)
        p = {"weight_ih": W_xh, "weight_hh": W_hh, "bias_ih": b_h, "bias_hh": np.zeros(H)}
        expected, _ = scratch.rnn_step_forward(x_t, h_prev, p)
        where = f"with N = {N}, D = {D}, H = {H}"
        got = as_array(call(student_fn, (x_t.copy(), h_prev.copy(), W_xh.copy(), W_hh.copy(), b_h.copy()),
                            name="rnn_step", where=where), "h_t", where)
        same_shape(got, expected.shape, "h_t", where, "(N, H)")
        error = max_error(got, expected)
        if not error <= TOL:
            known = diagnose(got, _rnn_step_mistakes(x_t, h_prev, W_xh, W_hh, b_h), DIAGNOSE_TOL)
            fail(f"{where}, your h_t is wrong: " + (known or (
                f"it differs from the recurrence of Section 1.1 by up to {error:.1e}. Check that each product has its transpose "
                "(W v is v @ W.T with rows as examples), that the bias is added once, and that tanh comes last.")))
        worst = max(worst, error)
    return (f"Well done: rnn_step agrees with scratch.rnn_step_forward on all {len(STEP_SHAPES)} shapes, "
            f"N, D and H = 1 included (max difference {worst:.1e}).")


# --------------------------------------------------------------------------- clipping

#: (shapes of the arrays, scale of the entries, max_norm)
CLIP_CASES = [
    ([(5, 4), (5, 5), (5,), (5,)], 3.0, 1.0),  # well above the threshold
    ([(5, 4), (5, 5), (5,), (5,)], 0.01, 1.0),  # below the threshold: nothing to clip
    ([(1,), (2, 3, 4), (1, 1)], 10.0, 5.0),  # odd shapes
    ([(7,)], 1.0, 0.5),  # a single array
]


def _clip_mistakes(grads, max_norm, eps=1e-6):
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in grads.items()}
    norms = {k: float(np.sqrt(np.sum(v**2))) for k, v in arrays.items()}
    total = float(np.sqrt(sum(n**2 for n in norms.values())))
    scaled = lambda coef: {k: v * coef for k, v in arrays.items()}  # noqa: E731
    return [
        ("each array is clipped by its own norm. The clipping rule of Section 1.2 uses one norm for all arrays together, "
         "‖g‖ = sqrt(sum of the squares of every entry of every array), and one coefficient for all of them.",
         lambda: ({k: v * min(1.0, max_norm / (norms[k] + eps)) for k, v in arrays.items()}, total)),
        ("the gradients are scaled up when their norm is below max_norm. The coefficient is min(1, c / (‖g‖ + ε)): "
         "clipping only ever shrinks.", lambda: (scaled(max_norm / (total + eps)), total)),
        ("ε is missing: the coefficient is c / (‖g‖ + ε) with ε = eps, as in PyTorch.",
         lambda: (scaled(min(1.0, max_norm / total)), total)),
        ("the global norm adds up the norms of the arrays. It is the square root of the sum of the squares of "
         "all entries, as if all arrays were one long vector.",
         lambda: (scaled(min(1.0, max_norm / (sum(norms.values()) + eps))), sum(norms.values()))),
        ("the norm is missing its square root: ‖g‖ = sqrt(Σ g_i²).",
         lambda: (scaled(min(1.0, max_norm / (total**2 + eps))), total**2)),
    ]


@register("clip-grad-norm", exercise="ex-bptt-clip", function="clip_by_global_norm",
          summary="the clipping rule of Section 1.2 against scratch.clip_grad_norm on 4 dicts of arrays, "
                  "one below the threshold")
def check_clip_by_global_norm(student_fn) -> str:
    rng = np.random.default_rng(2024)
    for shapes, scale, max_norm in CLIP_CASES:
        grads = {f"g{i}": scale * rng.standard_normal(s) for i, s in enumerate(shapes)}
        before = {name: g.copy() for name, g in grads.items()}
        where = f"for arrays of shapes {shapes} and max_norm = {max_norm}"
        result = call(student_fn, (grads, max_norm), name="clip_by_global_norm", where=where)
        if not (isinstance(result, tuple) and len(result) == 2):
            fail(f"{where}, clip_by_global_norm should return a pair (clipped dict, norm before clipping); "
                 f"it returned {type(result).__name__}.")
        clipped, norm = result
        if not all(np.array_equal(grads[n], before[n]) for n in before) or set(grads) != set(before):
            fail(f"{where}, clip_by_global_norm changed the dict it was given. Build a new dict "
                 "(e.g. {name: g * coef for name, g in grads.items()}) and leave the input alone.")
        if not isinstance(clipped, dict) or set(clipped) != set(grads):
            got = sorted(clipped) if isinstance(clipped, dict) else type(clipped).__name__
            fail(f"{where}, the clipped gradients must be a dict with the same keys {sorted(grads)}; got {got}.")
        for name in grads:
            same_shape(np.asarray(clipped[name]), grads[name].shape, f"clipped[{name!r}]", where, "(as the input)")
        ref, ref_norm = scratch.clip_grad_norm(grads, max_norm)
        try:
            norm_ok = abs(float(norm) - ref_norm) <= 1e-12 * max(1.0, ref_norm)
        except (TypeError, ValueError):
            fail(f"{where}, the second value returned should be the norm, a float; got {type(norm).__name__}.")
        arrays_ok = all(np.allclose(np.asarray(clipped[n], dtype=np.float64), ref[n], rtol=1e-12, atol=1e-15) for n in ref)
        if not (norm_ok and arrays_ok):
            known = diagnose((tuple(np.asarray(clipped[n], dtype=np.float64) for n in sorted(grads)), float(norm)),
                             [(text, lambda c=compute: (tuple(c()[0][n] for n in sorted(grads)), c()[1]))
                              for text, compute in _clip_mistakes(grads, max_norm)], 1e-10)
            if known:
                fail(f"{where}: {known}")
            if arrays_ok:
                fail(f"{where}, the clipped arrays are right but the norm you return is not ‖g‖ before clipping, "
                     "the norm of all arrays together.")
            fail(f"{where}, the clipped gradients differ from the clipping rule of Section 1.2. Compute one global norm "
                 "over all arrays, "
                 "then multiply every array by the same min(1, max_norm / (norm + eps)).")
    return (f"Well done: clip_by_global_norm agrees with the clipping rule of Section 1.2 on all {len(CLIP_CASES)} "
            "cases, including one below the threshold. It does not change its input.")
