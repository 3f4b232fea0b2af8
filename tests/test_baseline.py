"""rnnbook.lab.baselines: TfidfLogReg and NBSVM give probabilities better than chance, with C chosen on validation only;
NB-SVM is the model of Wang & Manning, rebuilt here from scikit-learn alone."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.lab.baselines import C_GRID, NBSVM, NBSVM_C_GRID, TfidfLogReg
from rnnbook.scratch.metrics import roc_auc

POS = ["great", "thanks", "love", "awesome", "best"]
NEG = ["delayed", "lost", "worst", "cancelled", "rude"]
FILL = ["flight", "crew", "bag", "gate", "seat", "today", "the", "my", "was"]


def _corpus(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = []
    for label in y:
        words = list(rng.choice(FILL, 4)) + [rng.choice(POS if label else NEG)]
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, y


def test_predictions_are_probabilities_and_beat_chance():
    (tr, ytr), (va, yva), (te, yte) = _corpus(80, 0), _corpus(30, 1), _corpus(40, 2)
    base = TfidfLogReg().fit(tr, ytr, va, yva)
    p = base.predict_proba(te)
    assert p.shape == (40,) and p.dtype == np.float64
    assert np.all((0 <= p) & (p <= 1))
    assert roc_auc(yte, p) > 0.95
    assert base.C_ in C_GRID and set(base.val_aucs_) == set(C_GRID)
    assert base.val_auc_ == max(base.val_aucs_.values())
    assert base.n_params == len(base.vectorizers_[0].vocabulary_) + 1


def test_vocabulary_comes_from_train_only():
    (tr, ytr), (va, yva) = _corpus(40, 0), _corpus(20, 1)
    va = [t + " zzzonlyinval" for t in va]
    base = TfidfLogReg().fit(tr, ytr, va, yva)
    assert not any("zzzonlyinval" in f for f in base.vectorizers_[0].vocabulary_)


def test_char_ngram_variant_runs():
    (tr, ytr), (va, yva) = _corpus(40, 0), _corpus(20, 1)
    base = TfidfLogReg(char_ngrams=(2, 4), C_grid=(1.0,)).fit(tr, ytr, va, yva)
    assert base.n_params > len(base.vectorizers_[0].vocabulary_) + 1


def test_bad_arguments():
    tr, ytr = _corpus(10, 0)
    with pytest.raises(ValueError, match="not fitted"):
        TfidfLogReg().predict_proba(tr)
    with pytest.raises(ValueError, match="C_grid"):
        TfidfLogReg(C_grid=())
    with pytest.raises(ValueError, match="y must have shape"):
        TfidfLogReg().fit(tr, ytr[:3], tr, ytr)
    with pytest.raises(ValueError, match="val_y must hold labels"):
        TfidfLogReg().fit(tr, ytr, tr, ytr + 2)


# --------------------------------------------------------------------------- NB-SVM


def test_nbsvm_ratio_is_the_naive_bayes_log_count_ratio_of_the_training_indicators():
    texts = ["good good film", "good plot", "bad film", "bad bad plot", "good"]
    y = np.array([1, 1, 0, 0, 1])
    m = NBSVM(ngram_range=(1, 1), C_grid=(1.0,)).fit(texts, y, texts, y)
    vocab = m.vectorizer_.vocabulary_
    # indicators, not counts: "good good film" counts "good" once
    p = {w: 1 + sum(w in t.split() for t, label in zip(texts, y) if label == 1) for w in vocab}
    q = {w: 1 + sum(w in t.split() for t, label in zip(texts, y) if label == 0) for w in vocab}
    for w, j in vocab.items():
        expected = np.log((p[w] / sum(p.values())) / (q[w] / sum(q.values())))
        assert m.r_[j] == pytest.approx(expected, rel=1e-12), w
    assert m.r_[vocab["good"]] > 0 > m.r_[vocab["bad"]]


@pytest.mark.parametrize("beta", [0.25, 1.0])
def test_nbsvm_scores_are_the_interpolated_svm_on_the_scaled_features(beta):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.svm import LinearSVC

    (tr, ytr), (va, yva), (te, _) = _corpus(80, 0), _corpus(30, 1), _corpus(40, 2)
    m = NBSVM(beta=beta, C_grid=(0.1,)).fit(tr, ytr, va, yva)
    # rebuilt here from scikit-learn alone: indicators, times r, a squared-hinge SVM, then the interpolation
    vec = CountVectorizer(tokenizer=m.tokenizer, lowercase=False, token_pattern=None, ngram_range=(1, 2), binary=True)
    F = vec.fit_transform(tr)
    svm = LinearSVC(C=0.1, loss="squared_hinge", dual=True, max_iter=20000, random_state=0).fit(F.multiply(m.r_), ytr)
    w = svm.coef_.ravel()
    w_interp = (1 - beta) * np.abs(w).mean() + beta * w
    expected = vec.transform(te).multiply(m.r_) @ w_interp + svm.intercept_[0]
    np.testing.assert_allclose(m.decision_function(te), expected, rtol=1e-10, atol=1e-12)
    a, c = m.platt_
    p = m.predict_proba(te)
    assert a > 0 and np.array_equal(p > 0.5, a * expected + c > 0) and p.dtype == np.float64
    assert m.n_params == 2 * len(vec.vocabulary_) + 1


def test_nbsvm_picks_C_on_validation_and_beats_chance():
    (tr, ytr), (va, yva), (te, yte) = _corpus(80, 0), _corpus(30, 1), _corpus(40, 2)
    m = NBSVM().fit(tr, ytr, va, yva)
    assert set(m.val_aucs_) == set(NBSVM_C_GRID) and m.C_ in NBSVM_C_GRID
    assert m.val_auc_ == max(m.val_aucs_.values()) == m.val_aucs_[m.C_]
    assert roc_auc(yva, m.decision_function(va)) == pytest.approx(m.val_auc_, abs=1e-12)
    assert roc_auc(yte, m.predict_proba(te)) > 0.95


def test_nbsvm_probabilities_are_platt_scaled_on_validation():
    """At the optimum of an unpenalised logistic regression with a bias, the mean probability equals the mean
    label: on validation, a fifth positive, NB-SVM's probabilities then say a fifth, whatever the raw scores say."""
    rng = np.random.default_rng(3)
    (tr, ytr), (va, yva), (te, yte) = _corpus(200, 0), _corpus(150, 1), _corpus(100, 2)
    keep_va = (yva == 0) | (rng.random(yva.size) < 0.25)  # about 20 % positive on validation
    va, yva = [t for t, k in zip(va, keep_va) if k], yva[keep_va]
    m = NBSVM().fit(tr, ytr, va, yva)
    assert m.predict_proba(va).mean() == pytest.approx(yva.mean(), abs=1e-4)
    assert roc_auc(yte, m.predict_proba(te)) == roc_auc(yte, m.decision_function(te))


def test_nbsvm_bad_arguments():
    tr, ytr = _corpus(10, 0)
    with pytest.raises(ValueError, match="not fitted"):
        NBSVM().decision_function(tr)
    with pytest.raises(ValueError, match="beta must be in"):
        NBSVM(beta=0)
    with pytest.raises(ValueError, match="alpha must be a positive"):
        NBSVM(alpha=-1)
    with pytest.raises(ValueError, match="C_grid"):
        NBSVM(C_grid=(0.1, -1))
    with pytest.raises(ValueError, match="y must hold both classes"):
        NBSVM().fit(tr, np.zeros(10, int), tr, ytr)
    with pytest.raises(ValueError, match="single str"):
        NBSVM().fit(tr, ytr, tr, ytr).predict_proba("one text")
