"""PyTorch modules written from the book's equations.

``rnnbook.nn.RNNCell`` computes eq-rnn-hidden with plain torch operations and
has the same parameters as ``torch.nn.RNNCell``, so the two can share a
``state_dict`` and be compared output for output. (``torch.nn`` itself is
imported as ``from torch import nn`` inside this package; the names do not clash.)
"""

from rnnbook.nn.cells import RNN, RNNCell

__all__ = ["RNN", "RNNCell"]
