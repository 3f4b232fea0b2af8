"""Automatic checks for the implement-exercises of the book.

Every implement-exercise asks for a function with a given signature; its check
runs that function on random inputs, edge shapes included, compares it with the
library (``rnnbook.scratch``, PyTorch or scikit-learn), and says in plain words
what is wrong: a shape, a missing transpose, mixed-up gates, which gradient is
off. It never prints the value the library computed, so a check cannot be used
to read off the answer. ::

    from rnnbook.exercises import check
    check("lstm-step", lstm_step)
    # Well done: lstm_step agrees with scratch.lstm_step_forward on all 5 shapes …

A passing check prints one line starting with "Well done" and returns it. A
failing check raises :class:`CheckFailed`, a subclass of ``AssertionError``,
whose message starts with "Not yet". A function that still raises
``NotImplementedError`` (the placeholder of a student notebook) lets that
error through unchanged. ``available()`` lists the checks, each with the label
of its exercise and the name of the function it expects.
"""

from __future__ import annotations

from typing import Callable

from rnnbook.exercises._core import REGISTRY, Check, CheckFailed

# Importing a chapter's module registers its checks; in book order, so available() lists them that way.
from rnnbook.exercises import recurrent  # noqa: E402,F401  chapter 1
from rnnbook.exercises import lstm  # noqa: E402,F401  chapter 2
from rnnbook.exercises import speed  # noqa: E402,F401  chapter 2, Making the scratch LSTM fast
from rnnbook.exercises import gru  # noqa: E402,F401  chapter 3
from rnnbook.exercises import training  # noqa: E402,F401  chapter 4
from rnnbook.exercises import evaluation  # noqa: E402,F401  chapter 5
from rnnbook.exercises import lab_data  # noqa: E402,F401  chapter 6, the lab's data
from rnnbook.exercises import lab_models  # noqa: E402,F401  chapter 6, RNN, LSTM and GRU against a baseline
from rnnbook.exercises import lab_numpy  # noqa: E402,F401  chapter 6, the NumPy LSTM

__all__ = ["Check", "CheckFailed", "available", "check"]


def available() -> dict[str, Check]:
    """The registered checks, id → :class:`Check` (its exercise label, function name and summary), in book order."""
    return dict(REGISTRY)


def check(exercise: str, student_fn: Callable) -> str:
    """Check the student's function for the exercise ``exercise`` (a short id such as ``"rnn-step"``).

    Parameters
    ----------
    exercise : id of a registered check; ``available()`` lists them.
    student_fn : the function the exercise asks for.

    Returns
    -------
    The success line, also printed.

    Raises
    ------
    CheckFailed
        (an ``AssertionError``) with a plain-words description of the first problem found.
    NotImplementedError
        unchanged, when ``student_fn`` is still the placeholder.
    ValueError
        if ``exercise`` is not a registered id or ``student_fn`` is not callable.
    """
    if exercise not in REGISTRY:
        raise ValueError(f"exercise must be one of {sorted(REGISTRY)}; got {exercise!r}")
    if not callable(student_fn):
        raise ValueError(f"student_fn must be the function you wrote (a callable); got {type(student_fn).__name__}")
    try:
        message = REGISTRY[exercise].run(student_fn)
    except CheckFailed as failure:
        # Re-raised from here so the traceback is one frame deep: the message is what matters.
        raise CheckFailed(str(failure)) from None
    print(message)
    return message
