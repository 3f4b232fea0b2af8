"""rnnbook.source.show_source: the code the chapters display next to each equation."""

from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np
import pytest

import rnnbook.nn as rnn_nn
from rnnbook import scratch
from rnnbook.scratch import rnn as scratch_rnn
from rnnbook.source import SourceView, show_source


def decorated(f):
    return f


@decorated
def _documented(a, b=2):
    """First line of the docstring.

    More text that must not appear.
    """
    c = a + b  # a comment stays
    return c * 2


def _undocumented(a):
    return a + "not a docstring"


def _code_lines(obj):
    """Source lines of obj without its docstring, as parsed by ast (the reference)."""
    text = textwrap.dedent(inspect.getsource(obj))
    node = ast.parse(text).body[0]
    doc = node.body[0]
    lines = text.splitlines()
    if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
        del lines[doc.lineno - 1 : doc.end_lineno]
    return [line for line in lines if line.strip()]


def test_show_source_drops_the_docstring_and_keeps_the_code():
    view = show_source(_documented)
    assert isinstance(view, SourceView)
    assert "docstring" not in view.text and "must not appear" not in view.text
    assert view.text.splitlines() == [
        "@decorated",
        "def _documented(a, b=2):",
        "    c = a + b  # a comment stays",
        "    return c * 2",
    ]
    with_doc = show_source(_documented, docstring=True)
    assert with_doc.text == textwrap.dedent(inspect.getsource(_documented)).rstrip()
    assert '"""First line of the docstring.' in with_doc.text


def test_show_source_of_a_function_without_docstring_is_unchanged():
    assert show_source(_undocumented).text == inspect.getsource(_undocumented).rstrip()


@pytest.mark.parametrize(
    "obj",
    [scratch_rnn._step_forward, scratch.rnn_step_forward, scratch.rnn_backward, scratch.relative_error,
     scratch.clip_grad_norm, rnn_nn.RNNCell.forward, rnn_nn.RNNCell, scratch.RNNCache],
    ids=lambda o: o.__qualname__,
)
def test_show_source_of_library_objects(obj):
    text = show_source(obj).text
    ast.parse(text)  # dedented, complete, valid Python
    assert [line for line in text.splitlines() if line.strip()] == _code_lines(obj)
    doc = inspect.getdoc(obj)
    if doc:
        assert doc.splitlines()[0] not in text
    assert not text.startswith(" ") and not text.endswith("\n")


def test_show_source_of_the_rnn_step_shows_the_equation_lines():
    text = show_source(scratch_rnn._step_forward).text
    assert text.startswith("def _step_forward(x_t, h_prev, W_xh, W_hh, b_h):")
    assert "a_t = x_t @ W_xh.T + h_prev @ W_hh.T + b_h" in text
    assert "h_t = tanh(a_t)" in text
    method = show_source(rnn_nn.RNNCell.forward).text
    assert method.startswith("def forward(")  # a method is dedented to column 0


def test_markdown_and_plain_reprs():
    view = show_source(_documented)
    md = view._repr_markdown_()
    assert md == "```python\n" + view.text + "\n```"
    assert md.count("```") == 2
    assert repr(view) == view.text


@pytest.mark.parametrize("obj", [len, np.add, 3, "def f(): pass", None], ids=["len", "ufunc", "int", "str", "None"])
def test_show_source_rejects_objects_without_source(obj):
    with pytest.raises(ValueError, match=r"obj must be a Python function or class with source code; got"):
        show_source(obj)
