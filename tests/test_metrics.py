"""Classification metrics (scratch.metrics) against scikit-learn over many random cases with
edge cases (one class, no positive predictions, ties in the scores): the confusion matrix,
accuracy, precision, recall, F1, TPR, FPR with scikit-learn's UndefinedMetricWarning exactly
where it warns, the ROC curve array for array, the AUC four ways, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from sklearn.exceptions import UndefinedMetricWarning as SkUndefinedMetricWarning

from _helpers import OBSERVED, call_recording_warnings, seed_of
from rnnbook.scratch import metrics

N_CASES = 200  # random cases per comparison with scikit-learn (its calls cost ~3 ms each)
Warn = metrics.UndefinedMetricWarning


def _record(kind: str, value: float) -> None:
    OBSERVED[kind] = max(OBSERVED.get(kind, 0.0), float(value))


def _labels(rng, n):
    """n labels with a positive rate drawn from {0, 0.1, 0.5, 0.9, 1}: one-class vectors are common."""
    q = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0])
    return (rng.random(n) < q).astype(np.int64)


def _label_pairs(seed, n_cases=N_CASES):
    """(y_true, y_pred) pairs, n from 1 to 40; predictions independent, or noisy copies of the labels."""
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        n = int(rng.integers(1, 41)) if case % 5 else int(rng.integers(1, 4))
        y_true = _labels(rng, n)
        if case % 2:
            y_pred = _labels(rng, n)
        else:
            y_pred = np.where(rng.random(n) < rng.uniform(0, 0.5), 1 - y_true, y_true)
        yield case, y_true, y_pred


def _two_class_scores(rng, case):
    """(y_true, y_score) with both classes; scores tied (a small set), continuous, integer or logits."""
    n = int(rng.integers(2, 61))
    y = _labels(rng, n)
    y[rng.choice(n, 2, replace=False)] = [0, 1]  # both classes present
    kind = case % 4
    if kind == 0:  # heavy ties: a few distinct values
        s = rng.choice(np.linspace(0, 1, int(rng.integers(1, 6))), n)
    elif kind == 1:  # probabilities, informative
        s = np.clip(rng.normal(0.5 + 0.2 * (y - 0.5), 0.25), 0, 1)
    elif kind == 2:  # integer scores, ties
        s = rng.integers(-3, 4, n) + y * rng.integers(0, 2, n)
    else:  # logits, informative, rounded to produce ties
        s = np.round(rng.normal(2.0 * y - 1.0, 2.0), 1)
    return y, s


def _sklearn_warns(categories) -> bool:
    return SkUndefinedMetricWarning in categories


def _ours_warns(categories) -> bool:
    return Warn in categories


# --------------------------------------------------------------------------- from labels


@pytest.mark.parametrize(  # the marks inline, where tests/book.py's meta-test reads them
    "name, theirs",
    [
        pytest.param("accuracy", skm.accuracy_score, marks=pytest.mark.equation("eq-metric-accuracy")),
        pytest.param("precision", skm.precision_score, marks=pytest.mark.equation("eq-metric-precision")),
        pytest.param(
            "recall",
            skm.recall_score,
            marks=[pytest.mark.equation("eq-metric-recall"), pytest.mark.equation("eq-metric-tpr")],
        ),
        pytest.param("f1", skm.f1_score, marks=pytest.mark.equation("eq-metric-f1")),
    ],
)
def test_label_metric_equals_sklearn_with_its_warnings(name, theirs):
    """200 random cases: the same number, bit for bit, and a warning exactly when scikit-learn warns.

    The TPR is the recall: both are compared with ``recall_score``."""
    ours = getattr(metrics, name)
    n_warned, worst = 0, 0.0
    for case, y_true, y_pred in _label_pairs(seed_of(len(name), 1)):
        got, our_warnings = call_recording_warnings(ours, y_true, y_pred)
        expected, sk_warnings = call_recording_warnings(theirs, y_true, y_pred)
        if name == "recall":
            got_tpr, tpr_warnings = call_recording_warnings(metrics.tpr, y_true, y_pred)
            assert got_tpr == expected and _ours_warns(tpr_warnings) == _sklearn_warns(sk_warnings), f"case {case}"
        assert isinstance(got, float)
        worst = max(worst, abs(got - expected))
        assert got == expected, f"case {case}: {name}({y_true}, {y_pred}) = {got} vs sklearn {expected}"
        assert _ours_warns(our_warnings) == _sklearn_warns(sk_warnings), f"case {case}: {y_true}, {y_pred}"
        assert set(our_warnings) <= {Warn}
        n_warned += _ours_warns(our_warnings)
    if name != "accuracy":  # the edge cases were really exercised
        assert n_warned >= 5
    _record(f"{name} vs sklearn (absolute)", worst)


@pytest.mark.equation("eq-metric-fpr")
def test_fpr_equals_one_minus_sklearn_specificity_with_its_warnings():
    """FPR = FP / (FP + TN) = 1 − recall of the negative class, which sklearn computes with pos_label=0."""
    n_warned = 0
    for case, y_true, y_pred in _label_pairs(seed_of(3, 2)):
        got, our_warnings = call_recording_warnings(metrics.fpr, y_true, y_pred)
        specificity, sk_warnings = call_recording_warnings(skm.recall_score, y_true, y_pred, pos_label=0)
        assert _ours_warns(our_warnings) == _sklearn_warns(sk_warnings), f"case {case}"
        tn, fp = int(np.sum((y_true == 0) & (y_pred == 0))), int(np.sum((y_true == 0) & (y_pred == 1)))
        if _ours_warns(our_warnings):  # no negative labels: 0.0, scikit-learn's convention for an undefined ratio
            assert got == 0.0 and fp + tn == 0
            n_warned += 1
        else:
            assert got == fp / (fp + tn)
            assert got == pytest.approx(1.0 - specificity, rel=0, abs=1e-15)
    assert n_warned >= 5


def test_confusion_matrix_equals_sklearn():
    for case, y_true, y_pred in _label_pairs(seed_of(4, 3), n_cases=150):
        got = metrics.confusion_matrix(y_true, y_pred)
        expected = skm.confusion_matrix(y_true, y_pred, labels=[0, 1])
        assert got.shape == (2, 2) and got.dtype.kind == "i"
        np.testing.assert_array_equal(got, expected, err_msg=f"case {case}")
    # the layout [[TN, FP], [FN, TP]], by hand
    np.testing.assert_array_equal(metrics.confusion_matrix([0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 0, 1, 1, 1]), [[2, 1], [1, 3]])


@pytest.mark.equation("eq-metric-accuracy")
@pytest.mark.equation("eq-metric-precision")
@pytest.mark.equation("eq-metric-recall")
@pytest.mark.equation("eq-metric-f1")
@pytest.mark.equation("eq-metric-tpr")
@pytest.mark.equation("eq-metric-fpr")
def test_metrics_are_their_equations_from_counts():
    """Counted in a Python loop, then the equations: (TP+TN)/N, TP/(TP+FP), TP/(TP+FN), 2PR/(P+R), FP/(FP+TN)."""
    for case, y_true, y_pred in _label_pairs(seed_of(5, 4), n_cases=100):
        tp = sum(1 for t, p in zip(y_true, y_pred) if t == 1 and p == 1)
        tn = sum(1 for t, p in zip(y_true, y_pred) if t == 0 and p == 0)
        fp = sum(1 for t, p in zip(y_true, y_pred) if t == 0 and p == 1)
        fn = sum(1 for t, p in zip(y_true, y_pred) if t == 1 and p == 0)
        call = lambda f: call_recording_warnings(f, y_true, y_pred)[0]  # noqa: E731
        assert call(metrics.accuracy) == (tp + tn) / (tp + tn + fp + fn)
        P = tp / (tp + fp) if tp + fp else None
        R = tp / (tp + fn) if tp + fn else None
        assert call(metrics.precision) == (P if P is not None else 0.0)
        assert call(metrics.recall) == call(metrics.tpr) == (R if R is not None else 0.0)
        assert call(metrics.fpr) == (fp / (fp + tn) if fp + tn else 0.0)
        if P is not None and R is not None and P + R > 0:  # the harmonic mean of the notes
            assert call(metrics.f1) == pytest.approx(2 * P * R / (P + R), rel=1e-15)
        elif tp + fp + fn > 0:  # P or R undefined or both 0: the form 2TP / (2TP + FP + FN) still is
            assert call(metrics.f1) == 2 * tp / (2 * tp + fp + fn) == 0.0


EDGE_CASES = {
    "no positive predictions": ([1, 0, 1, 0], [0, 0, 0, 0]),
    "no positive labels": ([0, 0, 0, 0], [1, 0, 0, 1]),
    "all negative, both": ([0, 0, 0], [0, 0, 0]),
    "f1 with tp=0, fp+fn>0": ([1, 0, 1, 0], [0, 1, 0, 1]),
    "all positive, both": ([1, 1, 1], [1, 1, 1]),
    "one sample, right": ([1], [1]),
    "one sample, wrong": ([0], [1]),
}
#: which of precision, recall, f1, fpr warn, by the definitions
WARNS = {
    "no positive predictions": {"precision"},
    "no positive labels": {"recall", "tpr"},
    "all negative, both": {"precision", "recall", "tpr", "f1"},
    "f1 with tp=0, fp+fn>0": set(),
    "all positive, both": {"fpr"},
    "one sample, right": {"fpr"},
    "one sample, wrong": {"recall", "tpr"},
}
SK = {
    "accuracy": skm.accuracy_score,
    "precision": skm.precision_score,
    "recall": skm.recall_score,
    "tpr": skm.recall_score,
    "f1": skm.f1_score,
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_cases_warn_exactly_where_sklearn_warns(case):
    y_true, y_pred = EDGE_CASES[case]
    for name in ("accuracy", "precision", "recall", "tpr", "f1", "fpr"):
        got, ours = call_recording_warnings(getattr(metrics, name), y_true, y_pred)
        assert _ours_warns(ours) == (name in WARNS[case]), f"{case}: {name}"
        if name in SK:
            expected, theirs = call_recording_warnings(SK[name], y_true, y_pred)
            assert got == expected, f"{case}: {name}"
            assert _ours_warns(ours) == _sklearn_warns(theirs), f"{case}: {name}"
        if name in WARNS[case]:
            assert got == 0.0
    if case == "f1 with tp=0, fp+fn>0":
        assert metrics.f1(y_true, y_pred) == 0.0  # defined, and 0: no warning (as in scikit-learn, checked above)


def test_warning_is_a_userwarning_naming_the_metric_at_the_callers_line():
    assert issubclass(Warn, UserWarning)
    with pytest.warns(Warn, match="Precision") as record:
        metrics.precision([1, 0], [0, 0])
    assert record[0].filename == __file__  # stacklevel points at the caller, not into the library
    with pytest.warns(Warn, match="Recall"):
        metrics.recall([0, 0], [1, 0])
    with pytest.warns(Warn, match="F1"):
        metrics.f1([0, 0], [0, 0])
    with pytest.warns(Warn, match="FPR"):
        metrics.fpr([1, 1], [1, 0])


def test_boolean_and_float_labels_are_accepted():
    y_true, y_pred = np.array([True, False, True, True]), np.array([True, True, False, True])
    for name in ("accuracy", "precision", "recall", "f1", "tpr", "fpr"):
        f = getattr(metrics, name)
        assert f(y_true, y_pred) == f(y_true.astype(int), y_pred.astype(int)) == f(y_true * 1.0, list(y_pred * 1))


# --------------------------------------------------------------------------- ROC curve


@pytest.mark.equation("eq-metric-tpr")
@pytest.mark.equation("eq-metric-fpr")
@pytest.mark.parametrize("drop_intermediate", [True, False])
def test_roc_curve_equals_sklearn(drop_intermediate):
    """200 random cases with ties, integer scores and logits: fpr, tpr and thresholds array for array."""
    rng = np.random.default_rng(seed_of(drop_intermediate, 6))
    for case in range(200):
        y, s = _two_class_scores(rng, case)
        fpr, tpr, thr = metrics.roc_curve(y, s, drop_intermediate=drop_intermediate)
        e_fpr, e_tpr, e_thr = skm.roc_curve(y, s, drop_intermediate=drop_intermediate)
        for got, expected in ((fpr, e_fpr), (tpr, e_tpr), (thr, e_thr)):
            assert got.dtype == np.float64
            np.testing.assert_array_equal(got, expected, err_msg=f"case {case}: y={y}, s={s}")
    if not drop_intermediate:  # one point per distinct score, plus (0, 0)
        assert fpr.size == np.unique(s).size + 1


@pytest.mark.equation("eq-metric-tpr")
@pytest.mark.equation("eq-metric-fpr")
def test_roc_points_are_tpr_and_fpr_of_thresholded_scores():
    """Each point (FPR, TPR) of the curve is eq-metric-fpr and eq-metric-tpr of the predictions score ≥ threshold."""
    rng = np.random.default_rng(7)
    for case in range(100):
        y, s = _two_class_scores(rng, case)
        for drop in (True, False):
            fpr, tpr, thr = metrics.roc_curve(y, s, drop_intermediate=drop)
            assert thr[0] == np.inf and np.all(np.diff(thr) < 0)
            assert fpr[0] == tpr[0] == 0.0 and fpr[-1] == tpr[-1] == 1.0
            assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
            for k, t in enumerate(thr):
                y_pred = (s >= t).astype(int)
                assert fpr[k] == metrics.fpr(y, y_pred) and tpr[k] == metrics.tpr(y, y_pred)


def test_drop_intermediate_drops_only_collinear_points():
    """The kept points are points of the full curve, and each dropped one lies on the segment
    joining the kept points before and after it: the shape and the area are unchanged."""
    rng = np.random.default_rng(8)
    n_dropped = 0
    for case in range(100):
        y, s = _two_class_scores(rng, case)
        f_fpr, f_tpr, f_thr = metrics.roc_curve(y, s, drop_intermediate=False)
        k_fpr, k_tpr, k_thr = metrics.roc_curve(y, s, drop_intermediate=True)
        kept = np.flatnonzero(np.isin(f_thr, k_thr))
        assert kept.size == k_thr.size and kept[0] == 0 and kept[-1] == f_thr.size - 1
        np.testing.assert_array_equal(f_fpr[kept], k_fpr)
        np.testing.assert_array_equal(f_tpr[kept], k_tpr)
        for i in np.setdiff1d(np.arange(f_thr.size), kept):
            a, b = kept[kept < i].max(), kept[kept > i].min()
            cross = (f_fpr[b] - f_fpr[a]) * (f_tpr[i] - f_tpr[a]) - (f_tpr[b] - f_tpr[a]) * (f_fpr[i] - f_fpr[a])
            assert abs(cross) <= 1e-12
            n_dropped += 1
    assert n_dropped > 50


# --------------------------------------------------------------------------- AUC


def _auc_by_pairs(y, s) -> float:
    """P(s₊ > s₋) + ½ P(s₊ = s₋) over all n₊ n₋ (positive, negative) pairs, counted."""
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    wins = np.sum(pos > neg) + 0.5 * np.sum(pos == neg)
    return float(wins / (pos.size * neg.size))


@pytest.mark.equation("eq-metric-auc")
@pytest.mark.equation("eq-metric-mann-whitney")
def test_auc_four_ways():
    """roc_auc (trapezoids) == auc_mann_whitney (ranks) == sklearn.roc_auc_score == the pair count, with ties ½."""
    rng = np.random.default_rng(9)
    worst = {"roc_auc vs sklearn": 0.0, "mann_whitney vs sklearn": 0.0, "roc_auc vs pairs": 0.0}
    for case in range(N_CASES):
        y, s = _two_class_scores(rng, case)
        auc = metrics.roc_auc(y, s)
        mw = metrics.auc_mann_whitney(y, s)
        expected = skm.roc_auc_score(y, s)
        pairs = _auc_by_pairs(y, s)
        assert isinstance(auc, float) and isinstance(mw, float)
        for key, diff in (
            ("roc_auc vs sklearn", abs(auc - expected)),
            ("mann_whitney vs sklearn", abs(mw - expected)),
            ("roc_auc vs pairs", abs(auc - pairs)),
        ):
            worst[key] = max(worst[key], diff)
            assert diff <= 1e-14, f"case {case}: {key} = {diff:.1e}; y={y}, s={s}"
        assert 0.0 <= auc <= 1.0
    for key, value in worst.items():
        _record(f"AUC {key}", value)


@pytest.mark.equation("eq-metric-auc")
def test_auc_is_the_area_under_the_curve_either_way():
    """The trapezoid area of the full curve and of sklearn's curve (sklearn.metrics.auc) are the same number."""
    rng = np.random.default_rng(10)
    for case in range(100):
        y, s = _two_class_scores(rng, case)
        full = metrics.roc_curve(y, s, drop_intermediate=False)
        area_full = float(np.sum(np.diff(full[0]) * (full[1][1:] + full[1][:-1]) / 2))
        assert metrics.roc_auc(y, s) == pytest.approx(area_full, rel=0, abs=1e-15)
        assert metrics.roc_auc(y, s) == pytest.approx(skm.auc(*skm.roc_curve(y, s)[:2]), rel=0, abs=1e-15)


@pytest.mark.equation("eq-metric-mann-whitney")
def test_auc_special_values_and_symmetries():
    y = np.array([0, 0, 1, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.8, 0.3, 0.9, 0.7])
    for f in (metrics.roc_auc, metrics.auc_mann_whitney):
        assert f(y, s) == 1.0  # every positive outscores every negative
        assert f(y, -s) == 0.0
        assert f(y, np.full(6, 0.4)) == 0.5  # all tied: every pair counts ½
        assert f(y, np.zeros(6, dtype=int)) == 0.5
        assert f([0, 1], [0.3, 0.3]) == 0.5
    rng = np.random.default_rng(11)
    for case in range(100):
        y, s = _two_class_scores(rng, case)
        a = metrics.auc_mann_whitney(y, s)
        # reversing the scores swaps wins and losses; ties stay ½
        assert metrics.auc_mann_whitney(y, -s) == pytest.approx(1 - a, abs=1e-14)
        assert metrics.roc_auc(y, -s) == pytest.approx(1 - metrics.roc_auc(y, s), abs=1e-14)
        # only the order of the scores matters: a strictly increasing map changes nothing
        assert metrics.auc_mann_whitney(y, np.exp(s / 4.0) * 7 - 3) == a
        # swapping the labels and reversing the scores gives the same AUC
        assert metrics.auc_mann_whitney(1 - y, -s) == pytest.approx(a, abs=1e-14)


# --------------------------------------------------------------------------- one class, bad input

SCORE_FUNCS = [metrics.roc_curve, metrics.roc_auc, metrics.auc_mann_whitney]
SCORE_IDS = [f.__name__ for f in SCORE_FUNCS]
LABEL_FUNCS = [metrics.confusion_matrix, metrics.accuracy, metrics.precision, metrics.recall, metrics.f1,
               metrics.tpr, metrics.fpr]
LABEL_IDS = [f.__name__ for f in LABEL_FUNCS]


@pytest.mark.parametrize("only", [0, 1])
@pytest.mark.parametrize("fn", SCORE_FUNCS, ids=SCORE_IDS)
def test_one_class_raises(fn, only):
    """No ROC curve without both classes. scikit-learn 1.9 warns and returns NaN there; either way, no number."""
    y, s = np.full(5, only), np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match=f"y_true must contain both classes .*got only label {only}"):
        fn(y, s)
    sk_fn = skm.roc_auc_score if fn is not metrics.roc_curve else skm.roc_curve
    try:
        result, _ = call_recording_warnings(sk_fn, y, s)
    except ValueError:
        return
    values = np.concatenate([np.atleast_1d(a) for a in result[:2]]) if fn is metrics.roc_curve else [result]
    assert np.isnan(values).any()


@pytest.mark.parametrize("fn", LABEL_FUNCS, ids=LABEL_IDS)
def test_label_functions_reject_bad_input(fn):
    with pytest.raises(ValueError, match=r"y_pred must have the length of y_true, 3; got 2"):
        fn([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="y_true must not be empty"):
        fn([], [])
    for bad in ([0, 2, 1], [0, -1, 1], [0, 0.5, 1], [0, np.inf, 1]):
        with pytest.raises(ValueError, match=r"y_true must hold binary labels in \{0, 1\}"):
            fn(bad, [0, 1, 1])
        with pytest.raises(ValueError, match=r"y_pred must hold binary labels in \{0, 1\}"):
            fn([0, 1, 1], bad)
    with pytest.raises(ValueError, match="y_true must not contain NaN"):
        fn([0, np.nan, 1], [0, 1, 1])
    with pytest.raises(ValueError, match=r"y_pred must hold binary labels"):
        fn([0, 1], ["0", "1"])
    with pytest.raises(ValueError, match=r"y_true must be a 1-D array of shape \(n,\)"):
        fn([[0, 1], [1, 0]], [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"y_true must be a 1-D array"):
        fn(1, 1)


@pytest.mark.parametrize("fn", SCORE_FUNCS, ids=SCORE_IDS)
def test_score_functions_reject_bad_input(fn):
    y = np.array([0, 1, 1, 0])
    with pytest.raises(ValueError, match="y_score must have the length of y_true, 4; got 3"):
        fn(y, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="y_true must not be empty"):
        fn([], [])
    with pytest.raises(ValueError, match=r"y_true must hold binary labels in \{0, 1\}"):
        fn([0, 1, 2, 0], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="y_score must be finite: it contains NaN"):
        fn(y, [0.1, np.nan, 0.3, 0.4])
    for bad in (np.inf, -np.inf):
        with pytest.raises(ValueError, match="y_score must be finite: it contains inf"):
            fn(y, [0.1, bad, 0.3, 0.4])
    with pytest.raises(ValueError, match="y_score must hold real numbers"):
        fn(y, ["a", "b", "c", "d"])
    with pytest.raises(ValueError, match=r"y_score must be a 1-D array of shape \(n,\)"):
        fn(y, np.ones((4, 1)))


def test_inputs_are_not_modified():
    rng = np.random.default_rng(12)
    y, s = _two_class_scores(rng, 1)
    y_pred = (s > 0.5).astype(int)
    saved = (y.copy(), s.copy(), y_pred.copy())
    for f in LABEL_FUNCS:
        call_recording_warnings(f, y, y_pred)
    for f in SCORE_FUNCS:
        f(y, s)
    for a, b in zip((y, s, y_pred), saved):
        np.testing.assert_array_equal(a, b)
