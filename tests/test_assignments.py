"""The student notebooks of `make assignments` (scripts/assignments.py).

* no line of any solution appears in any student notebook (the solution lines are found here, independently
  of the script: the text between solution-start and solution-end, the code between the nbgrader markers);
* every exercise survives word for word; each implement-function keeps its signature and docstring over an
  nbgrader stub; the check calls stay, tagged raises-exception; the badge opens the student copy;
* the student notebooks run: up to the first cell that uses an unwritten function, which fails with
  NotImplementedError and nothing else, and they validate with ``pytest --nbval-lax``. Executing notebooks
  is slow, so by default two are run; ``RNNBOOK_ALL_ASSIGNMENTS=1`` runs all of them.
"""

from __future__ import annotations

import ast
import os
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

import book
from _solutions import assignments, hidden_lines, leaked_lines

ROOT = book.ROOT
NOTEBOOKS = book.notebooks()
IDS = [p.relative_to(ROOT / "chapters").as_posix() for p in NOTEBOOKS]
FAST = ["01-recurrent/01-recurrence.ipynb", "05-evaluation/01-metrics.ipynb"]  # a few seconds each
RUN = IDS if os.environ.get("RNNBOOK_ALL_ASSIGNMENTS") else [i for i in FAST if i in IDS]
SLUG = book.config()["repository"]["url"].rstrip("/").removeprefix("https://github.com/")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """The student notebooks, written by the command `make assignments` runs."""
    folder = tmp_path_factory.mktemp("assignments")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "assignments.py"), "--out", str(folder)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert f"{len(NOTEBOOKS)} student notebooks" in result.stdout, result.stdout
    return folder


def student(out, rel: str):
    return nbformat.read(out / rel, as_version=4)


EXERCISE_BLOCK = re.compile(r"^(:::+)\{exercise\}.*?^\1[ \t]*$", re.M | re.S)


# --------------------------------------------------------------------------- nothing leaks


def test_no_line_of_any_solution_appears_in_any_student_notebook(out):
    hidden = hidden_lines()
    for rel in IDS:
        leaked = leaked_lines(student(out, rel), hidden)
        assert not leaked, f"{rel}: {len(leaked)} solution lines leaked, e.g. {leaked[:5]}"


@pytest.mark.parametrize("rel", IDS)
def test_no_solution_directive_or_marker_is_left(out, rel):
    text = "\n".join(c.source for c in student(out, rel).cells)
    for word in ("solution-start", "solution-end", "{solution}", "BEGIN SOLUTION", "END SOLUTION"):
        assert word not in text, f"{rel}: {word!r} is still there"
    # Dropdowns that stay are the pages' own "Going deeper" admonitions, never a solution's.
    lines = text.splitlines()
    for k, line in enumerate(lines):
        if line.strip() == ":class: dropdown":
            directive = next((lines[j] for j in range(k - 1, -1, -1) if lines[j].lstrip().startswith((":::", "```"))), "")
            assert "{admonition}" in directive, f"{rel}: a dropdown that is not an admonition is left: {directive!r}"


# --------------------------------------------------------------------------- what must survive


@pytest.mark.parametrize("rel", IDS)
def test_every_exercise_survives_word_for_word(out, rel):
    original = "\n".join(c.source for c in book.read_notebook(ROOT / "chapters" / rel).cells if c.cell_type == "markdown")
    mine = "\n".join(c.source for c in student(out, rel).cells if c.cell_type == "markdown")
    expected = [m.group(0) for m in EXERCISE_BLOCK.finditer(original)]
    assert len(expected) >= 3
    assert [m.group(0) for m in EXERCISE_BLOCK.finditer(mine)] == expected


@pytest.mark.parametrize("rel", IDS)
def test_functions_keep_their_signature_over_an_nbgrader_stub(out, rel):
    original = book.read_notebook(ROOT / "chapters" / rel)
    calls = [m.groups() for c in original.cells if c.cell_type == "code" for m in assignments.CHECK_CALL.finditer(c.source)]
    assert calls, f"{rel}: no check call"

    def definition(nb, name):
        for cell in nb.cells:
            if cell.cell_type == "code":
                for node in assignments.parse_code(cell.source).body:
                    if isinstance(node, ast.FunctionDef) and node.name == name:
                        return cell, node
        raise AssertionError(f"{rel}: no def {name}")

    for _, name in calls:
        _, before = definition(original, name)
        cell, after = definition(student(out, rel), name)
        assert ast.dump(after.args) == ast.dump(before.args), f"{rel}: the signature of {name} changed"
        assert ast.get_docstring(after) == ast.get_docstring(before)
        body = after.body[1:] if ast.get_docstring(after) else after.body
        assert [ast.unparse(n) for n in body] == ["raise NotImplementedError()"], f"{rel}: {name} is not a stub"
        assert "# YOUR CODE HERE" in cell.source


@pytest.mark.parametrize("rel", IDS)
def test_check_calls_stay_tagged_and_other_code_solutions_become_placeholders(out, rel):
    original, mine = book.read_notebook(ROOT / "chapters" / rel), student(out, rel)
    calls = lambda nb: [c for c in nb.cells if c.cell_type == "code" and assignments.CHECK_CALL.search(c.source)]  # noqa: E731
    assert [c.source for c in calls(mine)] == [c.source for c in calls(original)]
    assert all("raises-exception" in c.metadata.get("tags", []) for c in calls(mine))
    solution_cells = sum("### BEGIN SOLUTION" in c.source for c in original.cells)
    work_cells = [c for c in mine.cells if c.cell_type == "code" and "# YOUR CODE HERE" in c.source]
    assert len(work_cells) == solution_cells, f"{rel}: one place to work per code solution"
    tagged = [c.source for c in mine.cells if "raises-exception" in c.metadata.get("tags", [])]
    assert tagged == [c.source for c in calls(mine)], f"{rel}: only the cells that use a student's function are tagged"


@pytest.mark.parametrize("rel", IDS)
def test_badge_opens_the_student_copy_and_the_install_cell_is_kept(out, rel):
    original, mine = book.read_notebook(ROOT / "chapters" / rel), student(out, rel)
    url = f"https://colab.research.google.com/github/{SLUG}/blob/assignments/{rel}"
    assert re.findall(r"\]\((https://colab\.research\.google\.com/github/[^)\s]+)\)", mine.cells[0].source) == [url]
    assert mine.cells[0].source.startswith(original.cells[0].source.split("\n", 1)[0])  # the title
    assert mine.cells[1] == original.cells[1]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in mine.cells if c.cell_type == "code")


def test_the_readme_explains_publishing_checking_and_grading(out):
    text = (out / "README.md").read_text(encoding="utf-8")
    for needed in ("git push --force", f"blob/assignments/", "pytest --nbval-lax", "--grade", "nbgrader autograde",
                   "raises-exception", "keep it private"):
        assert needed in text, f"README.md does not mention {needed!r}"
    assert re.search(rf"{len(NOTEBOOKS)} notebooks, \d+ exercises, \d+ of them with an automatic check", text)


# --------------------------------------------------------------------------- the student notebooks run


@pytest.mark.parametrize("rel", RUN)
def test_student_notebook_runs_to_its_first_placeholder_and_fails_there_only_as_not_implemented(out, rel, tmp_path):
    from nbclient import NotebookClient

    nb = student(out, rel)
    # raises-exception cells may fail, any other failing cell stops the run with CellExecutionError
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    tagged = [i for i, c in enumerate(nb.cells) if "raises-exception" in c.metadata.get("tags", [])]
    assert errors, f"{rel}: nothing failed, but no function has been written yet"
    assert {o.ename for _, o in errors} == {"NotImplementedError"}, [(i, o.ename, o.evalue) for i, o in errors]
    assert [i for i, _ in errors] == tagged, "every tagged cell, and only those, stops at a placeholder"
    first_stub = min(i for i, c in enumerate(nb.cells) if "raise NotImplementedError()" in c.source)
    assert errors[0][0] > first_stub, "the first failure comes after the first placeholder"


@pytest.mark.parametrize("rel", RUN[:1])
def test_student_notebook_validates_with_nbval_alone_in_an_empty_folder(out, rel, tmp_path):
    shutil.copy(out / rel, tmp_path / "student.ipynb")
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p",
                             "no:cacheprovider", "-q", "--rootdir", str(tmp_path), "student.ipynb"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]


# --------------------------------------------------------------------------- the script refuses what it cannot do safely


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    badge = "# T\n\n[![Open In Colab](x.svg)](https://colab.research.google.com/github/a/b/blob/main/chapters/x/y.ipynb)"
    nb.cells = [nbformat.v4.new_markdown_cell(badge), nbformat.v4.new_code_cell("import sys")]
    nb.cells += [nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("md:") else nbformat.v4.new_code_cell(c)
                 for c in cells]
    return nb


EXERCISE = "md::::{exercise}\n:label: ex-a\n\n**Implement.** Write f.\n:::"
START, END = "md::::{solution-start} ex-a\n:class: dropdown\n:::\n\nText of the solution.", "md::::{solution-end}\n:::"


REFUSED = [  # (cells after the title and install cells, what the message must say)
    ((EXERCISE, START, "def f(x):\n    return x", END), "cell 4: code inside a solution must be wrapped in ### BEGIN"),
    ((EXERCISE, START, "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "cell 3: the solution-start here has no solution-end"),
    ((EXERCISE, "md:Text.\n\n:::{solution-end}\n:::"), "cell 3: a solution-end with no solution-start before it"),
    ((EXERCISE, START.replace("ex-a", "ex-typo"), "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", END),
     "cell 3: the solution-start names 'ex-typo', but no exercise"),
    ((EXERCISE, START, "### BEGIN SOLUTION\nsecret = 42\n### END SOLUTION", END, "print(secret)"),
     "cell 6 (`print(secret)`): it uses secret, which only the solution in cell 4 defines"),
    ((EXERCISE, START, "### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION", END),
     "cell 4: a second ### BEGIN SOLUTION at line 2"),
    ((EXERCISE, START, "### BEGIN SOLUTION\nx = 1", END), "cell 4: the ### BEGIN SOLUTION at line 1 is never closed"),
    ((EXERCISE, START, "x = 1\n### END SOLUTION", END), "cell 4: ### END SOLUTION at line 2 has no ### BEGIN"),
    # markers that nbgrader would read differently from the script: its solution would reach the students
    ((EXERCISE, START, "## BEGIN SOLUTION\nx = 1\n## END SOLUTION", END), "cell 4, line 1: `## BEGIN SOLUTION` is not"),
    ((EXERCISE, START, "### Begin Solution\nx = 1\n### End Solution", END), "cell 4, line 1: `### Begin Solution` looks like"),
    ((EXERCISE, START, "### BEGIN SOLUTION\nx = 1  # END SOLUTION\n", END), "cell 4, line 2: `x = 1  # END SOLUTION`"),
    (("md::::{exercise}\n:label: ex-a\n\nWrite f.\n:::",), "cell 2: exercise ex-a must open with **Derive.**"),
]


@pytest.mark.parametrize("nbgrader_source", [False, True], ids=["student", "nbgrader"])
@pytest.mark.parametrize("cells, error", REFUSED)
def test_the_script_refuses_a_notebook_it_cannot_make_safe_and_names_the_cell(cells, error, nbgrader_source):
    with pytest.raises(assignments.AssignmentError, match=re.escape(f"chapters/x/y.ipynb, {error}")):
        assignments.make_student_notebook(notebook(*cells), pathlib.Path("chapters/x/y.ipynb"),
                                          nbgrader_source=nbgrader_source)


def test_nbgrader_source_refuses_a_check_of_a_function_defined_inside_the_markers():
    """nbgrader's release removes the whole region, def line included: the check would meet a NameError."""
    cells = (EXERCISE, START, "### BEGIN SOLUTION\ndef f(x):\n    return x\n### END SOLUTION", END,
             "from rnnbook.exercises import check\n\ncheck('rnn-step', f)")
    assignments.make_student_notebook(notebook(*cells), pathlib.Path("chapters/x/y.ipynb"))  # keeps `def f(x):`
    with pytest.raises(assignments.AssignmentError, match=re.escape(
            "chapters/x/y.ipynb, cell 6 (`from rnnbook.exercises import check`): it uses f, which only the solution "
            "in cell 4 defines")):
        assignments.make_student_notebook(notebook(*cells), pathlib.Path("chapters/x/y.ipynb"), nbgrader_source=True)


def test_the_command_stops_with_the_message_and_writes_nothing(tmp_path):
    chapter = tmp_path / "chapters" / "x"
    chapter.mkdir(parents=True)
    good, bad = chapter / "a.ipynb", chapter / "y.ipynb"
    nbformat.write(notebook(EXERCISE, START, "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", END), good)
    nbformat.write(notebook(EXERCISE, START, "## BEGIN SOLUTION\nx = 1\n## END SOLUTION", END), bad)
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "assignments.py"), "--nbgrader",
                             str(tmp_path / "course" / "source"), str(good), str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("error: chapters/x/y.ipynb, cell 4, line 1: `## BEGIN SOLUTION` is not a solution "
                                    "marker"), result.stderr
    assert not (tmp_path / "course").exists()  # not even the good notebook: nothing half-done


def test_nbgrader_source_is_not_overwritten_after_a_change_by_hand_unless_forced(tmp_path):
    source = tmp_path / "course" / "source"
    command = [sys.executable, str(ROOT / "scripts" / "assignments.py"), "--nbgrader", str(source),
               str(ROOT / "chapters" / IDS[0])]
    assert subprocess.run(command, capture_output=True).returncode == 0
    target = source / IDS[0]
    assert subprocess.run(command, capture_output=True).returncode == 0  # the same output: nothing to lose
    edited = target.read_text(encoding="utf-8").replace('"points": 3', '"points": 5')
    target.write_text(edited, encoding="utf-8")
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1 and "pass --force to replace them" in result.stderr
    assert target.read_text(encoding="utf-8") == edited
    assert subprocess.run(command + ["--force"], capture_output=True).returncode == 0
    assert '"points": 3' in target.read_text(encoding="utf-8")


def test_a_function_written_inside_the_markers_keeps_its_signature_and_a_written_answer_gets_a_cell():
    nb, report = assignments.make_student_notebook(notebook(
        EXERCISE, START, '### BEGIN SOLUTION\ndef f(x, y=2):\n    """Doc."""\n    return x + y\n### END SOLUTION',
        END, "from rnnbook.exercises import check\n\ncheck('rnn-step', f)",
        "md::::{exercise}\n:label: ex-b\n\n**Derive.** Show it.\n:::", "md:Before.\n\n:::{solution-start} ex-b\n"
        ":class: dropdown\n:::\n\nThe proof.\n\n:::{solution-end}\n:::\n\nText after the solution stays."),
        pathlib.Path("chapters/x/y.ipynb"))
    sources = [c.source for c in nb.cells]
    assert 'def f(x, y=2):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()' in sources
    assert sources[-3:] == ["Before.", "YOUR ANSWER HERE", "Text after the solution stays."]
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    assert report.stubs == ["f"] and "return x + y" in report.solution_lines and "The proof." in report.solution_lines
    assert "raises-exception" in nb.cells[-5].metadata["tags"]


def test_nbgrader_source_keeps_every_solution_and_marks_answers_and_tests(tmp_path):
    rel = "04-training/02-bce.ipynb"
    reports = assignments.build(tmp_path, notebooks=[ROOT / "chapters" / rel], nbgrader_source=True,
                                points={"derive": 4})
    nb = nbformat.read(tmp_path / rel, as_version=4)
    graded = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    assert {i: (c.cell_type, m["solution"], m["grade"], m["locked"], m.get("points"))
            for i, c in graded.items() for m in [c.metadata["nbgrader"]]} == {
        "ex-bce-base-rate-answer": ("markdown", True, True, False, 4),  # a written answer, graded by hand
        "ex-bce-base-rate-code": ("code", True, False, False, None),  # its code, part of that answer
        "ex-bce-stable-code": ("code", True, False, False, None),  # the function, scored by the check below
        "ex-bce-stable-check": ("code", False, True, True, 3),  # a locked autograder test
        "ex-bce-float32-training-answer": ("markdown", True, True, False, 2),
        "ex-bce-float32-training-code": ("code", True, False, False, None),
    }
    answer = graded["ex-bce-base-rate-answer"].source
    assert answer.startswith("1. With $\\hat{y}_i = c$") and "solution-" not in answer and ":class:" not in answer
    assert "### BEGIN SOLUTION" in graded["ex-bce-stable-code"].source
    assert 'check("bce-logits", stable_bce_with_logits)' in graded["ex-bce-stable-check"].source
    assert (reports[0].points_auto, reports[0].points_by_hand) == (3, 6)
    again = assignments.make_student_notebook(book.read_notebook(ROOT / "chapters" / rel), pathlib.Path("chapters", rel),
                                              nbgrader_source=True, points={"derive": 4})[0]
    assert nbformat.writes(again) == nbformat.writes(nb)  # grade ids and cell ids are the same from build to build
    assert not (tmp_path / "README.md").exists()


def test_grading_runs_every_check_again_from_the_library(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in (
        "import numpy as np",
        "def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\n    return np.tanh(h_prev @ W_hh.T + x_t @ W_xh.T + b_h)",
        "def lstm_step(x_t, h_prev, c_prev, W, b):\n    raise NotImplementedError()",
        "def clip_by_global_norm(grads, max_norm, eps=1e-6):\n    return grads, 0.0",
        "def check(*args):\n    print('Well done (a cheat)')",  # a student who redefines check is still graded by the library
        "check('rnn-step', rnn_step)\ncheck('lstm-step', lstm_step)\ncheck('clip-grad-norm', clip_by_global_norm)",
    )]
    path = tmp_path / "submission.ipynb"
    nbformat.write(nb, path)
    verdicts = {check_id: verdict for _, check_id, verdict, _ in assignments.grade([path])}
    assert verdicts == {"rnn-step": "passed", "lstm-step": "not attempted", "clip-grad-norm": "failed"}
