"""Parameters in PyTorch's layout, read from and written to torch modules.

A parameter dict holds four arrays named like PyTorch's attributes, without
the layer suffix ``_l0``::

    weight_ih (G*H, D)   weight_hh (G*H, H)   bias_ih (G*H,)   bias_hh (G*H,)

with ``G = 1`` for the RNN, ``4`` for the LSTM (gates stacked i, f, g, o) and
``3`` for the GRU (r, z, n). Keeping PyTorch's layout, rather than CS231n's
``(D, 4H)`` with gates i, f, o, g, is what lets every scratch result be
compared with the framework's element by element.

This module never imports torch: it reads tensors through their own methods
(``detach().cpu().numpy()``, ``new_tensor``), so :mod:`rnnbook.scratch` stays
NumPy-only and still converts any torch module it is handed.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from rnnbook.scratch._validate import PARAM_KEYS, check_params
from rnnbook.scratch.min_cells import MIN_PARAM_KEYS

#: Gate count G of each recurrent family, and the gate order of its rows.
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
GATE_ORDER = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}

_LAYERS = {"RNN": "rnn", "LSTM": "lstm", "GRU": "gru"}
_CELLS = {"RNNCell": "rnn", "LSTMCell": "lstm", "GRUCell": "gru"}
# The minimal cells of rnnbook.nn (Chapter 6): their own parameter names, not the stacked layout.
_MINIMAL = {"MinGRU": "mingru", "MinLSTM": "minlstm"}


def module_kind(module) -> tuple[str, bool]:
    """Return ``(family, is_cell)`` of a torch recurrent module, e.g. ``("lstm", False)``.

    Accepts ``nn.RNN``, ``nn.LSTM``, ``nn.GRU``, ``nn.RNNCell``, ``nn.LSTMCell``,
    ``nn.GRUCell`` and their subclasses, and ``rnnbook.nn.MinGRU`` / ``MinLSTM``
    (``("mingru", False)``, ``("minlstm", False)``); raises ``ValueError`` for anything else.
    """
    for cls in type(module).__mro__:
        if cls.__module__.startswith("rnnbook.nn") and cls.__name__ in _MINIMAL:
            return _MINIMAL[cls.__name__], False
        if cls.__module__.startswith("torch.nn") and cls.__name__ in _LAYERS:
            return _LAYERS[cls.__name__], False
        if cls.__module__.startswith("torch.nn") and cls.__name__ in _CELLS:
            return _CELLS[cls.__name__], True
    raise ValueError(
        "module must be a torch nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell, "
        "or rnnbook.nn.MinGRU or MinLSTM; "
        f"got {type(module).__name__}"
    )


def _check_supported(module, family: str, is_cell: bool) -> None:
    if is_cell:
        nonlinearity = getattr(module, "nonlinearity", "tanh")
    else:
        if module.num_layers != 1:
            raise ValueError(f"module must have num_layers = 1 (convert one layer at a time); got {module.num_layers}")
        if module.bidirectional:
            raise ValueError("module must have bidirectional = False (convert each direction separately); got True")
        if getattr(module, "proj_size", 0):
            raise ValueError(f"module must have proj_size = 0 (LSTM projections are not covered); got {module.proj_size}")
        nonlinearity = getattr(module, "nonlinearity", "tanh")
    if family == "rnn" and nonlinearity != "tanh":
        raise ValueError(f"module must use nonlinearity = 'tanh' (the notes' RNN); got {nonlinearity!r}")


def _attr_names(is_cell: bool) -> dict[str, str]:
    suffix = "" if is_cell else "_l0"
    return {key: key + suffix for key in PARAM_KEYS}


def params_from_torch(module, dtype=np.float64) -> dict[str, np.ndarray]:
    """Copy the parameters of a one-layer, one-direction torch RNN/LSTM/GRU (or cell), or of a minimal cell.

    Parameters
    ----------
    module : nn.RNN, nn.LSTM, nn.GRU (``num_layers=1``, not bidirectional,
        no projection) or nn.RNNCell, nn.LSTMCell, nn.GRUCell; or ``rnnbook.nn.MinGRU``
        / ``MinLSTM``, whose dicts keep the modules' own names (``weight_z (H, D)``, ``bias_z (H,)``,
        ``weight_h``, ``bias_h``; ``weight_f``, ``bias_f``, ``weight_i``, ``bias_i``, ``weight_h``,
        ``bias_h``), as :func:`rnnbook.scratch.mingru_forward` and ``minlstm_forward`` read them.
    dtype : NumPy floating dtype of the copies, float64 by default, because
        the equivalence checks of the book are made in float64.

    Returns
    -------
    dict with ``weight_ih (G*H, D)``, ``weight_hh (G*H, H)``, ``bias_ih (G*H,)``,
    ``bias_hh (G*H,)``: new arrays, so changing them leaves the module alone.
    A module built with ``bias=False`` gives zero biases, which compute the same.

    Examples
    --------
    >>> import torch
    >>> p = params_from_torch(torch.nn.LSTM(3, 5))
    >>> p["weight_ih"].shape, p["weight_hh"].shape
    ((20, 3), (20, 5))
    """
    family, is_cell = module_kind(module)
    if family in MIN_PARAM_KEYS:
        return {key: getattr(module, key).detach().cpu().numpy().astype(dtype, copy=True)
                for key in MIN_PARAM_KEYS[family]}
    _check_supported(module, family, is_cell)
    H, G = module.hidden_size, GATES[family]
    p = {}
    for key, attr in _attr_names(is_cell).items():
        tensor = getattr(module, attr, None)
        if tensor is None:  # bias=False
            p[key] = np.zeros(G * H, dtype=dtype)
        else:
            p[key] = tensor.detach().cpu().numpy().astype(dtype, copy=True)
    return p


def params_to_torch(p: Mapping[str, np.ndarray], module) -> None:
    """Write a parameter dict into a torch module of the same kind and sizes, in place.

    The inverse of :func:`params_from_torch`: after ``params_to_torch(p, m)``,
    ``params_from_torch(m)`` equals ``p`` (up to the module's dtype). Shapes must
    match the module's exactly; a module with ``bias=False`` accepts only zero biases.
    """
    family, is_cell = module_kind(module)
    keys = MIN_PARAM_KEYS.get(family, PARAM_KEYS)
    if not isinstance(p, Mapping):
        raise ValueError(f"p must be a dict with keys {list(keys)}; got {type(p).__name__}")
    if family in MIN_PARAM_KEYS:
        names = {key: key for key in keys}
    else:
        _check_supported(module, family, is_cell)
        names = _attr_names(is_cell)
    for key, attr in names.items():
        if key not in p:
            raise ValueError(f"p is missing {key!r}; expected keys {list(keys)}")
        value = np.asarray(p[key])
        tensor = getattr(module, attr, None)
        if tensor is None:
            if np.any(value != 0):
                raise ValueError(f"p[{key!r}] must be zero for a module built with bias=False")
            continue
        if tuple(value.shape) != tuple(tensor.shape):
            raise ValueError(f"p[{key!r}] must have shape {tuple(tensor.shape)} to fit this module; got {value.shape}")
        # .data: a plain copy that autograd does not record, like torch.no_grad().
        tensor.data.copy_(tensor.new_tensor(value))


# --------------------------------------------------------------------------- the notes' concatenated form

#: The notes' gate names, in PyTorch's row order: LSTM i, f, g (= C̃), o; GRU r, z, n (= h̃).
NOTES_GATES = {"lstm": ("i", "f", "C", "o"), "gru": ("r", "z", "h")}


def params_from_concat(weights: Mapping[str, np.ndarray], biases: Mapping[str, np.ndarray], kind: str) -> dict[str, np.ndarray]:
    """Convert the notes' one-matrix-per-gate form to PyTorch's stacked layout.

    The notes write each gate as ``W_f · [h_{t-1}, x_t] + b_f`` with ``W_f`` of
    shape ``(H, H + D)``: the first ``H`` columns multiply ``h_{t-1}``, the
    last ``D`` multiply ``x_t``. So ``W_hf = W_f[:, :H]`` and ``W_if = W_f[:, H:]``,
    and PyTorch stacks the gates' rows in its own order.

    Parameters
    ----------
    weights : dict gate → ``(H, H + D)`` array; gates ``f, i, C, o`` for an LSTM,
        ``z, r, h`` for a GRU (the GRU's ``W_h`` multiplies ``[r_t ⊙ h_{t-1}, x_t]``).
    biases : dict gate → ``(H,)`` array, same keys.
    kind : ``"lstm"`` or ``"gru"``.

    Returns
    -------
    Parameter dict in PyTorch's layout (``G = 4`` or ``3``); the notes' single bias
    goes to ``bias_ih`` and ``bias_hh`` is zero, which computes the same.
    """
    if kind not in NOTES_GATES:
        raise ValueError(f"kind must be one of {sorted(NOTES_GATES)}; got {kind!r}")
    gates = NOTES_GATES[kind]
    for name, d in (("weights", weights), ("biases", biases)):
        if not isinstance(d, Mapping) or sorted(d) != sorted(gates):
            got = sorted(d) if isinstance(d, Mapping) else type(d).__name__
            raise ValueError(f"{name} must be a dict with the {kind.upper()} gates {list(gates)}; got {got}")
    first = np.asarray(weights[gates[0]])
    if first.ndim != 2 or first.shape[1] <= first.shape[0]:
        raise ValueError(f"weights[{gates[0]!r}] must have shape (H, H + D) with D ≥ 1; got {first.shape}")
    H, D = first.shape[0], first.shape[1] - first.shape[0]
    W_ih, W_hh, b = [], [], []
    for g in gates:
        W = np.asarray(weights[g])
        if W.shape != (H, H + D):
            raise ValueError(f"weights[{g!r}] must have shape (H, H + D) = {(H, H + D)}; got {W.shape}")
        bias = np.asarray(biases[g])
        if bias.shape != (H,):
            raise ValueError(f"biases[{g!r}] must have shape (H,) = ({H},); got {bias.shape}")
        W_hh.append(W[:, :H])  # multiplies h_{t-1} (or r_t ⊙ h_{t-1})
        W_ih.append(W[:, H:])  # multiplies x_t
        b.append(bias)
    dtype = np.result_type(*W_ih, *b, np.float32)
    bias_ih = np.concatenate(b).astype(dtype)
    return {
        "weight_ih": np.concatenate(W_ih).astype(dtype),
        "weight_hh": np.concatenate(W_hh).astype(dtype),
        "bias_ih": bias_ih,
        "bias_hh": np.zeros_like(bias_ih),
    }


def _check_kind_and_params(p, kind: str):
    """``(p, gates, H)``: ``p`` checked as the parameters of a ``kind`` cell, and that cell's gate names."""
    if kind not in NOTES_GATES:
        raise ValueError(f"kind must be one of {sorted(NOTES_GATES)}; got {kind!r}")
    gates = NOTES_GATES[kind]
    p, _, H = check_params(p, gates=len(gates), kind=kind.upper())
    return p, gates, H


def params_to_concat(p: Mapping[str, np.ndarray], kind: str):
    """The inverse of :func:`params_from_concat`: ``(weights, biases)`` in the notes' form.

    Each gate's matrix is ``[W_h· | W_i·]`` of shape ``(H, H + D)`` and its bias
    is ``bias_ih + bias_hh``. For a GRU this is exact for the notes' variant
    (``variant="seed"``), where ``b_hn`` adds to ``b_in``; in PyTorch's variant
    ``b_hn`` sits inside ``r ⊙ (W_hn h + b_hn)`` and has no place in the notes' form.
    """
    p, gates, H = _check_kind_and_params(p, kind)
    b = p["bias_ih"] + p["bias_hh"]
    weights, biases = {}, {}
    for k, g in enumerate(gates):
        rows = slice(k * H, (k + 1) * H)
        weights[g] = np.concatenate([p["weight_hh"][rows], p["weight_ih"][rows]], axis=1)
        biases[g] = b[rows].copy()
    return weights, biases
