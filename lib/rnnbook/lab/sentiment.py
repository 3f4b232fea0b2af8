"""The sentiment lab as a command: train one model, evaluate it on the test split, write JSON.

::

    python -m rnnbook.sentiment --model lstm --dataset airline --seed 0 --json lstm-0.json
    python -m rnnbook.sentiment --model tfidf-lr --seed 1 --json base-1.json --quiet

Models: ``rnn``, ``lstm``, ``gru``, ``mingru``, ``minlstm`` (:class:`~rnnbook.nn.classifier.SentimentClassifier`),
``lstm-pretrained`` (the LSTM with its encoder first trained as a language model on unlabelled text,
:mod:`rnnbook.lab.pretrain`) and ``numpy-lstm`` (the NumPy classifier of :mod:`rnnbook.scratch.classifier`,
backward pass written by hand), all trained by the one loop :func:`rnnbook.lab.train.fit`; and three baselines
without a recurrence (:data:`BASELINES`): ``tfidf-lr`` (:class:`~rnnbook.lab.baselines.TfidfLogReg`, word
1–2-grams), ``tfidf-char-lr`` (the same plus character 2–5-grams) and ``nbsvm``
(:class:`~rnnbook.lab.baselines.NBSVM`). The hyper-parameters of every model live in one
place, :data:`HPARAMS`; the lab's notebooks import them and call :func:`run`, so the
notebook and the command train the same thing::

    from rnnbook.lab.sentiment import HPARAMS, run
    result = run("gru", data, seed=0)        # data = rnnbook.data.load_sentiment("airline", 0)
    result.metrics, result.history, result.model, result.vocab

Every choice in :data:`HPARAMS` was made on the validation split of the airline data
(seeds 0 and 1); the test split is only read to report. What moved the validation ROC-AUC of
the BiLSTM (TF-IDF + LR: 0.962 and 0.961 on the same splits):

* starting the embedding from PPMI-SVD vectors of the training texts
  (:func:`rnnbook.lab.text.ppmi_embeddings`): 0.950 → 0.967 on seed 0, the one big step. Adding
  11k unlabeled tweets of the corpus's other topics to the counts made it worse (0.962);
* pooling: ``"last+mean+max"`` 0.967 > ``"mean+max"`` 0.965 > ``"last"`` (seeds 0 and 1);
* embedding (spatial) dropout 0.2: +0.002 over 0 (0.1: +0.000, 0.3: same AUC, lower accuracy);
* no gain from: a larger embedding (100) or a smaller state (32), min_freq 1 (−0.003) or 3,
  batch 128, lr 5e-3, a linear learning-rate decay, dropout 0.5, weight decay 1e-2, a
  ``<hashtag>`` marker token, a PPMI window of 2 (−0.003).

On the test split (seeds 0–2, two threads; ``make lab-results``) the BiLSTM reaches ROC-AUC 0.973 ± 0.003 and
accuracy 0.932 in about 30 s of training, TF-IDF + LR 0.972 ± 0.002 and 0.930, and the strongest baseline,
TF-IDF of words and character n-grams, 0.974 ± 0.003 and 0.935: ahead of every recurrent model on every seed.
Pretraining the encoder on unlabelled tweets (``lstm-pretrained``) does not change that (``make lab-ablation``).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from rnnbook._io import write_text_atomic
from rnnbook.lab.baselines import C_GRID, NBSVM_C_GRID
from rnnbook.lab.text import TweetTokenizer, Vocabulary, ppmi_embeddings

MODELS = ("rnn", "lstm", "gru", "mingru", "minlstm", "lstm-pretrained", "numpy-lstm", "tfidf-lr", "tfidf-char-lr",
          "nbsvm")
#: The models without a recurrence: bags of n-grams and a linear classifier (rnnbook.lab.baselines).
BASELINES = ("tfidf-lr", "tfidf-char-lr", "nbsvm")
DATASETS = ("airline", "tweets", "imdb")

# Shared by the torch models, so that they differ only in their cell (and the RNN in its
# learning rate, below): the lab compares cells, not tuning effort.
_TORCH = {
    "min_freq": 2,          # words seen once in train → <unk>: they cannot be learned anyway
    "max_len": 64,          # tokens kept per text (a tweet has at most ~50; IMDB reviews are cut)
    "embed_init": "ppmi",   # start from PPMI-SVD vectors of the training texts (+0.01 val AUC); or "random"
    "ppmi_window": 4,
    "embed_dim": 64,
    "hidden_size": 64,
    "bidirectional": True,
    "num_layers": 1,
    "pooling": "last+mean+max",
    "dropout": 0.3,
    "embed_dropout": 0.2,
    "epochs": 8,
    "batch_size": 64,
    "lr": 3e-3,
    "weight_decay": 1e-4,
    "clip": 1.0,
    "patience": 2,
    "schedule": "constant",
}

#: Hyper-parameters of each model of the command; :func:`run` takes overrides.
HPARAMS: dict[str, dict[str, Any]] = {
    "rnn": {**_TORCH, "cell": "rnn"},
    "lstm": {**_TORCH, "cell": "lstm"},
    "gru": {**_TORCH, "cell": "gru"},
    # The cells of Chapter 6 (rnnbook.nn.MinGRU, MinLSTM): gates that see x_t only, run by a parallel scan.
    "mingru": {**_TORCH, "cell": "mingru"},
    "minlstm": {**_TORCH, "cell": "minlstm"},
    # The LSTM, its embedding and both directions first trained as language models on the pretraining corpus
    # (rnnbook.lab.pretrain: never a validation or test text), then fine-tuned as the LSTM is. On validation
    # (make lab-ablation, seeds 0-2) no better than the LSTM: mean ROC-AUC 0.9615 against 0.9628; the
    # pretrained embedding alone 0.9630. Not better either, on seed 0: encoder_lr_scale 0.3 (0.9574) or 0.1
    # (0.9384), or a vocabulary built from the whole pretraining corpus (12,101 tokens: 0.9648).
    # pretrain_keep: "encoder" keeps the pretrained embedding and LSTM; "embedding" keeps only the embedding and
    # puts back the LSTM's initial weights (the ablation of scripts/lab_ablation.py).
    # encoder_lr_scale: the embedding and the LSTM learn this many times as fast as the output layer while
    # fine-tuning (discriminative fine-tuning, Howard & Ruder 2018). vocab_from: the vocabulary is built from the
    # training texts ("train", as for every model) or from the whole pretraining corpus ("corpus").
    "lstm-pretrained": {**_TORCH, "cell": "lstm", "pretrain_epochs": 2, "pretrain_batch_size": 128,
                        "pretrain_lr": 3e-3, "pretrain_keep": "encoder", "encoder_lr_scale": 1.0,
                        "vocab_from": "train"},
    "numpy-lstm": {
        # The from-scratch twin: one direction, the final state (the notes' model); the same
        # vocabulary and starting embedding as the torch models. "last" beat "mean" on validation
        # (0.958 vs 0.952 and 0.959 vs 0.958 on seeds 0 and 1).
        "min_freq": 2, "max_len": 64, "embed_init": "ppmi", "ppmi_window": 4, "embed_dim": 64, "hidden_size": 64,
        "pooling": "last", "dropout": 0.3, "epochs": 8, "batch_size": 64, "lr": 3e-3, "weight_decay": 0.0,
        "clip": 1.0, "patience": 2, "schedule": "constant",
    },
    "tfidf-lr": {"ngram_range": (1, 2), "min_df": 1, "C_grid": C_GRID},
    # Word 1-2-grams plus character 2-5-grams within word boundaries: misspellings, hashtags and
    # word endings share features. The strongest simple baseline measured on the lab's splits.
    "tfidf-char-lr": {"ngram_range": (1, 2), "min_df": 1, "char_ngrams": (2, 5), "C_grid": C_GRID},
    # 1-2-grams: on validation they beat 1-3-grams (0.957 vs 0.952 on seed 0, 0.958 vs 0.953 on seed 1).
    "nbsvm": {"ngram_range": (1, 2), "alpha": 1.0, "beta": 0.25, "C_grid": NBSVM_C_GRID},
}


def hparams(model: str, **overrides) -> dict[str, Any]:
    """A copy of ``HPARAMS[model]`` with ``overrides`` applied; unknown names → ValueError."""
    if model not in HPARAMS:
        raise ValueError(f"model must be one of {MODELS}; got {model!r}")
    hp = copy.deepcopy(HPARAMS[model])
    unknown = sorted(set(overrides) - set(hp))
    if unknown:
        raise ValueError(f"unknown hyper-parameter(s) for {model!r}: {unknown}; known: {sorted(hp)}")
    hp.update(overrides)
    return hp


@dataclass
class RunResult:
    """What :func:`run` returns: the trained model, its test metrics and how it got there."""

    model_name: str
    hparams: dict
    metrics: dict            # accuracy, precision, recall, f1, roc_auc on the test split
    p_test: np.ndarray       # (N_test,) probabilities of the positive class
    train_seconds: float
    n_params: int
    history: list = field(default_factory=list)
    model: Any = None        # the SentimentClassifier / NumpyLSTMClassifier / TfidfLogReg
    vocab: Vocabulary | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON-ready part (no model, no vocabulary, no per-text probabilities)."""
        return {
            "model": self.model_name,
            **{k: float(v) for k, v in self.metrics.items()},
            "train_seconds": float(self.train_seconds),
            "n_params": int(self.n_params),
            "hparams": _jsonable(self.hparams),
            "history": _jsonable(self.history),
            **_jsonable(self.extra),
        }


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    return x


def _encode(vocab: Vocabulary, split, max_len: int):
    ids, lengths = vocab.encode(split.texts, max_len=max_len)
    return ids, lengths, np.asarray(split.labels, dtype=np.int64)


def _ppmi_table(vocab: Vocabulary, train, hp) -> np.ndarray:
    """(V, E) float32 PPMI-SVD start of the embedding table, from the encoded training texts."""
    # A tiny vocabulary (tests, --limit) has fewer than embed_dim dimensions to give: zero the rest.
    k = min(hp["embed_dim"], len(vocab) - 2)
    table = np.zeros((len(vocab), hp["embed_dim"]), dtype=np.float32)
    if k >= 1 and train[1].max() >= 2:  # something to count: two words and one pair at least
        table[:, :k] = ppmi_embeddings(train[0], train[1], len(vocab), k, window=hp["ppmi_window"])
    return table


def run(model: str, data, *, seed: int = 0, progress: bool = True, num_threads: int | None = None,
        device=None, evaluate_on: str = "test", **overrides) -> RunResult:
    """Train ``model`` on ``data.train`` (early stopping on ``data.val``), evaluate on ``data.test``.

    Parameters
    ----------
    model : one of :data:`MODELS`
    data : object with ``train``, ``val``, ``test``, each with ``texts`` (list of str) and
        ``labels`` ((N,) in {0, 1}), e.g. :func:`rnnbook.data.load_sentiment`'s result.
    seed : seeds the weights, dropout and batch order (not the split: that is the data's seed).
    progress : tqdm progress bars.
    num_threads : torch and BLAS threads (default: 1 for ``numpy-lstm``, else :func:`rnnbook.lab.train.default_num_threads`).
    device : torch device (default :func:`rnnbook.lab.train.pick_device`).
    evaluate_on : ``"test"`` (the final runs) or ``"val"``: the split whose metrics and probabilities the result
        holds. Experiments that make a choice use ``"val"``, so that they never read the test split.
    overrides : hyper-parameters replacing those of :data:`HPARAMS` (e.g. ``epochs=2``).
    """
    from rnnbook.lab.train import default_num_threads, evaluate, fit, predict_proba, set_seed

    hp = hparams(model, **overrides)
    for part in ("train", "val", "test"):
        if not hasattr(data, part):
            raise ValueError(f"data must have .train, .val and .test splits; it has no .{part}")
    if evaluate_on not in ("test", "val"):
        raise ValueError(f"evaluate_on must be 'test' or 'val'; got {evaluate_on!r}")
    target = getattr(data, evaluate_on)

    if model in BASELINES:
        from rnnbook.lab.baselines import NBSVM, TfidfLogReg

        t0 = time.perf_counter()
        if model == "nbsvm":
            base = NBSVM(ngram_range=hp["ngram_range"], alpha=hp["alpha"], beta=hp["beta"], C_grid=hp["C_grid"],
                         seed=seed)
        else:
            base = TfidfLogReg(ngram_range=hp["ngram_range"], min_df=hp["min_df"], char_ngrams=hp.get("char_ngrams"),
                               C_grid=hp["C_grid"], seed=seed)
        base.fit(data.train.texts, data.train.labels, data.val.texts, data.val.labels)
        seconds = time.perf_counter() - t0
        p = base.predict_proba(target.texts)
        return RunResult(model, hp, evaluate(target.labels, p), p, seconds, base.n_params, [], base, None,
                         {"C": base.C_, "val_auc": base.val_auc_,
                          "val_aucs": {str(c): a for c, a in base.val_aucs_.items()}})

    if hp["embed_init"] not in ("ppmi", "random"):
        raise ValueError(f"embed_init must be 'ppmi' or 'random'; got {hp['embed_init']!r}")
    if hp.get("pretrain_keep", "encoder") not in ("encoder", "embedding"):
        raise ValueError(f"pretrain_keep must be 'encoder' or 'embedding'; got {hp['pretrain_keep']!r}")
    if hp.get("vocab_from", "train") not in ("train", "corpus"):
        raise ValueError(f"vocab_from must be 'train' or 'corpus'; got {hp['vocab_from']!r}")
    corpus = None  # the unlabelled texts of pretraining: the training texts and more, never val or test
    if "pretrain_epochs" in hp:
        from rnnbook.lab.pretrain import pretraining_corpus

        corpus = pretraining_corpus(data)
    vocab_texts = corpus if hp.get("vocab_from") == "corpus" else data.train.texts
    vocab = Vocabulary.build(vocab_texts, tokenizer=TweetTokenizer(), min_freq=hp["min_freq"])
    train, val, test = (_encode(vocab, s, hp["max_len"]) for s in (data.train, data.val, target))
    if num_threads is None:
        # The NumPy model's matrix products are small: a second BLAS thread costs more in hand-offs than it saves.
        num_threads = 1 if model == "numpy-lstm" else default_num_threads()

    set_seed(seed)  # the initial weights
    t0 = time.perf_counter()
    if model == "numpy-lstm":
        from rnnbook.scratch.classifier import NumpyLSTMClassifier

        net = NumpyLSTMClassifier(len(vocab), hp["embed_dim"], hp["hidden_size"], seed=seed,
                                  dtype=np.float32, dropout=hp["dropout"], pooling=hp["pooling"])
        table = net.params["embedding"]
    else:
        from rnnbook.nn.classifier import SentimentClassifier

        net = SentimentClassifier(len(vocab), hp["embed_dim"], hp["hidden_size"], cell=hp["cell"],
                                  bidirectional=hp["bidirectional"], num_layers=hp["num_layers"],
                                  dropout=hp["dropout"], embed_dropout=hp["embed_dropout"], pooling=hp["pooling"])
        table = net.embedding.weight.data.numpy()  # the same memory: writing it sets the torch weights
    if hp["embed_init"] == "ppmi":
        table[...] = _ppmi_table(vocab, train, hp)
    init_seconds = time.perf_counter() - t0
    pretraining = _pretrain(net, vocab, data, corpus, hp, seed=seed, num_threads=num_threads) if corpus else None
    out = fit(net, train, val, epochs=hp["epochs"], batch_size=hp["batch_size"], lr=hp["lr"],
              weight_decay=hp["weight_decay"], clip=hp["clip"], patience=hp["patience"], seed=seed,
              device=device, progress=progress, schedule=hp["schedule"], num_threads=num_threads,
              lr_scales={"embedding.": hp["encoder_lr_scale"], "rnn.": hp["encoder_lr_scale"]}
              if hp.get("encoder_lr_scale", 1.0) != 1.0 else None)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=num_threads, user_api="blas"):
        p = predict_proba(net, test)
    # train_seconds counts the embedding's SVD too: it is part of what it costs to get this model.
    return RunResult(model, hp, evaluate(test[2], p), p, init_seconds + out["train_seconds"], net.n_params,
                     out["history"], net, vocab,
                     {"vocab_size": len(vocab), "best_epoch": out["best_epoch"], "best_val_auc": out["best_val_auc"],
                      "threads": num_threads, **({"pretraining": pretraining} if pretraining else {})})


def _pretrain(net, vocab: Vocabulary, data, corpus: list[str], hp: dict, *, seed: int, num_threads: int) -> dict:
    """Pretrain ``net``'s encoder on ``corpus``, :func:`~rnnbook.lab.pretrain.pretraining_corpus` of ``data``
    (cached); what happened."""
    import torch
    from threadpoolctl import threadpool_limits

    from rnnbook.lab import pretrain

    start_rnn = copy.deepcopy(net.rnn.state_dict())  # the initial weights, for pretrain_keep="embedding"
    ids, lengths = vocab.encode(corpus, max_len=hp["max_len"])
    # What decides the pretrained weights: the texts, the vocabulary, the start (seed, sizes, PPMI) and the
    # pretraining's own settings; not how the classifier is fine-tuned afterwards.
    settings = {k: hp[k] for k in ("cell", "min_freq", "max_len", "embed_init", "ppmi_window", "embed_dim",
                                   "hidden_size", "bidirectional", "num_layers", "pretrain_epochs",
                                   "pretrain_batch_size", "pretrain_lr")}
    key = pretrain.cache_key(format=1, corpus=corpus, vocab=vocab.itos, settings=settings, seed=seed,
                             train=list(data.train.texts))
    old = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        with threadpool_limits(limits=num_threads, user_api="blas"):
            info = pretrain.cached_encoder(net, lambda: pretrain.pretrain_encoder(
                net, ids, lengths, epochs=hp["pretrain_epochs"], batch_size=hp["pretrain_batch_size"],
                lr=hp["pretrain_lr"], seed=seed), key=key)
    finally:
        torch.set_num_threads(old)
    if hp["pretrain_keep"] == "embedding":
        net.rnn.load_state_dict(start_rnn)  # only the embedding keeps what pretraining learned
    return {**info, "corpus_texts": len(corpus), "kept": hp["pretrain_keep"]}


# --------------------------------------------------------------------------- the command


def load_dataset(name: str, seed: int, *, data_dir: str | None = None, progress: bool = True):
    """``rnnbook.data.load_sentiment(name, seed)``; the tests replace this function by a tiny fixture."""
    from rnnbook.data import load_sentiment

    return load_sentiment(name, seed, cache_dir=data_dir, progress=progress)


class _Limited:
    def __init__(self, split, n):
        self.texts = list(split.texts[:n])
        self.labels = np.asarray(split.labels[:n])


class _LimitedData:
    def __init__(self, data, n):
        self.train, self.val, self.test = (_Limited(s, n) for s in (data.train, data.val, data.test))


def _int_at_least(minimum: int):
    """An argparse type: an integer ≥ ``minimum``, with a message that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {minimum}, got {value}")
        return value

    return parse


_positive_int, _seed = _int_at_least(1), _int_at_least(0)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m rnnbook.sentiment",
        description="Train a sentiment classifier of the lab, evaluate it on the test split, write JSON.")
    ap.add_argument("--model", required=True, choices=MODELS, help="which model to train")
    ap.add_argument("--dataset", default="airline", choices=DATASETS,
                    help="airline (default, offline), tweets (offline), imdb (downloads 84 MB)")
    ap.add_argument("--seed", type=_seed, default=0, help="seed of the split and of the training (default 0)")
    ap.add_argument("--json", metavar="PATH", help="write the results there")
    ap.add_argument("--epochs", type=_positive_int, help="override the model's number of epochs")
    ap.add_argument("--limit", type=_positive_int, metavar="N",
                    help="keep only the first N texts of each split (quick runs and tests)")
    ap.add_argument("--threads", type=_positive_int, help="torch threads (default: min(2, cores))")
    ap.add_argument("--data-dir", metavar="DIR", help="cache of downloaded datasets (IMDB)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    return ap


def summary(result: dict) -> str:
    """A few readable lines of a result written by :func:`main`."""
    lines = [
        f"{result['model']} on {result['dataset']} (seed {result['seed']}): "
        f"train {result['n_train']:,}, val {result['n_val']:,}, test {result['n_test']:,} texts",
        f"  test accuracy {result['accuracy']:.4f}  precision {result['precision']:.4f}  "
        f"recall {result['recall']:.4f}  F1 {result['f1']:.4f}  ROC-AUC {result['roc_auc']:.4f}",
        f"  {result['n_params']:,} parameters, trained in {result['train_seconds']:.1f} s",
    ]
    if result.get("history"):
        h = result["history"]
        best = result.get("best_epoch")
        lines.append(f"  {len(h)} epoch(s)" + (f", best validation AUC at epoch {best}" if best else ""))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the command; returns the result dict (also written to ``--json``)."""
    args = build_parser().parse_args(argv)
    data = load_dataset(args.dataset, args.seed, data_dir=args.data_dir, progress=not args.quiet)
    if args.limit is not None:
        data = _LimitedData(data, args.limit)
    overrides = {}
    if args.epochs is not None:
        if "epochs" not in HPARAMS[args.model]:
            raise SystemExit(f"error: --epochs does not apply to --model {args.model}")
        overrides["epochs"] = args.epochs
    res = run(args.model, data, seed=args.seed, progress=not args.quiet, num_threads=args.threads, **overrides)
    result = {
        **res.to_dict(),
        "dataset": args.dataset,
        "seed": args.seed,
        "n_train": len(data.train.texts),
        "n_val": len(data.val.texts),
        "n_test": len(data.test.texts),
        "limit": args.limit,
        "python": platform.python_version(),
    }
    try:
        import torch

        result["torch"] = torch.__version__
    except ImportError:  # pragma: no cover
        pass
    if args.json:
        write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")  # a crash never leaves half a JSON file
    print(summary(result))
    return result
