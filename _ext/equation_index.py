"""The appendix's equation index, generated at build time (a local Sphinx extension).

For every labelled equation of the chapters (``$$ … $$ (eq-…)``) the index shows
the page that defines it, the ``rnnbook`` functions whose docstrings name its
label, and the tests marked ``@pytest.mark.equation(label)``, each linked to its
line on GitHub (the repository URL and branch of ``_config.yml``).

The three readers are those of ``tests/book.py``, which the tests use too, so the
index and ``tests/test_equation_labels.py`` cannot disagree about what is labelled,
implemented or tested. The pure part (:func:`index_rows`, :func:`missing`,
:func:`check`, :func:`render`) takes plain dicts and is unit-tested on a fake input
in ``tests/test_equation_index.py``; :func:`generate` reads the real repository.

In the build, the table replaces the marker ``<!-- equation-index -->`` of
``appendix/equation-index.md`` on the ``source-read`` event; an equation without
a function or a test is a warning, hence an error under ``-W``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import sys
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCNAME = "appendix/equation-index"
MARKER = "<!-- equation-index -->"
#: CSS class of the generated tables; the page's own style lets their long names wrap.
TABLE_CLASS = "equation-index"


@dataclass(frozen=True)
class Source:
    """A function or a test, and where its definition is: ``path`` relative to the root, 1-based ``line``."""

    name: str
    path: str
    line: int


@dataclass(frozen=True)
class Row:
    """One labelled equation: the page that defines it, what implements it, what checks it."""

    label: str
    page: str
    functions: tuple[Source, ...]
    tests: tuple[Source, ...]


class IncompleteIndexError(ValueError):
    """Some labelled equation has no implementing function or no test."""


def book_module():
    """``tests/book.py``, the readers the tests use (``tests/`` is put on ``sys.path`` as pytest does).

    Appended, not prepended, so that nothing in ``tests/`` (``site/``, ``_helpers``) shadows a module of
    the build; the path of the module found is checked instead.
    """
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.append(tests)
    module = importlib.import_module("book")
    if pathlib.Path(module.__file__).resolve() != ROOT / "tests" / "book.py":
        raise ImportError(f"'book' resolves to {module.__file__}, not to tests/book.py")
    return module


# --------------------------------------------------------------------------- pure part


def index_rows(
    defined: Mapping[str, Sequence[str]],
    implemented: Mapping[str, Sequence[str]],
    tested: Mapping[str, Sequence[str]],
    locate_function: Callable[[str], Source],
    locate_test: Callable[[str], Source],
) -> list[Row]:
    """One row per defined label, in the order of ``defined``.

    Parameters
    ----------
    defined : label → pages that define it (``book.defined_labels()``); the first page is used.
    implemented : label → qualified names of functions (``book.docstring_labels()``).
    tested : label → ``tests/file.py::test`` (``book.marked_tests()``).
    locate_function, locate_test : name → :class:`Source`.

    A label missing from ``implemented`` or ``tested`` gets an empty tuple: see :func:`missing`.
    """
    for name, arg in (("defined", defined), ("implemented", implemented), ("tested", tested)):
        if not isinstance(arg, Mapping):
            raise ValueError(f"{name} must be a mapping label → list of names; got {type(arg).__name__}")
    rows = []
    for label, pages in defined.items():
        if not pages:
            raise ValueError(f"defined[{label!r}] names no page")
        rows.append(
            Row(
                label=label,
                page=pages[0],
                functions=tuple(locate_function(n) for n in implemented.get(label, ())),
                tests=tuple(locate_test(n) for n in tested.get(label, ())),
            )
        )
    return rows


def missing(rows: Sequence[Row]) -> dict[str, list[str]]:
    """label → what it lacks (``"function"``, ``"test"``), for the incomplete rows only."""
    out = {}
    for row in rows:
        lacks = [what for what, have in (("function", row.functions), ("test", row.tests)) if not have]
        if lacks:
            out[row.label] = lacks
    return out


def check(rows: Sequence[Row]) -> None:
    """Raise :class:`IncompleteIndexError` naming every equation without a function or a test."""
    gaps = missing(rows)
    if gaps:
        detail = "; ".join(f"{label} has no {' and no '.join(lacks)}" for label, lacks in gaps.items())
        raise IncompleteIndexError(f"{len(gaps)} labelled equation(s) incomplete: {detail}")


def source_url(repo_url: str, branch: str, source: Source) -> str:
    """The GitHub link to a source line, e.g. ``…/blob/main/lib/rnnbook/scratch/rnn.py#L132``."""
    return f"{repo_url.rstrip('/')}/blob/{branch}/{source.path}#L{source.line}"


def _link(text: str, url: str) -> str:
    return f"[`{text}`]({url})"


def _short_function(name: str) -> str:
    return name.removeprefix("rnnbook.")


def _short_test(name: str) -> str:
    return name.removeprefix("tests/")


def render(rows: Sequence[Row], repo_url: str, branch: str, titles: Mapping[str, str]) -> str:
    """The index as MyST markdown: one section per page, one table row per equation.

    ``titles`` maps a page path to its title; the equation links are ``{eq}`` roles, the
    page links ``{doc}`` roles, the function and test links point at GitHub.
    """
    if not repo_url.startswith("https://"):
        raise ValueError(f"repo_url must be an https URL; got {repo_url!r}")
    out: list[str] = []
    page = None
    for row in rows:
        if row.page != page:
            if page is not None:
                out.append("```")
            page = row.page
            doc = "/" + pathlib.PurePosixPath(page).with_suffix("").as_posix()
            out += [
                "",
                f"## {titles.get(page, page)}",
                "",
                f"Equations of {{doc}}`{doc}`.",
                "",
                "```{table}",
                f":class: {TABLE_CLASS}",
                "",
                "| Equation | Implemented by | Checked by |",
                "| --- | --- | --- |",
            ]
        functions = "<br>".join(_link(_short_function(s.name), source_url(repo_url, branch, s)) for s in row.functions)
        tests = "<br>".join(_link(_short_test(s.name), source_url(repo_url, branch, s)) for s in row.tests)
        out.append(
            f"| {{eq}}`{row.label}` `{row.label}` | {functions or '**missing**'} | {tests or '**missing**'} |"
        )
    if page is not None:
        out.append("```")
    return "\n".join(out).lstrip("\n") + "\n"


# --------------------------------------------------------------------------- the real repository


def _definition_line(lines: Sequence[str], start: int) -> int:
    """The line of the ``def``/``class`` keyword, skipping decorators (``start`` is 1-based)."""
    for offset, text in enumerate(lines):
        if text.lstrip().startswith(("def ", "async def ", "class ")):
            return start + offset
    return start


def locate_function(qualname: str, root: pathlib.Path = ROOT) -> Source:
    """Where ``rnnbook.…`` function, class or method ``qualname`` is defined."""
    parts = qualname.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        break
    else:
        raise ValueError(f"qualname {qualname!r} names no importable object")
    obj = inspect.unwrap(obj)
    path = pathlib.Path(inspect.getsourcefile(obj)).resolve()
    lines, start = inspect.getsourcelines(obj)
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        raise ValueError(f"{qualname} is defined in {path}, outside the repository {root}") from None
    return Source(qualname, rel, _definition_line(lines, start))


def locate_test(name: str, root: pathlib.Path = ROOT) -> Source:
    """Where test ``tests/file.py::test_name`` (a function or a class) is defined."""
    path, sep, test = name.partition("::")
    if not sep or not test:
        raise ValueError(f"name must look like 'tests/test_x.py::test_y'; got {name!r}")
    tree = ast.parse((root / path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == test:
            return Source(name, path, node.lineno)
    raise ValueError(f"no test {test!r} in {path}")


def page_title(path: str, root: pathlib.Path = ROOT) -> str:
    """The ``# Title`` of a chapter page."""
    book = book_module()
    for line in book.markdown_text(root / path).splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path


def generate() -> tuple[list[Row], str]:
    """Rows and MyST text of the index, read from the repository."""
    book = book_module()
    repo = book.config()["repository"]
    rows = index_rows(
        book.defined_labels(), book.docstring_labels(), book.marked_tests(), locate_function, locate_test
    )
    titles = {page: page_title(page) for page in dict.fromkeys(row.page for row in rows)}
    return rows, render(rows, repo["url"], repo.get("branch", "main"), titles)


# --------------------------------------------------------------------------- Sphinx


def _on_source_read(app, docname: str, source: list[str]) -> None:
    if docname != DOCNAME:
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    rows, text = generate()
    for label, lacks in missing(rows).items():
        logger.warning(
            f"equation {label} has no {' and no '.join(lacks)} (see tests/test_equation_labels.py)",
            type="equation_index",
            location=docname,
        )
    if MARKER in source[0]:
        source[0] = source[0].replace(MARKER, text)
    else:
        source[0] += "\n" + text


def _always_reread(app, env, added, changed, removed):
    # The index depends on the library, the tests and the other pages, which Sphinx does not track.
    return [DOCNAME] if DOCNAME in env.found_docs else []


def setup(app):
    app.connect("source-read", _on_source_read)
    app.connect("env-get-outdated", _always_reread)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
