"""rnnbook.train: the loop learns, early stopping restores the best weights, metrics match scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import metrics as skm
from torch import nn

from rnnbook.nn.classifier import SentimentClassifier
from rnnbook.train import evaluate, fit, length_batches, pick_device, predict_proba, set_seed


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _toy(n=32, seed=0, T=6, V=12):
    """Texts of random tokens; label 1 iff token 2 ("good") occurs, anywhere."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, T + 1, n)
    ids = np.zeros((n, T), dtype=np.int64)
    y = rng.integers(0, 2, n)
    for i in range(n):
        row = rng.integers(3, V, lengths[i])
        if y[i]:
            row[rng.integers(lengths[i])] = 2
        ids[i, : lengths[i]] = row
    return ids, lengths, y


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_model_overfits_a_tiny_batch(cell):
    data = _toy(16)
    torch.manual_seed(0)
    m = SentimentClassifier(12, 8, 16, cell=cell, dropout=0.0, pooling="last+max")
    out = fit(m, data, data, epochs=60, batch_size=16, lr=1e-2, patience=None, seed=0, progress=False,
              num_threads=1)
    assert out["history"][-1]["train_loss"] < 0.02, out["history"][-1]
    assert out["best_val_auc"] == 1.0


class _OneWeight(nn.Module):
    """logit = w[first token]: a model whose trajectory the test controls exactly."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.0, 0.0, -0.5, 0.5]))

    def forward(self, ids, lengths):
        return self.w[ids[:, 0]]


def test_early_stopping_restores_the_best_weights():
    # Train says token 2 is positive, validation says token 3 is: every epoch of training makes the
    # validation AUC worse, so the best epoch is the first, and its weights must come back.
    ids = np.array([[2], [3]] * 4)
    lengths = np.ones(8, dtype=np.int64)
    y_train = np.array([1, 0] * 4)
    model = _OneWeight()
    out = fit(model, (ids, lengths, y_train), (ids, lengths, 1 - y_train), epochs=20, batch_size=8, lr=0.3,
              patience=2, seed=0, progress=False, clip=None)
    hist = out["history"]
    aucs = [h["val_auc"] for h in hist]
    assert aucs[0] == 1.0 and aucs[-1] == 0.0  # the case really gets worse
    assert out["best_epoch"] == 1 and out["stopped_early"]
    assert len(hist) < 20
    # Restored: the validation AUC of the returned model is the best one, not the last one.
    p = predict_proba(model, (ids, lengths))
    assert skm.roc_auc_score(1 - y_train, p) == 1.0
    # Weights of epoch 1: one step of size lr from [-0.5, 0.5] (Adam's first step is ±lr per weight).
    torch.testing.assert_close(model.w.detach()[2:], torch.tensor([-0.2, 0.2]), rtol=0, atol=1e-5)


def test_fit_is_reproducible_with_a_seed():
    data = _toy(40, seed=1)
    runs = []
    for _ in range(2):
        torch.manual_seed(123)  # same initial weights
        m = SentimentClassifier(12, 4, 4, cell="gru", dropout=0.3, embed_dropout=0.2)
        out = fit(m, data, data, epochs=3, batch_size=8, lr=1e-2, patience=None, seed=7, progress=False)
        runs.append([h["train_loss"] for h in out["history"]])
    assert runs[0] == runs[1]


def test_predict_proba_keeps_the_input_order():
    data = _toy(50, seed=2)
    torch.manual_seed(0)
    m = SentimentClassifier(12, 4, 4, cell="lstm").eval()
    p = predict_proba(m, data, batch_size=7)  # sorted by length inside, put back in place
    with torch.no_grad():
        direct = torch.sigmoid(m(torch.as_tensor(data[0]), torch.as_tensor(data[1]))).numpy()
    np.testing.assert_allclose(p, direct, rtol=0, atol=1e-6)
    assert p.dtype == np.float64 and np.all((0 <= p) & (p <= 1))


def test_length_batches_cover_every_text_once_and_group_lengths():
    lengths = np.random.default_rng(0).integers(1, 50, 1000)
    batches = length_batches(lengths, 32, np.random.default_rng(1), pool=10)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    # grouping: within a batch the lengths span far less than the whole range
    spreads = [lengths[b].max() - lengths[b].min() for b in batches]
    assert np.median(spreads) < 10


def test_evaluate_equals_scikit_learn():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.3 * y + rng.random(200) * 0.7, 0, 1)
    got = evaluate(y, p)
    pred = (p >= 0.5).astype(int)
    want = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred),
        "recall": skm.recall_score(y, pred),
        "f1": skm.f1_score(y, pred),
        "roc_auc": skm.roc_auc_score(y, p),
    }
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-12), k


def test_set_seed_and_pick_device():
    set_seed(5)
    a = torch.rand(3)
    set_seed(5)
    assert torch.equal(a, torch.rand(3))
    assert pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="seed"):
        set_seed(-1)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": -1.0}, "lr"),
        ({"patience": 0}, "patience"),
        ({"clip": 0.0}, "clip"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"schedule": "cosine"}, "schedule"),
    ],
)
def test_fit_rejects_bad_arguments(kwargs, name):
    data = _toy(8)
    args = dict(epochs=1, batch_size=4, lr=1e-3, seed=0, progress=False) | kwargs
    with pytest.raises(ValueError, match=name):
        fit(SentimentClassifier(12, 4, 4), data, data, **args)


def test_fit_rejects_bad_data():
    ids, lengths, y = _toy(8)
    m = SentimentClassifier(12, 4, 4)
    kw = dict(epochs=1, batch_size=4, lr=1e-3, progress=False)
    with pytest.raises(ValueError, match="val_data must hold both classes"):
        fit(m, (ids, lengths, y), (ids, lengths, np.zeros(8, dtype=int)), **kw)
    with pytest.raises(ValueError, match="train_data: y"):
        fit(m, (ids, lengths, y + 1), (ids, lengths, y), **kw)
    with pytest.raises(ValueError, match="train_data: lengths"):
        fit(m, (ids, lengths[:3], y), (ids, lengths, y), **kw)
    with pytest.raises(ValueError, match="train_data must be a tuple"):
        fit(m, (ids,), (ids, lengths, y), **kw)
