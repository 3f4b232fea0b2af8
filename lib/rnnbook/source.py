"""Show the source of a library function inside a notebook.

The chapters print the lines of ``rnnbook`` that compute an equation rather
than copying them into the page, so the page can never drift from the code
that the tests check. In Jupyter (and on the website) the source renders as a
highlighted Python block; elsewhere it prints as plain text.
"""

from __future__ import annotations

import ast
import inspect
import textwrap


class SourceView:
    """The source text of a Python object, shown as a code block by Jupyter."""

    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.text}\n```"

    def __repr__(self) -> str:
        return self.text


def show_source(obj, *, docstring: bool = False) -> SourceView:
    """The source of a function or class of the library, for display in a notebook.

    Parameters
    ----------
    obj : function, method or class.
    docstring : keep the docstring (default: drop it, to show only the code).

    Returns
    -------
    :class:`SourceView`; as the last expression of a cell it renders as code.
    """
    try:
        text = textwrap.dedent(inspect.getsource(obj))
    except (TypeError, OSError) as exc:
        raise ValueError(f"obj must be a Python function or class with source code; got {obj!r}") from exc
    if not docstring:
        node = ast.parse(text).body[0]
        first = node.body[0] if getattr(node, "body", None) else None
        if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) and isinstance(first.value.value, str):
            lines = text.splitlines()
            del lines[first.lineno - 1 : first.end_lineno]
            text = "\n".join(lines)
    return SourceView(text.rstrip())
