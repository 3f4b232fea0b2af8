"""Binary classification metrics from their equations (NumPy only), matching scikit-learn.

Chapter 5, *Evaluation* (Sections 5.1 and 5.2). Positive label 1, arguments in scikit-learn's order
``(y_true, y_pred)`` or ``(y_true, y_score)``. From the confusion matrix
``[[TN, FP], [FN, TP]]``::

    Accuracy  = (TP + TN) / (TP + TN + FP + FN)        (eq-metric-accuracy)
    Precision = TP / (TP + FP)                         (eq-metric-precision)
    Recall    = TP / (TP + FN)                         (eq-metric-recall)
    F1        = 2 · Precision · Recall / (Precision + Recall)   (eq-metric-f1)
    TPR       = TP / (TP + FN)                         (eq-metric-tpr)
    FPR       = FP / (FP + TN)                         (eq-metric-fpr)
    AUC       = ∫ TPR d(FPR) over the ROC curve        (eq-metric-auc)
              = P(score of a random positive > score of a random negative),
                ties counting ½ (Mann–Whitney U / (n₊ n₋))   (eq-metric-mann-whitney)

Edge cases follow scikit-learn's defaults: a ratio whose denominator is zero
(precision with no positive predictions, recall or TPR with no positive labels,
F1 with neither) is 0.0 and raises an :class:`UndefinedMetricWarning`. The ROC
curve and AUC need both classes and raise ``ValueError`` otherwise: a deliberate
choice, since scikit-learn ≥ 1.6 returns NaN with a warning there instead (older
versions raised), and a NaN AUC in a results table is easy to miss.
"""

from __future__ import annotations

import warnings

import numpy as np


class UndefinedMetricWarning(UserWarning):
    """A metric's denominator was zero; the value 0.0 was returned (scikit-learn's default)."""


# --------------------------------------------------------------------------- validation


def _labels(name: str, y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of shape (n,); got shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {y.shape}")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"{name} must not contain NaN")
    if y.dtype.kind not in "biuf" or not np.all((y == 0) | (y == 1)):
        bad = np.unique(y[~((y == 0) | (y == 1))])[:5] if y.dtype.kind in "biuf" else y.dtype
        raise ValueError(f"{name} must hold binary labels in {{0, 1}} (positive = 1); got {bad}")
    return y.astype(np.int64)


def _scores(name: str, s, n: int) -> np.ndarray:
    s = np.asarray(s)
    if s.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of shape (n,); got shape {s.shape}")
    if s.shape[0] != n:
        raise ValueError(f"{name} must have the length of y_true, {n}; got {s.shape[0]}")
    if s.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers; got dtype {s.dtype}")
    s = s.astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} must be finite: it contains {'NaN' if np.isnan(s).any() else 'inf'}")
    return s


def _pair(y_true, y_pred):
    y_true = _labels("y_true", y_true)
    y_pred = _labels("y_pred", y_pred)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"y_pred must have the length of y_true, {y_true.shape[0]}; got {y_pred.shape[0]}")
    return y_true, y_pred


def _scored(y_true, y_score):
    """Checked ``(y_true, y_score)`` of a score-based metric: labels in {0, 1} with both classes, finite scores."""
    y_true = _labels("y_true", y_true)
    y_score = _scores("y_score", y_score, y_true.size)
    _both_classes(y_true)
    return y_true, y_score


def _ratio(num: int, den: int, what: str) -> float:
    if den == 0:
        warnings.warn(f"{what} is ill-defined (its denominator is 0) and is set to 0.0", UndefinedMetricWarning, stacklevel=3)
        return 0.0
    return num / den


# --------------------------------------------------------------------------- from labels


def confusion_matrix(y_true, y_pred) -> np.ndarray:
    """``[[TN, FP], [FN, TP]]`` as a (2, 2) int array: rows are true labels, columns predictions.

    The same layout as ``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=[0, 1])``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return np.bincount(2 * y_true + y_pred, minlength=4).reshape(2, 2)


def accuracy(y_true, y_pred) -> float:
    """eq-metric-accuracy: ``(TP + TN) / (TP + TN + FP + FN)``, the fraction of correct predictions."""
    (tn, fp), (fn, tp) = confusion_matrix(y_true, y_pred)
    return float((tp + tn) / (tp + tn + fp + fn))


def precision(y_true, y_pred) -> float:
    """eq-metric-precision: ``TP / (TP + FP)``; 0.0 with a warning when nothing is predicted positive."""
    (_, fp), (_, tp) = confusion_matrix(y_true, y_pred)
    return float(_ratio(tp, tp + fp, "Precision (no positive predictions)"))


def recall(y_true, y_pred) -> float:
    """eq-metric-recall: ``TP / (TP + FN)``; 0.0 with a warning when there are no positive labels."""
    _, (fn, tp) = confusion_matrix(y_true, y_pred)
    return float(_ratio(tp, tp + fn, "Recall (no positive labels)"))


def tpr(y_true, y_pred) -> float:
    """eq-metric-tpr: the true-positive rate ``TP / (TP + FN)``, which is the recall."""
    _, (fn, tp) = confusion_matrix(y_true, y_pred)
    return float(_ratio(tp, tp + fn, "TPR (no positive labels)"))


def fpr(y_true, y_pred) -> float:
    """eq-metric-fpr: the false-positive rate ``FP / (FP + TN)``; 0.0 with a warning when there are no negatives."""
    (tn, fp), _ = confusion_matrix(y_true, y_pred)
    return float(_ratio(fp, fp + tn, "FPR (no negative labels)"))


def f1(y_true, y_pred) -> float:
    """eq-metric-f1: the harmonic mean ``2 P R / (P + R)`` of precision and recall.

    Computed as the equal ``2 TP / (2 TP + FP + FN)``, which stays defined when
    precision or recall alone is not (scikit-learn does the same). It is 0.0 with
    a warning only when there are neither positive labels nor positive predictions.
    """
    (_, fp), (fn, tp) = confusion_matrix(y_true, y_pred)
    return float(_ratio(2 * tp, 2 * tp + fp + fn, "F1 (no positive labels and no positive predictions)"))


# --------------------------------------------------------------------------- from scores


def _both_classes(y_true: np.ndarray) -> None:
    n_pos = int(y_true.sum())
    if n_pos == 0 or n_pos == y_true.size:
        only = 1 if n_pos else 0
        raise ValueError(f"y_true must contain both classes for a ROC curve; got only label {only} ({y_true.size} samples)")


def roc_curve(y_true, y_score, drop_intermediate: bool = True):
    """The ROC curve: eq-metric-fpr and eq-metric-tpr at every threshold on the scores.

    Predict positive when ``score ≥ threshold``; lower the threshold past each
    distinct score, from ``+inf`` (nothing positive: the point (0, 0)) to the
    smallest score (everything positive: (1, 1)).

    Parameters
    ----------
    y_true : (n,) labels in {0, 1}, both classes present.
    y_score : (n,) real scores, larger meaning more positive (probabilities or logits).
    drop_intermediate : drop points on straight segments of the curve, which
        change nothing in its shape or area (scikit-learn's default).

    Returns
    -------
    fpr, tpr, thresholds : 1-D arrays, as ``sklearn.metrics.roc_curve``;
    ``thresholds[0]`` is ``inf``.
    """
    y_true, y_score = _scored(y_true, y_score)
    order = np.argsort(y_score, kind="mergesort")[::-1]
    y, s = y_true[order], y_score[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tps = np.cumsum(y)[last_of_each_score]
    fps = 1 + last_of_each_score - tps
    thresholds = s[last_of_each_score]
    if drop_intermediate and tps.size > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        tps, fps, thresholds = tps[keep], fps[keep], thresholds[keep]
    tps, fps = np.r_[0, tps], np.r_[0, fps]
    thresholds = np.r_[np.inf, thresholds]
    return fps / fps[-1], tps / tps[-1], thresholds


def roc_auc(y_true, y_score) -> float:
    """eq-metric-auc: the area under the ROC curve, by the trapezoidal rule; equals ``roc_auc_score``.

    0.5 for scores unrelated to the labels, 1.0 when every positive outscores
    every negative. Needs both classes (``ValueError`` otherwise).
    """
    fpr_, tpr_, _ = roc_curve(y_true, y_score)
    return float(np.sum(np.diff(fpr_) * (tpr_[1:] + tpr_[:-1]) / 2))


def auc_mann_whitney(y_true, y_score) -> float:
    """eq-metric-mann-whitney: ``P(s₊ > s₋) + ½ P(s₊ = s₋)`` over all n₊ n₋ pairs, via ranks.

    With average ranks ``R`` of the scores (ties share their mean rank), the
    Mann–Whitney statistic is ``U = Σ_{positives} R − n₊(n₊ + 1)/2`` and the AUC is
    ``U / (n₊ n₋)``: the same number as :func:`roc_auc`, computed without a curve.
    """
    y_true, y_score = _scored(y_true, y_score)
    _, group, counts = np.unique(y_score, return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)  # ranks 1 … n; each group of tied scores ends at this rank
    R = (last_rank - (counts - 1) / 2)[group]  # the group's mean rank
    n_pos = int(y_true.sum())
    n_neg = y_true.size - n_pos
    U = R[y_true == 1].sum() - n_pos * (n_pos + 1) / 2
    return float(U / (n_pos * n_neg))
