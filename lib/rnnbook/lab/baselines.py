"""The lab's non-recurrent baselines: TF-IDF + logistic regression, and NB-SVM (scikit-learn).

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
lab's tokenizer (:data:`rnnbook.lab.text.tokenize`), so both sides see the same tokens.
``char_ngrams=(2, 5)`` adds character n-grams within word boundaries: the
strongest simple baseline measured on the lab's splits. :class:`NBSVM` is the
other classic one (Wang & Manning 2012).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from rnnbook.scratch import metrics
from rnnbook.lab.text import tokenize

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


def _pick_C(C_grid, fit_one, score, val_y):
    """Fit one model per ``C`` of ``C_grid`` and keep the best by validation ROC-AUC.

    ``fit_one(C)`` returns a fitted model, ``score(model)`` its validation scores (N_val,).
    Returns ``(best AUC, its C, its model, {C: AUC})``; the first C wins a tie.
    """
    aucs, best = {}, None
    for C in C_grid:
        model = fit_one(C)
        aucs[C] = metrics.roc_auc(val_y, score(model))
        if best is None or aucs[C] > best[0]:
            best = (aucs[C], C, model)
    return (*best, aucs)


def _check_fitted(model, attribute: str, texts) -> list[str]:
    """``texts`` as a list, once ``model`` is fitted (has ``attribute``)."""
    if not hasattr(model, attribute):
        raise ValueError(f"this {type(model).__name__} is not fitted yet; call fit(...) first")
    if isinstance(texts, str):
        raise ValueError("texts must be a sequence of str, not a single str")
    return list(texts)


def _check_C_grid(C_grid) -> tuple[float, ...]:
    if not C_grid or any(not (isinstance(c, (int, float)) and c > 0) for c in C_grid):
        raise ValueError(f"C_grid must be a non-empty sequence of positive numbers; got {C_grid!r}")
    return tuple(float(c) for c in C_grid)


class TfidfLogReg:
    """TF-IDF (word 1–2-grams) + ``LogisticRegression``, C tuned on validation ROC-AUC.

    Parameters
    ----------
    tokenizer : callable
        ``str -> list[str]``; default the lab's :data:`rnnbook.lab.text.tokenize`.
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
        self.tokenizer = tokenize if tokenizer is None else tokenizer
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.char_ngrams = char_ngrams
        self.C_grid = _check_C_grid(C_grid)
        self.seed = seed

    def _vectorizers(self):
        # scikit-learn is imported here, not at the top: `import rnnbook.lab.sentiment` (which reads
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
        self.val_auc_, self.C_, self.model_, self.val_aucs_ = _pick_C(
            self.C_grid,
            lambda C: LogisticRegression(C=C, solver="liblinear", max_iter=1000, random_state=self.seed).fit(X, y),
            lambda clf: clf.predict_proba(Xv)[:, 1], val_y)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities (N,) float64 of the positive class."""
        texts = _check_fitted(self, "model_", texts)
        return self.model_.predict_proba(self._transform(texts))[:, 1].astype(np.float64)

    @property
    def n_params(self) -> int:
        """Number of learned weights: one per feature, plus the bias."""
        return int(self.model_.coef_.size + self.model_.intercept_.size)


#: NB-SVM's grid of C: its features are scaled by the log-count ratio, so it wants stronger
#: regularisation than the TF-IDF model (Wang & Manning use C = 1).
NBSVM_C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


class NBSVM:
    """NB-SVM (Wang & Manning 2012): a linear SVM on n-gram indicators scaled by their naive-Bayes ratio.

    With f_i in {0, 1}^|V| the indicators of the n-grams of text i (train vocabulary) and alpha = 1::

        p = alpha + sum of f_i over positive texts,   q = alpha + sum of f_i over negative texts   (|V|,)
        r = log((p / ||p||_1) / (q / ||q||_1))                       the log-count ratio (|V|,)
        x_i = r * f_i                                                 the scaled features
        w, b = L2-regularised squared-hinge linear SVM on (x_i, y_i)  (liblinear, C)
        w' = (1 - beta) * mean(|w|) + beta * w                        interpolation, beta = 0.25
        s_i = w' . x_i + b                                            the score

    ``C`` is chosen on the validation split by ROC-AUC, as for :class:`TfidfLogReg`. The interpolation
    moves the scores away from the SVM's own threshold (with a fifth of the texts positive, s > 0 finds
    only a third of them), so ``predict_proba`` is Platt-scaled on the validation split: sigmoid(a s + c),
    with a and c fitted by logistic regression of the validation labels on the scores. It keeps the order of
    the scores (a > 0), so ROC-AUC is that of s.

    Parameters
    ----------
    tokenizer : callable, default the lab's :data:`rnnbook.lab.text.tokenize`.
    ngram_range : (int, int), word n-grams (default (1, 2)).
    alpha : float > 0, the smoothing count (default 1).
    beta : float in (0, 1], the interpolation weight (default 0.25; 1 is the plain SVM).
    C_grid : sequence of float, values of C tried on the validation split.
    seed : int, ``random_state`` of liblinear.
    """

    def __init__(self, *, tokenizer: Callable[[str], list[str]] | None = None, ngram_range=(1, 2),
                 alpha: float = 1.0, beta: float = 0.25, C_grid: Sequence[float] = NBSVM_C_GRID,
                 seed: int = 0) -> None:
        if not alpha > 0:
            raise ValueError(f"alpha must be a positive number; got {alpha!r}")
        if not 0 < beta <= 1:
            raise ValueError(f"beta must be in (0, 1]; got {beta!r}")
        self.tokenizer = tokenize if tokenizer is None else tokenizer
        self.ngram_range = tuple(ngram_range)
        self.alpha, self.beta = float(alpha), float(beta)
        self.C_grid = _check_C_grid(C_grid)
        self.seed = seed

    def _features(self, texts):
        return self.vectorizer_.transform(texts).multiply(self.r_).tocsr()

    def fit(self, texts: Sequence[str], y, val_texts: Sequence[str], val_y) -> "NBSVM":
        """Count the n-grams of ``texts`` (train only), compute r, pick C on the validation split.

        texts (N,) str and y (N,) in {0, 1}: training split; val_texts, val_y: validation split.
        Sets ``r_`` (|V|,), ``coef_`` (|V|,) = w', ``intercept_``, ``C_``, ``val_auc_``, ``val_aucs_`` and
        ``platt_`` = (a, c).
        """
        texts, y = _check_xy("texts", texts, "y", y)
        val_texts, val_y = _check_xy("val_texts", val_texts, "val_y", val_y)
        if y.min() == y.max():
            raise ValueError(f"y must hold both classes; got only label {y[0]}")
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.svm import LinearSVC

        self.vectorizer_ = CountVectorizer(tokenizer=self.tokenizer, lowercase=False, token_pattern=None,
                                           ngram_range=self.ngram_range, binary=True)
        F = self.vectorizer_.fit_transform(texts)
        p = self.alpha + np.asarray(F[y == 1].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(F[y == 0].sum(axis=0)).ravel()
        self.r_ = np.log((p / p.sum()) / (q / q.sum()))
        X, Xv = self._features(texts), self._features(val_texts)

        def fit_one(C):
            svm = LinearSVC(C=C, loss="squared_hinge", dual=True, max_iter=20000, random_state=self.seed).fit(X, y)
            w = svm.coef_.ravel()
            return (1 - self.beta) * np.abs(w).mean() + self.beta * w, float(svm.intercept_[0])

        self.val_auc_, self.C_, (self.coef_, self.intercept_), self.val_aucs_ = _pick_C(
            self.C_grid, fit_one, lambda wb: Xv @ wb[0] + wb[1], val_y)
        from sklearn.linear_model import LogisticRegression

        # Almost no penalty: Platt's two numbers need none, and then the mean probability on validation
        # equals the fraction of positive validation labels.
        platt = LogisticRegression(C=1e6, max_iter=1000).fit((Xv @ self.coef_ + self.intercept_)[:, None], val_y)
        self.platt_ = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
        return self

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Scores s (N,) float64: positive means the positive class."""
        texts = _check_fitted(self, "coef_", texts)
        return np.asarray(self._features(texts) @ self.coef_ + self.intercept_, dtype=np.float64)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities (N,) float64 of the positive class: sigmoid(a s + c), Platt-scaled on validation."""
        from rnnbook.scratch.activations import sigmoid

        a, c = self.platt_ if hasattr(self, "platt_") else (1.0, 0.0)
        return sigmoid(a * self.decision_function(texts) + c)

    @property
    def n_params(self) -> int:
        """Numbers fitted on the training split: r and w' (one each per n-gram), and the bias."""
        return int(self.r_.size + self.coef_.size + 1)
