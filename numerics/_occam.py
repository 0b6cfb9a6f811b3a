"""Numeric inverses of the Occam bound (claims ``occam-kl``, ``occam-binomial``): the formulas come from ``theory``.

``kl_inverse(q, c)`` is the upper inverse of the binary kl divergence, ``binomial_tail_inverse`` Langford's exact
binomial tail inversion (in log space: the target ``delta 2^-bits / G`` underflows double precision for codes of
more than ~1000 bits), and ``occam_bound`` puts them together for one coded hypothesis.  All error rates are
probabilities of error (not log10); code lengths are in bits; right-hand sides ``c`` are nats per example.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import logsumexp

import theory

#: bisection steps: the bracket [q, 1] shrinks to 2^-110 < 1e-33, far below the 1e-12 asked of the inverse
_STEPS = 110


def _as_array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real number or an array of real numbers (got {value!r})") from exc
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not be NaN")
    return arr


def kl_inverse(q, c):
    """occam-kl: the largest p in [q, 1] with kl(q || p) <= c (the upper inverse of the binary kl divergence).

    ``q``: empirical error rate(s) in [0, 1]; ``c``: right-hand side(s) in nats, >= 0 (``inf`` gives 1); both
    broadcast.  Returns a float (scalar inputs) or an array of the broadcast shape: a probability of error.
    q = 0 uses the exact inverse 1 - exp(-c) (``theory.kl_inverse_at_zero``, evaluated as -expm1(-c)), q = 1 gives 1;
    otherwise bisection on [q, 1] with the theory's kl (``theory.binary_kl``: the same float64 form as its numeric
    face, a sum of two deviances, accurate for every q in (0, 1), subnormal ones included), returning the upper end
    of the final bracket, so the result is never below the exact inverse by more than the rounding of one kl
    evaluation (absolute accuracy ~1e-16; monotone non-decreasing in q and in c).  Raises ValueError for q outside
    [0, 1], c < 0 or NaN.
    """
    q_arr, c_arr = _as_array("q", q), _as_array("c", c)
    if np.any((q_arr < 0) | (q_arr > 1)):
        raise ValueError(f"q must lie in [0, 1] (got {q!r})")
    if np.any(c_arr < 0):
        raise ValueError(f"c must be >= 0 (got {c!r})")
    q_arr, c_arr = np.broadcast_arrays(q_arr, c_arr)
    out = np.ones(q_arr.shape)
    zero = q_arr == 0
    if np.any(zero & np.isfinite(c_arr)):
        sel = zero & np.isfinite(c_arr)
        out[sel] = theory.kl_inverse_at_zero.unchecked(c_arr[sel])  # c = 5e-324 has the inverse 5e-324
    inner = (q_arr > 0) & (q_arr < 1) & np.isfinite(c_arr)
    if np.any(inner):
        qi, ci = q_arr[inner], c_arr[inner]
        lo, hi = qi.copy(), np.ones_like(qi)
        kl = theory.binary_kl.unchecked  # values near the root may underflow: compared with c, never returned
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for _ in range(_STEPS):
                mid = 0.5 * (lo + hi)
                ok = kl(qi, mid) <= ci
                lo = np.where(ok, mid, lo)
                hi = np.where(ok, hi, mid)
        out[inner] = hi
    return float(out) if out.ndim == 0 else out


def _log_cdf(k: int, m: int, p: float) -> float:
    """ln P(Bin(m, p) <= k) from the theory's log-pmf, summed in log space (occam-binomial)."""
    i = np.arange(k + 1)
    return float(logsumexp(theory.binomial_log_pmf(m, i, p)))


def binomial_tail_inverse(k: int, m: int, log_target: float) -> float:
    """occam-binomial: the largest p in [k/m, 1] with ln P(Bin(m, p) <= k) >= ``log_target`` (Langford 2005).

    ``k``: training errors (integer, 0 <= k <= m); ``m``: examples; ``log_target``: ln of the failure probability
    given to this hypothesis, ln(delta) - bits ln 2 - ln G, in nats (< 0).  Returns a probability of error, the upper
    end of a bisection bracket of width < 1e-30 (conservative).  Raises ValueError on bad arguments.
    """
    if not (float(k).is_integer() and float(m).is_integer()) or not 0 <= k <= m or m < 1:
        raise ValueError(f"need integers 0 <= k <= m, m >= 1 (got k={k!r}, m={m!r})")
    if not (math.isfinite(log_target) and log_target < 0):
        raise ValueError(f"log_target must be a finite negative number of nats (got {log_target!r})")
    k, m = int(k), int(m)
    if k == m:
        return 1.0
    lo, hi = k / m, 1.0
    if k > 0 and _log_cdf(k, m, lo) < log_target:  # cannot happen for targets below 1/2 (the median); kept for safety
        return lo
    with np.errstate(divide="ignore"):
        for _ in range(_STEPS):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            if _log_cdf(k, m, mid) >= log_target:
                lo = mid
            else:
                hi = mid
    return hi


@dataclass(frozen=True)
class OccamBound:
    """One certificate: probabilities of error for the kl form and the exact binomial form (claims occam-kl,
    occam-binomial), with what went in (bits, grid size G, delta, m, training errors) and the kl right-hand side
    ``c_kl`` in nats per example."""

    kl: float
    binomial: float
    c_kl: float
    train_error: float
    errors: int
    m: int
    bits: float
    grid: int
    delta: float

    def to_dict(self) -> dict:
        return asdict(self)


def occam_bound(errors: int, m: int, bits: float, delta: float = 0.05, grid: int = 1) -> OccamBound:
    """occam-kl and occam-binomial for one hypothesis with ``errors`` mistakes on ``m`` i.i.d. examples and a code word
    of ``bits`` bits in a prefix-free code fixed before the data, ``grid`` settings charged by a union bound.

    Returns an :class:`OccamBound` (probabilities of error).  Raises ValueError for errors outside [0, m], bits < 0,
    delta outside (0, 1) or grid < 1.
    """
    if not float(errors).is_integer() or not 0 <= errors <= m:
        raise ValueError(f"errors must be an integer in [0, m] (got {errors!r}, m={m!r})")
    if not (np.isfinite(bits) and bits >= 0):
        raise ValueError(f"bits must be a finite number >= 0 (got {bits!r})")
    if not float(grid).is_integer() or grid < 1:
        raise ValueError(f"grid must be an integer >= 1 (got {grid!r})")
    c = float(theory.occam_complexity(bits, grid, delta, m))
    q = errors / m
    log_target = math.log(delta) - bits * math.log(2) - math.log(grid)
    return OccamBound(
        kl=kl_inverse(q, c),
        binomial=binomial_tail_inverse(int(errors), int(m), log_target),
        c_kl=c,
        train_error=q,
        errors=int(errors),
        m=int(m),
        bits=float(bits),
        grid=int(grid),
        delta=float(delta),
    )
