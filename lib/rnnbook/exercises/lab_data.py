"""Checks of Section 7.1, *The lab's data*: deduplication with conflicting labels dropped, padding a batch."""

from __future__ import annotations

import copy

import numpy as np

from rnnbook.data import deduplicate, normalise_for_dedup
from rnnbook.exercises._core import CheckFailed, call, fail, register
from rnnbook.lab.text import Vocabulary

# --------------------------------------------------------------------------- deduplication

#: Short texts in the style of the airline tweets; random cases copy them with other case and spacing.
DEDUP_POOL = ("@united thanks for the great crew", "bag lost again #fail", "Late Flight again",
              "@JetBlue you are the best :)", "still on hold", "Cancelled Flightled flight, thanks a lot")


def _respell(text: str, rng: np.random.Generator) -> str:
    """``text`` with another case and spacing: the same text for :func:`normalise_for_dedup`."""
    words = []
    for w in text.split(" "):
        r = rng.random()
        words.append(w.upper() if r < 0.15 else w.capitalize() if r < 0.35 else w.lower() if r < 0.5 else w)
    seps = rng.choice([" ", "  ", "\t", " \r "], size=len(words) - 1, p=[0.7, 0.15, 0.1, 0.05])
    out = words[0] + "".join(s + w for s, w in zip(seps, words[1:]))
    return out + " " if rng.random() < 0.1 else out


def _dedup_cases():
    """``(description, texts, labels)``: hand-made cases that separate the usual mistakes, edges, random cases."""
    cases = [
        ("for texts = ['@united thanks!', '@United  Thanks!', 'bag lost again', 'Bag lost again', 'great crew', "
         "'bag lost again'] with labels [1, 1, 0, 1, 1, 0]",
         ["@united thanks!", "@United  Thanks!", "bag lost again", "Bag lost again", "great crew", "bag lost again"],
         [1, 1, 0, 1, 1, 0]),
        ("for texts = ['Late Flight', 'on time', 'LATE  flight', 'thanks'] with labels [0, 1, 0, 1]",
         ["Late Flight", "on time", "LATE  flight", "thanks"], [0, 1, 0, 1]),
        ("for texts = ['a b', 'c', 'x', 'A  B', 'c', 'y'] with labels [0, 1, 1, 0, 1, 0]",
         ["a b", "c", "x", "A  B", "c", "y"], [0, 1, 1, 0, 1, 0]),
        ("for an empty list of texts", [], []),
        ("for a single text", ["@SouthwestAir great flight"], [1]),
        ("for four copies of one text, all with label 0",
         ["still on hold", "Still on hold", "still  on hold", "STILL on hold"], [0, 0, 0, 0]),
        ("for three copies of one text with both labels", ["meh", "Meh", "meh"], [0, 1, 0]),
    ]
    rng = np.random.default_rng(11)
    for k in range(60):
        n = int(rng.integers(1, 31))
        base_label = rng.integers(0, 2, len(DEDUP_POOL))
        flip = 0.0 if k % 3 == 0 else 0.08  # a third of the cases have no conflicting texts
        texts, labels = [], []
        for _ in range(n):
            j = int(rng.integers(len(DEDUP_POOL)))
            texts.append(DEDUP_POOL[j] if rng.random() < 0.4 else _respell(DEDUP_POOL[j], rng))
            labels.append(int(base_label[j] ^ (rng.random() < flip)))
        cases.append((f"for a random list of {n} texts (random case {k + 1})", texts, labels))
    return cases


def _dedup_by_key(texts, labels, key, *, drop_conflicts=True, keep="first"):
    """A deduplication by ``key``: what the reference does with normalise_for_dedup, and its usual mistakes."""
    keys = [key(t) for t in texts]
    seen: dict = {}
    for k, y in zip(keys, labels):
        seen.setdefault(k, set()).add(y)
    order = range(len(texts)) if keep == "first" else range(len(texts) - 1, -1, -1)
    kept, done = [], set()
    for i in order:
        if keys[i] in done or (drop_conflicts and len(seen[keys[i]]) > 1):
            continue
        done.add(keys[i])
        kept.append(i)
    kept.sort()
    return [texts[i] for i in kept], [int(labels[i]) for i in kept]


def _dedup_mistakes(texts, labels):
    """``(explanation, result)`` of the usual mistakes on this input."""
    norm = normalise_for_dedup
    right_texts, right_labels = _dedup_by_key(texts, labels, norm)
    return [
        ("texts that differ only in case or spacing (“@united thanks!” and “@United  Thanks!”) are the same text. "
         "Compare their keys normalise_for_dedup(text), not the raw strings.",
         _dedup_by_key(texts, labels, lambda t: t)),
        ("texts that differ only in spacing (two spaces, a tab) are the same text: collapse the whitespace, "
         "\" \".join(text.lower().split()), or use normalise_for_dedup.",
         _dedup_by_key(texts, labels, str.lower)),
        ("texts that differ only in case are the same text: lowercase them too, or use normalise_for_dedup.",
         _dedup_by_key(texts, labels, lambda t: " ".join(t.split()))),
        ("you kept one copy of a text that carries both labels. Such a text must go entirely, every copy: "
         "no label for it can be trusted.",
         _dedup_by_key(texts, labels, norm, drop_conflicts=False)),
        ("of each group of copies keep the first one (its spelling and its place in the list), not the last.",
         _dedup_by_key(texts, labels, norm, keep="last")),
        ("return the texts as they were given, not their normalised keys.",
         ([norm(t) for t in right_texts], right_labels)),
        ("the kept texts are the right ones, but in another order: keep them in their input order "
         "(a set or a dict sorted by key loses it).",
         (sorted(right_texts), [y for _, y in sorted(zip(right_texts, right_labels))])),
    ]


def _as_texts_and_labels(result, where):
    if isinstance(result, (tuple, list)) and result and all(isinstance(t, str) for t in result):
        fail(f"{where}, deduplicate_texts returned only texts; return a pair (kept_texts, kept_labels).")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{where}, deduplicate_texts returned {type(result).__name__}; return a pair "
             "(kept_texts, kept_labels).")
    got_texts, got_labels = result
    if isinstance(got_texts, str):
        fail(f"{where}, the first thing you returned is one string; return the kept texts as a list of str.")
    try:
        got_texts = list(got_texts)
    except TypeError:
        fail(f"{where}, the kept texts should be a list of str; got {type(got_texts).__name__}.")
    if not all(isinstance(t, str) for t in got_texts):
        fail(f"{where}, the kept texts should all be str; return the texts themselves, not their indices.")
    arr = np.asarray(got_labels)
    if arr.ndim != 1 or len(arr) != len(got_texts):
        fail(f"{where}, you returned {len(got_texts)} texts but labels of shape {arr.shape}: "
             "return one label per kept text, a 1-D array.")
    if arr.size and (arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all()):
        fail(f"{where}, the labels you returned are not all 0 or 1.")
    return got_texts, [int(y) for y in arr]


@register("lab-dedup", exercise="ex-lab-data-dedup", function="deduplicate_texts",
          summary="deduplication on lowercased, whitespace-collapsed keys with texts of both labels dropped, "
                  "against rnnbook.data.deduplicate on 67 lists (empty, one text, all copies, conflicts)")
def check_deduplicate_texts(student_fn) -> str:
    cases = _dedup_cases()
    for where, texts, labels in cases:
        labels = np.asarray(labels, dtype=np.int64)
        exp_texts, exp_labels, _ = deduplicate(texts, labels)
        exp_labels = exp_labels.tolist()
        given = (list(texts), labels.copy())
        result = call(student_fn, given, name="deduplicate_texts", where=where)
        if given[0] != texts or not np.array_equal(given[1], labels):
            fail(f"{where}, deduplicate_texts changed the lists it was given; build new lists instead.")
        got_texts, got_labels = _as_texts_and_labels(result, where)
        if got_texts == exp_texts and got_labels == exp_labels:
            continue
        for explanation, wrong in _dedup_mistakes(texts, labels.tolist()):
            if (got_texts, got_labels) == (wrong[0], wrong[1]):
                fail(f"{where}, {explanation}")
        if got_texts == exp_texts:
            fail(f"{where}, you kept the right texts, but the labels do not belong to them: "
                 "return labels[i] for each kept text i.")
        extra = [t for t in got_texts if normalise_for_dedup(t) not in {normalise_for_dedup(e) for e in exp_texts}]
        if extra:
            fail(f"{where}, you kept {extra[0]!r}, which should be gone: it is a second copy of an earlier text, "
                 "or one of a text that carries both labels.")
        keys = [normalise_for_dedup(t) for t in got_texts]
        if len(set(keys)) < len(keys):
            fail(f"{where}, you kept two copies of the same text (same key after normalise_for_dedup).")
        fail(f"{where}, you kept {len(got_texts)} text{'s' if len(got_texts) != 1 else ''}, which is too "
             f"{'many' if len(got_texts) > len(exp_texts) else 'few'}: keep the first copy of every text that "
             "has a single label.")
    return (f"Well done: deduplicate_texts agrees with rnnbook.data.deduplicate on all {len(cases)} lists "
            "(case and spacing ignored, first copies kept in order, texts with both labels dropped).")


# --------------------------------------------------------------------------- padding


def _reference_pad(sequences, pad_id):
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    ids = np.full((len(sequences), int(lengths.max(initial=0))), pad_id, dtype=np.int64)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = s
    return ids, lengths


def _left_pad(sequences, pad_id):
    ids, lengths = _reference_pad(sequences, pad_id)
    for i, s in enumerate(sequences):
        ids[i] = pad_id
        ids[i, ids.shape[1] - len(s):] = s
    return ids


#: Texts of a small batch for the comparison with Vocabulary.encode (tokenized by spaces).
PAD_TEXTS = ["thanks for the great flight", "bag lost", "still on hold after two hours thanks",
             "great crew", "lost bag still lost"]


def _pad_cases():
    """``(description, sequences, pad_id or None for the default)``."""
    rng = np.random.default_rng(5)
    cases = [("for sequences = [[5, 8, 2], [7], [4, 4]]", [[5, 8, 2], [7], [4, 4]], None),
             ("for sequences = [[5, 8, 2], [7], [4, 4]] and pad_id = -1", [[5, 8, 2], [7], [4, 4]], -1)]
    for k in range(40):
        n = int(rng.integers(1, 9))
        seqs = [rng.integers(1, 50, int(rng.integers(1, 13))) for _ in range(n)]
        seqs = [s.tolist() for s in seqs] if k % 3 else seqs  # lists, and every third case NumPy arrays
        pad_id = int(rng.choice([-1, 3, 99])) if k % 4 == 3 else None
        kind = "NumPy arrays" if k % 3 == 0 else "lists"
        cases.append((f"for {n} random sequences given as {kind}" + (f" and pad_id = {pad_id}" if pad_id is not None
                                                                      else ""), seqs, pad_id))
    cases += [("for a single sequence [3, 1, 4, 1, 5]", [[3, 1, 4, 1, 5]], None),
              ("for four sequences of the same length 3", [[1, 2, 3], [4, 5, 6], [7, 8, 9], [2, 2, 2]], None),
              ("for an empty list of sequences", [], None)]
    return cases


def _call_pad(student_fn, sequences, pad_id, where):
    given = copy.deepcopy(sequences)
    args = (given,) if pad_id is None else (given, pad_id)
    try:
        result = call(student_fn, args, name="pad_batch", where=where)
    except CheckFailed as failure:
        if sequences:
            raise
        fail(str(failure).removeprefix("Not yet: ") + " An empty batch has N = 0 and T = 0: return ids of shape "
             "(0, 0) and lengths of shape (0,) (max() of an empty list fails; max(..., default=0) does not).")
    if len(given) != len(sequences) or any(len(a) != len(b) or list(a) != list(b) for a, b in zip(given, sequences)):
        fail(f"{where}, pad_batch changed the sequences it was given (did you append the padding to them?). "
             "Copy the ids into a new array instead.")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{where}, pad_batch returned {type(result).__name__}; return a pair (ids, lengths).")
    ids, lengths = (np.asarray(r) for r in result)
    return ids, lengths


@register("lab-pad-batch", exercise="ex-lab-data-pad", function="pad_batch",
          summary="right padding to (N, T) int64 ids with (N,) lengths, against a reference on 45 batches "
                  "(lists and arrays, pad_id ≠ 0, one sequence, equal lengths, an empty batch) and "
                  "against Vocabulary.encode")
def check_pad_batch(student_fn) -> str:
    cases = _pad_cases()
    for where, sequences, pad_id in cases:
        pad = 0 if pad_id is None else pad_id
        exp_ids, exp_lengths = _reference_pad(sequences, pad)
        ids, lengths = _call_pad(student_fn, sequences, pad_id, where)
        for what, arr, why in (("ids", ids, "an embedding looks token ids up by index"),
                               ("lengths", lengths, "pack_padded_sequence wants int64 lengths")):
            if arr.dtype.kind not in "iu":
                fail(f"{where}, {what} has dtype {arr.dtype}; it should hold integers (int64): {why}.")
        if lengths.shape != exp_lengths.shape:
            fail(f"{where}, lengths has shape {lengths.shape}; it should have shape (N,) = {exp_lengths.shape}, "
                 "one number per sequence.")
        if ids.shape != exp_ids.shape:
            hint = ""
            if ids.shape == exp_ids.shape[::-1] and ids.ndim == 2 and ids.shape[0] != ids.shape[1]:
                hint = " It is the transpose: put one sequence per row."
            elif ids.ndim == 2 and ids.shape[0] == exp_ids.shape[0]:
                hint = " T should be the length of the longest sequence of this batch, no more and no less."
            fail(f"{where}, ids has shape {ids.shape}; it should have shape (N, T) = {exp_ids.shape}, N sequences "
                 f"and T the length of the longest.{hint}")
        if not np.array_equal(lengths, exp_lengths):
            if exp_ids.shape[1] and np.all(lengths == exp_ids.shape[1]):
                fail(f"{where}, every length is T. lengths[i] counts the real ids of sequence i, without its "
                     "padding.")
            fail(f"{where}, lengths is wrong: lengths[i] should be the number of ids in sequences[i].")
        if not np.array_equal(ids, exp_ids):
            if np.array_equal(ids, _left_pad(sequences, pad)):
                fail(f"{where}, the padding is on the left. Pad on the right: each row starts with its real ids, "
                     "columns 0 … lengths[i] − 1, then pad_id up to the end.")
            if np.array_equal(ids, exp_ids.T):
                fail(f"{where}, ids is the transpose of what it should be: put one sequence per row, (N, T).")
            if pad != 0 and np.array_equal(ids, _reference_pad(sequences, 0)[0]):
                fail(f"{where}, you padded with 0; fill the padding with pad_id.")
            row = int(np.flatnonzero((ids != exp_ids).any(axis=1))[0])
            fail(f"{where}, row {row} of ids is wrong: it should hold sequences[{row}], then pad_id up to column T − 1.")
    # The library's own padding, on real text.
    vocab = Vocabulary.build(PAD_TEXTS, tokenizer=str.split)
    exp_ids, exp_lengths = vocab.encode(PAD_TEXTS)
    where = "for the ids of five short texts from Vocabulary.lookup"
    ids, lengths = _call_pad(student_fn, [vocab.lookup(t.split()) for t in PAD_TEXTS], None, where)
    if not (np.array_equal(ids, exp_ids) and np.array_equal(lengths, exp_lengths)):
        fail(f"{where}, your ids and lengths differ from those of Vocabulary.encode on the same texts.")
    return (f"Well done: pad_batch right-pads all {len(cases)} batches with pad_id (lists and arrays, one sequence, "
            "equal lengths, an empty batch) and agrees with Vocabulary.encode.")
