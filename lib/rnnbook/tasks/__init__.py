"""Synthetic experiments: gradient flow through time (and, later, long-memory tasks)."""

from rnnbook.tasks.gradient_flow import (
    gradient_norms_over_time,
    matrix_with_singular_value,
    nonnormal_matrix,
    rnn_params,
)

__all__ = ["gradient_norms_over_time", "matrix_with_singular_value", "nonnormal_matrix", "rnn_params"]
