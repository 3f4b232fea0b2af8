"""Matplotlib figures that more than one chapter draws.

Each function draws on an ``ax`` it is given (or a new one) and returns it,
so a notebook can place figures side by side and add its own annotations.
"""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    return ax


def plot_gradient_norms(curves: Mapping[str, np.ndarray], ax=None, title: str | None = None):
    """Plot ``‖∂L/∂h_t‖`` against the number of steps back, ``T − t``, on a log scale.

    Parameters
    ----------
    curves : dict label → (T,) array of norms for t = 1 … T (the last entry is
        the step that carries the loss), e.g. from
        :func:`rnnbook.tasks.gradient_norms_over_time`.
    ax : matplotlib Axes, or None for a new figure.
    title : optional title.

    Returns
    -------
    The Axes.
    """
    ax = _axes(ax)
    for label, norms in curves.items():
        norms = np.asarray(norms, dtype=float)
        if norms.ndim != 1:
            raise ValueError(f"curves[{label!r}] must be a 1-D array of shape (T,); got shape {norms.shape}")
        steps_back = np.arange(norms.size)[::-1]
        ax.semilogy(steps_back, norms, label=label)
    ax.set_xlabel("steps back from the loss, $T - t$")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|_2$")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False, fontsize="small")
    if title:
        ax.set_title(title)
    return ax


# The cell pictures live in their own module; the chapters reach them here.
from rnnbook.cell_diagrams import gru_cell_diagram, lstm_cell_diagram  # noqa: E402

__all__ = ["plot_gradient_norms", "lstm_cell_diagram", "gru_cell_diagram"]
