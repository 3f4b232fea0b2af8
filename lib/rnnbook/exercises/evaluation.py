"""Checks of Chapter 5, *Evaluation*: F1 from a confusion matrix (Section 5.1), the AUC by counting pairs (Section 5.2)."""

from __future__ import annotations

import warnings

import numpy as np

from rnnbook import scratch
from rnnbook.exercises._core import call, diagnose, fail, register

#: Confusion matrices ((TN, FP), (FN, TP)) on which F1 is defined and the usual mistakes give distinct values.
F1_PROBES = [((5, 3), (2, 7)), ((10, 1), (4, 2)), ((0, 6), (1, 3))]


def _f1_mistakes():
    def formula(f):
        def value(cm):
            (tn, fp), (fn, tp) = cm
            with np.errstate(divide="ignore", invalid="ignore"):
                result = float(f(np.float64(tn), fp, fn, tp))
            return 0.0 if np.isnan(result) else result  # a 0/0 the student's code would have caught
        return value

    return [
        ("you compute F1 of the negative class: in [[TN, FP], [FN, TP]] the true positives are the bottom-right "
         "entry, cm[1][1].", formula(lambda tn, fp, fn, tp: 2 * tn / (2 * tn + fp + fn))),
        ("you return the accuracy, (TN + TP) / total; F1 is 2 TP / (2 TP + FP + FN).",
         formula(lambda tn, fp, fn, tp: (tn + tp) / (tn + fp + fn + tp))),
        ("you return the precision, TP / (TP + FP); F1 also needs the false negatives.",
         formula(lambda tn, fp, fn, tp: tp / (tp + fp))),
        ("you return the recall, TP / (TP + FN); F1 also needs the false positives.",
         formula(lambda tn, fp, fn, tp: tp / (tp + fn))),
        ("you return the arithmetic mean of precision and recall; F1 is their harmonic mean.",
         formula(lambda tn, fp, fn, tp: (tp / (tp + fp) + tp / (tp + fn)) / 2)),
        ("TN appears in your denominator; F1 is 2 TP / (2 TP + FP + FN), without TN.",
         formula(lambda tn, fp, fn, tp: 2 * tp / (2 * tp + fp + fn + tn))),
        ("the factor 2 is missing: F1 = 2 TP / (2 TP + FP + FN).",
         formula(lambda tn, fp, fn, tp: tp / (2 * tp + fp + fn))),
    ]


def _call_quietly(fn, cm, where):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = call(fn, (cm,), name="f1_from_confusion", where=where)
    return got, caught


@register("f1-confusion", exercise="ex-metrics-f1-confusion", function="f1_from_confusion",
          summary="F1 from [[TN, FP], [FN, TP]] against scratch.metrics.f1 and sklearn's f1_score on 157 matrices "
                  "(arrays and nested lists), with a warning exactly in the undefined case")
def check_f1_from_confusion(student_fn) -> str:
    import sklearn.metrics  # a dependency of rnnbook; imported only where needed

    rng = np.random.default_rng(2024)
    cases = [((0, 0), (0, 4)), ((7, 0), (0, 0)), ((0, 3), (0, 0)), ((0, 0), (5, 0)), ((3, 0), (2, 0)),
             ((1, 0), (0, 0)), ((0, 0), (0, 1)), ((0, 1), (1, 0))]  # edge cases: perfect, all TN, only FP, ...
    cases += [tuple(map(tuple, rng.integers(0, 12, (2, 2)).tolist())) for _ in range(150)]
    cases = [c for c in cases if np.sum(c) > 0]  # at least one sample
    for counts in cases:
        (tn, fp), (fn, tp) = counts
        y_t = np.repeat([0, 0, 1, 1], [tn, fp, fn, tp])
        y_p = np.repeat([0, 1, 0, 1], [tn, fp, fn, tp])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = scratch.metrics.f1(y_t, y_p)
            expected_sklearn = sklearn.metrics.f1_score(y_t, y_p)
        undefined = 2 * tp + fp + fn == 0
        for form in (np.array(counts), [list(row) for row in counts]):
            where = f"for TN, FP, FN, TP = {tn}, {fp}, {fn}, {tp} (given as {type(form).__name__})"
            got, caught = _call_quietly(student_fn, form, where)
            if isinstance(got, bool) or not isinstance(got, float):
                fail(f"{where}, f1_from_confusion returned {type(got).__name__}; return a Python float "
                     "(float(...) converts a NumPy number).")
            if undefined and not np.isfinite(got):
                fail(f"{where}, F1 is undefined (no positive labels, no positive predictions) and you returned "
                     f"{got}; return 0.0 and emit a warning, as scikit-learn does.")
            if abs(got - expected) > 1e-12 or abs(got - expected_sklearn) > 1e-12:
                answers = tuple(_call_quietly(student_fn, np.array(p), where)[0] for p in [counts] + F1_PROBES)
                known = diagnose(answers, [(text, lambda f=f: tuple(f(p) for p in [counts] + F1_PROBES))
                                           for text, f in _f1_mistakes()], 1e-12)
                fail(f"{where}, your F1 is {got:.4f}, which is not 2 TP / (2 TP + FP + FN)" + (
                     f": {known}" if known else ". Check the layout [[TN, FP], [FN, TP]] and the undefined case."))
            if undefined and not caught:
                fail(f"{where}, F1 is undefined; return 0.0 and emit a warning with warnings.warn.")
            if not undefined and caught:
                fail(f"{where}, F1 is defined, but your function emitted a warning: {caught[0].message}")
    return (f"Well done: f1_from_confusion agrees with scratch.metrics.f1 and sklearn on all {len(cases)} "
            "confusion matrices. It warns only in the undefined case.")


# --------------------------------------------------------------------------- AUC by pairs


def random_case(case: int, rng: np.random.Generator):
    """Labels with both classes (2 to 40 of them) and scores of three kinds, to make ties common, rare or absent."""
    n = int(rng.integers(2, 41))
    y = rng.permutation(np.r_[0, 1, (rng.random(n - 2) < rng.uniform(0.05, 0.95)).astype(int)])
    kind = case % 3
    if kind == 0:
        s = rng.integers(0, 4, n).astype(float)
    elif kind == 1:
        s = np.round(rng.normal(y, 1.0), 1)
    else:
        s = rng.normal(0.7 * y, 1.0)
    return y, s


#: (y_true, y_score) with ties and a clear ordering, on which the usual mistakes give distinct values.
AUC_PROBES = [(np.array([1, 0, 1, 0, 1, 0]), np.array([3.0, 1.0, 2.0, 2.0, 0.5, 0.0])),
              (np.array([0, 1, 1, 0, 0]), np.array([1.0, 1.0, 4.0, 3.0, 1.0]))]


def _auc_mistakes():
    def pairs(f):
        def value(y, s):
            s_pos, s_neg = s[y == 1][:, None], s[y == 0][None, :]
            return float(np.mean(f(s_pos, s_neg)))
        return value

    return [
        ("ties count 0, but a tied pair counts 1/2 (see the AUC as a count of pairs, Section 5.2).", pairs(lambda a, b: (a > b) * 1.0)),
        ("ties count 1, but a tied pair counts 1/2 (see the AUC as a count of pairs, Section 5.2).", pairs(lambda a, b: (a >= b) * 1.0)),
        ("the comparison is reversed: a pair counts 1 when the positive scores *higher* than the negative.",
         pairs(lambda a, b: (a < b) + 0.5 * (a == b))),
    ]


@register("auc-pairs", exercise="ex-roc-auc-pairs", function="auc_by_pairs",
          summary="the AUC over all (positive, negative) pairs against scratch.metrics.roc_auc on 155 cases "
                  "(ties, n = 2) and a ValueError for one class")
def check_auc_by_pairs(student_fn) -> str:
    rng = np.random.default_rng(2024)
    cases = [([0, 1], [0.2, 0.8]), ([0, 1], [0.8, 0.2]), ([1, 0], [0.5, 0.5]), ([1, 0, 0], [3, 3, 1]),
             ([1, 1, 0], [1, 1, 1])]  # n = 2 both ways, a tie, all tied
    cases += [random_case(case, rng) for case in range(150)]
    for y, s in cases:
        y, s = np.asarray(y), np.asarray(s, dtype=float)
        where = f"for y_true = {y.tolist()[:8]}{'…' if y.size > 8 else ''}"
        got = call(student_fn, (y.copy(), s.copy()), name="auc_by_pairs", where=where)
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(f"{where}, auc_by_pairs returned {type(got).__name__}; return the AUC as a float "
                 "(the mean of the table of comparisons).")
        if not abs(got - scratch.metrics.roc_auc(y, s)) <= 1e-12:
            probes = [(y, s)] + AUC_PROBES
            answers = tuple(float(call(student_fn, (py.copy(), ps.copy()), name="auc_by_pairs", where=where))
                            for py, ps in probes)
            known = diagnose(answers, [(text, lambda f=f: tuple(f(py, ps) for py, ps in probes))
                                       for text, f in _auc_mistakes()], 1e-12)
            fail(f"{where}, your AUC is {got:.4f}, which is not the average over all (positive, negative) pairs"
                 + (f": {known}" if known else ". Check the direction of the comparison and that ties count 1/2."))
    for y in ([0, 0, 0], [1, 1]):
        try:
            student_fn(np.array(y), np.linspace(0, 1, len(y)))
        except ValueError:
            continue
        except NotImplementedError:
            raise
        except Exception as exc:
            fail(f"auc_by_pairs({y}, …) raised {type(exc).__name__}; with only one class it should raise ValueError.")
        fail(f"auc_by_pairs({y}, …) should raise ValueError: there is only one class, so no pair to count.")
    return (f"Well done: auc_by_pairs agrees with scratch.metrics.roc_auc on all {len(cases)} cases "
            "(ties and n = 2 included). It refuses a single class.")
