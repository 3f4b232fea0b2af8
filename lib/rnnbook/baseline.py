"""The lab's non-recurrent baseline: TF-IDF of word 1–2-grams + logistic regression (scikit-learn).

::

    base = TfidfLogReg().fit(train.texts, train.labels, val.texts, val.labels)
    p = base.predict_proba(test.texts)        # (N,) probabilities of the positive class
    base.C_, base.val_auc_                    # the C chosen on the validation split

A bag of n-grams ignores word order beyond two words, yet on short texts it is
hard to beat: it is what the recurrent models of the lab must match. To make
the comparison fair the baseline is tuned like them, on the validation split
only: ``C`` (inverse regularisation strength) is picked from a small grid by
validation ROC-AUC, then the model refitted with that ``C`` on the training split.

The default (``char_ngrams=None``) is the classic word 1–2-gram model, with the
lab's tokenizer (:data:`rnnbook.text.tokenize`), so both sides see the same tokens.
``char_ngrams=(2, 5)`` adds character n-grams within word boundaries, a stronger
variant for the exercises; it is not the reference baseline.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from rnnbook.scratch import metrics
from rnnbook.text import tokenize

#: The validation grid of C: 10^-1 … 10^3 in steps of about ×3. On the airline tweets the
#: validation AUC rises up to C ≈ 30 and is flat (±0.0003) from there to 1000.
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)


def _check_xy(name_x, texts, name_y, y):
    if isinstance(texts, str):
        raise ValueError(f"{name_x} must be a sequence of str, not a single str")
    texts = list(texts)
    y = np.asarray(y)
    if y.shape != (len(texts),):
        raise ValueError(f"{name_y} must have shape ({len(texts)},) like {name_x}; got shape {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"{name_y} must hold labels in {{0, 1}}; got {np.unique(y)[:5]}")
    return texts, y.astype(np.int64)


class TfidfLogReg:
    """TF-IDF (word 1–2-grams) + ``LogisticRegression``, C tuned on validation ROC-AUC.

    Parameters
    ----------
    tokenizer : callable
        ``str -> list[str]``; default the lab's :data:`rnnbook.text.tokenize`.
    ngram_range : (int, int)
        Word n-grams (default (1, 2)).
    min_df : int
        Ignore n-grams in fewer training texts than this.
    char_ngrams : (int, int) or None
        Also use TF-IDF of character n-grams of this range (variant; default None).
    C_grid : sequence of float
        Values of C tried on the validation split.
    seed : int
        ``random_state`` of the solver (liblinear is deterministic; kept for the record).
    """

    def __init__(self, *, tokenizer: Callable[[str], list[str]] | None = None, ngram_range=(1, 2),
                 min_df: int = 1, char_ngrams: tuple[int, int] | None = None,
                 C_grid: Sequence[float] = C_GRID, seed: int = 0) -> None:
        if not C_grid or any(not (isinstance(c, (int, float)) and c > 0) for c in C_grid):
            raise ValueError(f"C_grid must be a non-empty sequence of positive numbers; got {C_grid!r}")
        self.tokenizer = tokenize if tokenizer is None else tokenizer
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.char_ngrams = char_ngrams
        self.C_grid = tuple(float(c) for c in C_grid)
        self.seed = seed

    def _vectorizers(self):
        # scikit-learn is imported here, not at the top: `import rnnbook.sentiment` (which reads
        # C_GRID) then stays quick for the torch models.
        from sklearn.feature_extraction.text import TfidfVectorizer

        vecs = [TfidfVectorizer(tokenizer=self.tokenizer, lowercase=False, token_pattern=None,
                                ngram_range=self.ngram_range, min_df=self.min_df, sublinear_tf=True)]
        if self.char_ngrams is not None:
            vecs.append(TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams),
                                        min_df=2, sublinear_tf=True))
        return vecs

    def _transform(self, texts):
        from scipy import sparse

        return sparse.hstack([v.transform(texts) for v in self.vectorizers_]).tocsr()

    def fit(self, texts: Sequence[str], y, val_texts: Sequence[str], val_y) -> "TfidfLogReg":
        """Fit the vectorizer on ``texts`` (train only), pick C on the validation split, refit.

        texts (N,) str and y (N,) in {0, 1}: training split; val_texts, val_y: validation split.
        Sets ``C_``, ``val_auc_`` (best validation ROC-AUC) and ``val_aucs_`` (C → AUC).
        """
        texts, y = _check_xy("texts", texts, "y", y)
        val_texts, val_y = _check_xy("val_texts", val_texts, "val_y", val_y)
        if y.min() == y.max():
            raise ValueError(f"y must hold both classes; got only label {y[0]}")
        self.vectorizers_ = self._vectorizers()
        for v in self.vectorizers_:
            v.fit(texts)
        from sklearn.linear_model import LogisticRegression

        X, Xv = self._transform(texts), self._transform(val_texts)
        self.val_aucs_ = {}
        best = None
        for C in self.C_grid:
            clf = LogisticRegression(C=C, solver="liblinear", max_iter=1000, random_state=self.seed).fit(X, y)
            auc = metrics.roc_auc(val_y, clf.predict_proba(Xv)[:, 1])
            self.val_aucs_[C] = auc
            if best is None or auc > best[0]:
                best = (auc, C, clf)
        self.val_auc_, self.C_, self.model_ = best
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities (N,) float64 of the positive class."""
        if not hasattr(self, "model_"):
            raise ValueError("this TfidfLogReg is not fitted yet; call fit(...) first")
        if isinstance(texts, str):
            raise ValueError("texts must be a sequence of str, not a single str")
        return self.model_.predict_proba(self._transform(list(texts)))[:, 1].astype(np.float64)

    @property
    def n_params(self) -> int:
        """Number of learned weights: one per feature, plus the bias."""
        return int(self.model_.coef_.size + self.model_.intercept_.size)
