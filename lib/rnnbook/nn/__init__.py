"""PyTorch modules written from the book's equations.

``RNNCell``, ``LSTMCell`` and ``GRUCell`` compute the book's equations with
plain torch operations and have the same parameters as their ``torch.nn``
namesakes, so they can share a ``state_dict`` and be compared output for
output. ``GRUCell(variant="seed")`` is the GRU of the notes, which torch lacks. ``MinGRU`` and
``MinLSTM`` (Chapter 6) are the minimal cells, whose recurrence runs as a loop or as a scan. (``torch.nn`` itself is
imported as ``from torch import nn`` inside this package; the names do not clash.)
"""

from rnnbook.nn.cells import RNN, GRUCell, LSTMCell, RNNCell
from rnnbook.nn.min_cells import MinGRU, MinLSTM
from rnnbook.nn.classifier import SentimentClassifier  # noqa: F401  (the sentiment lab's model)

__all__ = ["GRUCell", "LSTMCell", "MinGRU", "MinLSTM", "RNN", "RNNCell"]
