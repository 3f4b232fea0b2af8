"""IMDB movie reviews (Maas et al. 2011), the lab's online dataset.

The archive is downloaded once into the cache folder, verified, and unpacked
with :func:`~rnnbook.data.download.safe_extract` (without the 50,000
unlabelled reviews of ``train/unsup`` and the bag-of-words files). Later
calls read the unpacked folder and need no network.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import numpy as np

from rnnbook.data.cleaning import CleaningReport, deduplicate, has_mojibake
from rnnbook.data.download import check_sha256, download, resolve_cache_dir, safe_extract
from rnnbook.data.dataset import SentimentData, Split
from rnnbook.data.split import check_seed

__all__ = ["IMDB_SHA256", "IMDB_SIZE", "IMDB_URL", "IMDB_VAL_FRACTION", "clean_review", "load_imdb", "read_imdb_folder"]

IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SIZE = 84_125_825
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
#: Share of IMDB's training set held out (stratified, seeded) for validation.
IMDB_VAL_FRACTION = 0.10

# Not needed by the lab: 50k unlabelled reviews and precomputed bag-of-words features.
_SKIP = (
    "aclImdb/train/unsup",
    "aclImdb/train/unsupBow.feat",
    "aclImdb/train/labeledBow.feat",
    "aclImdb/test/labeledBow.feat",
)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_REVIEW_FILE = re.compile(r"(\d+)_(\d+)\.txt")


def clean_review(s: str) -> str:
    """Replace the HTML line breaks of an IMDB review (``<br />``) by spaces; strip the ends.

    >>> clean_review("Great film.<br /><br />Go!")
    'Great film.  Go!'
    """
    if not isinstance(s, str):
        raise ValueError(f"s: expected str, got {type(s).__name__}")
    return _BR.sub(" ", s).strip()


def read_imdb_folder(root: str | os.PathLike, part: str) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Read ``root/aclImdb/<part>/{neg,pos}/<id>_<rating>.txt``, sorted by label then id.

    Parameters
    ----------
    root : folder that holds ``aclImdb/``.
    part : ``"train"`` or ``"test"``.

    Returns
    -------
    texts : list of str, length N (cleaned with :func:`clean_review`)
    labels : np.ndarray of int64, shape (N,), 1 for ``pos``
    topics : list of str, length N, the folder (``"train/pos"``, ...)
    had_br : np.ndarray of bool, shape (N,), whether the review had ``<br />`` line breaks
    """
    if part not in ("train", "test"):
        raise ValueError(f"part: expected 'train' or 'test', got {part!r}")
    texts: list[str] = []
    labels: list[int] = []
    topics: list[str] = []
    had_br: list[bool] = []
    for label, folder in ((0, "neg"), (1, "pos")):
        where = Path(root) / "aclImdb" / part / folder
        if not where.is_dir():
            raise FileNotFoundError(f"IMDB: expected the folder {where} (layout aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt)")
        files = []
        for f in where.iterdir():
            m = _REVIEW_FILE.fullmatch(f.name)
            if m is None:
                raise ValueError(f"IMDB: unexpected file {f} (expected <id>_<rating>.txt)")
            files.append((int(m.group(1)), f))
        for _, f in sorted(files):  # directory order differs between machines
            raw = f.read_text(encoding="utf-8")
            had_br.append(_BR.search(raw) is not None)
            texts.append(clean_review(raw))
            labels.append(label)
            topics.append(f"{part}/{folder}")
    return texts, np.asarray(labels, dtype=np.int64), topics, np.asarray(had_br, dtype=bool)


def load_imdb(
    seed: int = 0,
    *,
    cache_dir: str | os.PathLike | None = None,
    url: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
    progress: bool = True,
) -> SentimentData:
    """IMDB as a :class:`SentimentData`: IMDB's test set is ``test``, validation a seeded 10% of its train set.

    Repeated reviews inside the training set are removed before the
    validation split (so validation shares no text with train); the test set
    is IMDB's, untouched. Arguments as in :func:`load_sentiment`; ``url``,
    ``sha256`` and ``size`` default to the real archive's.
    """
    from sklearn.model_selection import train_test_split

    seed = check_seed(seed)
    if not isinstance(progress, bool):
        raise ValueError(f"progress: expected True or False, got {progress!r}")
    if url is None:
        url = IMDB_URL
        size = IMDB_SIZE if size is None else size
    sha256 = check_sha256(IMDB_SHA256 if sha256 is None else sha256)
    cache = resolve_cache_dir(cache_dir)
    archive_name = PurePosixPath(urlparse(url).path).name or "imdb.tar.gz"
    archive = cache / archive_name
    # The folder name carries the checksum: a folder only ever appears by a
    # complete, atomic rename (safe_extract), so its existence means it is whole.
    extracted = cache / f"imdb-{sha256[:16]}"
    if not extracted.is_dir():
        download(url, archive, sha256, size=size, progress=progress)
        safe_extract(archive, extracted, skip=_SKIP)

    train_texts, train_labels, train_topics, br_train = read_imdb_folder(extracted, "train")
    test_texts, test_labels, test_topics, br_test = read_imdb_folder(extracted, "test")
    train_texts, train_labels, dedup = deduplicate(train_texts, train_labels)
    train_topics = [train_topics[i] for i in dedup.kept]
    br_train = br_train[dedup.kept]

    index = np.arange(len(train_labels), dtype=np.int64)
    train_idx, val_idx = train_test_split(index, test_size=IMDB_VAL_FRACTION, stratify=train_labels, random_state=seed)
    shuffled_test = np.random.default_rng(seed).permutation(len(test_labels))  # files are sorted by label

    def part(texts: list[str], labels: np.ndarray, topics: list[str], idx: np.ndarray) -> Split:
        return Split([texts[i] for i in idx], labels[idx], [topics[i] for i in idx])

    kept = len(train_labels) + len(test_labels)
    report = CleaningReport(
        source=url,
        rows_read=kept + dedup.duplicates_dropped + dedup.conflict_rows_dropped,
        outside_dataset=0,
        neutral_dropped=0,  # IMDB holds no neutral reviews (ratings 5 and 6 were left out by its authors)
        duplicates_dropped=dedup.duplicates_dropped,
        conflicting_texts=dedup.conflicting_texts,
        conflict_rows_dropped=dedup.conflict_rows_dropped,
        texts_kept=kept,
        line_breaks_replaced=int(br_train.sum() + br_test.sum()),
        html_unescaped=0,
        mojibake=sum(map(has_mojibake, train_texts)) + sum(map(has_mojibake, test_texts)),
    )
    return SentimentData(
        "imdb",
        seed,
        part(train_texts, train_labels, train_topics, train_idx),
        part(train_texts, train_labels, train_topics, val_idx),
        part(test_texts, test_labels, test_topics, shuffled_test),
        report,
    )
