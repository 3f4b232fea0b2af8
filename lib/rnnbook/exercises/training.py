"""Checks of Chapter 4, *Training*: inverted dropout (Section 4.1), the stable binary cross-entropy from logits (Section 4.2)."""

from __future__ import annotations

import numpy as np

from rnnbook import scratch
from rnnbook.exercises._core import call, fail, register

#: (shape of h, drop probability p)
DROPOUT_CASES = [((4, 7), 0.3), ((1,), 0.5), ((2, 3, 5), 0.9), ((200_000,), 0.3), ((3000,), 0.0), ((50, 40), 0.75)]


@register("inverted-dropout", exercise="ex-dropout-inverted", function="inverted_dropout",
          summary="inverted dropout (Section 4.1) on 6 shapes and rates × 2 dtypes: scaling, keep rate (binomial test), "
                  "mask from rng, input untouched, agreement with scratch.dropout_forward")
def check_inverted_dropout(student_fn) -> str:
    rng = np.random.default_rng(2024)
    worst_ulps, worst_z = 0.0, 0.0
    for shape, p in DROPOUT_CASES:
        for dtype in (np.float64, np.float32):
            h = rng.standard_normal(shape).astype(dtype)
            h[h == 0] = 1  # no exact zeros: a dropped unit must be recognisable
            before = h.copy()
            where = f"for h of shape {shape} and dtype {np.dtype(dtype).name}, p = {p}"
            result = call(student_fn, (h, p, np.random.default_rng(7)), name="inverted_dropout", where=where)
            if not (isinstance(result, tuple) and len(result) == 2):
                fail(f"inverted_dropout must return a pair (out, mask); it returned {type(result).__name__}.")
            out, mask = np.asarray(result[0]), np.asarray(result[1])
            if not np.array_equal(h, before):
                fail(f"{where}, inverted_dropout modified its input h. Compute a new array (h * …) instead of "
                     "assigning into h.")
            if out.shape != h.shape or mask.shape != h.shape:
                fail(f"{where}, out and mask must have the shape of h, {h.shape}; got {out.shape} and {mask.shape}.")
            if out.dtype != h.dtype:
                fail(f"{where}, out must keep the dtype of h, {h.dtype}; got {out.dtype}. Convert the mask to "
                     "h.dtype before multiplying (a float64 factor turns float32 into float64).")
            if not np.all((mask == 0) | (mask == 1)):
                scaled = p > 0 and np.allclose(mask[mask != 0], 1 / (1 - p))
                fail(f"{where}, the mask must hold only 0 (drop) and 1 (keep)"
                     + ("; yours holds the scale 1/(1 − p) as well: return the 0/1 mask, scale only out." if scaled
                        else "."))
            again = np.asarray(call(student_fn, (h, p, np.random.default_rng(7)), name="inverted_dropout",
                                    where=where)[1])
            if not np.array_equal(mask, again):
                fail(f"{where}, two calls with the same seed gave different masks: draw the mask from rng "
                     "(rng.random(h.shape)), not from np.random.")
            if np.any(out[mask == 0] != 0):
                fail(f"{where}, dropped units (mask 0) must be exactly 0 in out.")
            expected, _ = scratch.dropout_forward(h, p, mask=mask)
            kept = mask == 1
            with np.errstate(divide="ignore", invalid="ignore"):
                ulps = np.max(np.abs(out - expected) / np.spacing(np.abs(expected).astype(dtype)), initial=0.0)
            if not ulps <= 2:
                factor = np.median(out[kept] / h[kept]) if kept.any() else np.nan
                if p > 0 and np.isclose(factor, 1 - p):
                    hint = ("the kept units are multiplied by 1 − p: that is the notes' inference scaling. "
                            "Inverted dropout divides by 1 − p while training.")
                elif p > 0 and np.isclose(factor, 1.0):
                    hint = "the kept units are not scaled: inverted dropout divides them by 1 − p."
                elif p > 0 and np.isclose(factor, 1 / p):
                    hint = "the kept units are divided by p; p is the drop probability, so divide by 1 − p."
                else:
                    hint = f"the kept units differ from h / (1 − p) by up to {ulps:.0f} units in the last place."
                fail(f"{where}, {hint}")
            n, kept_rate = mask.size, mask.mean()
            sd = np.sqrt(p * (1 - p) / n)
            z = 0.0 if sd == 0 else abs(kept_rate - (1 - p)) / sd
            if (sd == 0 and kept_rate != 1.0) or z > 5:
                swapped = sd > 0 and abs(kept_rate - p) / sd < 5
                fail(f"{where}, the fraction of kept units is {kept_rate:.4f}, too far from 1 − p for {n} units"
                     + (": you keep units with probability p, but p is the probability of *dropping*."
                        if swapped else "."))
            worst_ulps, worst_z = max(worst_ulps, ulps), max(worst_z, z)
    return (f"Well done: inverted_dropout passes all {2 * len(DROPOUT_CASES)} cases (6 shapes and rates, 2 dtypes). "
            f"It agrees with the library to {worst_ulps:.0f} units in the last place, and it keeps about 1 − p of the "
            f"units (within {worst_z:.1f} binomial standard deviations).")


# --------------------------------------------------------------------------- stable BCE


def _bce_cases(rng):
    return [
        (np.array([0.0]), np.array([1.0]), "one example, z = 0"),
        (np.array([200.0]), np.array([0.0]), "one example, z = 200, y = 0"),
        (np.array([-200.0]), np.array([1.0]), "one example, z = −200, y = 1"),
        (np.array([1000.0, -1000.0]), np.array([1.0, 0.0]), "|z| = 1000, right answers"),
        (np.array([1000.0, -1000.0]), np.array([0.0, 1.0]), "|z| = 1000, wrong answers"),
        (rng.normal(0, 3, 50), rng.integers(0, 2, 50).astype(float), "50 examples, hard labels"),
        (rng.uniform(-200, 200, (4, 8)), rng.random((4, 8)), "shape (4, 8), soft labels, |z| up to 200"),
    ]


def _bce_mistakes(z, y):
    terms = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return [
        ("you return the sum over the examples, but the loss of Section 4.2 is a mean: take the mean.", terms.sum()),
        ("the term z y has the wrong sign: the loss is max(z, 0) − z y + log(1 + e^{−|z|}).",
         np.mean(np.maximum(z, 0) + z * y + np.log1p(np.exp(-np.abs(z))))),
        ("the term log(1 + e^{−|z|}) is missing or has the wrong sign.", np.mean(np.maximum(z, 0) - z * y)),
        ("max(z, 0) is missing or replaced: it is what keeps the loss right for large positive z.",
         np.mean(-z * y + np.log1p(np.exp(-np.abs(z))))),
        ("the labels are swapped: the loss of y is computed as if it were 1 − y.",
         np.mean(np.maximum(z, 0) - z * (1 - y) + np.log1p(np.exp(-np.abs(z))))),
    ]


@register("bce-logits", exercise="ex-bce-stable", function="stable_bce_with_logits",
          summary="the stable loss from logits of Section 4.2 against scratch.bce_with_logits on 7 cases "
                  "(one example, soft labels, |z| up to "
                  "1000) with overflow, division by zero and invalid operations raised as errors")
def check_stable_bce(student_fn) -> str:
    rng = np.random.default_rng(2024)
    cases = _bce_cases(rng)
    worst = 0.0
    for z, y, what in cases:
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is harmless
                got = call(student_fn, (z.copy(), y.copy()), name="stable_bce_with_logits", where=what,
                           passthrough=(FloatingPointError,))
        except FloatingPointError as exc:
            fail(f"{what}: NumPy raised '{exc}'. Which term can overflow or take log(0)? Rewrite it so that the "
                 "exponential only ever sees −|z|.")
        if not isinstance(got, float):
            fail(f"{what}: return a Python float (got {type(got).__name__}); float(...) converts a NumPy scalar.")
        if not np.isfinite(got):
            fail(f"{what}: the loss is {got}; it must be finite for every finite logit.")
        expected = scratch.bce_with_logits(z, y)
        error = abs(got - expected) / max(expected, 1e-300)
        if error > 1e-12:
            known = next((text for text, wrong in _bce_mistakes(z, y)
                          if abs(got - wrong) <= 1e-9 * max(abs(wrong), 1e-300)), None)
            fail(f"{what}: " + (known or f"your loss differs from the stable loss of Section 4.2 by a relative {error:.1e}. "
                                "Check the sign of each term and that you take the mean, not the sum."))
        worst = max(worst, error)
    return (f"Well done: stable_bce_with_logits agrees with scratch.bce_with_logits on all {len(cases)} cases "
            f"(max relative difference {worst:.1e}), with no overflow and no log(0).")
