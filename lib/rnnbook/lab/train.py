"""The lab's one training loop, for the PyTorch and the NumPy classifiers alike.

::

    out = fit(model, (ids, lengths, y), (val_ids, val_lengths, val_y),
              epochs=8, batch_size=64, lr=3e-3, weight_decay=1e-4, patience=2, seed=0)
    out["history"], out["best_epoch"]
    p = predict_proba(model, (test_ids, test_lengths))
    evaluate(test_y, p)   # {'accuracy': ..., 'precision': ..., 'recall': ..., 'f1': ..., 'roc_auc': ...}

A data set is a tuple ``(ids, lengths, y)`` of arrays: ids (N, T) integer ids right-padded
with 0, lengths (N,), y (N,) in {0, 1} (:meth:`rnnbook.lab.text.Vocabulary.encode` makes the
first two). The model is either a torch module, ``model(ids (N, T), lengths (N,)) -> logits (N,)``
(:class:`~rnnbook.nn.classifier.SentimentClassifier`), or the NumPy
:class:`~rnnbook.scratch.classifier.NumpyLSTMClassifier`. Only the *step* differs between them:
:class:`TorchStep` (autograd, ``torch.optim.AdamW``) and :class:`NumpyStep` (the backward pass
written by hand, :class:`rnnbook.scratch.optim.Adam` with decoupled weight decay). Everything else
is this module's, once:

* **Loss on logits**: the book's stable binary cross-entropy (``eq-bce-logits``,
  :func:`rnnbook.scratch.bce_with_logits`); a sigmoid followed by a plain BCE saturates in float32.
* **Batches of similar length** (:func:`length_batches`). Each epoch shuffles the texts, sorts
  them by length inside pools of 50 batches, cuts the pools into batches and shuffles the batches.
  Every batch is trimmed to its own longest text, so the recurrence runs over few padding steps:
  on the airline tweets an epoch of the BiLSTM takes about half the time of fully random batches,
  and the batches stay random enough for SGD.
* **Gradient clipping** by global norm, against the occasional exploding step of an RNN
  (Chapter 1); the norm before clipping is recorded.
* **Early stopping on validation ROC-AUC**, the lab's main metric: after ``patience`` epochs
  without a better validation AUC, training stops and the weights of the best epoch are put back.
* **One thread setting** (``num_threads``) for torch and for NumPy's BLAS, one progress bar and
  one history format.
"""

from __future__ import annotations

import math
import os
import random
import time
from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

from rnnbook._checks import check_int
from rnnbook.scratch import metrics
from rnnbook.scratch.activations import sigmoid
from rnnbook.scratch.classifier import NumpyLSTMClassifier
from rnnbook.scratch.gradient_flow import clip_grad_norm
from rnnbook.scratch.losses import bce_with_logits
from rnnbook.scratch.optim import Adam


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators (CPU and CUDA)."""
    check_int("seed", seed, 0)
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


def check_data(name: str, data, *, need_y: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(ids (N, T) int64, lengths (N,) int64, y (N,) float64 or None)`` of ``data``, checked."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ValueError(f"{name} must be a tuple (ids, lengths, y) or (ids, lengths); got {type(data).__name__}"
                         + (f" of length {len(data)}" if isinstance(data, (tuple, list)) else ""))
    if need_y and len(data) != 3:
        raise ValueError(f"{name} must be a tuple (ids, lengths, y) with labels; got a tuple of length {len(data)}")
    ids, lengths = (np.asarray(a.cpu() if torch.is_tensor(a) else a) for a in data[:2])
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise ValueError(f"{name}: ids must be integer ids of shape (N, T); got shape {ids.shape}, dtype {ids.dtype}")
    if lengths.shape != ids.shape[:1] or lengths.dtype.kind not in "iu":
        raise ValueError(f"{name}: lengths must be integers of shape ({ids.shape[0]},); got shape {lengths.shape}")
    if ids.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one text; got N = 0")
    if lengths.min() < 1 or lengths.max() > ids.shape[1]:
        raise ValueError(f"{name}: lengths must lie in [1, T={ids.shape[1]}]; "
                         f"got [{int(lengths.min())}, {int(lengths.max())}]")
    if len(data) == 2:
        return ids.astype(np.int64), lengths.astype(np.int64), None
    y = np.asarray(data[2].cpu() if torch.is_tensor(data[2]) else data[2])
    if y.shape != (ids.shape[0],):
        raise ValueError(f"{name}: y must have shape ({ids.shape[0]},); got shape {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"{name}: y must hold labels in {{0, 1}}; got {np.unique(y)[:5]}")
    return ids.astype(np.int64), lengths.astype(np.int64), y.astype(np.float64)


def length_batches(lengths, batch_size: int, rng: np.random.Generator | None = None, *,
                   bucket: bool = True, pool: int = 50) -> list[np.ndarray]:
    """Index batches (each an array of row numbers) that together hold every text once.

    With ``rng`` (training): shuffle, sort by length within pools of ``pool · batch_size`` texts,
    cut into batches, shuffle the batch order; ``bucket=False`` gives plain shuffled batches.
    Without ``rng`` (prediction): sorted by length, in order; the caller puts the results back in place.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(f"lengths must have shape (N,) with N ≥ 1; got shape {lengths.shape}")
    batch_size, pool = check_int("batch_size", batch_size), check_int("pool", pool)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i:i + batch_size] for i in range(0, order.size, batch_size)]
    order = rng.permutation(lengths.size)
    if not bucket:
        return [order[i:i + batch_size] for i in range(0, order.size, batch_size)]
    batches = []
    for start in range(0, order.size, pool * batch_size):
        chunk = order[start:start + pool * batch_size]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, chunk.size, batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


# --------------------------------------------------------------------------- the two steps


class TorchStep:
    """One training step of a torch classifier: BCE on logits, autograd, clipping, ``torch.optim.AdamW``."""

    def __init__(self, model: nn.Module, *, lr: float, weight_decay: float, clip: float | None, device=None,
                 lr_scales: dict[str, float] | None = None):
        self.model, self.clip = model, clip
        self.device = pick_device() if device is None else torch.device(device)
        model.to(self.device)
        self.optimizer = torch.optim.AdamW(_param_groups(model, lr_scales), lr=lr, weight_decay=weight_decay)
        self.loss_fn = nn.BCEWithLogitsLoss()  # eq-bce-logits, as scratch.bce_with_logits

    def _tensors(self, ids, lengths):
        T_b = int(lengths.max())  # trim the padding columns nobody in the batch needs
        return (torch.as_tensor(ids[:, :T_b], device=self.device), torch.as_tensor(lengths, device=self.device))

    def __call__(self, ids, lengths, y, lr: float) -> tuple[float, float]:
        """One step on a batch; returns ``(loss, global gradient norm before clipping)``."""
        self.model.train()
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group["lr_scale"]
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(*self._tensors(ids, lengths)),
                            torch.as_tensor(y, dtype=torch.float32, device=self.device))
        loss.backward()
        norm = nn.utils.clip_grad_norm_(self.model.parameters(), self.clip if self.clip is not None else math.inf)
        self.optimizer.step()
        return float(loss.detach()), float(norm)

    @torch.no_grad()
    def logits(self, ids, lengths) -> np.ndarray:
        """Logits (N,) float64 of one batch, in eval mode (no dropout)."""
        was_training = self.model.training
        self.model.eval()
        try:
            return self.model(*self._tensors(ids, lengths)).double().cpu().numpy()
        finally:
            self.model.train(was_training)

    def state(self) -> dict:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def load(self, state: dict) -> None:
        self.model.load_state_dict(state)


def _param_groups(model: nn.Module, lr_scales: dict[str, float] | None) -> list[dict]:
    """AdamW's parameter groups: one per factor of ``lr_scales`` (parameter-name prefix → factor), the rest at 1."""
    lr_scales = dict(lr_scales or {})
    for prefix, scale in lr_scales.items():
        if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"lr_scales[{prefix!r}] must be a positive number; got {scale!r}")
    named = list(model.named_parameters())
    unused = [p for p in lr_scales if not any(name.startswith(p) for name, _ in named)]
    if unused:
        raise ValueError(f"lr_scales names prefixes that match no parameter: {unused}; "
                         f"the parameters are {[name for name, _ in named]}")
    groups: dict[float, list] = {}
    for name, param in named:
        scale = next((s for p, s in lr_scales.items() if name.startswith(p)), 1.0)
        groups.setdefault(float(scale), []).append(param)
    return [{"params": params, "lr_scale": scale} for scale, params in groups.items()]


class NumpyStep:
    """One training step of the NumPy classifier: its hand-written backward pass, clipping, Adam.

    Adam with decoupled weight decay (:class:`~rnnbook.scratch.optim.Adam`), that is AdamW, as
    :class:`TorchStep`.
    """

    def __init__(self, model: NumpyLSTMClassifier, *, lr: float, weight_decay: float, clip: float | None):
        self.model, self.clip = model, clip
        self.optimizer = Adam(model.parameters(), lr=lr, weight_decay=weight_decay, decoupled_weight_decay=True)

    def __call__(self, ids, lengths, y, lr: float) -> tuple[float, float]:
        """One step on a batch; returns ``(loss, global gradient norm before clipping)``."""
        loss, grads = self.model.loss_and_grads(ids, lengths, y, train=True)
        if self.clip is not None:
            grads, norm = clip_grad_norm(grads, self.clip)
        else:
            norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values()))
        self.optimizer.lr = lr
        self.optimizer.step(grads)
        return float(loss), float(norm)

    def logits(self, ids, lengths) -> np.ndarray:
        return self.model.forward(ids, lengths).astype(np.float64)

    def state(self) -> dict:
        return self.model.state_dict()

    def load(self, state: dict) -> None:
        self.model.load_state_dict(state)


def make_step(model, *, lr: float, weight_decay: float = 0.0, clip: float | None = 1.0, device=None,
              lr_scales: dict[str, float] | None = None):
    """The step function of ``model``: :class:`NumpyStep` for the NumPy classifier, else :class:`TorchStep`."""
    if isinstance(model, NumpyLSTMClassifier):
        if device is not None and torch.device(device).type != "cpu":
            raise ValueError(f"device: the NumPy classifier runs on the CPU only; got {device!r}")
        if lr_scales:
            raise ValueError(f"lr_scales: the NumPy classifier has one learning rate; got {lr_scales!r}")
        return NumpyStep(model, lr=lr, weight_decay=weight_decay, clip=clip)
    if isinstance(model, nn.Module):
        return TorchStep(model, lr=lr, weight_decay=weight_decay, clip=clip, device=device, lr_scales=lr_scales)
    raise ValueError(f"model must be a torch nn.Module or a NumpyLSTMClassifier; got {type(model).__name__}")


# --------------------------------------------------------------------------- prediction and metrics


def _logits(step, ids, lengths, batch_size: int) -> np.ndarray:
    out = np.empty(len(lengths), dtype=np.float64)
    for idx in length_batches(lengths, batch_size):
        out[idx] = step.logits(ids[idx], lengths[idx])
    return out


def predict_logits(model, data, *, batch_size: int = 512, device=None) -> np.ndarray:
    """Logits (N,) float64 of ``model`` (torch or NumPy) on data = (ids, lengths[, y]), without dropout."""
    ids, lengths, _ = check_data("data", data, need_y=False)
    if isinstance(model, nn.Module) and device is None:
        device = next(model.parameters()).device
    return _logits(make_step(model, lr=1.0, device=device), ids, lengths, check_int("batch_size", batch_size))


def predict_proba(model, data, *, batch_size: int = 512, device=None) -> np.ndarray:
    """Probabilities (N,) float64 of the positive class: σ(logit), for data = (ids, lengths[, y])."""
    return sigmoid(predict_logits(model, data, batch_size=batch_size, device=device))


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


def fit(model, train_data, val_data, *, epochs: int, batch_size: int, lr: float, weight_decay: float = 0.0,
        clip: float | None = 1.0, patience: int | None = 2, seed: int = 0, device=None, progress: bool = True,
        schedule: str = "constant", bucket: bool = True, num_threads: int | None = None,
        lr_scales: dict[str, float] | None = None) -> dict:
    """Train ``model`` on BCE-with-logits; early stopping on validation ROC-AUC.

    Parameters
    ----------
    model : a torch ``nn.Module`` (``model(ids (N, T), lengths (N,)) -> logits (N,)``) or a
        :class:`~rnnbook.scratch.classifier.NumpyLSTMClassifier`. Trained in place; on return it
        holds the weights of the epoch with the best validation AUC.
    train_data, val_data : tuple (ids (N, T), lengths (N,), y (N,) in {0, 1}).
    epochs : most epochs to run.
    batch_size : texts per step.
    lr : (peak) learning rate of AdamW.
    weight_decay : AdamW's decoupled weight decay.
    clip : largest global gradient norm; None: no clipping.
    patience : stop after this many epochs without a better validation AUC; None: run all epochs.
    seed : seeds the batch order, and torch's generators (the torch model's dropout; the NumPy
        model draws its dropout masks from its own seed).
    device : torch device (default :func:`pick_device`); the NumPy model runs on the CPU.
    progress : show one tqdm bar, one step per batch.
    schedule : ``"constant"``, or ``"linear"``: a warm-up over 5 % of the steps, then a linear decay to 0.
    bucket : batches of similar length (:func:`length_batches`); False: plain shuffled batches.
    num_threads : threads of torch and of NumPy's BLAS while training, restored on return; None: as they are.
    lr_scales : torch models only: learning-rate factors by parameter-name prefix, e.g. ``{"embedding.": 0.3,
        "rnn.": 0.3}``: the pretrained layers learn 0.3 times as fast as the rest (*discriminative* fine-tuning,
        Howard & Ruder 2018). The schedule multiplies every factor alike.

    Returns
    -------
    dict
        ``history``: one dict per epoch (``epoch``, ``train_loss``, ``grad_norm``, ``val_loss``,
        ``val_auc``, ``val_accuracy``, ``lr``, ``seconds``), ``best_epoch`` (1-based), ``best_val_auc``,
        ``stopped_early``, ``train_seconds`` (wall time of the whole call, validation included).
    """
    epochs, batch_size = check_int("epochs", epochs), check_int("batch_size", batch_size)
    patience = check_int("patience", patience, allow_none=True)
    num_threads = check_int("num_threads", num_threads, allow_none=True)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number; got {lr!r}")
    if not (isinstance(weight_decay, (int, float)) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a number ≥ 0; got {weight_decay!r}")
    if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
        raise ValueError(f"clip must be a positive number or None; got {clip!r}")
    if schedule not in ("constant", "linear"):
        raise ValueError(f"schedule must be 'constant' or 'linear'; got {schedule!r}")
    ids, lengths, y = check_data("train_data", train_data, need_y=True)
    val_ids, val_lengths, val_y = check_data("val_data", val_data, need_y=True)
    if val_y.min() == val_y.max():
        raise ValueError(f"val_data must hold both classes (ROC-AUC needs them); got only label {int(val_y[0])}")

    from threadpoolctl import threadpool_limits

    # tqdm.auto draws a widget in Jupyter (Colab has ipywidgets); without ipywidgets it warns at import,
    # so a run without a bar (the book's pages) uses the plain bar, disabled.
    if progress:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm

    set_seed(seed)
    rng = np.random.default_rng(seed)
    step = make_step(model, lr=lr, weight_decay=weight_decay, clip=clip, device=device, lr_scales=lr_scales)
    total_steps = epochs * math.ceil(len(lengths) / batch_size)
    warmup = max(1, int(0.05 * total_steps))

    def lr_at(s: int) -> float:
        if schedule == "constant":
            return lr
        return lr * min((s + 1) / warmup, max(0.0, (total_steps - s) / (total_steps - warmup)))

    old_threads = torch.get_num_threads()
    history: list[dict] = []
    best_auc, best_epoch, best_state, waited, steps_done = -math.inf, 0, None, 0, 0
    stopped_early = False
    t_start = time.perf_counter()
    bar = tqdm(total=total_steps, disable=not progress, desc=type(model).__name__, unit="batch", leave=False)
    try:
        with threadpool_limits(limits=num_threads, user_api="blas") if num_threads else nullcontext():
            if num_threads is not None:
                torch.set_num_threads(num_threads)
            for epoch in range(1, epochs + 1):
                t0 = time.perf_counter()
                loss_sum = norm_sum = 0.0
                for idx in length_batches(lengths, batch_size, rng, bucket=bucket):
                    current_lr = lr_at(steps_done)
                    loss, norm = step(ids[idx], lengths[idx], y[idx], current_lr)
                    loss_sum, norm_sum, steps_done = loss_sum + loss * len(idx), norm_sum + norm * len(idx), steps_done + 1
                    bar.update(1)
                z = _logits(step, val_ids, val_lengths, 512)
                auc = metrics.roc_auc(val_y, z)
                row = {
                    "epoch": epoch,
                    "train_loss": loss_sum / len(lengths),
                    "grad_norm": norm_sum / len(lengths),
                    "val_loss": bce_with_logits(z, val_y),
                    "val_auc": auc,
                    "val_accuracy": metrics.accuracy(val_y.astype(np.int64), (z >= 0).astype(np.int64)),
                    "lr": current_lr,
                    "seconds": time.perf_counter() - t0,
                }
                history.append(row)
                bar.set_postfix(epoch=epoch, loss=f"{row['train_loss']:.3f}", val_auc=f"{auc:.4f}")
                if auc > best_auc:
                    best_auc, best_epoch, best_state, waited = auc, epoch, step.state(), 0
                else:
                    waited += 1
                    if patience is not None and waited >= patience:
                        stopped_early = epoch < epochs
                        break
    finally:
        bar.close()
        torch.set_num_threads(old_threads)
    if best_state is not None:  # None only if every validation AUC was NaN (a diverged model)
        step.load(best_state)
    return {
        "history": history,
        "best_epoch": best_epoch,
        "best_val_auc": best_auc,
        "stopped_early": stopped_early,
        "train_seconds": time.perf_counter() - t_start,
    }
