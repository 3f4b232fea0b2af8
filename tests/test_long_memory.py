"""rnnbook.tasks.long_memory: the adding problem, the sequence regressor, and a short, seeded training run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnbook.tasks import TRIVIAL_MSE, SequenceRegressor, adding_problem, train_adding


@pytest.mark.parametrize("n, T", [(1, 2), (1, 3), (5, 2), (7, 11), (64, 50)])
def test_adding_problem_shapes_dtypes_and_markers(n, T):
    x, y = adding_problem(n, T, seed=n * 100 + T)
    assert x.shape == (n, T, 2) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = T // 2
    # exactly two markers: one in the first half [0, T//2), one in the second [T//2, T)
    np.testing.assert_array_equal(markers[:, :half].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, half:].sum(axis=1), 1)
    # the target is the sum of the two marked numbers (y rounded once to float32; ≤ 1 ulp at 2 plus input roundings)
    marked_sum = (values.astype(np.float64) * markers).sum(axis=1)
    assert np.max(np.abs(y - marked_sum)) <= 3e-7
    assert np.all((y >= 0) & (y < 2))


def test_adding_problem_marker_positions_cover_both_halves():
    x, _ = adding_problem(4000, 10, seed=1)
    positions = np.nonzero(x[..., 1])[1].reshape(-1, 2)
    assert set(positions[:, 0]) == set(range(5)) and set(positions[:, 1]) == set(range(5, 10))


def test_adding_problem_is_seeded():
    a = adding_problem(8, 6, seed=3)
    b = adding_problem(8, 6, seed=3)
    c = adding_problem(8, 6, seed=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    np.testing.assert_array_equal(adding_problem(8, 6)[0], adding_problem(8, 6, seed=0)[0])  # default seed 0
    # a Generator is used as is and advances: two draws differ, and the pair is reproducible
    rng = np.random.default_rng(3)
    first, second = adding_problem(8, 6, seed=rng), adding_problem(8, 6, seed=rng)
    np.testing.assert_array_equal(first[0], a[0])
    assert not np.array_equal(first[0], second[0])


def test_predicting_one_has_the_trivial_mse():
    """Predicting the mean 1 gives MSE = Var(u₁ + u₂) = 2/12, within 5 standard errors (CLT).

    S = u₁ + u₂ − 1 is triangular on [−1, 1]: E[S²] = 1/6, E[S⁴] = 1/15, so Var(S²) = 1/15 − 1/36 = 7/180.
    """
    assert TRIVIAL_MSE == pytest.approx(1 / 6, rel=1e-15)
    n = 200_000
    _, y = adding_problem(n, 10, seed=5)
    squared = (y.astype(np.float64) - 1.0) ** 2
    standard_error = math.sqrt(7 / 180 / n)
    assert abs(squared.mean() - TRIVIAL_MSE) <= 5 * standard_error
    assert abs(squared.std() - math.sqrt(7 / 180)) <= 0.01
    assert abs(y.mean() - 1.0) <= 5 * math.sqrt(TRIVIAL_MSE / n)


@pytest.mark.parametrize(
    "n, T, match",
    [
        (0, 5, r"n must be an integer ≥ 1; got 0"),
        (-3, 5, r"n must be an integer ≥ 1; got -3"),
        (2.0, 5, r"n must be an integer ≥ 1; got 2\.0"),
        ("4", 5, r"n must be an integer ≥ 1; got '4'"),
        (4, 1, r"T must be an integer ≥ 2; got 1"),
        (4, 0, r"T must be an integer ≥ 2.*got 0"),
        (4, 5.0, r"T must be an integer ≥ 2.*got 5\.0"),
        (4, None, r"T must be an integer ≥ 2.*got None"),
    ],
)
def test_adding_problem_bad_arguments(n, T, match):
    with pytest.raises(ValueError, match=match):
        adding_problem(n, T)


def test_adding_problem_accepts_numpy_integers():
    x, y = adding_problem(np.int64(3), np.int32(4))
    assert x.shape == (3, 4, 2) and y.shape == (3,)


# --------------------------------------------------------------------------- the model


@pytest.mark.parametrize("cell, torch_cls", [("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)])
@pytest.mark.parametrize("N, T, H", [(1, 1, 1), (3, 7, 5)])
def test_sequence_regressor_shapes(cell, torch_cls, N, T, H):
    torch.manual_seed(0)
    model = SequenceRegressor(cell, 2, H)
    assert type(model.rnn) is torch_cls and model.rnn.batch_first and model.rnn.hidden_size == H
    x = torch.randn(N, T, 2)
    y = model(x)
    assert y.shape == (N,) and y.dtype == torch.float32
    # the readout of the last state
    with torch.no_grad():
        out, _ = model.rnn(x)
        assert torch.allclose(y, model.head(out[:, -1])[:, 0])


@pytest.mark.parametrize("bad", ["LSTM", "transformer", "", None])
def test_sequence_regressor_bad_cell(bad):
    with pytest.raises(ValueError, match=r"cell must be one of \['gru', 'lstm', 'rnn'\]; got " + repr(bad)):
        SequenceRegressor(bad, 2, 4)


# --------------------------------------------------------------------------- training


@pytest.fixture
def one_thread():
    """Train on one CPU thread: tiny models gain nothing from two, and on a busy machine two threads
    waiting on each other made a 0.3 s run take 15 s. The thread count is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_train_adding_short_lstm_run_leaves_the_initial_error(one_thread):
    """30 Adam steps at T = 10: the LSTM at least learns to predict the mean, from MSE ≈ E[y²] ≈ 1.17 to ≈ 2/12."""
    history = train_adding("lstm", 10, steps=30, eval_every=10, n_eval=500, seed=0, device="cpu")
    assert set(history) == {"steps", "mse", "final_mse", "seconds", "n_params"}
    assert history["steps"] == [0, 10, 20, 30]
    assert len(history["mse"]) == 4 and all(isinstance(m, float) for m in history["mse"])
    assert history["final_mse"] == history["mse"][-1]
    assert history["seconds"] > 0
    H = 32
    assert history["n_params"] == 4 * H * (2 + H) + 2 * 4 * H + (H + 1)  # nn.LSTM(2, H) + Linear(H, 1)
    initial, final = history["mse"][0], history["final_mse"]
    assert initial > 0.5  # an untrained model predicts ≈ 0, far from the targets' mean 1
    assert final < 0.5 * initial
    assert final < 2 * TRIVIAL_MSE


def test_train_adding_is_deterministic_and_counts_steps(one_thread):
    kw = dict(hidden_size=4, steps=5, eval_every=2, n_eval=50, batch_size=8, seed=3, device="cpu")
    a, b = train_adding("gru", 6, **kw), train_adding("gru", 6, **kw)
    assert a["steps"] == [0, 2, 4, 5]  # the last step is evaluated even off the grid
    assert a["mse"] == b["mse"]
    c = train_adding("gru", 6, **dict(kw, seed=4))
    assert c["mse"] != a["mse"]
    assert a["n_params"] == 3 * 4 * (2 + 4) + 2 * 3 * 4 + 5


@pytest.mark.parametrize("steps, eval_every", [(0, 10), (10, 0), (-1, 1)])
def test_train_adding_bad_arguments(steps, eval_every):
    with pytest.raises(ValueError, match=r"steps and eval_every must be ≥ 1"):
        train_adding("lstm", 10, steps=steps, eval_every=eval_every)


def test_train_adding_bad_cell():
    with pytest.raises(ValueError, match=r"cell must be one of"):
        train_adding("elman", 10, steps=1, device="cpu")
