"""Text to integer sequences: a tweet tokenizer, a vocabulary, padding with lengths.

The sentiment lab turns each text into a row of token ids, right-padded with
``<pad>`` = 0 to the longest text of the batch, plus the number of real tokens
(``lengths``), so that :func:`torch.nn.utils.rnn.pack_padded_sequence` can run
the recurrence over the real tokens only::

    tok = TweetTokenizer()
    tok("@united I can't believe it :( http://t.co/x")
    # ['<user>', 'i', 'can', "n't", 'believe', 'it', ':(', '<url>']

    vocab = Vocabulary.build(train_texts, min_freq=2)        # train split only
    ids, lengths = vocab.encode(texts, max_len=64)           # (N, T) int64, (N,) int64
    vocab.decode(ids, lengths)                               # back to token strings

What the tokenizer keeps, and why (tweets are short, so every signal counts):

* **Negation survives.** "don't", "can't", "won't" and their apostrophe-less
  spellings ("dont", "cant", "didnt") become a verb plus ``n't``, so "isn't good"
  and "isnt good" both read ``is n't good``: one negation token (next to ``not``)
  instead of several rare words that hide it.
* **Emoticons** (``:)``, ``:-(``, ``;)``, ``<3``, ``:/``, ``:D``) are single
  tokens; the nose is dropped (``:-)`` → ``:)``) so spellings share a token.
* **Punctuation runs**: ``!``, ``?`` and the runs ``!!``, ``??``, ``?!`` (any
  length) are tokens; "!!!" reads differently from ".".
* **URLs** → ``<url>``, **numbers** (flight numbers, times, prices' digits) →
  ``<num>``: their exact values are noise.
* **@mentions** → ``<user>`` by default. The airline's handle *does* carry
  signal (in the airline corpus @VirginAmerica and @JetBlue tweets are more
  often positive than @USAirways and @united ones), but that is a confound:
  a model that learns "united → negative" learns the mix of the data set, not
  sentiment. ``mentions="keep"`` keeps the handles, for the lab's exercise on it.
* **Hashtags** → the word itself (``#fail`` → ``fail``), so it shares an
  embedding with the plain word; ``hashtags="marker"`` precedes it with
  ``<hashtag>``.
* **Elongations** are shortened to two letters (``sooooo`` → ``soo``), so one
  token covers every length of the same emphasis.
* Characters outside ASCII are kept as runs (about 13% of the airline tweets
  carry mojibake of emoji and curly quotes from the original export, e.g.
  ``äóì``); recurring runs become ordinary tokens of the vocabulary.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Callable, Iterable, Sequence

import numpy as np

from rnnbook._checks import check_int

PAD = "<pad>"
UNK = "<unk>"
URL = "<url>"
USER = "<user>"
NUM = "<num>"
HASHTAG = "<hashtag>"

# Apostrophe-less negations that tweets use ("dont", "cant"): base word, then "n't".
# "wont" and "cant" are also rare English words; in tweets they are the negations.
_NEG_NO_APOSTROPHE = {
    "dont": "do", "doesnt": "does", "didnt": "did", "cant": "can", "cannot": "can",
    "couldnt": "could", "wont": "will", "wouldnt": "would", "shouldnt": "should",
    "isnt": "is", "arent": "are", "wasnt": "was", "werent": "were", "havent": "have",
    "hasnt": "has", "hadnt": "had", "aint": "is", "mustnt": "must", "neednt": "need",
}
# Irregular "n't" stems: "won't" = will not, "can't" = can not, "ain't" ~ is not, "shan't" = shall not.
_NEG_STEMS = {"wo": "will", "ca": "can", "ai": "is", "sha": "shall"}
_CLITICS = ("'s", "'re", "'ve", "'ll", "'d", "'m")

_EMOTICON = (
    r"(?:<3+|</3|\^_*\^|-_+-|"
    r"[<>]?[:;=][\-o'^]?[)\](\[dpDP/\\|*3$@oO]"  # eyes, optional nose, mouth
    r"|[)\](\[][\-o'^]?[:;=])"  # reversed, e.g. (:
)
_TOKEN_RE = re.compile(
    r"(?P<url>https?://\S+|www\.\S+)"
    r"|(?P<user>@\w+)"
    r"|(?P<hashtag>\#[A-Za-z0-9_]+)"
    # An emoticon must stand alone (not "http://", not "12:30"): no word character before it,
    # none after it.
    rf"|(?<![\w:])(?P<emoticon>{_EMOTICON})(?![A-Za-z0-9])"
    r"|(?P<num>\d+(?:[.,:/]\d+)*(?:(?:st|nd|rd|th|am|pm)(?![A-Za-z]))?)"
    r"|(?P<word>[A-Za-z0-9]+(?:['’][A-Za-z]+)*)"
    r"|(?P<excl>[!?][!?1]*)"
    r"|(?P<dots>\.{2,}|…)"
    r"|(?P<nonascii>[^\x00-\x7f\s_]+)"
    r"|(?P<punct>[^\w\s])"
)
# The corpus's mojibake of curly quotes (UTF-8 read as Mac Roman, then mangled by the export):
# "can’t" arrives as "canäó»t". Repairing these three keeps the negation and the quotes; the
# emoji mojibake ("ôÖ_") is left as it is and becomes tokens of its own.
_MOJIBAKE = {"äó»": "'", "äóì": '"', "äóù": '"'}
_ELONGATED = re.compile(r"(.)\1{2,}")


class TweetTokenizer:
    """Split a tweet into lowercase tokens (a callable: ``tokens = tok(text)``).

    Parameters
    ----------
    mentions : {"<user>", "keep"}
        ``"<user>"`` (default) replaces every @mention by ``<user>``; ``"keep"``
        keeps the lowercased handle (``@united``), a confound in the airline data
        (see the module docstring).
    hashtags : {"word", "marker"}
        ``"word"`` (default): ``#fail`` → ``fail``; ``"marker"``: → ``<hashtag> fail``.
    numbers : bool
        Replace numbers by ``<num>`` (default True).
    reduce_len : bool
        Shorten runs of 3+ equal characters to 2 (``sooo`` → ``soo``; default True).
    """

    def __init__(self, *, mentions: str = "<user>", hashtags: str = "word",
                 numbers: bool = True, reduce_len: bool = True) -> None:
        if mentions not in ("<user>", "keep"):
            raise ValueError(f"mentions must be '<user>' or 'keep'; got {mentions!r}")
        if hashtags not in ("word", "marker"):
            raise ValueError(f"hashtags must be 'word' or 'marker'; got {hashtags!r}")
        self.mentions = mentions
        self.hashtags = hashtags
        self.numbers = bool(numbers)
        self.reduce_len = bool(reduce_len)

    def __repr__(self) -> str:
        return (f"TweetTokenizer(mentions={self.mentions!r}, hashtags={self.hashtags!r}, "
                f"numbers={self.numbers}, reduce_len={self.reduce_len})")

    def __call__(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise ValueError(f"text must be a str; got {type(text).__name__}")
        # The data loader unescapes HTML entities already; doing it again is harmless and keeps
        # "&amp;" from becoming the tokens "&", "amp", ";" when raw text is passed.
        text = html.unescape(text)
        for bad, good in _MOJIBAKE.items():
            if bad in text:
                text = text.replace(bad, good)
        out: list[str] = []
        for m in _TOKEN_RE.finditer(text):
            kind, tok = m.lastgroup, m.group()
            if kind == "url":
                out.append(URL)
            elif kind == "user":
                out.append(USER if self.mentions == "<user>" else tok.lower())
            elif kind == "hashtag":
                if self.hashtags == "marker":
                    out.append(HASHTAG)
                out.extend(self._word(tok[1:].lower()))
            elif kind == "emoticon":
                out.append(self._emoticon(tok))
            elif kind == "num":
                out.append(NUM if self.numbers else tok.lower())
            elif kind == "word":
                out.extend(self._word(tok.lower().replace("’", "'")))
            elif kind == "excl":
                tok = tok.replace("1", "!")  # "!!!1" is a typed "!!!!"
                if len(tok) == 1:
                    out.append(tok)
                elif "?" in tok and "!" in tok:
                    out.append("?!")
                else:
                    out.append(tok[0] * 2)
            elif kind == "dots":
                out.append("...")
            elif tok != "_":  # nonascii, punct; "_" only glues mojibake emoji together ("ôïç_ôïç")
                out.append(tok)
        return out

    @staticmethod
    def _emoticon(tok: str) -> str:
        tok = tok.lower()
        if len(tok) == 3 and tok[1] in "-o'^" and tok[0] in ":;=":
            tok = tok[0] + tok[2]  # drop the nose: ":-)" -> ":)"
        if tok.startswith("<3"):
            return "<3"
        return tok

    def _word(self, w: str) -> list[str]:
        if self.reduce_len:
            w = _ELONGATED.sub(r"\1\1", w)
        if w in _NEG_NO_APOSTROPHE:
            return [_NEG_NO_APOSTROPHE[w], "n't"]
        if "'" not in w:
            return [w]
        if w.endswith("n't"):
            stem = w[:-3]
            return [_NEG_STEMS.get(stem, stem), "n't"] if stem else ["n't"]
        for c in _CLITICS:
            if w.endswith(c) and len(w) > len(c):
                return [w[: -len(c)], c]
        return [w]  # "o'hare", "y'all"


#: The lab's default tokenizer.
tokenize = TweetTokenizer()


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise ValueError("texts must be a sequence of str, not a single str; wrap it in a list")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ValueError(f"texts must hold str; texts[{i}] is {type(t).__name__}")
    return texts


class Vocabulary:
    """Token ↔ id map with ``<pad>`` = 0 and ``<unk>`` = 1, built from the training texts only.

    Build it with :meth:`build` on the *training* split: a word seen only in the
    validation or test split then maps to ``<unk>``, as it would for a new tweet,
    and the evaluation does not leak.

    Attributes
    ----------
    itos : list[str]
        Id → token; ``itos[0] == "<pad>"``, ``itos[1] == "<unk>"``, then the
        tokens by decreasing training count (ties alphabetically, so the ids are
        deterministic).
    stoi : dict[str, int]
        Token → id.
    tokenizer : callable
        ``str -> list[str]``, used by :meth:`encode`.
    """

    pad_id = 0
    unk_id = 1

    def __init__(self, tokens: Iterable[str], tokenizer: Callable[[str], list[str]] | None = None) -> None:
        self.tokenizer = tokenize if tokenizer is None else tokenizer
        self.itos: list[str] = [PAD, UNK]
        for t in tokens:
            if t not in (PAD, UNK):
                self.itos.append(t)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("tokens must not repeat")

    @classmethod
    def build(cls, texts: Sequence[str], *, tokenizer: Callable[[str], list[str]] | None = None,
              min_freq: int = 1, max_size: int | None = None) -> "Vocabulary":
        """Count the tokens of ``texts`` (the training split) and keep the frequent ones.

        Parameters
        ----------
        texts : sequence of str
            The training texts.
        tokenizer : callable, optional
            ``str -> list[str]``; default :data:`tokenize`.
        min_freq : int
            Keep tokens seen at least this many times (≥ 1). Rarer tokens map to
            ``<unk>``, which then learns what a rare word means on average.
        max_size : int or None
            Keep at most this many tokens besides ``<pad>`` and ``<unk>`` (the most frequent).
        """
        texts = _check_texts(texts)
        min_freq = check_int("min_freq", min_freq, 1)
        max_size = check_int("max_size", max_size, 0, allow_none=True)
        tok = tokenize if tokenizer is None else tokenizer
        counts = Counter(t for text in texts for t in tok(text))
        kept = sorted((t for t, c in counts.items() if c >= min_freq and t not in (PAD, UNK)),
                      key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max_size]
        vocab = cls(kept, tokenizer=tok)
        vocab.counts = counts
        return vocab

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens, tokenizer={self.tokenizer!r})"

    def lookup(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; unknown tokens → ``<unk>`` = 1."""
        return [self.stoi.get(t, self.unk_id) for t in tokens]

    def encode(self, texts: Sequence[str], *, max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Tokenize, look up and right-pad ``texts``.

        Parameters
        ----------
        texts : sequence of str, length N
        max_len : int or None
            Keep at most the first ``max_len`` tokens of each text (None: no limit).

        Returns
        -------
        ids : (N, T) int64
            Token ids, right-padded with ``<pad>`` = 0; T is the longest length.
        lengths : (N,) int64
            Number of real tokens per row, ≥ 1. A text with no tokens (``""``)
            becomes the single token ``<unk>``: a recurrence over zero steps has
            no final state, and ``pack_padded_sequence`` rejects length 0.
        """
        texts = _check_texts(texts)
        max_len = check_int("max_len", max_len, 1, allow_none=True)
        rows = []
        for text in texts:
            r = self.lookup(self.tokenizer(text))
            if max_len is not None:
                r = r[:max_len]
            rows.append(r or [self.unk_id])
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        ids = np.full((len(rows), int(lengths.max()) if rows else 0), self.pad_id, dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
        return ids, lengths

    def decode(self, ids, lengths=None) -> list[list[str]]:
        """Token strings of each row of ``ids`` (N, T), without the padding.

        ``lengths`` (N,) gives the number of real tokens per row; without it,
        every id 0 (``<pad>``) is dropped.
        """
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"ids must have shape (N, T); got shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must lie in [0, {len(self) - 1}]; got values in [{ids.min()}, {ids.max()}]")
        if lengths is not None:
            lengths = np.asarray(lengths)
            if lengths.shape != (ids.shape[0],):
                raise ValueError(f"lengths must have shape ({ids.shape[0]},); got shape {lengths.shape}")
            return [[self.itos[i] for i in row[:n]] for row, n in zip(ids, lengths)]
        return [[self.itos[i] for i in row if i != self.pad_id] for row in ids]


def ppmi_embeddings(ids, lengths, vocab_size: int, dim: int, *, window: int = 4,
                    alpha: float = 0.75) -> np.ndarray:
    """Word vectors from co-occurrence counts: truncated SVD of the positive PMI matrix.

    A starting point for the embedding table, computed from the *training* texts
    alone, without their labels (Levy, Goldberg and Dagan 2015: PPMI + SVD is as good
    as word2vec on small corpora). On 8k tweets the table learned from scratch only
    sees each word a few times; starting from vectors in which "delayed" and
    "cancelled" are already close lets the recurrent layer generalise over
    words, and raises the validation ROC-AUC of the lab's models by about 0.01.

    Parameters
    ----------
    ids : (N, T) int64
        Encoded texts, right-padded with 0 (:meth:`Vocabulary.encode`).
    lengths : (N,) int64
    vocab_size : int
        V, rows of the table.
    dim : int
        E, columns (≤ V − 2).
    window : int
        Pairs up to this many tokens apart count, weighted 1 / distance.
    alpha : float
        Context counts are raised to ``alpha`` (word2vec's smoothing of rare contexts).

    Returns
    -------
    (V, E) float32
        ``U √S`` of the rank-E SVD of PPMI(w, c) = max(0, log P(w, c) / (P(w) P_α(c))), scaled to
        standard deviation 1 (the scale of ``nn.Embedding``'s N(0, 1) start); row 0 (``<pad>``)
        is zero. Deterministic.
    """
    from scipy import sparse
    from sklearn.utils.extmath import randomized_svd

    ids = np.asarray(ids)
    lengths = np.asarray(lengths)
    V = check_int("vocab_size", vocab_size, 2)
    E = check_int("dim", dim, 1)
    window = check_int("window", window, 1)
    if ids.ndim != 2:
        raise ValueError(f"ids must have shape (N, T); got shape {ids.shape}")
    if lengths.shape != (ids.shape[0],):
        raise ValueError(f"lengths must have shape ({ids.shape[0]},); got shape {lengths.shape}")
    if E > V - 2:
        raise ValueError(f"dim must be ≤ vocab_size − 2 = {V - 2} for a truncated SVD; got {dim}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"ids must lie in [0, {V - 1}]; got values in [{ids.min()}, {ids.max()}]")
    valid = np.arange(ids.shape[1])[None, :] < lengths[:, None]
    rows, cols, vals = [], [], []
    for k in range(1, min(window, ids.shape[1] - 1) + 1):
        both = valid[:, :-k] & valid[:, k:]
        a, b = ids[:, :-k][both], ids[:, k:][both]
        rows += [a, b]
        cols += [b, a]  # symmetric: a is in b's window and b in a's
        vals += [np.full(a.size, 1.0 / k)] * 2
    if not rows:
        raise ValueError("ids must hold at least one text of 2 or more tokens")
    C = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(V, V)).tocsr()
    C.sum_duplicates()
    total = C.sum()
    p_w = np.asarray(C.sum(axis=1)).ravel() / total
    p_c = np.asarray(C.sum(axis=0)).ravel() ** alpha
    p_c /= p_c.sum()
    C = C.tocoo()
    pmi = np.log(C.data / total) - np.log(p_w[C.row]) - np.log(p_c[C.col])
    keep = pmi > 0
    M = sparse.csr_matrix((pmi[keep], (C.row[keep], C.col[keep])), shape=(V, V))
    # Randomized SVD (Halko et al. 2011) with a fixed seed: ~10× faster than ARPACK here, deterministic.
    # One BLAS thread: the matrices are small, and spinning threads only slow a shared machine down.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        u, s, _ = randomized_svd(M, E, n_iter=5, random_state=0)
    out = u * np.sqrt(s)
    out /= out.std() + 1e-12
    out[0] = 0.0
    return out.astype(np.float32)
