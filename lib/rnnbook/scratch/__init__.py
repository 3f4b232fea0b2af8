"""From-scratch recurrent networks in NumPy: forward, BPTT, gradient checks.

The RNN, the LSTM (gates i, f, g, o) and the GRU (r, z, n; PyTorch's variant
and the notes') each have one-step *cell* functions written like the equations
(``rnn_cell``, ``lstm_cell``, ``gru_cell`` and their ``*_backward``), checked step
functions, and sequence forward and backward functions that loop the cells
(``lstm_fast`` holds the LSTM arranged for speed);
minGRU and minLSTM (``scratch.min_cells``), whose recurrence is linear, run by a loop or by the scans of
``scratch.scan`` (:func:`linear_recurrence`);
dropout (both forms), binary cross-entropy and the metrics of Chapter 5 (``scratch.metrics``) complete what the notes' classifier needs.
That classifier itself, NumPy from end to end (forward and backward), is :class:`NumpyLSTMClassifier`,
with its embedding layer in ``scratch.embedding`` and :class:`optim.Adam` (equal to ``torch.optim.Adam``);
the lab's one training loop, :func:`rnnbook.lab.train.fit`, trains it.
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
from rnnbook.scratch import metrics
from rnnbook.scratch import optim
from rnnbook.scratch.classifier import NumpyLSTMClassifier
from rnnbook.scratch.embedding import embedding_backward, embedding_forward
from rnnbook.scratch.dropout import dropout_backward, dropout_forward, dropout_mask, sequence_dropout_mask
from rnnbook.scratch.gradcheck import check_gradients, numerical_gradient, relative_error
from rnnbook.scratch.gradient_flow import clip_grad_norm, jacobian_norm_bound, rnn_state_jacobian
from rnnbook.scratch.gru import (
    GRUCache,
    gru_backward,
    gru_cell,
    gru_cell_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    negate_update_gate,
)
from rnnbook.scratch.losses import bce, bce_grad, bce_with_logits, bce_with_logits_grad
from rnnbook.scratch.lstm import (
    LSTMCache,
    lstm_backward,
    lstm_cell,
    lstm_cell_backward,
    lstm_forward,
    lstm_hidden_grads,
    lstm_step_backward,
    lstm_step_forward,
)
from rnnbook.scratch import lstm_fast
from rnnbook.scratch.lstm_fast import LSTMFastCache, lstm_backward_fast, lstm_forward_fast
from rnnbook.scratch.min_cells import (
    MIN_PARAM_KEYS,
    MinCache,
    mingru_backward,
    mingru_forward,
    minlstm_backward,
    minlstm_forward,
)
from rnnbook.scratch import scan
from rnnbook.scratch.scan import linear_recurrence, linear_recurrence_backward
from rnnbook.scratch.optim import SGD, Adam
from rnnbook.scratch.params import (
    GATE_ORDER,
    GATES,
    NOTES_GATES,
    module_kind,
    params_from_concat,
    params_from_torch,
    params_to_concat,
    params_to_torch,
)
from rnnbook.scratch.rnn import (
    RNNCache,
    bptt_hidden_grads,
    rnn_backward,
    rnn_cell,
    rnn_cell_backward,
    rnn_forward,
    rnn_output,
    rnn_step_backward,
    rnn_step_forward,
)

__all__ = [
    "Adam",
    "GATES",
    "GATE_ORDER",
    "GRUCache",
    "LSTMCache",
    "LSTMFastCache",
    "MIN_PARAM_KEYS",
    "MinCache",
    "NOTES_GATES",
    "NumpyLSTMClassifier",
    "RNNCache",
    "SGD",
    "bce",
    "bce_grad",
    "bce_with_logits",
    "bce_with_logits_grad",
    "bptt_hidden_grads",
    "check_gradients",
    "clip_grad_norm",
    "dropout_backward",
    "dropout_forward",
    "dropout_mask",
    "embedding_backward",
    "embedding_forward",
    "gru_backward",
    "gru_cell",
    "gru_cell_backward",
    "gru_forward",
    "gru_step_backward",
    "gru_step_forward",
    "jacobian_norm_bound",
    "linear_recurrence",
    "linear_recurrence_backward",
    "lstm_backward",
    "lstm_backward_fast",
    "lstm_cell",
    "lstm_cell_backward",
    "lstm_fast",
    "lstm_forward",
    "lstm_forward_fast",
    "lstm_hidden_grads",
    "lstm_step_backward",
    "lstm_step_forward",
    "metrics",
    "mingru_backward",
    "mingru_forward",
    "minlstm_backward",
    "minlstm_forward",
    "module_kind",
    "negate_update_gate",
    "numerical_gradient",
    "optim",
    "params_from_concat",
    "params_from_torch",
    "params_to_concat",
    "params_to_torch",
    "relative_error",
    "rnn_backward",
    "rnn_cell",
    "rnn_cell_backward",
    "rnn_forward",
    "rnn_output",
    "rnn_state_jacobian",
    "rnn_step_backward",
    "rnn_step_forward",
    "scan",
    "sequence_dropout_mask",
    "sigmoid",
    "sigmoid_derivative",
    "sigmoid_grad_from_output",
    "tanh",
    "tanh_derivative",
    "tanh_grad_from_output",
]
