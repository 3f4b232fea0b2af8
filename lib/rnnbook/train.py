"""Training loop of the sentiment lab: seeding, device, mini-batches by length, early stopping, metrics.

::

    set_seed(0)
    history = fit(model, (ids, lengths, y), (val_ids, val_lengths, val_y),
                  epochs=8, batch_size=64, lr=3e-3, weight_decay=1e-4, patience=2, seed=0)
    p = predict_proba(model, (test_ids, test_lengths))
    evaluate(test_y, p)   # {'accuracy': ..., 'precision': ..., 'recall': ..., 'f1': ..., 'roc_auc': ...}

A data set is a tuple ``(ids, lengths, y)`` of arrays or tensors: ids (N, T)
int64 right-padded with 0, lengths (N,) int64, y (N,) in {0, 1}
(:meth:`rnnbook.text.Vocabulary.encode` makes the first two).

Why the loop looks the way it does:

* **Loss on logits.** ``BCEWithLogitsLoss`` is the book's stable binary
  cross-entropy (``eq-bce-logits``); a sigmoid followed by ``BCELoss`` saturates in float32.
* **Batches of similar length.** Each epoch shuffles the texts, sorts them by
  length inside pools of 50 batches, cuts the pools into batches and shuffles the batches.
  Every batch is then trimmed to its own longest text, so the recurrence runs
  over few padding steps: on the airline tweets an epoch of the BiLSTM takes about half
  the time of fully random batches (5.1 s against 9.6 s on one thread), and the batches
  stay random enough for SGD.
* **Gradient clipping** by global norm (``clip_grad_norm_``), against the
  occasional exploding step of an RNN (chapter 2).
* **Early stopping on validation ROC-AUC**, the lab's main metric: after
  ``patience`` epochs without a better validation AUC, training stops and the
  weights of the best epoch are put back.
"""

from __future__ import annotations

import copy
import math
import os
import random
import time

import numpy as np
import torch
from torch import nn

from rnnbook.scratch import metrics


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators (CPU and CUDA)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer ≥ 0; got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))  # also seeds every CUDA device


def pick_device() -> torch.device:
    """CUDA if a GPU is available (Colab), else the CPU. Nothing in the lab needs a GPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_num_threads() -> int:
    """Threads for torch on the CPU: the cores this process may use, at most 2.

    Measured on the lab's BiLSTM (batch 64, tweets of ~22 tokens, one epoch, median of 4):
    on 2 idle cores, 2 threads train 1.35× faster than 1 (3.8 s against 5.1 s an epoch).
    Beyond 2 the small matrices of a recurrent step gain little. On a machine whose cores
    are busy with other work, pass ``num_threads=1``: there a second thread waits for a core
    at every step, and one run measured 3× *slower* with 2 threads than with 1.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


# --------------------------------------------------------------------------- data


def _as_tensors(name: str, data, *, need_y: bool):
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ValueError(f"{name} must be a tuple (ids, lengths, y) or (ids, lengths); got {type(data).__name__}"
                         + (f" of length {len(data)}" if isinstance(data, (tuple, list)) else ""))
    if need_y and len(data) != 3:
        raise ValueError(f"{name} must be a tuple (ids, lengths, y) with labels; got a tuple of length {len(data)}")
    ids = torch.as_tensor(np.asarray(data[0]) if not torch.is_tensor(data[0]) else data[0], dtype=torch.int64)
    lengths = torch.as_tensor(np.asarray(data[1]) if not torch.is_tensor(data[1]) else data[1], dtype=torch.int64)
    if ids.ndim != 2:
        raise ValueError(f"{name}: ids must have shape (N, T); got shape {tuple(ids.shape)}")
    if lengths.shape != ids.shape[:1]:
        raise ValueError(f"{name}: lengths must have shape ({ids.shape[0]},); got shape {tuple(lengths.shape)}")
    if ids.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one text; got N = 0")
    if lengths.min() < 1 or lengths.max() > ids.shape[1]:
        raise ValueError(f"{name}: lengths must lie in [1, T={ids.shape[1]}]; "
                         f"got [{int(lengths.min())}, {int(lengths.max())}]")
    if len(data) == 2:
        return ids, lengths, None
    y = np.asarray(data[2].cpu() if torch.is_tensor(data[2]) else data[2])
    if y.shape != (ids.shape[0],):
        raise ValueError(f"{name}: y must have shape ({ids.shape[0]},); got shape {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"{name}: y must hold labels in {{0, 1}}; got {np.unique(y)[:5]}")
    return ids, lengths, torch.as_tensor(y, dtype=torch.float32)


def length_batches(lengths, batch_size: int, rng: np.random.Generator | None = None,
                   pool: int = 50) -> list[np.ndarray]:
    """Index batches of texts of similar length.

    With ``rng``: shuffle, sort by length within pools of ``pool · batch_size``
    texts, cut into batches, shuffle the batch order (training). Without: sorted
    by length, in order (prediction; the caller puts the results back in place).
    """
    lengths = np.asarray(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    perm = rng.permutation(len(lengths))
    step = pool * batch_size
    batches = []
    for start in range(0, len(perm), step):
        chunk = perm[start:start + step]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def _batch(ids, lengths, idx, device):
    idx_t = torch.as_tensor(idx)
    b_len = lengths[idx_t]
    b_ids = ids[idx_t, : int(b_len.max())]  # trim the padding columns nobody in the batch needs
    return b_ids.to(device), b_len.to(device)


# --------------------------------------------------------------------------- prediction and metrics


@torch.no_grad()
def predict_logits(model: nn.Module, data, *, batch_size: int = 512, device=None) -> np.ndarray:
    """Logits (N,) float64 of ``model`` on data = (ids, lengths[, y]), in eval mode (no dropout)."""
    ids, lengths, _ = _as_tensors("data", data, need_y=False)
    device = next(model.parameters()).device if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    out = np.empty(len(lengths), dtype=np.float64)
    try:
        for idx in length_batches(lengths.numpy(), batch_size):
            b_ids, b_len = _batch(ids, lengths, idx, device)
            out[idx] = model(b_ids, b_len).double().cpu().numpy()
    finally:
        model.train(was_training)
    return out


def predict_proba(model: nn.Module, data, *, batch_size: int = 512, device=None) -> np.ndarray:
    """Probabilities (N,) float64 of the positive class: σ(logit), for data = (ids, lengths[, y])."""
    z = predict_logits(model, data, batch_size=batch_size, device=device)
    return 1.0 / (1.0 + np.exp(-z))


def evaluate(y_true, p, *, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of the predictions ``p ≥ threshold``, and ROC-AUC of ``p``.

    The book's own metrics (:mod:`rnnbook.scratch.metrics`, equations
    ``eq-metric-*``), equal to scikit-learn's; y_true (N,) in {0, 1}, p (N,) scores.
    """
    y_true = np.asarray(y_true)
    p = np.asarray(p, dtype=np.float64)
    if p.shape != y_true.shape or p.ndim != 1:
        raise ValueError(f"p must have the shape of y_true, {y_true.shape}; got {p.shape}")
    y_pred = (p >= threshold).astype(np.int64)
    return {
        "accuracy": metrics.accuracy(y_true, y_pred),
        "precision": metrics.precision(y_true, y_pred),
        "recall": metrics.recall(y_true, y_pred),
        "f1": metrics.f1(y_true, y_pred),
        "roc_auc": metrics.roc_auc(y_true, p),
    }


# --------------------------------------------------------------------------- training


def fit(model: nn.Module, train_data, val_data, *, epochs: int, batch_size: int, lr: float,
        weight_decay: float = 0.0, clip: float | None = 1.0, patience: int | None = 2, seed: int = 0,
        device=None, progress: bool = True, schedule: str = "constant", num_threads: int | None = None,
        ) -> dict:
    """Train ``model`` with AdamW on BCE-with-logits; early stopping on validation ROC-AUC.

    Parameters
    ----------
    model : nn.Module
        ``model(ids (N, T), lengths (N,)) -> logits (N,)``, e.g. a
        :class:`~rnnbook.nn.classifier.SentimentClassifier`. Trained in place; on return it
        holds the weights of the epoch with the best validation AUC.
    train_data, val_data : tuple (ids, lengths, y)
        ids (N, T) int64, lengths (N,) int64, y (N,) in {0, 1}.
    epochs : int
        Most epochs to run.
    batch_size : int
    lr : float
        Peak learning rate of AdamW.
    weight_decay : float
        AdamW's decoupled weight decay.
    clip : float or None
        Largest global gradient norm (``clip_grad_norm_``); None: no clipping.
    patience : int or None
        Stop after this many epochs without a better validation AUC; None: run all epochs.
    seed : int
        Seeds the batch order and torch's generator (dropout).
    device : str or torch.device, optional
        Default :func:`pick_device`.
    progress : bool
        Show a tqdm progress bar (one bar, one step per batch).
    schedule : {"constant", "linear"}
        Learning rate over the planned ``epochs``: constant, or decaying linearly to 0 after a
        warm-up of 5% of the steps.
    num_threads : int or None
        ``torch.set_num_threads`` while training, restored on return (None: leave as it is).

    Returns
    -------
    dict
        ``history``: one dict per epoch (``epoch``, ``train_loss``, ``val_loss``, ``val_auc``,
        ``val_accuracy``, ``lr``, ``seconds``), ``best_epoch`` (1-based), ``best_val_auc``,
        ``stopped_early``, ``train_seconds`` (wall time of the whole call, validation included).
    """
    for name, value, minimum in (("epochs", epochs, 1), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an integer ≥ {minimum}; got {value!r}")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, (int, np.integer))
                                 or patience < 1):
        raise ValueError(f"patience must be an integer ≥ 1 or None; got {patience!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number; got {lr!r}")
    if not (isinstance(weight_decay, (int, float)) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a number ≥ 0; got {weight_decay!r}")
    if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
        raise ValueError(f"clip must be a positive number or None; got {clip!r}")
    if schedule not in ("constant", "linear"):
        raise ValueError(f"schedule must be 'constant' or 'linear'; got {schedule!r}")
    ids, lengths, y = _as_tensors("train_data", train_data, need_y=True)
    val = _as_tensors("val_data", val_data, need_y=True)
    val_y = val[2].numpy().astype(np.int64)
    if val_y.min() == val_y.max():
        raise ValueError("val_data must hold both classes (ROC-AUC needs them); got only "
                         f"label {int(val_y[0])}")

    device = pick_device() if device is None else torch.device(device)
    old_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    set_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    n_batches = math.ceil(len(lengths) / batch_size)
    total_steps = epochs * n_batches
    if schedule == "linear":
        warmup = max(1, int(0.05 * total_steps))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / (total_steps - warmup))))
    else:
        scheduler = None
    loss_fn = nn.BCEWithLogitsLoss()

    # tqdm.auto draws a widget in Jupyter (Colab has ipywidgets); without ipywidgets it warns at import,
    # so a run without a bar (the book's pages) uses the plain bar, disabled.
    if progress:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm

    bar = tqdm(total=total_steps, disable=not progress, desc=f"{type(model).__name__}", unit="batch",
               leave=False)
    history: list[dict] = []
    best_auc, best_epoch, best_state, waited = -math.inf, 0, None, 0
    stopped_early = False
    t_start = time.perf_counter()
    try:
        for epoch in range(1, int(epochs) + 1):
            t0 = time.perf_counter()
            model.train()
            total, count = 0.0, 0
            for idx in length_batches(lengths.numpy(), batch_size, rng):
                b_ids, b_len = _batch(ids, lengths, idx, device)
                b_y = y[torch.as_tensor(idx)].to(device)
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(b_ids, b_len), b_y)
                loss.backward()
                if clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total += float(loss.detach()) * len(idx)
                count += len(idx)
                bar.update(1)
            z = predict_logits(model, val, device=device)
            p = 1.0 / (1.0 + np.exp(-z))
            val_loss = float(np.mean(np.maximum(z, 0) - z * val_y + np.log1p(np.exp(-np.abs(z)))))
            auc = metrics.roc_auc(val_y, p)
            row = {
                "epoch": epoch,
                "train_loss": total / count,
                "val_loss": val_loss,
                "val_auc": auc,
                "val_accuracy": metrics.accuracy(val_y, (p >= 0.5).astype(np.int64)),
                "lr": optimizer.param_groups[0]["lr"],
                "seconds": time.perf_counter() - t0,
            }
            history.append(row)
            bar.set_postfix(epoch=epoch, loss=f"{row['train_loss']:.3f}", val_auc=f"{auc:.4f}")
            if auc > best_auc:
                best_auc, best_epoch, waited = auc, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    stopped_early = epoch < epochs
                    break
    finally:
        bar.close()
        if num_threads is not None:
            torch.set_num_threads(old_threads)
    if best_state is not None:
        model.load_state_dict(best_state)
    return {
        "history": history,
        "best_epoch": best_epoch,
        "best_val_auc": best_auc,
        "stopped_early": stopped_early,
        "train_seconds": time.perf_counter() - t_start,
    }
