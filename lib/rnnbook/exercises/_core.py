"""The machinery shared by the exercise checks: registry, failure, calling the student's code.

A check is a function ``run(student_fn) -> str`` registered under a short id.
It calls the student's function on random inputs, compares with the library,
and either returns the success line or raises :class:`CheckFailed` with a
message in plain words. Messages describe what is wrong (a shape, a gate, a
transpose, which gradient); they never contain the value the library computed.
"""

from __future__ import annotations

import dataclasses
import traceback
from typing import Callable, Iterable, Sequence

import numpy as np


class CheckFailed(AssertionError):
    """The student's answer is not right yet; the message says what is wrong, in plain words."""


@dataclasses.dataclass(frozen=True)
class Check:
    """One registered check: ``id`` for :func:`rnnbook.exercises.check`, the exercise it belongs to."""

    id: str
    exercise: str  #: the exercise's MyST label in the book, e.g. "ex-rnn-step-numpy"
    function: str  #: the name of the function the exercise asks for, e.g. "rnn_step"
    summary: str  #: what the check tries, in one line
    run: Callable[[Callable], str] = dataclasses.field(repr=False)


REGISTRY: dict[str, Check] = {}


def register(id: str, *, exercise: str, function: str, summary: str):
    """Decorator: register ``run(student_fn) -> success line`` under ``id``."""

    def decorate(run):
        if id in REGISTRY:
            raise ValueError(f"id {id!r} is registered twice")
        REGISTRY[id] = Check(id=id, exercise=exercise, function=function, summary=summary, run=run)
        return run

    return decorate


def fail(message: str):
    """Stop the check with ``message`` (a sentence or two, no reference values)."""
    raise CheckFailed("Not yet: " + message)


def _where_in_student_code(fn: Callable, exc: BaseException) -> str:
    """``" (line 3 of rnn_step: `return ...`)"`` for the deepest frame of the student's own code, if any."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == code.co_filename]
    if not frames:
        return ""
    frame = frames[-1]
    line = (frame.line or "").strip()
    number = frame.lineno - code.co_firstlineno + 1 if frame.name == code.co_name else frame.lineno
    return f" (line {number} of {frame.name}{': `' + line + '`' if line else ''})"


def call(fn: Callable, args: Sequence, *, name: str, where: str, passthrough: tuple = ()):
    """Call the student's function; turn any error except NotImplementedError into a plain-words failure.

    ``NotImplementedError`` passes through unchanged: it means "not written yet",
    which is what a fresh student notebook should say. So do the exception types
    in ``passthrough``, which the check handles itself.
    """
    try:
        return fn(*args)
    except (NotImplementedError, CheckFailed, *passthrough):
        raise
    except Exception as exc:  # the student's bug, reported rather than re-raised
        text = str(exc).splitlines()[0] if str(exc) else ""
        hint = ""
        if isinstance(exc, ValueError) and any(w in text for w in ("matmul", "aligned", "shapes", "broadcast")):
            hint = (
                " Two arrays of shapes that do not fit met in a product or a sum. With one example per row, "
                "a matrix-vector product W v becomes v @ W.T: check every transpose and every concatenation axis."
            )
        elif isinstance(exc, (KeyError, IndexError)):
            hint = " Check the keys and indices you use against the exercise's description of the arguments."
        fail(f"{where}, {name} raised {type(exc).__name__}: {text}{_where_in_student_code(fn, exc)}.{hint}")


def as_array(value, what: str, where: str) -> np.ndarray:
    """``np.asarray(value)`` as a float array, or a failure that says what came back instead."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{where}, {what} should be a NumPy array; got {type(value).__name__}.")
    return arr


def same_shape(got: np.ndarray, shape: tuple, what: str, where: str, dims: str) -> None:
    if got.shape != tuple(shape):
        hint = ""
        if got.shape == tuple(shape)[::-1] and len(shape) == 2:
            hint = " It is the transpose: did you put the examples in columns instead of rows?"
        elif got.ndim != len(shape):
            hint = f" It has {got.ndim} ax{'i' if got.ndim == 1 else 'e'}s instead of {len(shape)}."
        fail(f"{where}, {what} has shape {got.shape}, but it should have shape {dims} = {tuple(shape)}.{hint}")


def max_error(got: np.ndarray, expected: np.ndarray) -> float:
    if got.shape != expected.shape:
        return np.inf
    with np.errstate(invalid="ignore"):
        diff = np.abs(got - expected)
    return float(np.nanmax(np.where(np.isnan(diff), np.inf, diff), initial=0.0))


def matches(got, expected, tol: float) -> bool:
    """``got`` equals ``expected`` to ``tol`` (tuples compared entry by entry)."""
    if isinstance(expected, tuple):
        return isinstance(got, tuple) and len(got) == len(expected) and all(
            matches(g, e, tol) for g, e in zip(got, expected)
        )
    got = np.asarray(got, dtype=np.float64)
    return max_error(got, np.asarray(expected, dtype=np.float64)) <= tol


def diagnose(got, mistakes: Iterable[tuple[str, Callable[[], object]]], tol: float) -> str | None:
    """The explanation of the first known mistake whose result ``got`` reproduces, or None.

    ``mistakes`` holds ``(explanation, compute)`` pairs: ``compute()`` returns what
    a function with that mistake would return on the same inputs. Computing it may
    fail (a mistake that needs square matrices, say); such mistakes are skipped.
    """
    for explanation, compute in mistakes:
        try:
            wrong = compute()
        except Exception:
            continue
        if matches(got, wrong, tol):
            return explanation
    return None


def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a)))  # stable for any finite a, within rounding of 1/(1+e^-a)
