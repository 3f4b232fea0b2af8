"""Synthetic experiments: gradient flow through time and the adding problem."""

from rnnbook.tasks.gradient_flow import (
    gradient_norms_over_time,
    matrix_with_singular_value,
    nonnormal_matrix,
    rnn_params,
)
from rnnbook.tasks.long_memory import TRIVIAL_MSE, SequenceRegressor, adding_problem, train_adding

__all__ = [
    "TRIVIAL_MSE",
    "SequenceRegressor",
    "adding_problem",
    "gradient_norms_over_time",
    "matrix_with_singular_value",
    "nonnormal_matrix",
    "rnn_params",
    "train_adding",
]
