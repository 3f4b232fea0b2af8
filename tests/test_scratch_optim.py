"""The NumPy optimisers (scratch.optim): Adam, AdamW and SGD against torch.optim, step by step, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _helpers import assert_close, seed_of
from rnnbook.scratch.optim import SGD, Adam

SHAPES = {"W": (4, 3), "b": (4,), "E": (6, 2)}
STEPS = 8


def _trajectories(make_numpy, make_torch, seed, dtype=np.float64, skip=None):
    """Run both optimisers on the same start and the same gradient sequence; return the two parameter lists.

    ``skip``: (step, name) pairs whose gradient is left out (None in torch) at that step.
    """
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(size=s).astype(dtype) for k, s in SHAPES.items()}
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt, topt = make_numpy(params), make_torch(list(tparams.values()))
    ours, theirs = [], []
    for step in range(STEPS):
        # gradients of very different scales: Adam's steps must not depend on them
        grads = {k: ((10.0 ** rng.integers(-4, 3)) * rng.normal(size=s)).astype(dtype) for k, s in SHAPES.items()}
        grads = {k: g for k, g in grads.items() if (step, k) not in (skip or ())}
        opt.step(grads)
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k]) if k in grads else None
        topt.step()
        ours.append({k: v.copy() for k, v in params.items()})
        theirs.append({k: t.detach().numpy().copy() for k, t in tparams.items()})
    return ours, theirs


ADAM_CASES = [
    {},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.3, "betas": (0.0, 0.5), "eps": 0.0},
]


@pytest.mark.parametrize("kw", ADAM_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "defaults")
def test_adam_follows_torch_adam(kw):
    ours, theirs = _trajectories(lambda p: Adam(p, **kw), lambda p: torch.optim.Adam(p, **kw), seed_of(len(kw), 1))
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for k in SHAPES:
            assert_close(a[k], b[k], 1e-13, "adam", f"step {step + 1}, {k}")


def test_adamw_follows_torch_adamw():
    kw = {"lr": 0.02, "weight_decay": 0.5}
    ours, theirs = _trajectories(
        lambda p: Adam(p, **kw, decoupled_weight_decay=True), lambda p: torch.optim.AdamW(p, **kw), seed_of(2)
    )
    for a, b in zip(ours, theirs):
        for k in SHAPES:
            assert_close(a[k], b[k], 1e-13, "adam")
    # decoupled and L2 decay really differ: the same settings as plain Adam end elsewhere
    plain, _ = _trajectories(lambda p: Adam(p, **kw), lambda p: torch.optim.Adam(p, **kw), seed_of(2))
    assert np.abs(plain[-1]["W"] - ours[-1]["W"]).max() > 1e-4


def test_adam_parameters_without_gradient_do_not_advance_like_torch():
    skip = {(0, "b"), (1, "b"), (3, "E")}
    ours, theirs = _trajectories(lambda p: Adam(p, lr=0.1), lambda p: torch.optim.Adam(p, lr=0.1), seed_of(3), skip=skip)
    assert np.array_equal(ours[0]["b"], ours[1]["b"])  # untouched while it has no gradient
    for a, b in zip(ours, theirs):
        for k in SHAPES:
            assert_close(a[k], b[k], 1e-13, "adam")


def test_adam_in_float32_stays_float32_and_close_to_torch():
    ours, theirs = _trajectories(lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01), seed_of(4), np.float32)
    assert all(v.dtype == np.float32 for v in ours[-1].values())
    for k in SHAPES:
        assert_close(ours[-1][k], theirs[-1][k], 1e-6, "adam-float32")


def test_adam_first_step_is_lr_times_the_sign_of_the_gradient():
    """Bias correction: m̂_1 = g and v̂_1 = g², so the first step is lr · g / |g| whatever the gradient's scale."""
    theta = {"w": np.array([1.0, 1.0, 1.0, 1.0])}
    g = np.array([1e-5, -3.0, 200.0, -1e-3])
    Adam(theta, lr=0.1, eps=0.0).step({"w": g})
    np.testing.assert_allclose(theta["w"], 1.0 - 0.1 * np.sign(g), rtol=0, atol=1e-15)


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
]


@pytest.mark.parametrize("kw", SGD_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_sgd_follows_torch_sgd(kw):
    skip = {(2, "b")}
    ours, theirs = _trajectories(lambda p: SGD(p, **kw), lambda p: torch.optim.SGD(p, **kw), seed_of(len(kw), 5), skip=skip)
    for a, b in zip(ours, theirs):
        for k in SHAPES:
            assert_close(a[k], b[k], 1e-12, "sgd")


def test_optimisers_update_the_given_arrays_in_place():
    w = np.zeros(3)
    params = {"w": w}
    Adam(params, lr=0.5).step({"w": np.ones(3)})
    SGD(params, lr=0.5).step({"w": np.ones(3)})
    assert params["w"] is w and np.allclose(w, -1.0)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: Adam(p, lr=-0.1), r"lr must be a finite number in >= 0; got -0\.1"),
        (lambda p: Adam(p, lr=float("nan")), "lr must be"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), r"betas\[1\] must be a finite number in \[0, 1\); got 1\.0"),
        (lambda p: Adam(p, betas=(-0.1, 0.9)), r"betas\[0\]"),
        (lambda p: Adam(p, betas=0.9), "betas must be a pair"),
        (lambda p: Adam(p, eps=-1e-8), "eps must be"),
        (lambda p: Adam(p, weight_decay=True), "weight_decay must be"),
        (lambda p: SGD(p, momentum=1.0), r"momentum must be a finite number in \[0, 1\)"),
        (lambda p: SGD(p, nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda p: Adam({}), "params must be a non-empty dict"),
        (lambda p: Adam({"w": np.arange(3)}), r"params\['w'\] must be a float NumPy array .* int64"),
        (lambda p: Adam({"w": [1.0, 2.0]}), r"params\['w'\] must be a float NumPy array .* got list"),
    ],
)
def test_bad_arguments_raise_value_errors_that_name_them(make, match):
    with pytest.raises(ValueError, match=match):
        make({"w": np.zeros(3)})


def test_read_only_parameters_are_refused():
    w = np.zeros(3)
    w.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['w'\] must be writeable"):
        Adam({"w": w})


@pytest.mark.parametrize(
    "grads, match",
    [
        ({"w": np.ones(3), "typo": np.ones(3)}, r"grads has keys \['typo'\] that are not parameters"),
        ({"w": np.ones(4)}, r"grads\['w'\] must have the shape of params\['w'\], \(3,\); got \(4,\)"),
        ({"w": np.array([1.0, np.nan, 0.0])}, r"grads\['w'\] must hold finite real numbers"),
        ([np.ones(3)], "grads must be a dict"),
    ],
)
@pytest.mark.parametrize("cls", [Adam, SGD])
def test_bad_gradients_raise_and_leave_the_parameters_alone(cls, grads, match):
    params = {"w": np.zeros(3)}
    opt = cls(params)
    with pytest.raises(ValueError, match=match):
        opt.step(grads)
    assert np.array_equal(params["w"], np.zeros(3))
