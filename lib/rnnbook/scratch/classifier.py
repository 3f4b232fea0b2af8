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
  state), and :func:`rnnbook.lab.train.length_batches` groups sequences of similar length into a batch, so the time
  loop rarely runs over padding at all. On tweet-like lengths (mean 17, at most 32 tokens) that
  halves the time of an epoch;
* backward through the steps after ``ℓ_n`` carries an exact zero for row ``n``: ``∂L/∂h_t`` is
  nonzero only at ``t = ℓ_n`` and flows backwards from there.

Parameter names are PyTorch's, so weights copy to and from ``nn.Embedding``, ``nn.LSTM`` and
``nn.Linear`` (:meth:`NumpyLSTMClassifier.load_torch`, :meth:`NumpyLSTMClassifier.to_torch`).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from rnnbook._checks import check_int
from rnnbook.scratch._validate import PARAM_KEYS, as_float_array, check_shape
from rnnbook.scratch.activations import sigmoid
from rnnbook.scratch.dropout import dropout_backward, dropout_forward
from rnnbook.scratch.embedding import check_ids, embedding_backward
from rnnbook.scratch.losses import bce_with_logits, bce_with_logits_grad
from rnnbook.scratch.lstm_fast import lstm_backward_fast, lstm_forward_fast
from rnnbook.scratch.params import params_from_torch, params_to_torch

POOLINGS = ("last", "mean")
#: The keys of :meth:`NumpyLSTMClassifier.parameters`, in order.
PARAM_NAMES = ("embedding", *PARAM_KEYS, "fc_weight", "fc_bias")


# --------------------------------------------------------------------------- checks


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
        V = check_int("vocab_size", vocab_size)
        D = check_int("embed_dim", embed_dim)
        H = check_int("hidden_size", hidden_size)
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
        ids = check_ids(ids, self.vocab_size)
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
        ids = check_ids(ids, self.vocab_size)
        lengths = _check_lengths(lengths, *ids.shape)
        batch_size = check_int("batch_size", batch_size)
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
