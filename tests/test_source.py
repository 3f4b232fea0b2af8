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
    [scratch_rnn.rnn_cell, scratch.rnn_step_forward, scratch.rnn_backward, scratch.relative_error,
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
    text = show_source(scratch_rnn.rnn_cell).text
    assert text.startswith("def rnn_cell(x_t, h_prev, p):")
    assert 'a_t = x_t @ p["weight_ih"].T + p["bias_ih"] + h_prev @ p["weight_hh"].T + p["bias_hh"]' in text
    assert "h_t = tanh(a_t)  # eq-rnn-hidden" in text
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


# --------------------------------------------------------------------------- what the chapters show is the maths

#: The library functions the chapters print with show_source (and the cell functions that replace the old
#: private ones). Their argument checks live in one helper call, so the listing is the equations' lines.
LISTINGS = [
    scratch.rnn_cell, scratch.rnn_cell_backward, scratch.rnn_forward, scratch.rnn_backward, scratch.bptt_hidden_grads,
    scratch.rnn_output, scratch.lstm_cell, scratch.lstm_cell_backward, scratch.lstm_forward, scratch.lstm_backward,
    scratch.gru_cell, scratch.gru_cell_backward, scratch.gru_forward, scratch.gru_backward,
    scratch.metrics.accuracy, scratch.metrics.precision, scratch.metrics.recall, scratch.metrics.f1,
    scratch.metrics.tpr, scratch.metrics.fpr, scratch.metrics.roc_curve, scratch.metrics.roc_auc,
    scratch.metrics.confusion_matrix, scratch.metrics.auc_mann_whitney, scratch.metrics._ratio,
    scratch.dropout_forward, scratch.dropout_backward, scratch.dropout_mask, scratch.sequence_dropout_mask,
    scratch.dropout._train_scale, scratch.bce, scratch.bce_grad, scratch.bce_with_logits, scratch.bce_with_logits_grad,
    scratch.sigmoid, scratch.clip_grad_norm, scratch.numerical_gradient, scratch.params_to_concat,
    scratch.negate_update_gate, scratch.jacobian_norm_bound, scratch.rnn_state_jacobian, scratch.embedding_backward,
    scratch.optim.Adam.step, scratch.NumpyLSTMClassifier._forward, scratch.NumpyLSTMClassifier.loss_and_grads,
    rnn_nn.RNNCell.forward, rnn_nn.LSTMCell.forward, rnn_nn.GRUCell.forward,
]


@pytest.mark.parametrize("obj", LISTINGS, ids=lambda o: o.__qualname__)
def test_listings_show_the_maths_not_the_argument_checks(obj):
    text = show_source(obj).text
    assert "raise ValueError" not in text and "raise " not in text, f"{obj.__qualname__} shows argument checks"
    assert not text.startswith(" ")


def test_the_lstm_page_shows_a_short_readable_loop():
    text = show_source(scratch.lstm_forward).text
    assert "lstm_cell(x[:, t], (h_t, c_t), p)" in text and "out=" not in text and "np.matmul" not in text
    assert len(text.splitlines()) <= 12, text
