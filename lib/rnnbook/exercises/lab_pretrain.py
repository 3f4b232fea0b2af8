"""Checks of Section 7.4, *Pretraining on unlabelled tweets*: the targets of the two language models."""

from __future__ import annotations

import numpy as np

from rnnbook.exercises._core import as_array, call, diagnose, fail, register, same_shape
from rnnbook.lab.pretrain import language_model_targets

IGNORE = -1


def _mistakes(ids: np.ndarray, lengths: np.ndarray):
    forward, backward = language_model_targets(ids, lengths, ignore=IGNORE)
    T = ids.shape[1]
    step = np.arange(T)[None, :]
    shifted_next = np.concatenate([ids[:, 1:], np.full((ids.shape[0], 1), IGNORE)], axis=1)  # no mask at all
    shifted_prev = np.concatenate([np.full((ids.shape[0], 1), IGNORE), ids[:, :-1]], axis=1)
    return [
        ("forward and backward are swapped: the forward model predicts the NEXT token, ids[n, t + 1]; the backward "
         "model the previous one, ids[n, t − 1].", lambda: (backward, forward)),
        ("the targets are the tokens themselves, not their neighbours: at step t the forward model has already "
         "read ids[n, t] and must predict ids[n, t + 1].",
         lambda: (np.where(step < lengths[:, None], ids, IGNORE), np.where(step < lengths[:, None], ids, IGNORE))),
        ("the padding is predicted too: the last real step of a text gets the <pad> id 0 as its forward target. "
         "A step whose neighbour is padding, and every padding step, must get −1.",
         lambda: (np.where(step < lengths[:, None], shifted_next, IGNORE), backward)),
        ("the padding steps get backward targets: for t ≥ lengths[n] there is nothing to predict, so the target is −1.",
         lambda: (forward, shifted_prev)),
    ]


def _cases(rng):
    cases = [
        ("for ids = [[5, 6, 7, 0], [8, 0, 0, 0]] with lengths [3, 1]",
         np.array([[5, 6, 7, 0], [8, 0, 0, 0]]), np.array([3, 1])),
        ("for one text of full length, ids = [[2, 3, 4, 5, 6]]", np.array([[2, 3, 4, 5, 6]]), np.array([5])),
        ("for texts of one token each", np.array([[4, 0], [9, 0], [3, 0]]), np.array([1, 1, 1])),
    ]
    for k in range(12):
        N, T = int(rng.integers(1, 7)), int(rng.integers(2, 10))
        lengths = rng.integers(1, T + 1, N)
        ids = rng.integers(1, 60, (N, T)) * (np.arange(T)[None, :] < lengths[:, None])
        cases.append((f"for a random batch of {N} texts padded to T = {T} (random case {k + 1})", ids, lengths))
    return cases


@register("lab-lm-targets", exercise="ex-lab-pretrain-targets", function="language_model_targets",
          summary="forward and backward targets of a padded batch against rnnbook.lab.pretrain.language_model_targets: "
                  "lengths 1 and T, N = 1, random batches; swapped directions, unshifted targets and padding named")
def check_language_model_targets(student_fn) -> str:
    rng = np.random.default_rng(17)
    for what, ids, lengths in _cases(rng):
        got = call(student_fn, (ids.copy(), lengths.copy()), name="language_model_targets", where=what)
        if not (isinstance(got, tuple) and len(got) == 2):
            fail(f"{what}, language_model_targets must return a tuple (forward, backward) of two arrays; "
                 f"got {type(got).__name__}" + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""))
        forward = as_array(got[0], "forward", what)
        backward = as_array(got[1], "backward", what)
        same_shape(forward, ids.shape, "forward", what, "(N, T)")
        same_shape(backward, ids.shape, "backward", what, "(N, T)")
        expected = language_model_targets(ids, lengths, ignore=IGNORE)
        if not (np.array_equal(forward, expected[0]) and np.array_equal(backward, expected[1])):
            why = diagnose((forward, backward), _mistakes(ids, lengths), 0.5)
            wrong = "forward" if not np.array_equal(forward, expected[0]) else "backward"
            fail(f"{what}, the {wrong} targets are wrong"
                 + (f": {why}" if why else ". forward[n, t] is ids[n, t + 1] when t + 1 < lengths[n], else −1; "
                    "backward[n, t] is ids[n, t − 1] when 1 ≤ t < lengths[n], else −1."))
    return ("Well done: language_model_targets gives each step its next token forwards and its previous token "
            "backwards, and −1 where there is none. It passes on texts of length 1 and T, one text, and random batches.")
