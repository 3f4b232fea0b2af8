"""The linear recurrence ``h_t = a_t ⊙ h_{t-1} + b_t`` and the scans that compute it without a loop over t.

Drop ``h_{t-1}`` from the gates and the candidate of a GRU or an LSTM, and what is left of the
recurrence is *linear* in the state (Feng et al. 2024)::

    h_t = a_t ⊙ h_{t-1} + b_t                                   (eq-scan-linear)

One step is the pair ``(a_t, b_t)``. Two steps in a row, first ``(a_1, b_1)`` then ``(a_2, b_2)``,
are again one step of the same form, ``h ↦ a_2 ⊙ (a_1 ⊙ h + b_1) + b_2``::

    (a_1, b_1) • (a_2, b_2) = (a_1 ⊙ a_2,  a_2 ⊙ b_1 + b_2)        (eq-scan-op)

The operator ``•`` is associative, so the prefixes ``(A_t, B_t) = (a_1, b_1) • … • (a_t, b_t)`` can
be grouped in any order: that is a *scan*, and ``h_t = A_t ⊙ h_0 + B_t``. Written out::

    h_t = P_{0,t} ⊙ h_0 + Σ_{k ≤ t} P_{k,t} ⊙ b_k,   P_{k,t} = ∏_{k < j ≤ t} a_j     (eq-scan-unrolled)

Four ways to compute the prefixes, each proven equal to the loop by the tests:

* :func:`hillis_steele_scan`: ⌈log₂ T⌉ rounds, each over the whole sequence (few steps, more work);
* :func:`blelloch_scan`: an up-sweep and a down-sweep, 2·log₂ T rounds on shrinking halves (about
  2T operations in all, like the loop, but in few steps);
* :func:`chunked_recurrence`: C chunks of L steps; every chunk is reduced by a short loop, all chunks
  at once, the C reductions are scanned, and every chunk is run again from its start: 2L + log₂ C
  rounds (the fastest on a CPU: little work, few rounds, little memory);
* :func:`log_space_recurrence`: Heinsen's (2023) cumulative sums of logarithms, for ``a > 0``.

Everything is NumPy; arrays are batch first, ``a, b (N, T, H)``, ``h0 (N, H)``, and float32 in gives
float32 out. The backward pass, :func:`linear_recurrence_backward`, is itself a linear recurrence run
from the end (eq-scan-backward).
"""

from __future__ import annotations

import numpy as np

from rnnbook.scratch._validate import as_float_array, check_shape, result_dtype

#: The ``method`` of :func:`linear_recurrence`. ``"parallel"`` is :func:`chunked_recurrence`, the fastest
#: loop-free form on a CPU; the three others name their algorithm.
METHODS = ("sequential", "parallel", "hillis-steele", "blelloch", "log-space")


# --------------------------------------------------------------------------- the operator and the loop


def combine(first, second):
    """The associative operator of eq-scan-op: ``(a_1, b_1) • (a_2, b_2) = (a_1 ⊙ a_2, a_2 ⊙ b_1 + b_2)``.

    ``first`` and ``second`` are pairs of arrays of one shape (any shape, broadcasting allowed); the
    result applies ``first``, then ``second``. No argument checking: this is the equation as code.
    """
    a_1, b_1 = first
    a_2, b_2 = second
    return a_1 * a_2, a_2 * b_1 + b_2


def sequential_scan(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The prefixes ``(A_t, B_t)`` of eq-scan-op by a loop over t: T − 1 steps, one after the other.

    ``a, b (N, T, H)`` → ``A, B (N, T, H)`` with ``A_t = a_1 ⊙ … ⊙ a_t`` and ``B_t`` the state reached
    from ``h_0 = 0``. No argument checking (see :func:`linear_recurrence`).
    """
    A, B = a.copy(), b.copy()
    for t in range(1, a.shape[1]):
        A[:, t], B[:, t] = combine((A[:, t - 1], B[:, t - 1]), (a[:, t], b[:, t]))
    return A, B


# --------------------------------------------------------------------------- loop-free scans


def hillis_steele_scan(a: np.ndarray, b: np.ndarray, axis: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The prefixes of eq-scan-op by Hillis and Steele's (1986) scan: ⌈log₂ T⌉ rounds, no loop over t.

    In round k (distance ``d = 2^k``) every position ``t ≥ d`` combines its pair with the pair ``d``
    places earlier: ``(A_t, B_t) ← (A_{t−d}, B_{t−d}) • (A_t, B_t)``. After the round, position t holds
    the prefix of its last ``2d`` steps. Depth ⌈log₂ T⌉ rounds; work about ``T·log₂ T`` products.

    ``a, b`` of any shape, scanned along ``axis`` (1, the time axis of ``(N, T, H)``, by default).
    Returns new arrays ``A, B`` of the same shape. No argument checking.
    """
    A = np.moveaxis(a.copy(), axis, 0)
    B = np.moveaxis(b.copy(), axis, 0)
    T, d = A.shape[0], 1
    while d < T:
        # The right-hand sides are computed in full before they are stored: every position reads
        # the values of the previous round, as in the parallel algorithm.
        B[d:] = A[d:] * B[:-d] + B[d:]
        A[d:] = A[:-d] * A[d:]
        d *= 2
    return np.moveaxis(A, 0, axis), np.moveaxis(B, 0, axis)


def blelloch_scan(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The prefixes of eq-scan-op by Blelloch's (1990) work-efficient scan: an up-sweep, then a down-sweep.

    The sequence is padded to ``P = 2^⌈log₂ T⌉`` steps with the identity ``(1, 0)``.

    * Up-sweep, for ``d = 1, 2, 4, … P/2``: the right end of every block of ``2d`` steps takes the
      reduction of its block, ``x[r] ← x[r − d] • x[r]``. The last position then holds the whole product.
    * Down-sweep, for ``d = P/2, … 2, 1``: starting from the identity at the last position, every block
      passes its *exclusive* prefix ``E`` (all the steps before it) down to its halves: the left half gets
      ``E``, the right half gets ``E • (reduction of the left half)``.

    ``E_t • (a_t, b_t)`` is then the inclusive prefix. Depth 2·log₂ P rounds; work about 2P products,
    like the loop. ``a, b (N, T, H)`` → ``A, B (N, T, H)``. No argument checking.
    """
    N, T, H = a.shape
    P = 1 << max(T - 1, 0).bit_length()
    A = np.ones((N, P, H), dtype=a.dtype)
    B = np.zeros((N, P, H), dtype=b.dtype)
    A[:, :T], B[:, :T] = a, b
    d = 1
    while d < P:  # up-sweep: x[r] ← x[r − d] • x[r], for r = 2d − 1, 4d − 1, …
        r = slice(2 * d - 1, P, 2 * d)
        left = slice(d - 1, P, 2 * d)
        A[:, r], B[:, r] = combine((A[:, left], B[:, left]), (A[:, r], B[:, r]))
        d *= 2
    A[:, -1], B[:, -1] = 1, 0  # the exclusive prefix of the whole sequence: the identity
    d = P // 2
    while d >= 1:  # down-sweep: left ← E, right ← E • (old left)
        r = slice(2 * d - 1, P, 2 * d)
        left = slice(d - 1, P, 2 * d)
        E_A, E_B = A[:, r].copy(), B[:, r].copy()
        A[:, r], B[:, r] = combine((E_A, E_B), (A[:, left], B[:, left]))
        A[:, left], B[:, left] = E_A, E_B
        d //= 2
    return combine((A[:, :T], B[:, :T]), (a, b))  # exclusive prefix, then the step itself


def chunked_recurrence(a: np.ndarray, b: np.ndarray, h0: np.ndarray, chunk: int | None = None) -> np.ndarray:
    """eq-scan-linear in chunks, as C processors would compute it: reduce, scan, then rescan (Blelloch 1990).

    Cut the T steps into ``C`` chunks of ``L = chunk`` steps (the ``T mod L`` steps left over at the end
    are run by a short loop).

    1. **Reduce.** Every chunk combines its L pairs into one, ``(a_1, b_1) • … • (a_L, b_L)`` (eq-scan-op).
       All C chunks advance together: position ℓ of every chunk is one NumPy operation, so this loop has
       L rounds, not T.
    2. **Scan** the C reductions (:func:`hillis_steele_scan`, ⌈log₂ C⌉ rounds). The prefix up to chunk
       c − 1, applied to ``h_0``, is the state at which chunk c starts.
    3. **Rescan.** Every chunk runs eq-scan-linear from its own start state, all chunks together: L rounds.

    Sequential rounds: ``2L + ⌈log₂ C⌉`` (134 for T = 4096 and L = 64) instead of T. Work: about 2T
    products and sums per unit, like the loop twice, plus the small scan. Nothing is allocated but the
    output and a few (N, C, H) arrays, because on a CPU fresh memory costs more than these few products.

    ``a, b (N, T, H)``, ``h0 (N, H)`` → ``h (N, T, H)``. ``chunk`` defaults to about √T (a power of two).
    No argument checking.
    """
    N, T, H = a.shape
    L = chunk if chunk is not None else 1 << max(int(np.sqrt(max(T, 1))).bit_length() - 1, 0)
    C = T // L
    full = C * L
    a4, b4 = a[:, :full].reshape(N, C, L, H), b[:, :full].reshape(N, C, L, H)  # views: chunk c, position ℓ
    h = np.empty_like(b)
    h_t = h0.copy()
    if C:
        # 1. Reduce: (A, B) ← (A, B) • (a, b)[ℓ] for ℓ = 2 … L, every chunk at once, in place.
        A, B = a4[:, :, 0].copy(), b4[:, :, 0].copy()
        for l in range(1, L):
            B *= a4[:, :, l]
            B += b4[:, :, l]
            A *= a4[:, :, l]
        # 2. Scan the reductions; chunk c starts from the state the chunks before it reach from h_0.
        A, B = hillis_steele_scan(A, B, axis=1)
        h_t = np.empty((N, C, H), dtype=b.dtype)
        h_t[:, 0] = h0
        h_t[:, 1:] = A[:, :-1] * h0[:, None] + B[:, :-1]
        # 3. Rescan: eq-scan-linear inside every chunk, from its start state.
        h4 = h[:, :full].reshape(N, C, L, H)
        for l in range(L):
            h_t *= a4[:, :, l]
            h_t += b4[:, :, l]
            h4[:, :, l] = h_t
        h_t = h_t[:, -1]
    for t in range(full, T):  # the T mod L steps after the last whole chunk
        h_t = a[:, t] * h_t + b[:, t]
        h[:, t] = h_t
    return h


def log_space_recurrence(a: np.ndarray, b: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """eq-scan-unrolled in log space (Heinsen 2023), eq-scan-log: cumulative sums of logarithms, for ``a > 0``.

    With ``log A_t = Σ_{j ≤ t} log a_j`` (a cumulative sum), eq-scan-unrolled reads
    ``h_t = A_t ⊙ (h_0 + Σ_{k ≤ t} b_k / A_k)``. The sum is taken in log space, where a running
    ``log Σ exp`` (``np.logaddexp.accumulate``) cannot overflow, separately for the positive and the
    negative ``b_k``, because a logarithm needs a positive argument::

        h_t = exp(log A_t) ⊙ h_0 + exp(log A_t + S⁺_t) − exp(log A_t + S⁻_t),
        S^±_t = log Σ_{k ≤ t} exp(log b^±_k − log A_k)

    with ``b⁺ = max(b, 0)`` and ``b⁻ = max(−b, 0)``. Exact in exact arithmetic. In floating point,
    ``log A_t + S_t`` subtracts two numbers of size about ``|log A_t|``, so the relative error grows
    like ``|log A_t|`` times the machine epsilon: fine for gates near 1, worse for long runs of small
    ``a``; and the difference of the two exponentials loses digits when both are large.

    ``a, b (N, T, H)`` with ``a > 0``, ``h0 (N, H)`` → ``h (N, T, H)``. No argument checking.
    """
    log_A = np.cumsum(np.log(a), axis=1)
    h = np.exp(log_A) * h0[:, None]
    with np.errstate(divide="ignore"):  # log 0 = −inf is meant: a part that is zero adds nothing
        for sign, part in ((1, np.maximum(b, 0)), (-1, np.maximum(-b, 0))):
            S = np.logaddexp.accumulate(np.log(part) - log_A, axis=1)
            h = h + sign * np.exp(log_A + S)
    return h


# --------------------------------------------------------------------------- the public functions, checked


def _check_method(method) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")


def _recurrence_inputs(a, b, h0, names=("a", "b", "h0")) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked ``a, b (N, T, H)`` and ``h0 (N, H)`` (zeros for None), in one floating dtype."""
    a_name, b_name, h_name = names
    a = as_float_array(a_name, a, ndim=3, dims="(N, T, H)")
    b = as_float_array(b_name, b, ndim=3, dims="(N, T, H)")
    check_shape(b_name, b, a.shape, f"(N, T, H), as {a_name}")
    N, _, H = a.shape
    if h0 is None:
        h0 = np.zeros((N, H), dtype=result_dtype(a, b))
    else:
        h0 = as_float_array(h_name, h0, ndim=2, dims="(N, H)")
        check_shape(h_name, h0, (N, H), "(N, H)")
    dtype = result_dtype(a, b, h0)
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False), h0.astype(dtype, copy=False)


def _recurrence(a: np.ndarray, b: np.ndarray, h0: np.ndarray, method: str) -> np.ndarray:
    """eq-scan-linear for checked arguments: ``h (N, T, H)``."""
    if a.shape[1] == 0:
        return np.empty_like(b)
    if method == "sequential":  # the loop, written like the equation
        h = np.empty_like(b)
        h_t = h0
        for t in range(a.shape[1]):
            h_t = a[:, t] * h_t + b[:, t]  # eq-scan-linear
            h[:, t] = h_t
        return h
    if method == "log-space":
        return log_space_recurrence(a, b, h0)
    if method == "parallel":
        return chunked_recurrence(a, b, h0)
    A, B = {"hillis-steele": hillis_steele_scan, "blelloch": blelloch_scan}[method](a, b)
    return A * h0[:, None] + B  # h_t = A_t ⊙ h_0 + B_t


def linear_recurrence(a, b, h0=None, *, method: str = "sequential") -> np.ndarray:
    """``h_t = a_t ⊙ h_{t-1} + b_t`` for t = 1 … T (eq-scan-linear), by a loop or by a scan (eq-scan-op).

    Parameters
    ----------
    a : (N, T, H) the factors ``a_t`` (for minGRU, ``1 − z_t``; for minLSTM, ``f'_t``).
    b : (N, T, H) the inputs ``b_t``.
    h0 : (N, H) the initial state, or None for zeros.
    method : ``"sequential"`` (a loop over the T steps), ``"parallel"`` (:func:`chunked_recurrence`: no loop
        over t, the fastest loop-free form on a CPU), ``"hillis-steele"`` (:func:`hillis_steele_scan`),
        ``"blelloch"`` (:func:`blelloch_scan`) or ``"log-space"`` (:func:`log_space_recurrence`, which
        needs ``a > 0``). All give the same ``h`` up to rounding.

    Returns
    -------
    h : (N, T, H) the states ``h_1 … h_T``, in the dtype of the arguments (float32 in, float32 out).

    Examples
    --------
    >>> a = np.full((1, 3, 1), 0.5); b = np.ones((1, 3, 1))
    >>> linear_recurrence(a, b, method="parallel")[0, :, 0]
    array([1.  , 1.5 , 1.75])
    """
    _check_method(method)
    a, b, h0 = _recurrence_inputs(a, b, h0)
    if method == "log-space" and not np.all(a > 0):
        raise ValueError(f"a must be > 0 everywhere for method='log-space' (it takes log a); got min(a) = {a.min():g}")
    return _recurrence(a, b, h0, method)


def _recurrence_backward(d_h: np.ndarray, a: np.ndarray, h: np.ndarray, h0: np.ndarray, method: str):
    """eq-scan-backward for checked arguments: ``(d_a, d_b, d_h0)``."""
    N, T, H = a.shape
    if T == 0:
        return np.zeros_like(a), np.zeros_like(a), np.zeros_like(h0)
    # g_t = δ_t + a_{t+1} ⊙ g_{t+1}: the same recurrence, read from t = T down to 1, with factors a_{t+1}.
    a_next = np.concatenate([a[:, 1:], np.zeros_like(a[:, :1])], axis=1)
    g = _recurrence(a_next[:, ::-1], d_h[:, ::-1], np.zeros_like(h0), "sequential" if method == "sequential"
                    else "parallel")[:, ::-1]
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # h_0 … h_{T-1}
    return g * h_prev, g, a[:, 0] * g[:, 0]


def linear_recurrence_backward(d_h, a, h, h0=None, *, method: str = "sequential"):
    """Gradients of :func:`linear_recurrence`: a linear recurrence run backwards in time (eq-scan-backward).

    ``h_t`` reaches the loss directly (``δ_t = d_h[:, t]``) and through ``h_{t+1} = a_{t+1} ⊙ h_t + …``,
    so the total gradient ``g_t = ∂L/∂h_t`` obeys::

        g_t = δ_t + a_{t+1} ⊙ g_{t+1},   g_T = δ_T                      (eq-scan-backward)

    which is eq-scan-linear read from the end, with factors ``a_{t+1}``: the same scan computes it. Then
    ``∂L/∂b_t = g_t``, ``∂L/∂a_t = g_t ⊙ h_{t−1}`` and ``∂L/∂h_0 = a_1 ⊙ g_1``.

    Parameters
    ----------
    d_h : (N, T, H) gradient of the loss with respect to every state ``h_t``.
    a : (N, T, H) the factors of the forward pass.
    h : (N, T, H) the states it returned.
    h0 : (N, H) its initial state, or None for zeros.
    method : ``"sequential"`` (a loop) or any loop-free method of :func:`linear_recurrence` (the reverse
        recurrence then uses ``"parallel"``, since its factors ``a_{t+1}`` end in a 0 that log space cannot take).

    Returns
    -------
    d_a, d_b : (N, T, H).   d_h0 : (N, H).
    """
    _check_method(method)
    a, d_h, h0 = _recurrence_inputs(a, d_h, h0, names=("a", "d_h", "h0"))
    h = as_float_array("h", h, ndim=3, dims="(N, T, H)")
    check_shape("h", h, a.shape, "(N, T, H), as a")
    return _recurrence_backward(d_h, a, h.astype(a.dtype, copy=False), h0, method)
