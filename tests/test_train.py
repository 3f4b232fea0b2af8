"""rnnbook.lab.train, the lab's one loop: it learns, early stopping restores the best weights, metrics match
scikit-learn, and it trains the NumPy classifier exactly as it trains its torch twin."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import metrics as skm
from torch import nn

from rnnbook.lab.train import evaluate, fit, length_batches, pick_device, predict_logits, predict_proba, set_seed
from rnnbook.nn.classifier import SentimentClassifier
from rnnbook.scratch.classifier import PARAM_NAMES, NumpyLSTMClassifier


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


def test_length_batches_cover_every_text_once_and_bucketing_cuts_padding():
    lengths = np.random.default_rng(0).integers(1, 41, 1000)
    for bucket in (False, True):
        batches = length_batches(lengths, 32, np.random.default_rng(1), bucket=bucket, pool=10)
        assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(1000))
        assert all(1 <= len(b) <= 32 for b in batches)
    # grouping: within a batch the lengths span far less than the whole range, so far fewer steps run
    batches = length_batches(lengths, 32, np.random.default_rng(1), pool=10)
    assert np.median([lengths[b].max() - lengths[b].min() for b in batches]) < 10
    steps = {bucket: sum(lengths[b].max() for b in length_batches(lengths, 32, np.random.default_rng(0), bucket=bucket))
             for bucket in (False, True)}
    assert steps[True] < 0.7 * steps[False]
    # the same generator state gives the same batches; without a generator: sorted by length, for prediction
    again = [length_batches(lengths, 32, np.random.default_rng(5)) for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(*again))
    assert np.all(np.diff(lengths[np.concatenate(length_batches(lengths, 32))]) >= 0)


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


# --------------------------------------------------------------------------- the NumPy classifier, same loop


def _separable(rng, N, T=10, V=40):
    """Label 1 when a word from 1…9 ("good") occurs more often than one from 10…19 ("bad")."""
    lengths = rng.integers(2, T + 1, N)
    ids = np.zeros((N, T), dtype=np.int64)
    for n, ell in enumerate(lengths):
        ids[n, :ell] = rng.integers(1, V, ell)
    valid = np.arange(T) < lengths[:, None]
    good = ((ids >= 1) & (ids < 10) & valid).sum(1)
    bad = ((ids >= 10) & (ids < 20) & valid).sum(1)
    return ids, lengths, (good > bad).astype(np.int64)


def test_the_numpy_classifier_learns_and_ends_with_its_best_epoch():
    rng = np.random.default_rng(8)
    train, val = _separable(rng, 400), _separable(rng, 200)
    model = NumpyLSTMClassifier(40, 8, 16, seed=2, dropout=0.1)
    out = fit(model, train, val, epochs=6, batch_size=32, lr=0.01, patience=2, seed=0, progress=False, num_threads=1)
    history = out["history"]
    assert set(history[0]) == {"epoch", "train_loss", "grad_norm", "val_loss", "val_auc", "val_accuracy", "lr",
                               "seconds"}
    assert [h["epoch"] for h in history] == list(range(1, len(history) + 1))
    assert history[-1]["train_loss"] < history[0]["train_loss"] and out["best_val_auc"] > 0.9
    kept = history[out["best_epoch"] - 1]
    assert kept["val_auc"] == max(h["val_auc"] for h in history) == out["best_val_auc"]
    # the model ends with the best epoch's parameters, whatever came after
    z = predict_logits(model, val)
    assert skm.roc_auc_score(val[2], z) == pytest.approx(kept["val_auc"], abs=1e-12)
    assert np.mean(np.logaddexp(0, z) - val[2] * z) == pytest.approx(kept["val_loss"], rel=1e-5)


def test_early_stopping_restores_the_numpy_parameters_after_a_wrecking_learning_rate():
    rng = np.random.default_rng(9)
    train, val = _separable(rng, 200), _separable(rng, 100)
    model = NumpyLSTMClassifier(40, 8, 16, seed=3)
    fit(model, train, val, epochs=1, batch_size=32, lr=0.01, seed=0, progress=False)
    out = fit(model, train, val, epochs=5, batch_size=32, lr=5.0, clip=None, patience=1, seed=0, progress=False)
    aucs = [h["val_auc"] for h in out["history"]]
    assert out["stopped_early"] and len(aucs) < 5
    assert skm.roc_auc_score(val[2], predict_logits(model, val)) == pytest.approx(max(aucs), abs=1e-12)


def test_one_loop_trains_the_numpy_classifier_as_it_trains_its_torch_twin():
    """Same weights, same batches, AdamW with weight decay, clipping and a linear schedule: the NumPy step
    (backward by hand) and the torch step (autograd) follow the same trajectory, epoch after epoch. In float64
    they agree to about 1e-8: Adam divides by √v, which magnifies the last bits of tiny gradients; a wrong
    step (a missing decay, a clip on the wrong norm, another schedule) moves the losses by 1e-3 or more."""
    rng = np.random.default_rng(10)
    train, val = _separable(rng, 96), _separable(rng, 48)
    numpy_model = NumpyLSTMClassifier(40, 6, 8, seed=4, dtype=np.float64, dropout=0.0, pooling="last")
    torch_model = SentimentClassifier(40, 6, 8, cell="lstm", bidirectional=False, dropout=0.0, embed_dropout=0.0,
                                      pooling="last").double()
    numpy_model.to_torch(torch_model.embedding, torch_model.rnn, torch_model.out)
    kw = dict(epochs=3, batch_size=16, lr=0.02, weight_decay=0.01, clip=0.5, patience=None, seed=3, progress=False,
              schedule="linear")
    a, b = fit(numpy_model, train, val, **kw), fit(torch_model, train, val, **kw)
    for key in ("train_loss", "grad_norm", "val_loss", "val_auc", "lr"):
        np.testing.assert_allclose([h[key] for h in a["history"]], [h[key] for h in b["history"]], rtol=1e-6,
                                   err_msg=key)
    twin = NumpyLSTMClassifier(40, 6, 8, dtype=np.float64)
    twin.load_torch(torch_model.embedding, torch_model.rnn, torch_model.out)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(numpy_model.parameters()[name], twin.parameters()[name], rtol=1e-6, atol=1e-9,
                                   err_msg=name)


def test_fit_rejects_what_it_cannot_train():
    data = _toy(8)
    with pytest.raises(ValueError, match="model must be a torch nn.Module or a NumpyLSTMClassifier; got dict"):
        fit({}, data, data, epochs=1, batch_size=4, lr=1e-3, progress=False)
    with pytest.raises(ValueError, match="device: the NumPy classifier runs on the CPU only"):
        fit(NumpyLSTMClassifier(12, 4, 4), data, data, epochs=1, batch_size=4, lr=1e-3, progress=False, device="cuda")
    with pytest.raises(ValueError, match="num_threads must be an integer ≥ 1 or None; got 0"):
        fit(NumpyLSTMClassifier(12, 4, 4), data, data, epochs=1, batch_size=4, lr=1e-3, progress=False, num_threads=0)


def test_lr_scales_give_the_named_layers_their_own_learning_rate():
    """Adam's first step moves each weight by lr·g/(|g| + ε) ≈ lr: with lr_scales the embedding's steps are 0.1·lr
    and the LSTM's 0.5·lr, the output layer's stay lr (discriminative fine-tuning)."""
    from rnnbook.lab.train import TorchStep

    torch.manual_seed(0)
    model = SentimentClassifier(20, 4, 5, cell="lstm", bidirectional=True, dropout=0.0, embed_dropout=0.0)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    step = TorchStep(model, lr=1e-2, weight_decay=0.0, clip=None, device="cpu",
                     lr_scales={"embedding.": 0.1, "rnn.": 0.5})
    ids = np.array([[3, 4, 5, 6], [7, 8, 0, 0]])
    step(ids, np.array([4, 2]), np.array([1.0, 0.0]), 1e-2)
    moved = {k: (v.detach() - before[k]).abs() for k, v in model.named_parameters()}
    for name, expected in (("embedding.weight", 1e-3), ("rnn.weight_hh_l0", 5e-3), ("out.weight", 1e-2)):
        largest = float(moved[name].max())
        assert largest == pytest.approx(expected, rel=1e-3), (name, largest)
    with pytest.raises(ValueError, match=r"lr_scales names prefixes that match no parameter: \['encoder\.'\]"):
        TorchStep(model, lr=1e-2, weight_decay=0.0, clip=None, lr_scales={"encoder.": 0.1})
    with pytest.raises(ValueError, match=r"lr_scales\['rnn\.'\] must be a positive number; got 0"):
        TorchStep(model, lr=1e-2, weight_decay=0.0, clip=None, lr_scales={"rnn.": 0})
    numpy_model = NumpyLSTMClassifier(20, 4, 5, seed=0)
    with pytest.raises(ValueError, match="lr_scales: the NumPy classifier has one learning rate"):
        fit(numpy_model, (ids, np.array([4, 2]), np.array([1, 0])), (ids, np.array([4, 2]), np.array([1, 0])),
            epochs=1, batch_size=2, lr=1e-2, lr_scales={"embedding": 0.1})
