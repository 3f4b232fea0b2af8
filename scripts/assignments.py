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

    python scripts/assignments.py --nbgrader <course>/source   # nbgrader source notebooks (private!)
    python scripts/assignments.py --grade submissions/*.ipynb  # run every check of submitted notebooks

The rules are checked, not
assumed: a code cell inside a solution without ``### BEGIN SOLUTION`` markers, a
solution that is never closed, or a kept cell that needs a variable only a
removed solution defined, stops the script with an error naming the cell.
tests/test_assignments.py checks the output (no line of any solution leaks,
every exercise survives, the notebooks run and validate).
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

ROOT = pathlib.Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = "YOUR ANSWER HERE"  # nbgrader's stub for a written answer
SOLUTION_START = re.compile(r"^:::+\{solution-start\}[^\n]*\n", re.M)
SOLUTION_END = re.compile(r"^(:::+)\{solution-end\}[^\n]*\n\1[ \t]*$\n?", re.M)
EXERCISE = re.compile(r"^:::+\{exercise\}[^\n]*\n:label: (\S+)", re.M)
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([a-z0-9-]+)["']\s*,\s*([A-Za-z_]\w*)\s*\)""")
BRANCH = "assignments"


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


def stub_code(source: str, where: str) -> tuple[str, list[str], list[str]]:
    """Replace every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` block of a code cell.

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
                raise AssignmentError(f"{where}: nested {BEGIN} at line {number}")
            block, indent = [], line[: len(line) - len(line.lstrip())]
        elif line.strip() == END:
            if block is None:
                raise AssignmentError(f"{where}: {END} without {BEGIN} at line {number}")
            stub, names, kept = _signature("\n".join(block), indent)
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
        raise AssignmentError(f"{where}: {BEGIN} is never closed by {END}")
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


def _solution_spans(cells) -> list[tuple[int, int, int, int]]:
    """``(start cell, start offset, end cell, end offset)`` of every solution, markers included."""
    spans, opened = [], None
    for k, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        pos = 0
        while True:
            start = SOLUTION_START.search(cell.source, pos)
            if opened is None:
                if not start:
                    break
                opened, pos = (k, start.start()), start.end()
                continue
            end = SOLUTION_END.search(cell.source, pos)
            if start and (not end or start.start() < end.start()):
                raise AssignmentError(f"cell {k}: a solution starts inside the solution opened in cell {opened[0]}")
            if not end:
                break
            spans.append((*opened, k, end.end()))
            opened, pos = None, end.end()
    if opened is not None:
        raise AssignmentError(f"cell {opened[0]}: a solution-start opened here has no solution-end")
    return spans


def _markdown_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _nbgrader(grade_id: str, *, solution: bool = False, points: int | None = None) -> dict:
    """nbgrader's cell metadata (schema 3): an answer cell, or a locked autograder-test cell worth ``points``."""
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": points is not None,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def make_student_notebook(nb, rel: pathlib.Path, branch: str = BRANCH, *, nbgrader_source: bool = False):
    """The student version of the chapter notebook ``nb`` (at ``rel`` in the repository), and a :class:`Report`.

    With ``nbgrader_source=True`` the code solutions stay, between their markers,
    and the cells carry nbgrader's metadata (answer cells, and each check cell an
    autograder test worth one point): a *source* notebook for nbgrader, whose
    ``generate_assignment`` turns it into the student version. It holds the code
    solutions: never publish it.
    """
    nb = copy.deepcopy(nb)
    cells = nb.cells
    report = Report(path=rel.as_posix())
    for cell in cells:
        if cell.cell_type == "markdown":
            report.exercises += EXERCISE.findall(cell.source)
        if cell.cell_type == "code":
            report.checks += [m.group(1) for m in CHECK_CALL.finditer(cell.source)]

    kinds = {}  # exercise label → "derive", "implement" or "experiment", from the bold word that opens it
    for cell in cells:
        for m in re.finditer(EXERCISE.pattern + r"\s*\*\*(\w+)", cell.source, re.M):
            kinds[m.group(1)] = m.group(2).lower()
    spans = _solution_spans(cells)
    inside: dict[int, list[tuple[int, int, str]]] = {}  # markdown cell → character ranges to cut, and what replaces them
    in_solution: set[int] = set()
    for i, off_i, j, off_j in spans:
        label = re.match(r":::+\{solution-start\}[ \t]*(\S*)", cells[i].source[off_i:]).group(1)
        # A written answer is expected unless the exercise is to implement a function.
        answer = "" if kinds.get(label) == "implement" else TEXT_STUB
        for k in range(i, j + 1):
            if cells[k].cell_type == "markdown":
                a = off_i if k == i else 0
                b = off_j if k == j else len(cells[k].source)
                inside.setdefault(k, []).append((a, b, answer if k == i else ""))
            else:
                in_solution.add(k)

    student_cells = []
    removed_names: set[str] = set()  # names that only the removed solution code defined
    stubbed: set[str] = set()
    exercise = "top"
    for k, cell in enumerate(cells):
        cell = copy.deepcopy(cell)
        where = f"{rel.as_posix()}, cell {k}"
        if cell.cell_type == "markdown":
            exercise = (EXERCISE.findall(cell.source) or [exercise])[-1]
        if cell.cell_type == "markdown" and k in inside:
            kept, last = [], 0
            for a, b, replacement in sorted(inside[k]):
                kept.append(cell.source[last:a].rstrip("\n"))
                kept.append(replacement)
                report.solution_lines += _markdown_lines(cell.source[a:b])
                last = b
            kept.append(cell.source[last:].lstrip("\n"))
            text = "\n\n".join(part for part in kept if part.strip())
            if not text.strip():
                report.removed_cells += 1
                continue
            cell.source = text
            if nbgrader_source and TEXT_STUB in text:
                cell.metadata["nbgrader"] = _nbgrader(f"{exercise}-written-{k}", solution=True)
        elif cell.cell_type == "code" and (k in in_solution or BEGIN in cell.source):
            if BEGIN not in cell.source:
                raise AssignmentError(f"{where}: code inside a solution must be wrapped in {BEGIN} / {END}")
            new, functions, removed = stub_code(cell.source, where)
            report.solution_lines += [line.strip() for line in removed if line.strip()]
            removed_names |= _names(parse_code(cell.source))[0] - _names(parse_code(new))[0]
            stubbed.update(functions)
            report.stubs += functions
            report.placeholders += not functions
            if nbgrader_source:
                cell.metadata["nbgrader"] = _nbgrader(f"{exercise}-answer-{k}", solution=True)
            else:
                cell.source = new
        elif cell.cell_type == "code" and nbgrader_source and CHECK_CALL.search(cell.source):
            cell.metadata["nbgrader"] = _nbgrader(f"{exercise}-check", points=1)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        student_cells.append(cell)

    # Cells that use a function the student has not written yet raise NotImplementedError until they do.
    kept_stored: set[str] = set()
    for cell in student_cells:
        if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
            kept_stored |= _names(parse_code(cell.source))[0]
    removed_only = removed_names - kept_stored - stubbed
    for index, cell in enumerate(student_cells):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        tree = parse_code(cell.source)
        loaded = _names(tree)[1]
        dangling = sorted(loaded & removed_only)
        if dangling:
            raise AssignmentError(
                f"{rel.as_posix()}: student cell {index} uses {dangling}, which only a removed solution defines; "
                "define them outside the solution, or inside the cell that uses them")
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

**With nbgrader.** The chapter notebooks mark every code solution with nbgrader's own
`### BEGIN SOLUTION` / `### END SOLUTION`. `python scripts/assignments.py --nbgrader <course>/source` writes
one nbgrader assignment per chapter (`source/<chapter>/<notebook>.ipynb`): the chapter notebooks with the
written solutions removed, the code solutions kept between their markers in cells marked as answer cells,
and each check cell marked as an autograder test worth one point. Then, in the nbgrader course folder:
`nbgrader generate_assignment <chapter>` (its release is these student notebooks), `nbgrader collect` /
`nbgrader autograde <chapter>` (a check that passes scores its point), `nbgrader generate_feedback`.
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


def build(out: pathlib.Path, branch: str = BRANCH, notebooks: list[pathlib.Path] | None = None,
          *, nbgrader_source: bool = False) -> list[Report]:
    """Write the student notebooks (or nbgrader source notebooks) and the README into ``out``."""
    readme_path = out / "README.md"
    if readme_path.is_file() and readme_path.read_text(encoding="utf-8").startswith(README.split("\n", 1)[0]):
        for stale in out.glob("*/*.ipynb"):  # our own earlier output: a renamed chapter must not linger
            stale.unlink()
        for folder in out.iterdir():
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    reports = []
    for path in notebooks or chapter_notebooks():
        rel = path.resolve().relative_to(ROOT)
        student, report = make_student_notebook(nbformat.read(path, as_version=4), rel, branch,
                                                nbgrader_source=nbgrader_source)
        target = out / student_path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, target)
        reports.append(report)
    if not nbgrader_source:
        (out / "README.md").write_text(readme(reports, branch), encoding="utf-8")
    return reports


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "_build" / "assignments",
                        help="output folder of the student notebooks (default: _build/assignments)")
    parser.add_argument("--branch", default=BRANCH,
                        help=f"branch the student notebooks are published on, for the badges (default: {BRANCH})")
    parser.add_argument("--nbgrader", type=pathlib.Path, metavar="SOURCE",
                        help="instead, write nbgrader source notebooks (with the code solutions) into SOURCE")
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
    out = args.nbgrader or args.out
    try:
        reports = build(out, args.branch, nbgrader_source=args.nbgrader is not None)
    except AssignmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = out.resolve()
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    if args.nbgrader:
        print(f"{len(reports)} nbgrader source notebooks (code solutions inside: keep them private) → {shown}/")
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
