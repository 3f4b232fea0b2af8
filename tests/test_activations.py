"""Activations of the recurrent cells: values against torch, derivatives against
central differences and autograd, stability at extreme inputs, dtypes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from rnnbook import scratch

EXTREMES = np.array([-1000.0, -745.0, -100.0, -36.0, -1.0, -1e-12, 0.0, 1e-12, 1.0, 36.0, 100.0, 745.0, 1000.0])

FUNCTIONS = {
    "sigmoid": (scratch.sigmoid, scratch.sigmoid_derivative, scratch.sigmoid_grad_from_output, torch.sigmoid),
    "tanh": (scratch.tanh, scratch.tanh_derivative, scratch.tanh_grad_from_output, torch.tanh),
}

SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 5)]


def _random(shape, seed, scale=3.0):
    return np.random.default_rng(seed).normal(0.0, scale, shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_extreme_inputs_no_overflow_and_equal_to_torch(dtype):
    x = EXTREMES.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning would fail the test
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = scratch.sigmoid(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))
    expected = torch.sigmoid(torch.from_numpy(x)).numpy()
    # torch flushes results below the smallest normal number to 0; NumPy keeps the subnormals.
    np.testing.assert_allclose(y, expected, rtol=4 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny)
    assert y[0] == 0.0 and y[-1] == 1.0
    assert y[EXTREMES == 0.0][0] == 0.5


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_activation_equals_torch(name, shape):
    f, _, _, f_torch = FUNCTIONS[name]
    x = _random(shape, seed=len(shape) + 11)
    y = f(x)
    assert y.shape == np.shape(x)
    np.testing.assert_allclose(y, f_torch(torch.from_numpy(np.asarray(x))).numpy(), rtol=1e-15, atol=1e-16)


def test_sigmoid_symmetry():
    x = _random((1000,), seed=3, scale=20.0)
    np.testing.assert_allclose(scratch.sigmoid(-x), 1.0 - scratch.sigmoid(x), rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_extreme_inputs_no_warning_and_saturated_derivative(name):
    f, df, _, f_torch = FUNCTIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, dy = f(EXTREMES), df(EXTREMES)
    np.testing.assert_allclose(y, f_torch(torch.from_numpy(EXTREMES)).numpy(), rtol=1e-15, atol=np.finfo(float).tiny)
    assert np.all(np.isfinite(dy)) and np.all(dy >= 0)
    assert dy[0] == 0.0 and dy[-1] == 0.0  # saturated: the gradient is gone


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_derivative_against_central_differences(name, shape):
    f, df, _, _ = FUNCTIONS[name]
    x = _random(shape, seed=len(shape) + 5)
    eps = 1e-5
    numeric = (f(x + eps) - f(x - eps)) / (2 * eps)
    np.testing.assert_allclose(df(x), numeric, rtol=1e-8, atol=1e-11)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_derivative_against_autograd(name, shape):
    f, df, grad_from_output, f_torch = FUNCTIONS[name]
    x = _random(shape, seed=len(shape) + 17)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    f_torch(xt).sum().backward()
    expected = xt.grad.numpy()
    assert np.max(np.abs(df(x) - expected), initial=0.0) <= 1e-15
    assert np.max(np.abs(grad_from_output(f(x)) - expected), initial=0.0) <= 1e-15


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_grad_from_output_is_the_derivative(name):
    f, df, grad_from_output, _ = FUNCTIONS[name]
    x = np.concatenate([EXTREMES, _random((200,), seed=1, scale=10.0)])
    np.testing.assert_array_equal(grad_from_output(f(x)), df(x))
    y = f(x)
    if name == "sigmoid":
        np.testing.assert_allclose(grad_from_output(y), y * (1 - y), rtol=0, atol=0)
    else:
        np.testing.assert_allclose(grad_from_output(y), 1 - y**2, rtol=0, atol=1e-16)


@pytest.mark.parametrize("name, gamma", [("sigmoid", 0.25), ("tanh", 1.0)])
def test_derivative_maximum_is_gamma_at_zero(name, gamma):
    _, df, _, _ = FUNCTIONS[name]
    x = np.linspace(-20, 20, 4001)
    d = df(x)
    assert d.max() == pytest.approx(gamma, abs=1e-15)
    assert x[np.argmax(d)] == pytest.approx(0.0, abs=1e-12)
    assert np.all(d <= gamma)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_is_kept(name, which, dtype):
    fn = FUNCTIONS[name][which]
    x = _random((4, 3), seed=2, scale=1.0).astype(dtype)
    if which == 2:  # takes an output, in (-1, 1)
        x = np.clip(x, -0.9, 0.9).astype(dtype)
    y = fn(x)
    assert y.dtype == dtype
    assert y.shape == x.shape
    # float32 computed values agree with the float64 ones to float32 precision
    y64 = fn(x.astype(np.float64))
    np.testing.assert_allclose(y.astype(np.float64), y64, rtol=0, atol=8 * np.finfo(dtype).eps)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_integer_input_is_promoted_to_float64(name):
    f, df, _, f_torch = FUNCTIONS[name]
    x = np.array([-3, 0, 2])
    y = f(x)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, f_torch(torch.tensor(x, dtype=torch.float64)).numpy(), rtol=1e-15)
    assert df(x).dtype == np.float64
