"""From-scratch recurrent networks in NumPy: forward, BPTT, gradient checks.

Everything here is NumPy only (no torch import anywhere in this package), and
every function that computes an equation of the book names its label
(``eq-rnn-hidden``, ``eq-bptt-delta`` …) in its docstring. Shapes are batch
first: ``x (N, T, D)``, states ``(N, H)``, outputs ``(N, T, H)``; parameters are
dicts in PyTorch's layout (see :func:`params_from_torch`).
"""

from rnnbook.scratch.activations import (
    sigmoid,
    sigmoid_derivative,
    sigmoid_grad_from_output,
    tanh,
    tanh_derivative,
    tanh_grad_from_output,
)
from rnnbook.scratch.gradcheck import check_gradients, numerical_gradient, relative_error
from rnnbook.scratch.gradient_flow import clip_grad_norm, jacobian_norm_bound, rnn_state_jacobian
from rnnbook.scratch.params import GATE_ORDER, GATES, module_kind, params_from_torch, params_to_torch
from rnnbook.scratch.rnn import (
    RNNCache,
    bptt_hidden_grads,
    rnn_backward,
    rnn_forward,
    rnn_output,
    rnn_step_backward,
    rnn_step_forward,
)

__all__ = [
    "GATES",
    "GATE_ORDER",
    "RNNCache",
    "bptt_hidden_grads",
    "check_gradients",
    "clip_grad_norm",
    "jacobian_norm_bound",
    "module_kind",
    "numerical_gradient",
    "params_from_torch",
    "params_to_torch",
    "relative_error",
    "rnn_backward",
    "rnn_forward",
    "rnn_output",
    "rnn_state_jacobian",
    "rnn_step_backward",
    "rnn_step_forward",
    "sigmoid",
    "sigmoid_derivative",
    "sigmoid_grad_from_output",
    "tanh",
    "tanh_derivative",
    "tanh_grad_from_output",
]
