"""Write student notebooks, without solutions, for instructors to hand out.

    python scripts/assignments.py --out _build/assignments      # what `make assignments` runs

For every chapter notebook ``chapters/<chapter>/<notebook>.ipynb`` this writes
``<out>/<chapter>/<notebook>.ipynb`` in which

* every solution is gone: everything from ``:::{solution-start}`` to
  ``:::{solution-end}``, the markers included, in markdown and code alike;
* each code solution becomes a place to work, nbgrader style: a function keeps
  its ``def`` line and docstring, and its body becomes ``# YOUR CODE HERE`` and
  ``raise NotImplementedError()``; solution code outside a function (an
  experiment, a numerical check of a derivation) becomes ``# YOUR CODE HERE``;
  a derive- or experiment-exercise gets a ``YOUR ANSWER HERE`` markdown cell;
* the check cells (``check("rnn-step", rnn_step)``) stay, and every cell that
  uses a function the student still has to write is tagged ``raises-exception``,
  so the notebook runs top to bottom, and validates with ``pytest --nbval-lax``,
  before the student has written anything;
* the Colab badge points at the student copy on the branch ``assignments``
  (``…/blob/assignments/<chapter>/<notebook>.ipynb``); the install cell is kept
  as it is, since it installs the library (checks included) from the course's
  own branch.

It also writes ``<out>/README.md`` for instructors. Two more modes:

    python scripts/assignments.py --nbgrader course/source     # nbgrader source notebooks (private!)
    python scripts/assignments.py --grade submissions/*.ipynb  # run every check of submitted notebooks

An nbgrader source notebook keeps every solution and carries nbgrader's metadata: code solutions in answer
cells, the written solution of each derive- or experiment-exercise in one answer cell graded by hand, each
check cell a locked autograder test. ``nbgrader generate_assignment`` makes the student version from it;
appendix/instructors.md walks through the rest, and tests/test_nbgrader.py runs that walk-through.

The rules are checked, not assumed. A solution marker that nbgrader would read otherwise than this script,
a code cell inside a solution without ``### BEGIN SOLUTION`` markers, a solution that is never closed, or a
kept cell that needs a name only a removed solution defines: each stops the script with an error naming the
notebook and the cell, before anything is written. tests/test_assignments.py checks the output (no line of
any solution leaks, every exercise survives, the notebooks run and validate).
"""

from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import pathlib
import re
import sys
import textwrap

import nbformat
import yaml

from rnnbook._io import write_text_atomic

ROOT = pathlib.Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = "YOUR ANSWER HERE"  # nbgrader's stub for a written answer
SOLUTION_START = re.compile(r"^:::+\{solution-start\}[^\n]*\n", re.M)
SOLUTION_END = re.compile(r"^(:::+)\{solution-end\}[^\n]*\n\1[ \t]*$\n?", re.M)
EXERCISE = re.compile(r"^:::+\{exercise\}[^\n]*\n:label: (\S+)", re.M)
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([a-z0-9-]+)["']\s*,\s*([A-Za-z_]\w*)\s*\)""")
BRANCH = "assignments"
# nbgrader takes every line that *contains* these words for a marker, in any cell; a line that only looks like
# one (another case, no space) is no marker to nbgrader, and its solution would reach the students.
MARKER_WORDS = ("BEGIN SOLUTION", "END SOLUTION")
LOOKS_LIKE_MARKER = re.compile(r"#+\s*(begin|end)[\s_-]*solutions?\b", re.I)
KINDS = ("derive", "implement", "experiment")
# nbgrader points of an exercise, by kind: a check cell scores an implement-exercise automatically; the written
# answer of a derive- or experiment-exercise is graded by hand. `--points derive=2,implement=3,experiment=2`.
POINTS = {"derive": 2, "implement": 3, "experiment": 2}


class AssignmentError(ValueError):
    """A chapter notebook breaks a rule the student version relies on; the message names the cell."""


@dataclasses.dataclass
class Report:
    """What happened to one notebook."""

    path: str
    exercises: list[str] = dataclasses.field(default_factory=list)
    checks: list[str] = dataclasses.field(default_factory=list)  # check ids called in the notebook
    stubs: list[str] = dataclasses.field(default_factory=list)  # functions the student writes
    placeholders: int = 0  # code cells reduced to "# YOUR CODE HERE"
    removed_cells: int = 0
    tagged: list[int] = dataclasses.field(default_factory=list)  # student cells tagged raises-exception
    solution_lines: list[str] = dataclasses.field(default_factory=list)  # every removed solution line
    points_auto: float = 0  # nbgrader points scored by the checks
    points_by_hand: float = 0  # nbgrader points of the written answers, graded by hand


# --------------------------------------------------------------------------- configuration


def repository() -> tuple[str, str]:
    """``(url, branch)`` of the course repository, from _config.yml."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def student_colab_url(rel: pathlib.Path, branch: str = BRANCH) -> str:
    """Colab link of the student copy of ``chapters/<chapter>/<notebook>.ipynb`` on ``branch``."""
    url, _ = repository()
    slug = url.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/{student_path(rel).as_posix()}"


def student_path(rel: pathlib.Path) -> pathlib.Path:
    """``chapters/01-recurrent/01-recurrence.ipynb`` → ``01-recurrent/01-recurrence.ipynb``."""
    parts = rel.parts
    return pathlib.Path(*parts[1:]) if parts and parts[0] == "chapters" else rel


def chapter_notebooks() -> list[pathlib.Path]:
    return sorted(p for p in ROOT.glob("chapters/*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


# --------------------------------------------------------------------------- code solutions


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """``(stored, loaded)`` names of a piece of code (functions and imports count as stored)."""
    stored, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, (ast.Store, ast.Del)) else loaded).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stored.add(node.name)
        elif isinstance(node, ast.arg):  # a function's parameters are its own names
            stored.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            stored.update((a.asname or a.name).split(".")[0] for a in node.names)
    return stored, loaded


def parse_code(source: str) -> ast.Module:
    """Parse a code cell, IPython magics and shell escapes blanked out."""
    lines = [line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
             for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def _signature(block: str, indent: str) -> tuple[list[str], list[str], list[str]]:
    """The stub for one solution block: ``(lines, function names, solution lines kept in the stub)``.

    A block made only of function definitions is an implement-exercise: each
    function keeps its decorators, ``def`` line(s) and docstring, and its body
    becomes the nbgrader stub. Any other block (an experiment, which may define
    helpers of its own) becomes ``# YOUR CODE HERE``, with the ``raise`` only
    inside a function's body, where the student's function must not silently
    return None.
    """
    code = textwrap.dedent(block)
    lines = code.splitlines()
    tree = ast.parse(code)
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    out: list[str] = []
    kept: list[str] = []
    if len(functions) < len(tree.body) or not functions:
        return [indent + STUB[0]] + ([indent + STUB[1]] if indent else []), [], []
    for fn in functions:
        start = (fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno) - 1
        body = fn.body
        has_doc = ast.get_docstring(fn) is not None
        if body[0].lineno == fn.lineno:  # `def f(x): return x` on one line
            raise AssignmentError(f"write the solution function {fn.name} with its body on lines of its own")
        stop = body[0].end_lineno if has_doc else body[0].lineno - 1
        header = lines[start:stop]
        while header and not header[-1].strip():
            header.pop()
        body_indent = re.match(r"\s*", lines[body[0].lineno - 1]).group(0)
        if out:
            out.append("")
        out += [indent + line if line else line for line in header]
        out += [indent + body_indent + STUB[0], indent + body_indent + STUB[1]]
        kept += header
    return out, [fn.name for fn in functions], kept


def stub_code(source: str, where: str, *, keep_signatures: bool = True) -> tuple[str, list[str], list[str]]:
    """Replace every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` block of a code cell.

    With ``keep_signatures`` (the student notebooks of ``make assignments``), a block made only of functions
    keeps their ``def`` lines and docstrings. Without it, every block becomes nbgrader's stub, as
    ``nbgrader generate_assignment`` writes it: the names this removes are the names nbgrader removes.
    Returns ``(new source, functions the student now writes, removed solution lines)``.
    """
    out: list[str] = []
    removed: list[str] = []
    functions: list[str] = []
    block: list[str] | None = None
    indent = ""
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == BEGIN:
            if block is not None:
                raise AssignmentError(f"{where}: a second {BEGIN} at line {number}, before the {END} of the first "
                                      "(nested solutions)")
            block, indent, opened = [], line[: len(line) - len(line.lstrip())], number
        elif line.strip() == END:
            if block is None:
                raise AssignmentError(f"{where}: {END} at line {number} has no {BEGIN} before it")
            if keep_signatures:
                try:
                    stub, names, kept = _signature("\n".join(block), indent)
                except AssignmentError as exc:
                    raise AssignmentError(f"{where}: {exc}") from None
            else:
                stub, names, kept = [indent + part for part in STUB], [], []
            out += stub
            functions += names
            kept = {line.strip() for line in kept}
            removed += [line for line in block if line.strip() not in kept]
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise AssignmentError(f"{where}: the {BEGIN} at line {opened} is never closed by {END}")
    new = "\n".join(out)
    # Functions whose body now raises NotImplementedError: those written inside the markers, and
    # those whose def line stands outside them, the usual nbgrader layout.
    for node in ast.walk(parse_code(new)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in functions and any(
            isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(node)
        ):
            functions.append(node.name)
    return new, functions, removed


# --------------------------------------------------------------------------- one notebook

SOLUTION_DIRECTIVE = re.compile(r"^(:::+)\{solution-start\}[^\n]*\n(?:[ \t]*:[\w-]+:[^\n]*\n)*\1[ \t]*$\n?", re.M)


def check_markers(cells, rel: pathlib.Path) -> None:
    """Every solution marker stands alone on its line in a code cell, where nbgrader reads it as we do."""
    for k, cell in enumerate(cells):
        for number, line in enumerate(cell.source.splitlines(), start=1):
            text = line.strip()
            if cell.cell_type == "code" and text in (BEGIN, END):
                continue
            where = f"{rel.as_posix()}, cell {k}, line {number}: `{text}`"
            if any(word in line for word in MARKER_WORDS):
                raise AssignmentError(
                    f"{where} is not a solution marker, but nbgrader takes every line that contains "
                    f"'BEGIN SOLUTION' or 'END SOLUTION' for one. Write `{BEGIN}` and `{END}` alone on their lines, "
                    "in code cells only, and no other line with these words")
            if cell.cell_type == "code" and LOOKS_LIKE_MARKER.search(line):
                raise AssignmentError(
                    f"{where} looks like a solution marker, but nbgrader only knows `{BEGIN}` and `{END}`: "
                    "the code it encloses would reach the students")


def _solution_spans(cells, rel: pathlib.Path) -> list[tuple[int, int, int, int]]:
    """``(start cell, start offset, end cell, end offset)`` of every solution, markers included."""
    spans, opened = [], None
    for k, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        pos = 0
        while True:
            start = SOLUTION_START.search(cell.source, pos)
            if opened is None:
                stray = SOLUTION_END.search(cell.source, pos)
                if stray and (not start or stray.start() < start.start()):
                    raise AssignmentError(f"{rel.as_posix()}, cell {k}: a solution-end with no solution-start before it")
                if not start:
                    break
                opened, pos = (k, start.start()), start.end()
                continue
            end = SOLUTION_END.search(cell.source, pos)
            if start and (not end or start.start() < end.start()):
                raise AssignmentError(f"{rel.as_posix()}, cell {k}: a solution-start inside the solution opened in "
                                      f"cell {opened[0]} (is a solution-end missing?)")
            if not end:
                break
            spans.append((*opened, k, end.end()))
            opened, pos = None, end.end()
    if opened is not None:
        raise AssignmentError(f"{rel.as_posix()}, cell {opened[0]}: the solution-start here has no solution-end")
    return spans


def _markdown_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _prose(text: str) -> str:
    """A piece of a written solution without its solution-start and solution-end directives."""
    return SOLUTION_END.sub("", SOLUTION_DIRECTIVE.sub("", text)).strip()


def _nbgrader(grade_id: str, *, solution: bool = False, points: float | None = None) -> dict:
    """nbgrader's cell metadata (schema 3).

    * ``solution`` without points: an answer cell that the checks grade (code only);
    * ``solution`` with points: an answer graded by hand (a written answer, in markdown);
    * points without ``solution``: a locked autograder test, worth ``points`` when it runs without error.
    """
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": points is not None and not solution,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def make_student_notebook(nb, rel: pathlib.Path, branch: str = BRANCH, *, nbgrader_source: bool = False,
                          points: dict[str, float] | None = None):
    """The student version of the chapter notebook ``nb`` (at ``rel`` in the repository), and a :class:`Report`.

    With ``nbgrader_source=True``, an nbgrader *source* notebook instead, from which
    ``nbgrader generate_assignment`` makes the student version. It keeps every solution, and its cells
    carry nbgrader's metadata:

    * the code solutions stay between their markers, in answer cells (``<label>-code``);
    * the written solution of a derive- or experiment-exercise becomes one answer cell graded by hand
      (``<label>-answer``), worth ``points[kind]``;
    * each check cell becomes a locked autograder test (``<label>-check``), worth ``points["implement"]``.

    The grade ids come from the exercise labels, so they stay the same from one build to the next.
    The source notebook holds the solutions: never publish it.
    """
    points = {**POINTS, **(points or {})}
    nb = copy.deepcopy(nb)
    cells = nb.cells
    report = Report(path=rel.as_posix())
    check_markers(cells, rel)
    kinds = {}  # exercise label → "derive", "implement" or "experiment", from the bold word that opens it
    for k, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            for label in EXERCISE.findall(cell.source):
                found = re.search(rf":label: {re.escape(label)}\s*\*\*(\w+)", cell.source)
                kind = found.group(1).lower() if found else None
                if kind not in KINDS:
                    raise AssignmentError(f"{rel.as_posix()}, cell {k}: exercise {label} must open with "
                                          "**Derive.**, **Implement.** or **Experiment.**")
                kinds[label] = kind
                report.exercises.append(label)
        if cell.cell_type == "code":
            report.checks += [m.group(1) for m in CHECK_CALL.finditer(cell.source)]

    used_ids: dict[str, int] = {}

    def grade_id(base: str) -> str:
        used_ids[base] = used_ids.get(base, 0) + 1
        return base if used_ids[base] == 1 else f"{base}-{used_ids[base]}"

    cuts: dict[int, list[tuple[int, int, object]]] = {}  # markdown cell → ranges to cut, and the cell that replaces each
    in_solution: dict[int, str] = {}  # code cell inside a solution → its exercise
    for i, off_i, j, off_j in _solution_spans(cells, rel):
        label = re.match(r":::+\{solution-start\}[ \t]*(\S*)", cells[i].source[off_i:]).group(1)
        if label not in kinds:
            raise AssignmentError(f"{rel.as_posix()}, cell {i}: the solution-start names {label!r}, "
                                  "but no exercise of this notebook has that label")
        prose = []
        for k in range(i, j + 1):
            if cells[k].cell_type == "markdown":
                a = off_i if k == i else 0
                b = off_j if k == j else len(cells[k].source)
                report.solution_lines += _markdown_lines(cells[k].source[a:b])
                prose.append(_prose(cells[k].source[a:b]))
                cuts.setdefault(k, []).append((a, b, None))
            else:
                in_solution[k] = label
        if kinds[label] != "implement":  # a written answer is expected: a cell of its own, where the solution was
            text = "\n\n".join(part for part in prose if part) if nbgrader_source else ""
            answer = nbformat.v4.new_markdown_cell(text or TEXT_STUB)
            answer.id = f"{label}-answer"[-64:]
            report.points_by_hand += points[kinds[label]]
            if nbgrader_source:
                answer.metadata["nbgrader"] = _nbgrader(grade_id(f"{label}-answer"), solution=True,
                                                        points=points[kinds[label]])
            a, b, _ = cuts[i][-1]
            cuts[i][-1] = (a, b, answer)

    student_cells, origin, released = [], [], []  # the cells, their chapter cell, and their code as students get it
    removed_by: dict[str, int] = {}  # name that only a removed solution defined → the cell of that solution
    stubbed: set[str] = set()
    exercise = "top"
    for k, cell in enumerate(cells):
        cell = copy.deepcopy(cell)
        where = f"{rel.as_posix()}, cell {k}"
        source = cell.source
        if cell.cell_type == "markdown":
            exercise = (EXERCISE.findall(cell.source) or [exercise])[-1]
        if cell.cell_type == "markdown" and k in cuts:
            parts, text, last = [], [], 0
            for a, b, answer in sorted(cuts[k], key=lambda cut: cut[:2]):
                text.append(cell.source[last:a].strip("\n"))
                if answer is not None:
                    parts += ["\n\n".join(t for t in text if t.strip()), answer]
                    text = []
                last = b
            text.append(cell.source[last:].strip("\n"))
            parts.append("\n\n".join(t for t in text if t.strip()))
            parts = [part for part in parts if not isinstance(part, str) or part.strip()]
            if not parts:
                report.removed_cells += 1
            for n, part in enumerate(parts):
                if isinstance(part, str):
                    kept = copy.deepcopy(cell)
                    kept.source = part
                    if n and "id" in kept:
                        kept.id = f"{cell.id}-{n}"[-64:]
                    part = kept
                student_cells.append(part)
                origin.append(k)
                released.append(part.source)
            continue
        if cell.cell_type == "code" and (k in in_solution or BEGIN in cell.source or END in cell.source):
            if BEGIN not in cell.source and END not in cell.source:
                raise AssignmentError(f"{where}: code inside a solution must be wrapped in {BEGIN} / {END}")
            source, functions, removed = stub_code(cell.source, where, keep_signatures=not nbgrader_source)
            report.solution_lines += [line.strip() for line in removed if line.strip()]
            for name in _names(parse_code(cell.source))[0] - _names(parse_code(source))[0]:
                removed_by.setdefault(name, k)
            stubbed.update(functions)
            report.stubs += functions
            report.placeholders += not functions
            if nbgrader_source:
                cell.metadata["nbgrader"] = _nbgrader(grade_id(f"{in_solution.get(k, exercise)}-code"), solution=True)
            else:
                cell.source = source
        elif cell.cell_type == "code" and CHECK_CALL.search(cell.source):
            report.points_auto += points["implement"]
            if nbgrader_source:
                cell.metadata["nbgrader"] = _nbgrader(grade_id(f"{exercise}-check"), points=points["implement"])
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        student_cells.append(cell)
        origin.append(k)
        released.append(source)

    # Cells that use a function the student has not written yet raise NotImplementedError until they do.
    kept_stored: set[str] = set()
    for cell, code in zip(student_cells, released):
        if cell.cell_type == "code":
            kept_stored |= _names(parse_code(code))[0]
    removed_only = set(removed_by) - kept_stored - stubbed
    for index, (cell, code, k) in enumerate(zip(student_cells, released, origin)):
        if cell.cell_type != "code":
            continue
        tree = parse_code(code)
        loaded = _names(tree)[1]
        dangling = sorted(loaded & removed_only)
        if dangling:
            first = next((line for line in code.splitlines() if line.strip() and not line.startswith("#")), "")
            raise AssignmentError(
                f"{rel.as_posix()}, cell {k} (`{first.strip()}`): it uses {', '.join(dangling)}, which only the "
                f"solution in cell {removed_by[dangling[0]]} defines, and the students' notebook will not have it. "
                "Define it outside the solution's markers, or in the cell that uses it")
        uses = (loaded & stubbed) - {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if uses:  # calls it, or hands it to a check
            tags = cell.metadata.setdefault("tags", [])
            if "raises-exception" not in tags:
                tags.append("raises-exception")
            report.tagged.append(index)

    # The title cell: the badge opens the student copy; a line says what this version is.
    title = student_cells[0]
    links = re.findall(r"\]\((https://colab\.research\.google\.com/github/[^)\s]+)\)", title.source)
    if len(links) != 1:
        raise AssignmentError(f"{rel.as_posix()}, cell 0: expected one Colab badge link; found {links}")
    title.source = title.source.replace(links[0], student_colab_url(rel, branch)) + (
        "\n\n*Student version: the solutions are removed. Write your code where it says `# YOUR CODE HERE`; "
        "the cells that call `check(...)` test it and say in plain words what is still wrong.*")
    nb.cells = student_cells
    return nb, report


# --------------------------------------------------------------------------- grading with the checks

GRADER_CELL = """\
# Added by scripts/assignments.py --grade: run every check of this notebook again, from a fresh import.
import contextlib as _contextlib, io as _io, json as _json
import rnnbook.exercises as _exercises
_results = {{}}
for _id, _name in {calls!r}:
    _out = _io.StringIO()
    try:
        with _contextlib.redirect_stdout(_out):
            _exercises.check(_id, globals()[_name])
        _results[_id] = ["passed", _out.getvalue().strip()]
    except NotImplementedError:
        _results[_id] = ["not attempted", "NotImplementedError: the placeholder is still there"]
    except KeyError:
        _results[_id] = ["missing", f"no function named {{_name}} in the notebook"]
    except AssertionError as _exc:
        _results[_id] = ["failed", str(_exc)]
    except Exception as _exc:
        _results[_id] = ["error", f"{{type(_exc).__name__}}: {{_exc}}"]
print("RNNBOOK-GRADES " + _json.dumps(_results))
"""


def grade(paths: list[pathlib.Path], timeout: int = 600) -> list[tuple[str, str, str, str]]:
    """Run submitted notebooks and every check they call; ``(notebook, check id, verdict, message)`` rows.

    Each notebook runs in an empty temporary folder, errors allowed (a student's
    unfinished cell must not hide the others), then a last cell calls each check
    again from a fresh import of ``rnnbook.exercises``, so a notebook that
    redefines ``check`` is still graded by the library. This runs the students'
    code: do it in a sandbox (a container, a throwaway VM, nbgrader's own setup).
    """
    import tempfile

    from nbclient import NotebookClient

    rows = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        calls = sorted({(m.group(1), m.group(2)) for c in nb.cells if c.cell_type == "code"
                        for m in CHECK_CALL.finditer(c.source)})
        nb.cells.append(nbformat.v4.new_code_cell(GRADER_CELL.format(calls=calls)))
        with tempfile.TemporaryDirectory() as tmp:
            NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                           resources={"metadata": {"path": tmp}}).execute()
        text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("name") == "stdout")
        found = re.search(r"^RNNBOOK-GRADES (.*)$", text, re.M)
        results = __import__("json").loads(found.group(1)) if found else {
            i: ["error", "the notebook did not reach the grading cell"] for i, _ in calls}
        rows += [(str(path), check_id, verdict, message) for check_id, (verdict, message) in sorted(results.items())]
    return rows


# --------------------------------------------------------------------------- the whole book

README = """\
# Student notebooks of *RNN, LSTM and GRU: from equations to code*

Written by `make assignments` (`python scripts/assignments.py --out _build/assignments`) from the chapter
notebooks of {url} (branch `{lib_branch}`). Do not edit these files: change the chapters and run the command again.

{n_notebooks} notebooks, {n_exercises} exercises, {n_checks} of them with an automatic check:

| notebook | exercises | automatic checks |
| --- | --- | --- |
{rows}

## What changed from the chapter notebooks

* Every solution is removed, text and code (everything between `solution-start` and `solution-end`).
  A derive- or experiment-exercise gets a markdown cell `YOUR ANSWER HERE` for the written answer.
* A function the student must write keeps its `def` line and docstring; its body is
  `# YOUR CODE HERE` / `raise NotImplementedError()`, as nbgrader writes it. Other solution code
  (experiments, numerical checks of a derivation) becomes an empty cell with `# YOUR CODE HERE`.
* The check cells stay: `check("rnn-step", rnn_step)` runs the student's function on random inputs, edge
  shapes included, against the course library, and says in plain words what is wrong (a shape, a missing
  transpose, mixed-up gates, which gradient is off). It never shows the library's answer.
* Cells that use a function the student has not written yet are tagged `raises-exception`: the
  notebook runs top to bottom from the start, stopping with `NotImplementedError` only in those cells, and
  validates with `pytest --nbval-lax`.
* The Colab badge opens the student copy: `https://colab.research.google.com/github/{slug}/blob/{branch}/<chapter>/<notebook>.ipynb`.
  The install cell is unchanged: in Colab it installs the library, checks included, from `{url}@{lib_branch}`.

## Publishing them (the `{branch}` branch)

The badges expect this folder to be the root of a branch `{branch}` of the repository the book points at
(`repository.url` in `_config.yml`; in your fork, set it to your fork and run `python scripts/notebooks.py sync`
first). From the repository root:

```bash
make assignments
cd _build/assignments
git init -q -b {branch} && git add -A && git commit -q -m "Student notebooks"
git push --force {url}.git {branch}
```

The branch holds only the student notebooks and this README: it shares no history with `{lib_branch}`, and
`--force` replaces it wholesale each term. Students open a notebook from its badge (or from
`{url}/tree/{branch}`), save a copy to their Drive, and work there.

## How students run the checks

Run the notebook from the top (Colab: *Runtime → Run all*). Each check cell prints one line:

* `NotImplementedError`: the function is not written yet;
* `CheckFailed: Not yet: …`: what is wrong, in plain words, with the sizes on which it went wrong;
* `Well done: …`: the function agrees with the library on every case tried.

Outside Colab: `pip install "rnnbook @ git+{url}@{lib_branch}"`, then run the notebook in Jupyter, or check it
whole with `pytest --nbval-lax <notebook>.ipynb` (the tagged cells may fail; every other cell must run).
`python -c "from rnnbook.exercises import available; print(list(available()))"` lists the checks.

## Grading

**With the checks.** Collect the submitted notebooks and, from a checkout of the course repository, run

```bash
python scripts/assignments.py --grade submissions/*/*.ipynb
```

It runs each notebook in an empty folder (errors allowed), then calls every check of the notebook again from
a fresh import of the library, and prints one line per notebook and check: `passed`, `failed` (with the
check's message), `not attempted` or `missing`. This executes the students' code: do it in a sandbox. The
derive- and experiment-exercises have no automatic check; grade them by reading, against the solutions in the
chapter notebooks (on the website they are the closed *Solution* dropdowns).

**With nbgrader.** `python scripts/assignments.py --nbgrader <course>/source` writes nbgrader *source*
notebooks, one assignment per chapter (`source/<chapter>/<notebook>.ipynb`), with every solution inside:
the code solutions between their markers in answer cells, the written solution of each derive- and
experiment-exercise in one answer cell graded by hand, and each check cell as a locked autograder test. It
prints the points of each chapter. Then, in the course folder: `nbgrader generate_assignment <chapter>`
(the release), `nbgrader autograde <chapter>` (a check that passes scores its points), the written answers in
the formgrader, and `nbgrader generate_feedback <chapter>`. The book's page *For instructors* has the whole
walk-through, as commands that the course's tests run.
The `source/` folder contains the code solutions: keep it private, and never put it on the `{branch}` branch.
"""


def readme(reports: list[Report], branch: str) -> str:
    url, lib_branch = repository()
    rows = "\n".join(
        f"| `{student_path(pathlib.Path(r.path)).as_posix()}` | {len(r.exercises)} | "
        f"{', '.join(f'`{c}`' for c in r.checks) or '(none)'} |" for r in reports)
    return README.format(url=url, slug=url.removeprefix("https://github.com/"), lib_branch=lib_branch,
                         branch=branch, rows=rows, n_notebooks=len(reports),
                         n_exercises=sum(len(r.exercises) for r in reports),
                         n_checks=sum(len(r.checks) for r in reports))


NBGRADER_CONFIG = """\
# nbgrader's settings for the course "RNN, LSTM and GRU: from equations to code".
# Written once by `python scripts/assignments.py --nbgrader {source}`; yours to change.
c = get_config()  # noqa: F821 (nbgrader defines get_config)
c.CourseDirectory.course_id = "rnnbook"
c.CourseDirectory.source_directory = "{source}"
# Some cells train a small network; nbgrader's 30 s per cell is too short on a slow or busy machine.
c.Execute.timeout = 600
"""


def _rel(path: pathlib.Path) -> pathlib.Path:
    """Where a notebook stands in the repository: ``chapters/<chapter>/<notebook>.ipynb``."""
    path = path.resolve()
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else pathlib.Path("chapters", path.parent.name, path.name)


def build(out: pathlib.Path, branch: str = BRANCH, notebooks: list[pathlib.Path] | None = None,
          *, nbgrader_source: bool = False, points: dict[str, float] | None = None,
          force: bool = False) -> list[Report]:
    """Write the student notebooks (or nbgrader source notebooks) and the README into ``out``.

    Every notebook is made before any is written, so a notebook the script refuses leaves ``out`` as it was.
    An nbgrader source notebook that exists and differs (an instructor may have edited its points) is only
    replaced with ``force``. Each file is written to a temporary name and then renamed.
    """
    made = []
    for path in notebooks or chapter_notebooks():
        rel = _rel(path)
        student, report = make_student_notebook(nbformat.read(path, as_version=4), rel, branch,
                                                nbgrader_source=nbgrader_source, points=points)
        made.append((out / student_path(rel), nbformat.writes(student), report))
    if nbgrader_source and not force:
        edited = [str(target) for target, text, _ in made
                  if target.is_file() and target.read_text(encoding="utf-8").rstrip("\n") != text.rstrip("\n")]
        if edited:
            raise AssignmentError(f"{edited[0]} (and {len(edited) - 1} more) exist and differ from what the chapters "
                                  "give now; pass --force to replace them (changes made to them by hand are lost)")
    readme_path = out / "README.md"
    if readme_path.is_file() and readme_path.read_text(encoding="utf-8").startswith(README.split("\n", 1)[0]):
        for stale in out.glob("*/*.ipynb"):  # our own earlier output: a renamed chapter must not linger
            stale.unlink()
        for folder in out.iterdir():
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    written = [(target, text) for target, text, _ in made]
    if not nbgrader_source:
        written.append((readme_path, readme([report for *_, report in made], branch)))
    for target, text in written:
        write_text_atomic(target, text.rstrip("\n") + "\n")
    return [report for *_, report in made]


def points_table(reports: list[Report]) -> list[tuple[str, int, float, float]]:
    """``(chapter, notebooks, points scored by the checks, points graded by hand)``, one row per chapter."""
    rows: dict[str, list] = {}
    for r in reports:
        row = rows.setdefault(student_path(pathlib.Path(r.path)).parts[0], [0, 0.0, 0.0])
        row[0] += 1
        row[1] += r.points_auto
        row[2] += r.points_by_hand
    return [(chapter, *row) for chapter, row in rows.items()]


def _points(text: str) -> dict[str, float]:
    """``derive=2,implement=3`` → ``{"derive": 2.0, "implement": 3.0}``, for ``--points``."""
    points = {}
    for item in filter(None, text.split(",")):
        kind, _, value = item.partition("=")
        if kind.strip() not in KINDS:
            raise argparse.ArgumentTypeError(f"--points: expected kinds {', '.join(KINDS)}; got {kind.strip()!r}")
        try:
            points[kind.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--points: expected a number of points for {kind.strip()}; "
                                             f"got {value!r}") from None
        if not points[kind.strip()] > 0:
            raise argparse.ArgumentTypeError(f"--points: expected positive points for {kind.strip()}; got {value}")
    return points


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", type=pathlib.Path, nargs="*", metavar="CHAPTER_NOTEBOOK",
                        help="chapter notebooks to convert (default: every notebook under chapters/)")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "_build" / "assignments",
                        help="output folder of the student notebooks (default: _build/assignments)")
    parser.add_argument("--branch", default=BRANCH,
                        help=f"branch the student notebooks are published on, for the badges (default: {BRANCH})")
    parser.add_argument("--nbgrader", type=pathlib.Path, metavar="SOURCE",
                        help="instead, write nbgrader source notebooks (with the solutions) into SOURCE, and an "
                             "nbgrader_config.py beside SOURCE if there is none")
    parser.add_argument("--points", type=_points, default={}, metavar="KIND=P,...",
                        help="nbgrader points of an exercise, by kind (default: "
                             + ",".join(f"{k}={v}" for k, v in POINTS.items()) + ")")
    parser.add_argument("--force", action="store_true",
                        help="with --nbgrader, replace source notebooks that were changed by hand")
    parser.add_argument("--grade", type=pathlib.Path, nargs="+", metavar="NOTEBOOK",
                        help="instead, run submitted notebooks and report every check")
    args = parser.parse_args(argv)
    if args.grade:
        missing = [p for p in args.grade if not p.is_file()]
        if missing:
            parser.error(f"--grade: no such notebook: {', '.join(map(str, missing))}")
        for notebook, check_id, verdict, message in grade(args.grade):
            print(f"{notebook}  {check_id:20} {verdict:14} {message}")
        return 0
    missing = [p for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(map(str, missing))}")
    out = args.nbgrader or args.out
    try:
        reports = build(out, args.branch, args.notebooks or None, nbgrader_source=args.nbgrader is not None,
                        points=args.points, force=args.force)
    except AssignmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = out.resolve()
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    if args.nbgrader:
        config = out.parent / "nbgrader_config.py"
        if not config.exists():
            config.write_text(NBGRADER_CONFIG.format(source=out.name), encoding="utf-8")
        print(f"{'chapter':16} notebooks  points scored by the checks  points graded by hand  total")
        for chapter, n, auto, by_hand in points_table(reports):
            print(f"{chapter:16} {n:9d}  {auto:27g}  {by_hand:21g}  {auto + by_hand:5g}")
        print(f"{len(reports)} nbgrader source notebooks (solutions inside: keep them private) → {shown}/; "
              f"nbgrader settings: {config.name} beside it")
        return 0
    print(f"{'notebook':36} exercises  checks  functions to write  other placeholders  cells tagged raises-exception")
    for r in reports:
        print(f"{student_path(pathlib.Path(r.path)).as_posix():36} {len(r.exercises):9d}  {len(r.checks):6d}  "
              f"{len(r.stubs):18d}  {r.placeholders:18d}  {len(r.tagged):29d}")
    print(f"{len(reports)} student notebooks, {sum(len(r.exercises) for r in reports)} exercises, "
          f"{sum(len(r.checks) for r in reports)} with automatic checks, "
          f"{sum(len(r.solution_lines) for r in reports)} solution lines removed → {shown}/ (and README.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
