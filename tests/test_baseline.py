"""rnnbook.baseline.TfidfLogReg: probabilities, better than chance, C chosen on validation only."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.baseline import C_GRID, TfidfLogReg
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
