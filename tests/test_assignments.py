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
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

import book

ROOT = book.ROOT
SPEC = importlib.util.spec_from_file_location("assignments", ROOT / "scripts" / "assignments.py")
assignments = importlib.util.module_from_spec(SPEC)
sys.modules["assignments"] = assignments  # dataclasses look their module up there
SPEC.loader.exec_module(assignments)

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


def lines_of(nb) -> set[str]:
    return {line.strip() for cell in nb.cells for line in cell.source.splitlines() if line.strip()}


def secret_and_public_lines(nb) -> tuple[set[str], set[str]]:
    """The lines of the solutions, and every other line of the chapter notebook."""
    secret, public = set(), set()
    inside = False
    for cell in nb.cells:
        in_markers = False
        for line in cell.source.splitlines():
            text = line.strip()
            if cell.cell_type == "markdown" and re.match(r":::+\{solution-start\}", text):
                inside = True
            if cell.cell_type == "code" and text == "### BEGIN SOLUTION":
                in_markers = True
            if text:
                is_secret = (inside and cell.cell_type == "markdown") or in_markers or text.endswith("SOLUTION")
                (secret if is_secret else public).add(text)
            if cell.cell_type == "markdown" and re.match(r":::+\{solution-end\}", text):
                inside = False
            if cell.cell_type == "code" and text == "### END SOLUTION":
                in_markers = False
    return secret, public


def signatures_of_stubs(nb) -> set[str]:
    """The ``def`` lines and docstrings of the functions the student writes: kept on purpose, even when the
    solution wrote them inside the markers."""
    kept = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        for node in ast.walk(assignments.parse_code(cell.source)):
            if isinstance(node, ast.FunctionDef) and ast.unparse(node.body[-1]) == "raise NotImplementedError()":
                stop = node.body[0].end_lineno if ast.get_docstring(node) else node.body[0].lineno - 1
                kept |= {line.strip() for line in lines[node.lineno - 1 : stop]}
    return kept


EXERCISE_BLOCK = re.compile(r"^(:::+)\{exercise\}.*?^\1[ \t]*$", re.M | re.S)


# --------------------------------------------------------------------------- nothing leaks


def test_no_line_of_any_solution_appears_in_any_student_notebook(out):
    secret, public = set(), set()
    for path in NOTEBOOKS:
        s, p = secret_and_public_lines(book.read_notebook(path))
        secret |= s
        public |= p
    hidden = secret - public  # a line such as `plt.show()` that the chapters also show outside solutions is no secret
    assert len(hidden) > 500, f"only {len(hidden)} solution lines found: is the parser of this test broken?"
    for rel in IDS:
        nb = student(out, rel)
        leaked = sorted(lines_of(nb) & hidden - signatures_of_stubs(nb))
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


@pytest.mark.parametrize("cells, error", [
    ((EXERCISE, START, "def f(x):\n    return x", END), "must be wrapped in ### BEGIN SOLUTION"),
    ((EXERCISE, START, "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "has no solution-end"),
    ((EXERCISE, START, "### BEGIN SOLUTION\nsecret = 42\n### END SOLUTION", END, "print(secret)"), "['secret']"),
    ((EXERCISE, START, "### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION", END), "nested"),
])
def test_the_script_refuses_a_notebook_it_cannot_make_safe(cells, error):
    with pytest.raises(assignments.AssignmentError, match=re.escape(error)):
        assignments.make_student_notebook(notebook(*cells), pathlib.Path("chapters/x/y.ipynb"))


def test_a_function_written_inside_the_markers_keeps_its_signature_and_a_written_answer_gets_a_stub():
    nb, report = assignments.make_student_notebook(notebook(
        EXERCISE, START, '### BEGIN SOLUTION\ndef f(x, y=2):\n    """Doc."""\n    return x + y\n### END SOLUTION',
        END, "from rnnbook.exercises import check\n\ncheck('rnn-step', f)",
        "md::::{exercise}\n:label: ex-b\n\n**Derive.** Show it.\n:::", "md::::{solution-start} ex-b\n:class: dropdown\n"
        ":::\n\nThe proof.\n\n:::{solution-end}\n:::\n\nText after the solution stays."), pathlib.Path("chapters/x/y.ipynb"))
    sources = [c.source for c in nb.cells]
    assert 'def f(x, y=2):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()' in sources
    assert "YOUR ANSWER HERE\n\nText after the solution stays." in sources
    assert report.stubs == ["f"] and "return x + y" in report.solution_lines and "The proof." in report.solution_lines
    assert "raises-exception" in nb.cells[-3].metadata["tags"]


def test_nbgrader_source_keeps_the_code_solutions_and_marks_answers_and_tests(tmp_path):
    rel = IDS[0]
    assignments.build(tmp_path, notebooks=[ROOT / "chapters" / rel], nbgrader_source=True)
    nb = nbformat.read(tmp_path / rel, as_version=4)
    meta = [c.metadata.get("nbgrader") for c in nb.cells]
    answers = [c for c, m in zip(nb.cells, meta) if m and m["solution"]]
    tests = [c for c, m in zip(nb.cells, meta) if m and m["grade"]]
    assert all("### BEGIN SOLUTION" in c.source or c.source == "YOUR ANSWER HERE" for c in answers)
    assert [bool(assignments.CHECK_CALL.search(c.source)) for c in tests] == [True] * len(tests) and tests
    ids = [m["grade_id"] for m in meta if m]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[\w-]+", i) for i in ids)
    assert "solution-start" not in "\n".join(c.source for c in nb.cells)
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
