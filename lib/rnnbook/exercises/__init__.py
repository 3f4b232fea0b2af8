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

A passing check prints one line starting with "Well done" and returns None, so
that a notebook shows the line once (a returned string would be shown a second
time, as the value of the cell). A failing check raises :class:`CheckFailed`, a subclass of ``AssertionError``,
whose message starts with "Not yet". A function that still raises
``NotImplementedError`` (the placeholder of a student notebook) lets that
error through unchanged. ``available()`` lists the checks, each with the label
of its exercise and the name of the function it expects.
"""

from __future__ import annotations

from typing import Callable

from rnnbook.exercises._core import REGISTRY, Check, CheckFailed

# Importing a section's module registers its checks; in book order, so available() lists them that way.
from rnnbook.exercises import recurrent  # noqa: E402,F401  Sections 1.1 and 1.2
from rnnbook.exercises import lstm  # noqa: E402,F401  Sections 2.1 and 2.2
from rnnbook.exercises import speed  # noqa: E402,F401  Section 2.3
from rnnbook.exercises import gru  # noqa: E402,F401  Sections 3.1 and 3.2
from rnnbook.exercises import training  # noqa: E402,F401  Sections 4.1 and 4.2
from rnnbook.exercises import evaluation  # noqa: E402,F401  Sections 5.1 and 5.2
from rnnbook.exercises import min_cells  # noqa: E402,F401  Section 6.1
from rnnbook.exercises import scan  # noqa: E402,F401  Section 6.2
from rnnbook.exercises import min_experiments  # noqa: E402,F401  Section 6.3
from rnnbook.exercises import lab_data  # noqa: E402,F401  Section 7.1
from rnnbook.exercises import lab_models  # noqa: E402,F401  Section 7.2
from rnnbook.exercises import lab_numpy  # noqa: E402,F401  Section 7.3
from rnnbook.exercises import lab_pretrain  # noqa: E402,F401  Section 7.4

__all__ = ["Check", "CheckFailed", "available", "check"]


def available() -> dict[str, Check]:
    """The registered checks, id → :class:`Check` (its exercise label, function name and summary), in book order."""
    return dict(REGISTRY)


def check(exercise: str, student_fn: Callable) -> None:
    """Check the student's function for the exercise ``exercise`` (a short id such as ``"rnn-step"``).

    Parameters
    ----------
    exercise : id of a registered check; ``available()`` lists them.
    student_fn : the function the exercise asks for.

    Prints the success line, once. Returns None: in a notebook, a returned string would be
    displayed again as the value of the cell.

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
