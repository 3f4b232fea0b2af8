"""PyTorch modules written from the book's equations.

``RNNCell``, ``LSTMCell`` and ``GRUCell`` compute the book's equations with
plain torch operations and have the same parameters as their ``torch.nn``
namesakes, so they can share a ``state_dict`` and be compared output for
output. ``GRUCell(variant="seed")`` is the GRU of the notes, which torch lacks. (``torch.nn`` itself is
imported as ``from torch import nn`` inside this package; the names do not clash.)
"""

from rnnbook.nn.cells import RNN, GRUCell, LSTMCell, RNNCell
from rnnbook.nn.classifier import SentimentClassifier  # noqa: F401  (the sentiment lab's model)

__all__ = ["GRUCell", "LSTMCell", "RNN", "RNNCell"]
