"""The notes' sentiment classifier in NumPy: embedding → LSTM → last state → dropout → logit → BCE.

Every backward pass is written by hand, from the loss back to the embedding table::

    x_t = E[w_t]                          embedding: row w_t of the table E (V, D)
    h_1 … h_T = LSTM(x_1 … x_T)            eq-lstm-forget … eq-lstm-hidden   (scratch.lstm_forward_fast)
    s = h_ℓ                               the state at the sequence's true length ℓ
    z = w_out · dropout(s) + b_out        one logit per sequence
    L = mean BCE(z, y)                    eq-bce-logits                       (scratch.bce_with_logits)

**Padding.** A batch is a right-padded id array ``ids (N, T)`` with the true ``lengths (N,)``;
row ``n`` holds its ``ℓ_n`` tokens in ``ids[n, :ℓ_n]`` and anything (``<pad>`` = 0) after. The
LSTM is causal, ``h_t`` depends on ``x_1 … x_t`` only, so ``h_ℓ`` never sees the padding after it:
padding changes neither the logit nor any gradient. Two consequences:

* the forward pass trims every batch to its longest length (the steps after it reach no gathered
  state), and :func:`length_batches` groups sequences of similar length into a batch, so the time
  loop rarely runs over padding at all. On tweet-like lengths (mean 17, at most 32 tokens) that
  halves the time of an epoch;
* backward through the steps after ``ℓ_n`` carries an exact zero for row ``n``: ``∂L/∂h_t`` is
  nonzero only at ``t = ℓ_n`` and flows backwards from there.

Parameter names are PyTorch's, so weights copy to and from ``nn.Embedding``, ``nn.LSTM`` and
``nn.Linear`` (:meth:`NumpyLSTMClassifier.load_torch`, :meth:`NumpyLSTMClassifier.to_torch`).
"""

from __future__ import annotations

import time
from typing import Mapping

import numpy as np

from rnnbook.scratch._validate import PARAM_KEYS, as_float_array, check_shape
from rnnbook.scratch.activations import sigmoid
from rnnbook.scratch.dropout import dropout_backward, dropout_forward
from rnnbook.scratch.gradient_flow import clip_grad_norm
from rnnbook.scratch.losses import bce_with_logits, bce_with_logits_grad
from rnnbook.scratch.lstm_fast import lstm_backward_fast, lstm_forward_fast
from rnnbook.scratch.metrics import roc_auc
from rnnbook.scratch.optim import Adam
from rnnbook.scratch.params import params_from_torch, params_to_torch

POOLINGS = ("last", "mean")
#: The keys of :meth:`NumpyLSTMClassifier.parameters`, in order.
PARAM_NAMES = ("embedding", *PARAM_KEYS, "fc_weight", "fc_bias")


# --------------------------------------------------------------------------- checks


def _check_ids(ids, vocab_size: int, name: str = "ids") -> np.ndarray:
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an integer array of token ids, shape (N, T); got dtype {ids.dtype}")
    if ids.ndim != 2 or 0 in ids.shape:
        raise ValueError(f"{name} must have shape (N, T) with N, T ≥ 1 (right-padded token ids); got shape {ids.shape}")
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0 or hi >= vocab_size:
        raise ValueError(f"{name} must lie in [0, vocab_size) = [0, {vocab_size}); got values from {lo} to {hi}")
    return ids


def _check_lengths(lengths, N: int, T: int) -> np.ndarray:
    lengths = np.asarray(lengths)
    if lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths must be an integer array of shape (N,) = ({N},); got dtype {lengths.dtype}")
    check_shape("lengths", lengths, (N,), "(N,)")
    lo, hi = int(lengths.min()), int(lengths.max())
    if lo < 1 or hi > T:
        raise ValueError(f"lengths must lie in [1, T] = [1, {T}] (T = ids.shape[1]); got values from {lo} to {hi}")
    return lengths.astype(np.intp, copy=False)


def _check_labels(y, N: int, name: str = "y") -> np.ndarray:
    y = as_float_array(name, y, ndim=1, dims="(N,)")
    check_shape(name, y, (N,), "(N,)")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"{name} must hold labels 0 and 1 only; got values {np.unique(y)[:5]}")
    return y


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_embedding_grad(d_x, ids, vocab_size):
    """Checked ``(d_x (N, T, D), ids (N, T), vocab_size)`` of :func:`embedding_backward`."""
    vocab_size = _check_positive_int("vocab_size", vocab_size)
    ids = _check_ids(ids, vocab_size)
    d_x = as_float_array("d_x", d_x, ndim=3, dims="(N, T, D)")
    if d_x.shape[:2] != ids.shape:
        raise ValueError(f"d_x must have shape (N, T, D) with (N, T) = ids.shape = {ids.shape}; got {d_x.shape}")
    return d_x, ids, vocab_size


# --------------------------------------------------------------------------- embedding


def embedding_forward(ids, E) -> np.ndarray:
    """Look up the rows of the embedding table: ``x[n, t] = E[ids[n, t]]``.

    Parameters
    ----------
    ids : (N, T) integer token ids in ``[0, V)``.
    E : (V, D) embedding table.

    Returns
    -------
    x : (N, T, D), in E's dtype (a new array).
    """
    E = as_float_array("E", E, ndim=2, dims="(V, D)")
    return E[_check_ids(ids, E.shape[0])]


def embedding_backward(d_x, ids, vocab_size: int, padding_idx: int | None = 0) -> np.ndarray:
    """Gradient of :func:`embedding_forward` with respect to the table: ``dE[v] = Σ_{(n,t): ids[n,t] = v} d_x[n, t]``.

    A word that occurs several times in the batch collects the sum of its gradients, so this is a
    scatter-*add*: ``np.add.at`` adds every occurrence, where ``dE[ids] += d_x`` would keep only one
    of them (buffered fancy indexing). Since NumPy 2 it is as fast as sorting the ids and summing
    each run with ``np.add.reduceat`` (measured at the lab's sizes), and reads like the sum.

    Parameters
    ----------
    d_x : (N, T, D) gradient of the loss with respect to the looked-up vectors.
    ids : (N, T) the ids of the forward pass.
    vocab_size : V.
    padding_idx : the row that gets no gradient (``<pad>``, as ``nn.Embedding(padding_idx=0)``),
        so it stays at its initial zeros; None for none.

    Returns
    -------
    dE : (V, D), in d_x's dtype; zero in the rows of ids absent from the batch.
    """
    d_x, ids, vocab_size = _check_embedding_grad(d_x, ids, vocab_size)
    dE = np.zeros((vocab_size, d_x.shape[2]), dtype=d_x.dtype)
    np.add.at(dE, ids, d_x)  # dE[ids[n, t]] += d_x[n, t] for every (n, t), repeats included
    if padding_idx is not None:
        dE[padding_idx] = 0
    return dE


# --------------------------------------------------------------------------- the model


class NumpyLSTMClassifier:
    """Binary sentiment classifier: embedding → LSTM → state at the true length → dropout → one logit.

    The NumPy twin of ``nn.Embedding(V, D, padding_idx=0)`` → ``nn.LSTM(D, H, batch_first=True)``
    on a packed sequence → ``nn.Dropout(p)`` → ``nn.Linear(H, 1)`` → ``nn.BCEWithLogitsLoss()``.

    Parameters
    ----------
    vocab_size, embed_dim, hidden_size : V, D, H.
    seed : seeds the initial weights and the dropout masks.
    dtype : float32 (fast, the default) or float64 (for the equivalence checks).
    dropout : drop probability p of the inverted dropout on the final state (training only).
    pooling : ``"last"``, the state ``h_ℓ`` at the true length ℓ; or ``"mean"``, the mean of
        ``h_1 … h_ℓ``. Both ignore the padding.
    padding_idx : the id of ``<pad>``: its embedding row starts at zero and gets no gradient. None: none.

    Initial weights follow PyTorch's defaults: ``E ~ N(0, 1)`` (pad row 0), every LSTM and linear
    weight and bias ``~ U(−1/√H, 1/√H)``.

    Attributes
    ----------
    params : dict, see :meth:`parameters`.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        hidden_size: int,
        *,
        seed: int = 0,
        dtype=np.float32,
        dropout: float = 0.0,
        pooling: str = "last",
        padding_idx: int | None = 0,
    ):
        V = _check_positive_int("vocab_size", vocab_size)
        D = _check_positive_int("embed_dim", embed_dim)
        H = _check_positive_int("hidden_size", hidden_size)
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"dtype must be a floating dtype (float32 or float64); got {dtype}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be the drop probability, a number in [0, 1); got {dropout!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}")
        if padding_idx is not None and not (isinstance(padding_idx, (int, np.integer)) and 0 <= padding_idx < V):
            raise ValueError(f"padding_idx must be None or an id in [0, vocab_size) = [0, {V}); got {padding_idx!r}")
        self.vocab_size, self.embed_dim, self.hidden_size = V, D, H
        self.dtype, self.dropout, self.pooling, self.padding_idx = dtype, float(dropout), pooling, padding_idx
        init_seed, dropout_seed = np.random.SeedSequence(seed).spawn(2)
        rng = np.random.default_rng(init_seed)
        self._dropout_rng = np.random.default_rng(dropout_seed)
        k = 1 / np.sqrt(H)
        self.params = {
            "embedding": rng.standard_normal((V, D)),
            "weight_ih": rng.uniform(-k, k, (4 * H, D)),
            "weight_hh": rng.uniform(-k, k, (4 * H, H)),
            "bias_ih": rng.uniform(-k, k, 4 * H),
            "bias_hh": rng.uniform(-k, k, 4 * H),
            "fc_weight": rng.uniform(-k, k, (1, H)),
            "fc_bias": rng.uniform(-k, k, 1),
        }
        self.params = {name: a.astype(dtype) for name, a in self.params.items()}
        if padding_idx is not None:
            self.params["embedding"][padding_idx] = 0

    # ---------------------------------------------------------------- parameters

    def parameters(self) -> dict[str, np.ndarray]:
        """The live parameter arrays (an optimiser updates them in place), in PyTorch's layout.

        ``embedding (V, D)``; ``weight_ih (4H, D)``, ``weight_hh (4H, H)``, ``bias_ih (4H,)``,
        ``bias_hh (4H,)`` with the gates stacked i, f, g, o; ``fc_weight (1, H)``, ``fc_bias (1,)``.
        """
        return self.params

    @property
    def n_params(self) -> int:
        """The number of trainable numbers, as ``sum(p.numel() for p in model.parameters())`` in torch."""
        return int(sum(a.size for a in self.params.values()))

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters (a snapshot, e.g. of the best epoch)."""
        return {name: a.copy() for name, a in self.params.items()}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy ``state`` (the keys and shapes of :meth:`parameters`) into the live arrays, in place."""
        if not isinstance(state, Mapping) or set(state) != set(self.params):
            got = sorted(state) if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(f"state must be a dict with keys {sorted(self.params)}; got {got}")
        for name, a in self.params.items():
            value = np.asarray(state[name])
            if value.shape != a.shape:
                raise ValueError(f"state[{name!r}] must have shape {a.shape}; got {value.shape}")
            a[...] = value  # in place: an optimiser holding these arrays keeps working

    def load_torch(self, embedding, lstm, linear) -> None:
        """Copy the weights of torch modules into this model (converted to its dtype).

        Parameters
        ----------
        embedding : ``nn.Embedding(V, D)``, with this model's ``padding_idx``.
        lstm : ``nn.LSTM(D, H)``, one layer, one direction.
        linear : ``nn.Linear(H, 1)``.
        """
        self._check_torch_modules(embedding, lstm, linear)
        state = {"embedding": embedding.weight.detach().cpu().numpy()}
        state.update(params_from_torch(lstm, dtype=self.dtype))
        state["fc_weight"] = linear.weight.detach().cpu().numpy()
        state["fc_bias"] = linear.bias.detach().cpu().numpy()
        self.load_state_dict(state)

    def to_torch(self, embedding, lstm, linear) -> None:
        """Write this model's weights into torch modules of the same sizes (the inverse of :meth:`load_torch`)."""
        self._check_torch_modules(embedding, lstm, linear)
        params_to_torch({k: self.params[k] for k in PARAM_KEYS}, lstm)
        for tensor, name in ((embedding.weight, "embedding"), (linear.weight, "fc_weight"), (linear.bias, "fc_bias")):
            tensor.data.copy_(tensor.new_tensor(self.params[name]))

    def _check_torch_modules(self, embedding, lstm, linear) -> None:
        V, D, H = self.vocab_size, self.embed_dim, self.hidden_size
        if (getattr(lstm, "input_size", None), getattr(lstm, "hidden_size", None)) != (D, H):
            got = f"nn.LSTM({getattr(lstm, 'input_size', '?')}, {getattr(lstm, 'hidden_size', '?')})"
            raise ValueError(f"lstm must be an nn.LSTM(D, H) = ({D}, {H}); got {got}")
        if tuple(embedding.weight.shape) != (V, D):
            raise ValueError(f"embedding must be an nn.Embedding(V, D) = ({V}, {D}); got weight of shape {tuple(embedding.weight.shape)}")
        if getattr(embedding, "padding_idx", None) != self.padding_idx:
            raise ValueError(f"embedding must have padding_idx = {self.padding_idx}, as this model; got {embedding.padding_idx}")
        if tuple(linear.weight.shape) != (1, H) or linear.bias is None:
            raise ValueError(f"linear must be an nn.Linear(H, 1) = ({H}, 1) with a bias; got weight of shape {tuple(linear.weight.shape)}")

    # ---------------------------------------------------------------- forward and backward

    def _check_batch(self, ids, lengths, *, train: bool, mask):
        """Checked ``(ids (N, T), lengths (N,))``; a dropout ``mask`` only where dropout is used."""
        ids = _check_ids(ids, self.vocab_size)
        lengths = _check_lengths(lengths, *ids.shape)
        if mask is not None and not (train and self.dropout > 0):
            raise ValueError(f"mask is used only in training with dropout > 0; got train={train}, dropout={self.dropout}")
        return ids, lengths

    def _forward(self, ids, lengths, *, train: bool, mask=None):
        """Logits (N,) and what the backward pass needs."""
        ids, lengths = self._check_batch(ids, lengths, train=train, mask=mask)
        N = ids.shape[0]
        T_b = int(lengths.max())
        ids = ids[:, :T_b]  # causal LSTM: the steps after the longest length reach no gathered state
        p = self.params
        x = p["embedding"][ids]  # (N, T_b, D): x_t = E[w_t]
        out, _, lstm_cache = lstm_forward_fast(x, None, {k: p[k] for k in PARAM_KEYS})  # (N, T_b, H)
        rows = np.arange(N)
        if self.pooling == "last":
            s = out[rows, lengths - 1]  # (N, H): h_ℓ, the state at each sequence's true length
            valid = None
        else:
            valid = (np.arange(T_b) < lengths[:, None]).astype(out.dtype)  # (N, T_b): 1 on the real tokens
            s = np.einsum("nth,nt->nh", out, valid) / lengths[:, None].astype(out.dtype)  # mean of h_1 … h_ℓ
        if train and self.dropout > 0:
            s_drop, mask = dropout_forward(s, self.dropout, train=True, mode="inverted", mask=mask, seed=self._dropout_rng)
        else:
            s_drop, mask = s, None
        logits = s_drop @ p["fc_weight"][0] + p["fc_bias"][0]  # (N,): z = w_out · s + b_out
        cache = (ids, lengths, valid, lstm_cache, s_drop, mask)
        return logits, cache

    def forward(self, ids, lengths, train: bool = False) -> np.ndarray:
        """Logits of a batch.

        Parameters
        ----------
        ids : (N, T) right-padded integer token ids in ``[0, V)``.
        lengths : (N,) true lengths, each in ``[1, T]``.
        train : apply dropout (a fresh mask) as in training.

        Returns
        -------
        logits : (N,), ``σ(logit)`` is the predicted probability of the positive class.
        """
        return self._forward(ids, lengths, train=train)[0]

    __call__ = forward

    def loss_and_grads(self, ids, lengths, y, *, train: bool = True, mask=None) -> tuple[float, dict[str, np.ndarray]]:
        """The mean BCE of a batch (eq-bce-logits) and its gradient with respect to every parameter.

        The backward pass, from the loss to the table, each step by hand:

        1. ``∂L/∂z_n = (σ(z_n) − y_n) / N`` (eq-bce-grad);
        2. the linear layer: ``∂L/∂w_out = Σ_n ∂L/∂z_n s_n``, ``∂L/∂b_out = Σ_n ∂L/∂z_n``,
           ``∂L/∂s_n = ∂L/∂z_n w_out``, then back through the dropout mask;
        3. the LSTM: ``d_out (N, T, H)`` is ``∂L/∂s_n`` at ``t = ℓ_n`` and zero elsewhere
           (``"mean"``: ``∂L/∂s_n / ℓ_n`` at every ``t ≤ ℓ_n``), given to :func:`~rnnbook.scratch.lstm_fast.lstm_backward_fast`;
        4. the embedding: the ``∂L/∂x_t`` it returns, scatter-added into the rows of ``E``
           (:func:`embedding_backward`).

        Parameters
        ----------
        ids : (N, T) integer ids.   lengths : (N,) true lengths.   y : (N,) labels 0/1.
        train : use dropout (if the model has any).
        mask : optional (N, H) 0/1 dropout mask to use instead of a random one (for checks).

        Returns
        -------
        loss : float.
        grads : dict with the keys and shapes of :meth:`parameters`, in the model's dtype.
        """
        logits, (ids, lengths, valid, lstm_cache, s_drop, mask) = self._forward(ids, lengths, train=train, mask=mask)
        N, T_b = ids.shape
        y = _check_labels(y, N).astype(logits.dtype)
        p = self.params
        loss = bce_with_logits(logits, y)
        d_z = bce_with_logits_grad(logits, y)  # (N,)
        grads = {"fc_weight": (d_z @ s_drop)[None, :], "fc_bias": np.sum(d_z, keepdims=True)}
        d_s = np.outer(d_z, p["fc_weight"][0])  # (N, H)
        if mask is not None:
            d_s = dropout_backward(d_s, mask, self.dropout, train=True, mode="inverted")
        if self.pooling == "last":
            d_out = np.zeros((N, T_b, self.hidden_size), dtype=d_s.dtype)
            d_out[np.arange(N), lengths - 1] = d_s  # only h_ℓ reaches the loss
        else:
            d_out = (valid / lengths[:, None].astype(d_s.dtype))[:, :, None] * d_s[:, None, :]
        g = lstm_backward_fast(d_out, lstm_cache)
        grads.update({k: g[k] for k in PARAM_KEYS})
        grads["embedding"] = embedding_backward(g["x"], ids, self.vocab_size, self.padding_idx)
        return loss, {name: grads[name] for name in PARAM_NAMES}

    def predict_proba(self, ids, lengths, batch_size: int = 512) -> np.ndarray:
        """``σ(logits)``, shape (N,): the probability of the positive class, without dropout.

        Works through the data ``batch_size`` sequences at a time, in order of length (each
        batch trimmed to its longest), and returns the probabilities in the original order.
        """
        return sigmoid(self.predict_logits(ids, lengths, batch_size))

    def predict_logits(self, ids, lengths, batch_size: int = 512) -> np.ndarray:
        """The logits (N,) of :meth:`forward` without dropout, computed in length-sorted batches."""
        ids = _check_ids(ids, self.vocab_size)
        lengths = _check_lengths(lengths, *ids.shape)
        batch_size = _check_positive_int("batch_size", batch_size)
        order = np.argsort(lengths, kind="stable")
        logits = np.empty(len(lengths), dtype=self.dtype)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            logits[idx] = self.forward(ids[idx], lengths[idx])
        return logits

    def __repr__(self) -> str:
        return (
            f"NumpyLSTMClassifier(vocab_size={self.vocab_size}, embed_dim={self.embed_dim}, hidden_size={self.hidden_size}, "
            f"dropout={self.dropout}, pooling={self.pooling!r}, dtype={self.dtype.name}, n_params={self.n_params})"
        )


# --------------------------------------------------------------------------- training


def length_batches(lengths, batch_size: int, rng=None, *, bucket: bool = True, pool: int = 50) -> list[np.ndarray]:
    """Shuffled mini-batches of indices; with ``bucket=True`` each holds sequences of similar length.

    Bucketing: shuffle, cut into pools of ``pool × batch_size`` sequences, sort each pool by length,
    cut it into batches, shuffle the batches. A batch then needs few steps beyond its shortest
    sequence, since the forward pass trims it to its longest; which sequences share a batch
    still changes every epoch. Safe because padding never reaches the state the model reads.

    Parameters
    ----------
    lengths : (N,) sequence lengths.
    batch_size : sequences per batch (the last batch of a pool may be smaller).
    rng : int, None or ``np.random.Generator``.
    bucket : False for plain shuffled batches.
    pool : batches per sorting pool.

    Returns
    -------
    list of index arrays that together hold each of ``0 … N−1`` exactly once.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(f"lengths must have shape (N,) with N ≥ 1; got {lengths.shape}")
    batch_size = _check_positive_int("batch_size", batch_size)
    pool = _check_positive_int("pool", pool)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    order = rng.permutation(lengths.size)
    if not bucket:
        return [order[i : i + batch_size] for i in range(0, order.size, batch_size)]
    batches = []
    for start in range(0, order.size, pool * batch_size):
        chunk = order[start : start + pool * batch_size]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, chunk.size, batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _check_split(name: str, split, vocab_size: int):
    if not isinstance(split, (tuple, list)) or len(split) != 3:
        raise ValueError(f"{name} must be a triple (ids (N, T), lengths (N,), y (N,)); got {type(split).__name__}")
    ids = _check_ids(split[0], vocab_size, f"{name}[0] (ids)")
    lengths = _check_lengths(split[1], *ids.shape)
    y = _check_labels(split[2], ids.shape[0], f"{name}[2] (y)")
    return ids, lengths, y


def evaluate(model: NumpyLSTMClassifier, ids, lengths, y, batch_size: int = 512) -> dict[str, float]:
    """Mean binary cross-entropy (:func:`bce_with_logits`) and ROC-AUC of ``model`` on ``(ids, lengths, y)``, without dropout.

    Returns
    -------
    dict with ``loss`` and ``auc`` (floats).
    """
    logits = model.predict_logits(ids, lengths, batch_size)
    y = _check_labels(y, len(logits))
    return {"loss": bce_with_logits(logits, y.astype(logits.dtype)), "auc": roc_auc(y, logits)}


def train_numpy_classifier(
    model: NumpyLSTMClassifier,
    train,
    val=None,
    *,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    clip: float | None = 5.0,
    patience: int | None = 2,
    bucket: bool = True,
    seed: int = 0,
    threads: int | None = 1,
    progress: bool = True,
) -> list[dict]:
    """Train ``model`` with Adam and gradient clipping; keep the parameters of the best validation AUC.

    Each epoch: shuffled (length-bucketed) mini-batches; for each, :meth:`~NumpyLSTMClassifier.loss_and_grads`,
    clipping by global norm (:func:`clip_grad_norm`, as ``clip_grad_norm_``), one Adam step. Then the
    loss and ROC-AUC on ``val``. Training stops when the validation AUC has not improved for
    ``patience`` epochs, and the parameters of the best epoch are put back into ``model``.

    Parameters
    ----------
    model : the classifier, trained in place.
    train, val : triples ``(ids (N, T), lengths (N,), y (N,))``; ``val`` may be None (no early stopping).
    epochs : the most epochs to run.   batch_size : sequences per step.
    lr, weight_decay : Adam's (see :class:`~rnnbook.scratch.optim.Adam`).
    clip : max global gradient norm, or None for no clipping.
    patience : epochs without a better validation AUC before stopping; None never stops early.
    bucket : length-bucketed batches (:func:`length_batches`), about twice as fast on tweet-like lengths.
    seed : seeds the batch order (the dropout masks come from the model's seed).
    threads : BLAS threads during training (threadpoolctl), 1 by default: this model's matrix
        products are small (e.g. (256, 64) × (64, 64) per step), and a second thread costs more in
        hand-offs than it saves (on a busy 2-core machine, ten times more). None: leave as is.
    progress : show a tqdm progress bar per epoch.

    Returns
    -------
    history : one dict per epoch run, with ``epoch``, ``train_loss`` (mean over the epoch's batches,
        in training mode), ``grad_norm`` (the global gradient norm before clipping, averaged likewise), ``val_loss``, ``val_auc``
        (when ``val`` is given), ``seconds`` (the whole epoch, validation included) and ``best``
        (True for the epoch whose parameters the model ends with).
    """
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits
    from tqdm import tqdm  # the text bar: tqdm.auto needs ipywidgets in Jupyter, which is not a dependency

    ids, lengths, y = _check_split("train", train, model.vocab_size)
    if val is not None:
        val = _check_split("val", val, model.vocab_size)
        if np.unique(val[2]).size < 2:
            raise ValueError("val[2] (y) must hold both labels 0 and 1, or ROC-AUC is undefined; got one class only")
    epochs = _check_positive_int("epochs", epochs)
    batch_size = _check_positive_int("batch_size", batch_size)
    if patience is not None:
        patience = _check_positive_int("patience", patience)
    if threads is not None:
        threads = _check_positive_int("threads", threads)
    if clip is not None and not (isinstance(clip, (int, float)) and np.isfinite(clip) and clip > 0):
        raise ValueError(f"clip must be None or a finite number > 0; got {clip!r}")
    optimizer = Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    history: list[dict] = []
    best_auc, best_state, since_best = -np.inf, None, 0
    with threadpool_limits(limits=threads, user_api="blas") if threads else nullcontext():
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            batches = length_batches(lengths, batch_size, rng, bucket=bucket)
            bar = tqdm(batches, desc=f"epoch {epoch}/{epochs}", disable=not progress, unit="batch")
            loss_sum, norm_sum, seen = 0.0, 0.0, 0
            for idx in bar:
                loss, grads = model.loss_and_grads(ids[idx], lengths[idx], y[idx], train=True)
                if clip is not None:
                    grads, norm = clip_grad_norm(grads, clip)
                else:
                    norm = float(np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in grads.values())))
                optimizer.step(grads)
                loss_sum, norm_sum, seen = loss_sum + loss * len(idx), norm_sum + norm * len(idx), seen + len(idx)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", refresh=False)
            record = {"epoch": epoch, "train_loss": loss_sum / seen, "grad_norm": norm_sum / seen}
            if val is not None:
                scores = evaluate(model, *val)
                record.update(val_loss=scores["loss"], val_auc=scores["auc"])
                bar.set_postfix(loss=f"{record['train_loss']:.4f}", val_auc=f"{scores['auc']:.4f}")
            bar.close()
            record["seconds"] = time.perf_counter() - start
            record["best"] = False
            history.append(record)
            if val is None:
                continue
            if record["val_auc"] > best_auc:
                best_auc, best_state, since_best = record["val_auc"], model.state_dict(), 0
            else:
                since_best += 1
                if patience is not None and since_best >= patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
        best_epoch = max(history, key=lambda r: (r["val_auc"], -r["epoch"]))
    else:
        best_epoch = history[-1]
    best_epoch["best"] = True
    return history
