"""What the book's tests read from the repository: notebooks, config, labels.

Plain functions, no pytest, so that a future build step (the equation index
of the appendix) can use the same readers.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import pkgutil
import re
from functools import lru_cache

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: Equation families of DESIGN.md §3.
FAMILIES = ("rnn", "bptt", "lstm", "gru", "dropout", "bce", "metric", "lm", "scan", "mingru", "minlstm")
LABEL = r"eq-[a-z0-9]+(?:-[a-z0-9]+)*"
# `$$ ... $$ (eq-x)`: the MyST dollarmath label that follows a display equation.
DEFINED = re.compile(r"\$\$[ \t]*\((" + LABEL + r")\)")
REFERENCED = re.compile(r"\{eq\}`(" + LABEL + r")`")
# Labels named in a docstring: anywhere in the text, e.g. "eq-rnn-hidden.".
NAMED = re.compile(r"(?<![\w-])(" + LABEL + r")(?![\w-])")
MARKED = re.compile(r"mark\.equation\(\s*[\"'](" + LABEL + r")[\"']")


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def toc_files() -> list[str]:
    """Every ``file:`` of ``_toc.yml``, without extension, relative to the root."""
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files, stack = [], [yaml.safe_load(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            if "root" in node:
                files.append(node["root"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(files)


def notebooks() -> list[pathlib.Path]:
    return sorted(p for p in ROOT.glob("chapters/**/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def chapter_pages() -> list[pathlib.Path]:
    """All pages of the chapters: notebooks and MyST markdown files."""
    md = [p for p in ROOT.glob("chapters/**/*.md") if ".ipynb_checkpoints" not in p.parts]
    return sorted(notebooks() + md)


def read_notebook(path: pathlib.Path):
    return nbformat.read(path, as_version=4)


def markdown_text(path: pathlib.Path) -> str:
    """The MyST text of a page: markdown cells of a notebook, or the whole .md file."""
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    return "\n\n".join(c.source for c in read_notebook(path).cells if c.cell_type == "markdown")


def defined_labels() -> dict[str, list[str]]:
    """label → pages (relative paths) that define it with ``$$ … $$ (label)``."""
    out: dict[str, list[str]] = {}
    for page in chapter_pages():
        for label in DEFINED.findall(markdown_text(page)):
            out.setdefault(label, []).append(page.relative_to(ROOT).as_posix())
    return out


def referenced_labels() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for page in chapter_pages():
        for label in REFERENCED.findall(markdown_text(page)):
            out.setdefault(label, []).append(page.relative_to(ROOT).as_posix())
    return out


@lru_cache(maxsize=1)
def docstring_labels() -> dict[str, list[str]]:
    """label → qualified names of the rnnbook functions, classes and methods whose docstrings name it.

    Module docstrings do not count: a label must be named by the code that computes it.
    """
    import rnnbook

    out: dict[str, set[str]] = {}
    modules = [rnnbook] + [
        importlib.import_module(m.name) for m in pkgutil.walk_packages(rnnbook.__path__, prefix="rnnbook.")
    ]
    for module in modules:
        objects = []
        for _, obj in inspect.getmembers(module):
            if getattr(obj, "__module__", None) == module.__name__ and (inspect.isfunction(obj) or inspect.isclass(obj)):
                objects.append(obj)
                if inspect.isclass(obj):
                    objects += [m for _, m in inspect.getmembers(obj, inspect.isfunction) if m.__qualname__.startswith(obj.__name__)]
        for obj in objects:
            name = f"{obj.__module__}.{obj.__qualname__}"
            for label in NAMED.findall(inspect.getdoc(obj) or ""):
                out.setdefault(label, set()).add(name)
    return {k: sorted(v) for k, v in out.items()}


def marked_tests() -> dict[str, list[str]]:
    """label → ``file::test`` of the tests marked ``@pytest.mark.equation(label)``.

    Read from the source with :mod:`ast`, so a marker on a class applies to its tests.
    """
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name.startswith(("test", "Test")):
                for deco in node.decorator_list:
                    for label in MARKED.findall(ast.unparse(deco)):
                        out.setdefault(label, []).append(f"tests/{path.name}::{node.name}")
    return out
