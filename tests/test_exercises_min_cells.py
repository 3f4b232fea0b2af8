"""The checks of Section 6.1's exercises (rnnbook.exercises.min_cells): right answers pass, wrong ones are named."""

from __future__ import annotations

import numpy as np
import pytest

import rnnbook.exercises.min_cells  # noqa: F401  registers the checks (also imported by rnnbook.exercises)
from rnnbook.exercises import CheckFailed, available, check


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# --------------------------------------------------------------------------- minGRU


def mingru_loop(x, h0, p, *, torch_z=False, tanh=False, zeros=False, last="last", as_list=False):
    """A right answer written as a loop from the equations; the switches plant one mistake each."""
    h = np.zeros_like(h0) if zeros else h0
    states = []
    for t in range(x.shape[1]):
        z_t = sigmoid(x[:, t] @ p["weight_z"].T + p["bias_z"])
        h_tilde = x[:, t] @ p["weight_h"].T + p["bias_h"]
        if tanh:
            h_tilde = np.tanh(h_tilde)
        h = z_t * h + (1 - z_t) * h_tilde if torch_z else (1 - z_t) * h + z_t * h_tilde
        states.append(h)
    out = np.stack(states, axis=1)
    if as_list:
        return [out, h]
    return out, (h if last == "last" else out[:, 0])


@pytest.mark.parametrize("check_id, function, exercise", [
    ("mingru-forward", "mingru_forward", "ex-mingru-forward"),
    ("minlstm-forward", "minlstm_forward", "ex-minlstm-forward"),
])
def test_the_checks_are_registered_for_their_exercises(check_id, function, exercise):
    spec = available()[check_id]
    assert spec.exercise == exercise and spec.function == function


def test_a_right_mingru_passes(capsys):
    assert check("mingru-forward", mingru_loop) is None
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1 and out.count("\n") == 1, out


@pytest.mark.parametrize("wrong, words", [
    (lambda x, h0, p: mingru_loop(x, h0, p, torch_z=True), "z_t weighs the previous state"),
    (lambda x, h0, p: mingru_loop(x, h0, p, tanh=True), "the candidate still has a tanh"),
    (lambda x, h0, p: mingru_loop(x, h0, p, zeros=True), "h0 is ignored"),
    (lambda x, h0, p: mingru_loop(x, h0, p, torch_z=True, tanh=True), "nearly PyTorch's GRU"),
    (lambda x, h0, p: mingru_loop(x, h0, {"weight_z": p["weight_h"], "bias_z": p["bias_h"],
                                          "weight_h": p["weight_z"], "bias_h": p["bias_z"]}),
     "each other's parameters"),
    (lambda x, h0, p: mingru_loop(x, h0, p, last="first"), "h_T is not the last of them"),
    (lambda x, h0, p: mingru_loop(x, h0, p, as_list=True), "must return a tuple (out, h_T)"),
    (lambda x, h0, p: mingru_loop(x, h0, p)[0], "must return a tuple (out, h_T)"),
    (lambda x, h0, p: (mingru_loop(x, h0, p)[0].transpose(1, 0, 2), mingru_loop(x, h0, p)[1]), "shape"),
    (lambda x, h0, p: (mingru_loop(x, h0, p)[0] + 1e-3, mingru_loop(x, h0, p)[1]),
     "differ from the library's by up to"),
])
def test_each_usual_mingru_mistake_is_named(wrong, words):
    with pytest.raises(CheckFailed, match="Not yet") as failure:
        check("mingru-forward", wrong)
    assert words in str(failure.value), str(failure.value)


# --------------------------------------------------------------------------- minLSTM


def minlstm_loop(x, h0, p, *, norm="both", swap=False, tanh=False, zeros=False):
    """A right answer written as a loop from the equations; the switches plant one mistake each."""
    h = np.zeros_like(h0) if zeros else h0
    states = []
    for t in range(x.shape[1]):
        f_t = sigmoid(x[:, t] @ p["weight_f"].T + p["bias_f"])
        i_t = sigmoid(x[:, t] @ p["weight_i"].T + p["bias_i"])
        if swap:
            f_t, i_t = i_t, f_t
        h_tilde = x[:, t] @ p["weight_h"].T + p["bias_h"]
        if tanh:
            h_tilde = np.tanh(h_tilde)
        if norm == "both":
            f_n, i_n = f_t / (f_t + i_t), i_t / (f_t + i_t)
        elif norm == "none":
            f_n, i_n = f_t, i_t
        elif norm == "f only":
            f_n, i_n = f_t / (f_t + i_t), i_t
        elif norm == "by f":
            f_n, i_n = f_t / f_t, i_t / f_t
        else:  # "one minus"
            f_n, i_n = f_t, 1 - f_t
        h = f_n * h + i_n * h_tilde
        states.append(h)
    return np.stack(states, axis=1), h


def test_a_right_minlstm_passes(capsys):
    assert check("minlstm-forward", minlstm_loop) is None
    out = capsys.readouterr().out
    assert out.startswith("Well done") and out.count("Well done") == 1 and out.count("\n") == 1, out


@pytest.mark.parametrize("wrong, words", [
    (lambda x, h0, p: minlstm_loop(x, h0, p, norm="none"), "the gates are not normalised"),
    (lambda x, h0, p: minlstm_loop(x, h0, p, norm="f only"), "only the forget gate is normalised"),
    (lambda x, h0, p: minlstm_loop(x, h0, p, norm="by f"), "divided by f_t alone"),
    (lambda x, h0, p: minlstm_loop(x, h0, p, norm="one minus"), "the input gate is taken as 1 − f_t"),
    (lambda x, h0, p: minlstm_loop(x, h0, p, swap=True), "the forget and input gates are swapped"),
    (lambda x, h0, p: minlstm_loop(x, h0, p, tanh=True), "the candidate still has a tanh"),
    (lambda x, h0, p: minlstm_loop(x, h0, p, zeros=True), "h0 is ignored"),
])
def test_each_usual_minlstm_mistake_is_named(wrong, words):
    with pytest.raises(CheckFailed, match="Not yet") as failure:
        check("minlstm-forward", wrong)
    assert words in str(failure.value), str(failure.value)


# --------------------------------------------------------------------------- both


@pytest.mark.parametrize("check_id", ["mingru-forward", "minlstm-forward"])
def test_the_placeholder_of_a_student_notebook_passes_through(check_id):
    def not_written(x, h0, p):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check(check_id, not_written)


@pytest.mark.parametrize("check_id", ["mingru-forward", "minlstm-forward"])
def test_an_error_in_the_students_code_is_reported_with_its_line(check_id):
    def broken(x, h0, p):
        return undefined_name  # noqa: F821

    with pytest.raises(CheckFailed, match=r"raised NameError: .*undefined_name"):
        check(check_id, broken)


@pytest.mark.parametrize("check_id, right", [("mingru-forward", mingru_loop), ("minlstm-forward", minlstm_loop)])
def test_the_student_cannot_change_the_checks_arrays(check_id, right):
    def overwrites(x, h0, p):
        out = right(x, h0, p)
        x[...] = 0.0
        h0[...] = 0.0
        for v in p.values():
            v[...] = 0.0
        return out

    check(check_id, overwrites)  # passes: the check gives copies and compares with its own arrays
