"""The exercises of the book and their automatic checks (rnnbook.exercises).

* every implement-exercise has exactly one registered check, called in its notebook right after its solution;
* the solution in the notebook passes its own check (the function is taken from the solution cell);
* deliberately wrong answers get a message that names the mistake in plain words, and never the answer;
* a placeholder that raises NotImplementedError gets through unchanged.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import book
from rnnbook import exercises
from rnnbook.exercises import CheckFailed, check

CHECKS = exercises.available()
EXERCISE = re.compile(r"^:::+\{exercise\}[^\n]*\n:label: (\S+)\s*\n\s*\*\*(\w+)\.\*\*", re.M)
CALL = re.compile(r"""^check\(\s*["']([a-z0-9-]+)["']\s*,\s*(\w+)\s*\)\s*$""", re.M)
NOTEBOOKS = book.notebooks()


def exercise_cells():
    """``(notebook, exercise label, kind, cells of the exercise)``: each exercise with the cells up to the next one."""
    out = []
    for path in NOTEBOOKS:
        cells = book.read_notebook(path).cells
        starts = [(i, m.group(1), m.group(2).lower()) for i, c in enumerate(cells) if c.cell_type == "markdown"
                  for m in EXERCISE.finditer(c.source)]
        for n, (i, label, kind) in enumerate(starts):
            stop = starts[n + 1][0] if n + 1 < len(starts) else len(cells)
            out.append((path, label, kind, cells[i:stop]))
    return out


EXERCISES = exercise_cells()


def solution_code_cells(cells):
    """The code cells between the exercise's solution-start and solution-end."""
    inside, out = False, []
    for cell in cells:
        if cell.cell_type == "markdown":
            if re.search(r"^:::+\{solution-start\}", cell.source, re.M):
                inside = True
            if re.search(r"^:::+\{solution-end\}", cell.source, re.M):
                inside = False
        elif inside:
            out.append(cell)
    return out


def imports_cell(path) -> str:
    """The notebook's third cell: its imports and seeds."""
    cells = book.read_notebook(path).cells
    return next(c.source for i, c in enumerate(cells) if i > 1 and c.cell_type == "code")


def reference_solution(check_id):
    """The function the notebook's solution defines for the exercise of ``check_id``."""
    spec = CHECKS[check_id]
    path, cells = next((p, cells) for p, label, _, cells in EXERCISES if label == spec.exercise)
    source = next(c.source for c in solution_code_cells(cells) if re.search(rf"^def {spec.function}\(", c.source, re.M))
    namespace: dict = {}
    exec(imports_cell(path), namespace)  # noqa: S102 - the book's own notebook
    exec(source, namespace)  # noqa: S102
    return namespace[spec.function]


# --------------------------------------------------------------------------- the book and the registry


def test_there_are_exercises_of_the_three_kinds_in_every_notebook():
    for path in NOTEBOOKS:
        kinds = {kind for p, _, kind, _ in EXERCISES if p == path}
        assert {"derive", "implement", "experiment"} <= kinds, f"{path.name}: exercise kinds {sorted(kinds)}"


def test_every_implement_exercise_has_one_registered_check_called_after_its_solution():
    implement = {label for _, label, kind, _ in EXERCISES if kind == "implement"}
    registered = {spec.exercise: check_id for check_id, spec in CHECKS.items()}
    assert set(registered) == implement, (
        f"implement-exercises without a check: {sorted(implement - set(registered))}; "
        f"checks for no implement-exercise: {sorted(set(registered) - implement)}")
    for path, label, kind, cells in EXERCISES:
        calls = [(c, m.groups()) for c in cells if c.cell_type == "code" for m in CALL.finditer(c.source)]
        if kind != "implement":
            assert not calls, f"{path.name} {label}: a check call in a {kind}-exercise"
            continue
        spec = CHECKS[registered[label]]
        assert [g for _, g in calls] == [(spec.id, spec.function)], (
            f"{path.name} {label}: expected one call check({spec.id!r}, {spec.function}); found {[g for _, g in calls]}")
        cell = calls[0][0]
        assert cell not in solution_code_cells(cells), f"{path.name} {label}: the check call must follow the solution"
        assert "from rnnbook.exercises import check" in cell.source


def test_code_solutions_carry_nbgrader_markers_and_the_function_stands_outside_them():
    for path, label, kind, cells in EXERCISES:
        for cell in solution_code_cells(cells):
            lines = [line.strip() for line in cell.source.splitlines()]
            assert lines.count("### BEGIN SOLUTION") == lines.count("### END SOLUTION") >= 1, (
                f"{path.name} {label}: a code cell of the solution lacks ### BEGIN SOLUTION / ### END SOLUTION")
        if kind == "implement":
            spec = CHECKS[next(i for i, s in CHECKS.items() if s.exercise == label)]
            source = next(c.source for c in solution_code_cells(cells) if f"def {spec.function}(" in c.source)
            assert re.search(rf'^def {spec.function}\(.*\):\n    """.+"""\n    ### BEGIN SOLUTION$', source, re.M), (
                f"{path.name} {label}: write `def {spec.function}(...)` and a one-line docstring above "
                "### BEGIN SOLUTION, so the student version keeps the signature")


# --------------------------------------------------------------------------- the solutions pass


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_the_books_solution_passes_its_check(check_id, capsys):
    solution = reference_solution(check_id)
    capsys.readouterr()  # what the solution's notebook cells printed
    assert check(check_id, solution) is None  # printed, not returned: see below
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1 and out.count("\n") == 1, out


def test_a_check_cell_shows_its_message_once(capsys):
    """The cell `check("rnn-step", rnn_step)`, run by IPython as a notebook runs it: one "Well done", no Out[…].

    A check that printed its message and also returned it showed it twice: once printed, once as the
    value of the cell's last expression.
    """
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns.update(check=check, rnn_step=reference_solution("rnn-step"))
    capsys.readouterr()
    result = shell.run_cell('check("rnn-step", rnn_step)', store_history=True)
    assert result.success and result.result is None
    out = capsys.readouterr().out
    assert out.count("Well done") == 1 and "Out[" not in out, out


LABEL = re.compile(r"\beq-[a-z]+(?:-[a-z0-9]+)+\b")
OLD_NUMBERING = re.compile(r"\b(?:chapter|[Pp]art|[Nn]otebook) \d+\b")  # the book writes "Chapter 2", "Section 2.1"


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_messages_name_sections_not_internal_labels(check_id, capsys):
    """What students read (the summary, the success line, the wrong-answer explanations) names no eq-… label
    and no "chapter N" or "part N" of an older numbering; a section is named as "Section 2.1"."""
    solution = reference_solution(check_id)
    capsys.readouterr()
    check(check_id, solution)
    texts = [CHECKS[check_id].summary, capsys.readouterr().out]
    module = __import__(CHECKS[check_id].run.__module__, fromlist=["_"])
    source = open(module.__file__, encoding="utf-8").read()
    texts += [s for s in re.findall(r'"([^"\n]*)"', source) if " " in s]  # every string literal with words
    for text in texts:
        assert not LABEL.search(text), f"{check_id}: a message names an internal label: {text!r}"
        assert not OLD_NUMBERING.search(text), f"{check_id}: a message uses the old numbering: {text!r}"
        for section in re.findall(r"Section (\d+\.\d+)", text):
            assert section in SECTIONS, f"{check_id}: {text!r} names Section {section}, which does not exist"
        for chapter in re.findall(r"Chapter (\d+)", text):
            assert 1 <= int(chapter) <= 7, f"{check_id}: {text!r} names Chapter {chapter}, which does not exist"


SECTIONS = {"1.1", "1.2", "2.1", "2.2", "2.3", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2", "6.1", "6.2", "6.3",
            "7.1", "7.2", "7.3", "7.4"}


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_a_placeholder_gets_through_as_not_implemented(check_id):
    def placeholder(*args, **kwargs):
        # YOUR CODE HERE
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check(check_id, placeholder)


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="exercise must be one of"):
        check("lstm_step", lambda *a: None)
    with pytest.raises(ValueError, match="student_fn must be"):
        check("lstm-step", "lstm_step")


def test_a_failed_check_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


# --------------------------------------------------------------------------- wrong answers get helpful messages

sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731


def lstm_step(x_t, h_prev, c_prev, W, b, keys=("f", "i", "C", "o"), first="h", out_tanh=True, swap=False):
    kf, ki, kc, ko = keys
    hx = np.concatenate([h_prev, x_t] if first == "h" else [x_t, h_prev], axis=1)
    f = sig(hx @ W[kf].T + b[kf])
    i = sig(hx @ W[ki].T + b[ki])
    g = np.tanh(hx @ W[kc].T + b[kc])
    o = sig(hx @ W[ko].T + b[ko])
    c = f * c_prev + i * g
    h = o * (np.tanh(c) if out_tanh else c)
    return (c, h) if swap else (h, c)


def gru_step(x_t, h_prev, W, b, keys=("z", "r", "h"), torch_z=False, reset_after=False):
    kz, kr, kh = keys
    H = h_prev.shape[1]
    hx = np.concatenate([h_prev, x_t], axis=1)
    z = sig(hx @ W[kz].T + b[kz])
    r = sig(hx @ W[kr].T + b[kr])
    if reset_after:
        n = np.tanh(x_t @ W[kh][:, H:].T + r * (h_prev @ W[kh][:, :H].T) + b[kh])
    else:
        n = np.tanh(np.concatenate([r * h_prev, x_t], axis=1) @ W[kh].T + b[kh])
    return z * h_prev + (1 - z) * n if torch_z else (1 - z) * h_prev + z * n


def clip(grads, max_norm, eps=1e-6, per_array=False):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    if per_array:
        return {k: g * min(1, max_norm / (np.linalg.norm(g) + eps)) for k, g in grads.items()}, total
    return {k: g * min(1, max_norm / (total + eps)) for k, g in grads.items()}, total


def n_params(cell, D, H, num_layers=1, bidirectional=False, biases=2):
    G, d = {"rnn": 1, "lstm": 4, "gru": 3}[cell], 2 if bidirectional else 1
    return sum(d * G * (H * (D if layer == 0 else d * H) + H * H + biases * H) for layer in range(num_layers))


def f1_negative_class(cm):
    (tp, fp), (fn, tn) = np.asarray(cm)  # the layout read upside down
    if 2 * tp + fp + fn == 0:
        warnings.warn("undefined")
        return 0.0
    return float(2 * tp / (2 * tp + fp + fn))


def auc_ties_zero(y, s):
    pos, neg = s[y == 1], s[y == 0]
    if not pos.size or not neg.size:
        raise ValueError("one class")
    return float(np.mean(pos[:, None] > neg[None, :]))


def naive_bce(z, y):
    p = 1 / (1 + np.exp(-z))
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def dropout_keep_p(h, p, rng):
    mask = (rng.random(h.shape) < p).astype(h.dtype)
    return h * mask / (1 - p), mask


def cell_path(f):
    f = np.asarray(f, dtype=float)
    out = np.ones((f.shape[0] + 1, f.shape[1]))
    for k in range(f.shape[0] - 1, -1, -1):
        out[k] = f[k] * out[k + 1]
    return out


def cell_path_forwards(f):
    f = np.asarray(f, dtype=float)
    out = np.ones((f.shape[0] + 1, f.shape[1]))
    for k in range(1, f.shape[0] + 1):
        out[k] = f[k - 1] * out[k - 1]
    return out


def cell_path_off_at_0(f):
    out = cell_path(f)
    out[0] *= 1.01
    return out


def gru_backward(dh_t, x_t, h_prev, W, b):
    """A right answer, written independently of the library, to be spoiled below."""
    H = h_prev.shape[1]
    hx = np.concatenate([h_prev, x_t], axis=1)
    z, r = sig(hx @ W["z"].T + b["z"]), sig(hx @ W["r"].T + b["r"])
    rhx = np.concatenate([r * h_prev, x_t], axis=1)
    n = np.tanh(rhx @ W["h"].T + b["h"])
    da_h, da_z = dh_t * z * (1 - n**2), dh_t * (n - h_prev) * z * (1 - z)
    d_rhx = da_h @ W["h"]
    da_r = d_rhx[:, :H] * h_prev * r * (1 - r)
    d_hx = da_z @ W["z"] + da_r @ W["r"]
    routes = {"direct": dh_t * (1 - z), "z": (da_z @ W["z"])[:, :H], "r": (da_r @ W["r"])[:, :H],
              "candidate": d_rhx[:, :H] * r}
    grads = {"W": {"z": da_z.T @ hx, "r": da_r.T @ hx, "h": da_h.T @ rhx},
             "b": {"z": da_z.sum(0), "r": da_r.sum(0), "h": da_h.sum(0)},
             "x_t": d_hx[:, H:] + d_rhx[:, H:], "h_prev": sum(routes.values())}
    return grads, routes, {"hx": hx, "da_h": da_h}


def gru_backward_wrong_W_h(*args):
    grads, _, saved = gru_backward(*args)
    grads["W"]["h"] = saved["da_h"].T @ saved["hx"]  # [h, x] instead of [r ⊙ h, x]
    return grads


def gru_backward_no_r_route(*args):
    grads, routes, _ = gru_backward(*args)
    grads["h_prev"] = grads["h_prev"] - routes["r"]
    return grads


def gru_backward_transposed(*args):
    grads, _, _ = gru_backward(*args)
    grads["W"]["z"] = grads["W"]["z"].T
    return grads


def gru_backward_swapped(*args):
    grads, _, _ = gru_backward(*args)
    grads["W"]["z"], grads["W"]["r"] = grads["W"]["r"], grads["W"]["z"]
    return grads


WRONG = [
    ("rnn-step", "transposed weight",
     lambda x, h, W_xh, W_hh, b: np.tanh(h @ W_hh + x @ W_xh.T + b), ["W_hh", "transpose", "h_prev @ W_hh.T"]),
    ("rnn-step", "wrong shape (examples in columns)",
     lambda x, h, W_xh, W_hh, b: np.tanh(W_hh @ h.T + W_xh @ x.T + b[:, None]), ["shape", "(N, H)", "columns"]),
    ("rnn-step", "W_xh not transposed", lambda x, h, W_xh, W_hh, b: np.tanh(h @ W_hh.T + x @ W_xh + b),
     ["W_xh", "without its transpose", "x_t @ W_xh.T"]),
    ("lstm-step", "missing transposes: shapes that do not fit",
     lambda x, h, c, W, b: (sig(np.concatenate([h, x], 1) @ W["o"] + b["o"]), c), ["raised ValueError", "v @ W.T"]),
    ("lstm-step", "wrong gate order (forget and input swapped)",
     lambda *a: lstm_step(*a, keys=("i", "f", "C", "o")), ["gates are mixed up", "forget gate f_t is computed with W['i']"]),
    ("lstm-step", "wrong gate order (candidate and output swapped)",
     lambda *a: lstm_step(*a, keys=("f", "i", "o", "C")), ["gates are mixed up", "candidate", "W['o']"]),
    ("lstm-step", "concatenation [x, h]", lambda *a: lstm_step(*a, first="x"), ["[x_t, h_prev]", "state first"]),
    ("lstm-step", "h_t without the tanh", lambda *a: lstm_step(*a, out_tanh=False), ["tanh(C_t)"]),
    ("lstm-step", "(c_t, h_t) returned", lambda *a: lstm_step(*a, swap=True), ["(h_t, c_t)"]),
    ("lstm-step", "wrong shape (one row)", lambda *a: tuple(v[:1] for v in lstm_step(*a)), ["shape", "(N, H)"]),
    ("gru-step-seed", "wrong gate order (update and reset swapped)",
     lambda *a: gru_step(*a, keys=("r", "z", "h")), ["gates are mixed up", "update gate z_t is computed with W['r']"]),
    ("gru-step-seed", "PyTorch's update convention", lambda *a: gru_step(*a, torch_z=True), ["z_t weighs", "opposite"]),
    ("gru-step-seed", "PyTorch's reset placement", lambda *a: gru_step(*a, reset_after=True), ["reset gate", "r_t ⊙ h_{t-1}"]),
    ("lstm-cell-path", "the product taken forwards in time", cell_path_forwards, ["∂C_k/∂C_0", "Walk backwards"]),
    ("lstm-cell-path", "wrong shape (no row for k = T)", lambda f: cell_path(f)[:-1], ["T + 1", "all ones"]),
    ("lstm-cell-path", "off at one time step", cell_path_off_at_0, ["row k = 0 is the first wrong one"]),
    ("gru-step-backward-seed", "gradient off in one parameter (W['h'] from [h, x])", gru_backward_wrong_W_h,
     ["gradient of W['h'] is off", "[r_t ⊙ h_{t-1}, x_t]", "Right: W['z'], b['z'], W['r'], b['r'], b['h'], x_t, h_prev"]),
    ("gru-step-backward-seed", "a route into h_prev left out", gru_backward_no_r_route,
     ["gradient of h_prev is off", "You left out the route through r_t"]),
    ("gru-step-backward-seed", "a transposed weight gradient", gru_backward_transposed, ["W['z'] is transposed"]),
    ("gru-step-backward-seed", "two gate gradients swapped", gru_backward_swapped,
     ["gradient of W['z'] is the gradient of W['r']"]),
    ("lstm-sigmoid-inplace", "a new array instead of writing in place", lambda a: 1 / (1 + np.exp(-a)),
     ["new array", "out=a"]),
    ("clip-grad-norm", "clipping each array by its own norm",
     lambda g, m, eps=1e-6: clip(g, m, eps, per_array=True), ["own norm", "one norm for all arrays"]),
    ("n-params", "one bias per gate", lambda *a: n_params(*a, biases=1), ["one bias", "bias_ih and bias_hh"]),
    ("inverted-dropout", "p taken as the keep probability", dropout_keep_p, ["probability of *dropping*"]),
    ("bce-logits", "the naive formula overflows", naive_bce, ["log(0)", "−|z|"]),
    ("f1-confusion", "the layout read upside down", f1_negative_class, ["negative class", "cm[1][1]"]),
    ("auc-pairs", "ties counted 0", auc_ties_zero, ["ties count 0", "1/2"]),
]


@pytest.mark.parametrize("check_id, what, wrong, words", WRONG, ids=[f"{c}: {w}" for c, w, _, _ in WRONG])
def test_a_wrong_answer_gets_a_message_that_names_the_mistake(check_id, what, wrong, words):
    with pytest.raises(CheckFailed) as failure:
        check(check_id, wrong)
    message = str(failure.value)
    assert message.startswith("Not yet: "), message
    missing = [w for w in words if w not in message]
    assert not missing, f"the message for '{what}' should mention {missing}:\n{message}"
    assert "Traceback" not in message and len(message) < 700, message


def test_an_error_in_the_students_code_is_reported_with_its_line():
    def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
        a = h_prev @ W_hh.T + x_t @ W_xh.T + b_h
        return np.tanh(a) + undefined_name  # noqa: F821

    with pytest.raises(CheckFailed, match=r"raised NameError: .*undefined_name.*\(line 3 of rnn_step: `return np\.tanh"):
        check("rnn-step", rnn_step)


@pytest.mark.parametrize("check_id, wrong, reference", [
    ("n-params", lambda *a: n_params(*a, biases=1), lambda: n_params("rnn", 1, 1)),
    ("f1-confusion", f1_negative_class, None),
    ("auc-pairs", auc_ties_zero, lambda: 0.5),
])
def test_a_message_never_shows_the_reference_answer(check_id, wrong, reference):
    with pytest.raises(CheckFailed) as failure:
        check(check_id, wrong)
    message = str(failure.value)
    if check_id == "n-params":  # the first failing case is nn.RNN(1, 1): 4 parameters, the student said 3
        assert "your count 3" in message and not re.search(r"(?<![\w.])4(?![\w.])", message), message
    elif check_id == "f1-confusion":  # the first failing case is TN, FP, FN, TP = 0, 0, 0, 4: F1 = 1
        assert "your F1 is 0.0000" in message and "1.0" not in message, message
    else:  # y = [1, 0], scores tied: AUC 0.5, the student said 0
        assert "your AUC is 0.0000" in message and "0.5" not in message, message


def test_the_instructors_page_lists_every_check_with_its_exercise():
    text = (book.ROOT / "appendix" / "instructors.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"\{ref\}`([a-z0-9-]+) <(ex-[a-z0-9-]+)>`", text))
    assert listed == {check_id: spec.exercise for check_id, spec in CHECKS.items()}, (
        "appendix/instructors.md must list each registered check with its exercise, and no other")
