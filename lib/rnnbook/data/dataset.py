"""What every loader of :mod:`rnnbook.data` returns: a :class:`SentimentData` of three :class:`Split` s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rnnbook.data.cleaning import CleaningReport

__all__ = ["SentimentData", "Split"]


@dataclass(frozen=True, eq=False)  # fields hold arrays: == would be ambiguous
class Split:
    """One part of a dataset (train, validation or test).

    Attributes
    ----------
    texts : list of str, length N
    labels : np.ndarray of int64, shape (N,)
        1 = positive, 0 = negative.
    topics : list of str, length N
        Where each text comes from: the airline for ``"airline"``
        ("United", "Delta", ...), the source topic for ``"tweets"``
        ("airline", "DeflateGate", ...), the folder for ``"imdb"``
        ("train/pos", ...). For error analysis by group.
    """

    texts: list[str]
    labels: np.ndarray = field(repr=False)
    topics: list[str] = field(repr=False)

    def __post_init__(self) -> None:
        if not (len(self.texts) == len(self.labels) == len(self.topics)):
            raise ValueError(
                f"Split: texts, labels and topics must have one entry per text, "
                f"got lengths {len(self.texts)}, {len(self.labels)}, {len(self.topics)}"
            )

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def positive_share(self) -> float:
        """Fraction of positive labels (NaN for an empty split)."""
        return float(self.labels.mean()) if len(self.labels) else float("nan")

    def __repr__(self) -> str:
        return f"Split(n={len(self)}, positive={100 * self.positive_share:.1f}%)"


@dataclass(frozen=True, eq=False)  # fields hold arrays: == would be ambiguous
class SentimentData:
    """A sentiment dataset split three ways, with the report of its cleaning.

    Attributes
    ----------
    name : str
        ``"airline"``, ``"tweets"`` or ``"imdb"``.
    seed : int
        Seed of the split.
    train, val, test : Split
    report : CleaningReport
        Counts at each cleaning step; ``print(data.report)``.
    """

    name: str
    seed: int
    train: Split
    val: Split
    test: Split
    report: CleaningReport = field(repr=False)

    def splits(self) -> dict[str, Split]:
        """``{"train": ..., "val": ..., "test": ...}``."""
        return {"train": self.train, "val": self.val, "test": self.test}

    def summary(self) -> str:
        """A small table: size and positive share of each split."""
        total = sum(len(s) for s in self.splits().values())
        lines = [f"{self.name} (seed {self.seed}): {total:,} texts", "split        n  positive"]
        for part, s in self.splits().items():
            lines.append(f"{part:<5} {len(s):>8,}  {100 * s.positive_share:7.1f}%")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()
