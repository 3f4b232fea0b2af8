"""Which source a tweet of the corpus comes from: airline (and which one), or one of five topics.

The corpus mixes six sources: tweets to US airlines, and tweets about
DeflateGate, self-driving cars, Apple, Coachella and Claritin. The CSV has
no source column, so the source is recovered from keywords and, where a
tweet has none, from its position in the file (see :func:`assign_topics`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["AIRLINE_HANDLES", "TOPICS", "airline_of", "assign_topics", "keyword_topic"]

#: Twitter handle (lowercase) → airline name as in the Kaggle release.
AIRLINE_HANDLES: dict[str, str] = {
    "united": "United",
    "usairways": "US Airways",
    "americanair": "American",
    "southwestair": "Southwest",
    "jetblue": "JetBlue",
    "virginamerica": "Virgin America",
    "delta": "Delta",
}

# A handle ends where a Twitter handle cannot go on (ASCII letters, digits, _):
# "@united" and "@United!" match, "@unitedairlines" and "@DeltaAssist" do not.
_AIRLINE_HANDLE = re.compile(r"@(" + "|".join(AIRLINE_HANDLES) + r")(?![A-Za-z0-9_])", re.IGNORECASE)

#: Topic → keyword pattern, in priority order: the first pattern that matches wins.
#: The Apple pattern comes last because "Apple car" and "Google car @ Apple
#: Store" tweets belong to the self-driving-car source.
_TOPIC_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("airline", _AIRLINE_HANDLE),
    ("Coachella", re.compile(r"coachella", re.IGNORECASE)),
    ("Claritin", re.compile(r"claritin", re.IGNORECASE)),
    ("DeflateGate", re.compile(r"deflate", re.IGNORECASE)),
    (
        "self-driving cars",
        re.compile(r"driverless|driver-less|self[- ]?driving|autonomous|google car|apple car", re.IGNORECASE),
    ),
    ("Apple", re.compile(r"apple", re.IGNORECASE)),
)

#: The six sources of the corpus, as :func:`assign_topics` names them.
TOPICS: tuple[str, ...] = tuple(topic for topic, _ in _TOPIC_PATTERNS)


def airline_of(s: str) -> str | None:
    """The airline of the first airline handle in ``s`` ("United", "Delta", ...), or None.

    >>> airline_of("@JetBlue thanks, and @united too"), airline_of("@DeltaAssist hi")
    ('JetBlue', None)
    """
    if not isinstance(s, str):
        raise ValueError(f"s: expected str, got {type(s).__name__}")
    m = _AIRLINE_HANDLE.search(s)
    return AIRLINE_HANDLES[m.group(1).lower()] if m else None


def keyword_topic(s: str) -> str | None:
    """The source topic that the keywords of ``s`` point to, or None when none matches.

    Rules, first match wins: an airline handle → ``"airline"``; "coachella" →
    ``"Coachella"``; "claritin" → ``"Claritin"``; "deflate" →
    ``"DeflateGate"``; "driverless", "self-driving", "autonomous", "google
    car", "apple car" → ``"self-driving cars"``; "apple" → ``"Apple"``.
    Case is ignored. 479 of the 38,158 tweets (1.3%) match no rule, mostly
    retweets cut before their hashtag; :func:`assign_topics` fills those in.

    >>> keyword_topic("Google car @ Apple Store"), keyword_topic("Brady's balls")
    ('self-driving cars', None)
    """
    if not isinstance(s, str):
        raise ValueError(f"s: expected str, got {type(s).__name__}")
    for topic, pattern in _TOPIC_PATTERNS:
        if pattern.search(s):
            return topic
    return None


def assign_topics(texts: Sequence[str]) -> list[str]:
    """The source topic of every tweet, using the file order for those without keywords.

    The corpus CSV is stored grouped: by sentiment, then by source in the
    order self-driving cars, airline, Coachella, DeflateGate, Apple,
    Claritin. So a tweet without any keyword (:func:`keyword_topic` is None)
    gets the topic of the nearest tweet before it that has one (the first
    rows, of the one after). Measured against the source blocks of the real
    file this labels all but 8 of 38,158 rows like their block; the 8 are
    tweets whose keywords point elsewhere ("@Apple & @SouthwestAir ...")
    and their keyword-less neighbours.

    Parameters
    ----------
    texts : sequence of str, length N, **in file order** (before any filtering).

    Returns
    -------
    list of str, length N, each one of :data:`TOPICS`; ``"unknown"`` only if
    no text at all matches a keyword.
    """
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ValueError(f"texts: expected a sequence of str, got {type(texts).__name__}")
    found = [keyword_topic(t) for t in texts]
    first = next((t for t in found if t is not None), "unknown")
    topics: list[str] = []
    last = first
    for topic in found:
        if topic is not None:
            last = topic
        topics.append(last)
    return topics
