"""What the tests of the student notebooks share: the script that makes them, and where the solutions are.

The solution lines are found here, independently of scripts/assignments.py: the text between solution-start
and solution-end, and the code between nbgrader's markers.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys

import book

SPEC = importlib.util.spec_from_file_location("assignments", book.ROOT / "scripts" / "assignments.py")
assignments = importlib.util.module_from_spec(SPEC)
sys.modules["assignments"] = assignments  # dataclasses look their module up there
SPEC.loader.exec_module(assignments)


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


def hidden_lines() -> set[str]:
    """Every line that stands only inside a solution of some chapter notebook.

    A line such as `plt.show()` that the chapters also show outside solutions is no secret.
    """
    secret, public = set(), set()
    for path in book.notebooks():
        s, p = secret_and_public_lines(book.read_notebook(path))
        secret |= s
        public |= p
    hidden = secret - public
    assert len(hidden) > 500, f"only {len(hidden)} solution lines found: is the parser of this test broken?"
    return hidden


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


def leaked_lines(nb, hidden: set[str]) -> list[str]:
    """The solution lines that a student's notebook shows."""
    return sorted(lines_of(nb) & hidden - signatures_of_stubs(nb))
