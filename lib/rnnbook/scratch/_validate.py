"""Argument checks shared by the public functions of :mod:`rnnbook.scratch`.

Every check raises :class:`ValueError` with a message that names the argument,
what was expected and what was given, so that a student who passes ``(T, N, D)``
instead of ``(N, T, D)`` learns exactly that.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

PARAM_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def as_float_array(name: str, a, *, ndim: int, dims: str) -> np.ndarray:
    """Return ``a`` as a floating NumPy array with ``ndim`` dimensions.

    ``dims`` is the human-readable shape, e.g. ``"(N, T, D)"``, used in messages.
    Integer and boolean input is promoted to float64; float16/32/64 are kept.
    """
    try:
        arr = np.asarray(a)
    except Exception as exc:  # e.g. ragged nested lists
        raise ValueError(f"{name} must be an array of shape {dims}; could not convert it: {exc}") from exc
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise ValueError(f"{name} must hold real numbers of shape {dims}; got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {dims}; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.isnan(arr).any() else "infinite values"
        raise ValueError(f"{name} must be finite; it contains {bad}")
    return arr


def check_shape(name: str, arr: np.ndarray, expected: Sequence[int], dims: str) -> None:
    """Raise unless ``arr.shape == expected``; ``dims`` names the axes, e.g. ``"(N, H)"``."""
    if tuple(arr.shape) != tuple(expected):
        raise ValueError(f"{name} must have shape {dims} = {tuple(expected)}; got {tuple(arr.shape)}")


def check_params(p: Mapping[str, np.ndarray], gates: int, kind: str) -> tuple[dict, int, int]:
    """Validate a parameter dict in PyTorch's layout and return ``(p, D, H)``.

    Expected keys and shapes, with ``G = gates``:
    ``weight_ih (G*H, D)``, ``weight_hh (G*H, H)``, ``bias_ih (G*H,)``, ``bias_hh (G*H,)``.
    A wrong gate count (an LSTM dict passed to the RNN, say) is reported as such.
    """
    if not isinstance(p, Mapping):
        raise ValueError(f"p must be a dict with keys {list(PARAM_KEYS)}; got {type(p).__name__}")
    missing = [k for k in PARAM_KEYS if k not in p]
    if missing:
        raise ValueError(f"p is missing {missing}; expected keys {list(PARAM_KEYS)} (see scratch.params_from_torch)")
    w_hh = as_float_array("p['weight_hh']", p["weight_hh"], ndim=2, dims="(G*H, H)")
    H = w_hh.shape[1]
    if H == 0:
        raise ValueError("p['weight_hh'] must have at least one hidden unit; got shape " f"{w_hh.shape}")
    if w_hh.shape[0] != gates * H:
        found = w_hh.shape[0] / H
        hint = f" (that is {found:g} gates: is this the parameter dict of another cell?)" if found.is_integer() else ""
        raise ValueError(
            f"p['weight_hh'] of a {kind} must have shape (G*H, H) = ({gates * H}, {H}) with G = {gates}; "
            f"got {w_hh.shape}{hint}"
        )
    w_ih = as_float_array("p['weight_ih']", p["weight_ih"], ndim=2, dims="(G*H, D)")
    if w_ih.shape[0] != gates * H:
        raise ValueError(f"p['weight_ih'] must have shape (G*H, D) with G*H = {gates * H}; got {w_ih.shape}")
    out = {"weight_ih": w_ih, "weight_hh": w_hh}
    for key in ("bias_ih", "bias_hh"):
        b = as_float_array(f"p[{key!r}]", p[key], ndim=1, dims="(G*H,)")
        check_shape(f"p[{key!r}]", b, (gates * H,), "(G*H,)")
        out[key] = b
    return out, w_ih.shape[1], H


def result_dtype(*arrays: np.ndarray) -> np.dtype:
    """The floating dtype of a computation on ``arrays``: float32 in, float32 out."""
    return np.result_type(*arrays)


def prepare_inputs(x, states: Mapping[str, object], p: Mapping[str, np.ndarray], *, gates: int, kind: str,
                   x_ndim: int, x_name: str = "x") -> tuple[np.ndarray, list[np.ndarray], dict]:
    """Check and convert the inputs of a step (``x_ndim = 2``) or sequence (``x_ndim = 3``) function.

    ``states`` maps each state's name (``"h0"``, or ``"h_prev"`` and ``"c_prev"``…) to an (N, H) array
    or None (zeros). Returns ``x``, the states in the order given and the parameters, all in one
    floating dtype (:func:`result_dtype`), so float32 in gives float32 out.
    """
    dims = "(N, T, D)" if x_ndim == 3 else "(N, D)"
    x = as_float_array(x_name, x, ndim=x_ndim, dims=dims)
    p, D, H = check_params(p, gates=gates, kind=kind)
    N = x.shape[0]
    if x.shape[-1] != D:
        raise ValueError(
            f"{x_name} must have D = {D} features in its last axis, as p['weight_ih'] {p['weight_ih'].shape} expects; "
            f"got {x_name} of shape {x.shape}"
        )
    arrays = []
    for name, s in states.items():
        if s is None:
            s = np.zeros((N, H), dtype=x.dtype)
        else:
            s = as_float_array(name, s, ndim=2, dims="(N, H)")
            check_shape(name, s, (N, H), "(N, H)")
        arrays.append(s)
    dtype = result_dtype(x, *arrays, *p.values())
    p = {k: v.astype(dtype, copy=False) for k, v in p.items()}
    # The states are copied: a function that returns its initial state (T = 0) must not return the caller's array.
    return x.astype(dtype, copy=False), [a.astype(dtype, copy=True) for a in arrays], p


def as_grad(name: str, g, shape: Sequence[int], dims: str, dtype) -> np.ndarray:
    """An incoming gradient (``d_out``, ``d_h_T`` …): a finite float array of exactly ``shape``, in ``dtype``."""
    g = as_float_array(name, g, ndim=len(shape), dims=dims)
    check_shape(name, g, shape, dims)
    return g.astype(dtype, copy=False)


# --------------------------------------------------------------------------- one call per public function
# The public functions of rnn.py, lstm.py and gru.py check their arguments with ONE call to one of the
# helpers below, then run the readable cell functions, so that their source shows the equations.

_NAMES = {False: ("x", "h0", "c0"), True: ("x_t", "h_prev", "c_prev")}
VARIANTS = ("torch", "seed")


def rnn_inputs(x, h0, p, *, step: bool = False):
    """Checked ``(x, h0, p)`` of an RNN; ``step=True`` for ``(x_t (N, D), h_prev)``, else ``(x (N, T, D), h0)``."""
    x_name, h_name, _ = _NAMES[step]
    x, (h0,), p = prepare_inputs(x, {h_name: h0}, p, gates=1, kind="RNN", x_ndim=2 if step else 3, x_name=x_name)
    return x, h0, p


def lstm_inputs(x, state, p, *, step: bool = False):
    """Checked ``(x, (h0, c0), p)`` of an LSTM; ``state`` is a pair of (N, H) arrays (either may be None) or None."""
    x_name, h_name, c_name = _NAMES[step]
    if state is None:
        state = (None, None)
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise ValueError(
            f"the state must be a pair ({h_name}, {c_name}) of (N, H) arrays or None; got {type(state).__name__}"
        )
    x, (h0, c0), p = prepare_inputs(x, dict(zip((h_name, c_name), state)), p, gates=4, kind="LSTM",
                                    x_ndim=2 if step else 3, x_name=x_name)
    return x, (h0, c0), p


def check_variant(variant) -> None:
    """The GRU's ``variant`` must be ``"torch"`` or ``"seed"``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}")


def gru_inputs(x, h0, p, variant, *, step: bool = False):
    """Checked ``(x, h0, p)`` of a GRU, after checking ``variant``."""
    check_variant(variant)
    x_name, h_name, _ = _NAMES[step]
    x, (h0,), p = prepare_inputs(x, {h_name: h0}, p, gates=3, kind="GRU", x_ndim=2 if step else 3, x_name=x_name)
    return x, h0, p


def backward_inputs(d_out, cache, cache_type: type, forward: str, **final):
    """Check the arguments of a sequence backward function.

    ``cache`` must be a ``cache_type`` (made by the function named ``forward``), with an ``h`` of shape
    (N, T, H). Returns ``[d_out, *final]``: ``d_out`` as an (N, T, H) array in the cache's dtype, then each
    gradient of ``final`` (``d_h_T=…``, ``d_c_T=…``, in that order) as an (N, H) array, zeros for None.
    """
    if not isinstance(cache, cache_type):
        raise ValueError(f"cache must be the {cache_type.__name__} returned by {forward}; got {type(cache).__name__}")
    N, T, H = cache.h.shape
    dtype = cache.h.dtype
    out = [as_grad("d_out", d_out, (N, T, H), "(N, T, H)", dtype)]
    for name, g in final.items():
        out.append(np.zeros((N, H), dtype=dtype) if g is None else as_grad(name, g, (N, H), "(N, H)", dtype))
    return out


def step_grad(name: str, g, like: np.ndarray, *, allow_none: bool = False) -> np.ndarray:
    """A step's incoming gradient (``dh_t``, ``dc_t``): an (N, H) array shaped and typed as ``like``.

    With ``allow_none``, None gives zeros.
    """
    if g is None and allow_none:
        return np.zeros_like(like)
    g = as_float_array(name, g, ndim=2, dims="(N, H)")
    check_shape(name, g, like.shape, "(N, H)")
    return g.astype(like.dtype, copy=False)


def output_inputs(h, W_hy, b_y, activation: str):
    """Checked ``(h (..., H), W_hy (K, H), b_y (K,))`` of the output layer ``rnn_output``."""
    if activation not in ("sigmoid", "linear"):
        raise ValueError(f"activation must be 'sigmoid' or 'linear'; got {activation!r}")
    h = np.asarray(h)
    if h.ndim < 1:
        raise ValueError(f"h must have shape (..., H); got a scalar of shape {h.shape}")
    h = as_float_array("h", h, ndim=h.ndim, dims="(..., H)")
    W_hy = as_float_array("W_hy", W_hy, ndim=2, dims="(K, H)")
    if W_hy.shape[1] != h.shape[-1]:
        raise ValueError(f"W_hy must have shape (K, H) with H = {h.shape[-1]} (the last axis of h); got {W_hy.shape}")
    b_y = as_float_array("b_y", b_y, ndim=1, dims="(K,)")
    check_shape("b_y", b_y, (W_hy.shape[0],), "(K,)")
    return h, W_hy, b_y
