"""rnnbook: the library of the course *RNN, LSTM and GRU: from equations to code*.

Subpackages
-----------
scratch
    NumPy-only RNN (LSTM and GRU follow): forward, BPTT, gradient checking,
    conversion of parameters from and to PyTorch.
nn
    PyTorch cells written from the book's equations.
tasks
    Synthetic experiments on gradient flow (and, later, long-memory tasks).
plots
    Matplotlib figures shared by the chapters.
"""

__version__ = "0.1.0"
