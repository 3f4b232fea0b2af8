"""The adding problem: a synthetic task that needs memory over many steps.

Hochreiter & Schmidhuber (1997). Each sequence has ``T`` steps of two inputs:
a random number in ``[0, 1]`` and a marker that is 1 at exactly two steps (one
in each half of the sequence) and 0 elsewhere. The target is the sum of the two
marked numbers. A model that ignores the inputs and predicts the mean, 1, has a
mean squared error of ``Var(u₁ + u₂) = 2/12 ≈ 0.167``: that is the "trivial"
error a model must beat to show that it remembers.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from rnnbook._checks import check_int

TRIVIAL_MSE = 2 / 12  # variance of the sum of two independent U(0, 1)


def adding_problem(n: int, T: int, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of the adding problem.

    Returns
    -------
    x : (n, T, 2) float32: column 0 the numbers, column 1 the two markers.
    y : (n,) float32: the sum of the two marked numbers.
    """
    check_int("n", n)
    check_int("T", T, 2)  # one marker in each half
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    values = rng.uniform(0, 1, (n, T))
    half = T // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, T, n)
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, first] = 1
    markers[rows, second] = 1
    x = np.stack([values, markers], axis=2).astype(np.float32)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    return x, y


class SequenceRegressor(nn.Module):
    """``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (batch first) and a linear readout of the last state."""

    CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

    def __init__(self, cell: str, input_size: int, hidden_size: int):
        super().__init__()
        if cell not in self.CELLS:
            raise ValueError(f"cell must be one of {sorted(self.CELLS)}; got {cell!r}")
        self.rnn = self.CELLS[cell](input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1]).squeeze(1)


def train_adding(
    cell: str,
    T: int,
    *,
    hidden_size: int = 32,
    steps: int = 1000,
    batch_size: int = 64,
    lr: float = 1e-2,
    clip: float | None = 1.0,
    eval_every: int = 50,
    n_eval: int = 1000,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> dict:
    """Train a :class:`SequenceRegressor` on fresh adding-problem batches with Adam.

    Returns
    -------
    dict with ``steps`` and ``mse`` (held-out MSE every ``eval_every`` steps, as
    lists), ``final_mse``, ``seconds`` (training time) and ``n_params``.
    """
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be ≥ 1; got {steps} and {eval_every}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = SequenceRegressor(cell, 2, hidden_size).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x_val, y_val = (torch.from_numpy(a).to(device) for a in adding_problem(n_eval, T, seed=rng))

    def evaluate() -> float:
        with torch.no_grad():
            return float(nn.functional.mse_loss(model(x_val), y_val))

    history = {"steps": [0], "mse": [evaluate()]}
    start = time.perf_counter()
    for step in range(1, steps + 1):
        x, y = (torch.from_numpy(a).to(device) for a in adding_problem(batch_size, T, seed=rng))
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if step % eval_every == 0 or step == steps:
            history["steps"].append(step)
            history["mse"].append(evaluate())
    history["seconds"] = time.perf_counter() - start
    history["final_mse"] = history["mse"][-1]
    history["n_params"] = sum(p.numel() for p in model.parameters())
    return history
