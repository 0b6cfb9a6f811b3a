"""Sparse matrix sketching (Definition E.1, Theorem 5.1): ensembles, sketches, L1 recovery, studies.

Claims ``definition-e.1`` and ``theorem-5.1`` (Dasarathy, Shah, Bhaskar, Nowak 2013, "Sketching
sparse matrices", Thm 1): for a j-distributed-sparse p x p matrix X and independent random
bipartite ensembles A, B (m x p, delta ones per column), the sketch Y = A X B^T with
m = O(sqrt(j p) log p) and delta = O(log p) determines X as the unique minimiser of ||X||_1
subject to A X B^T = Y, with probability >= 1 - p^(-c).

The guarantee is for a FIXED X: (A, B) are drawn independently of X.  Theorem 5.2 applies it to
pruned weight matrices, which depend on the training data; the counting argument (Definition 3.1)
needs (A, B) to be a "helper string" fixed before the data, and then the recovery event must hold
for the data-dependent X -- the theorem's per-X probability does not give that by itself (a union
bound over all j-sparse X would be needed, and for m < p a fixed (A, B) always has j-sparse X it
fails on: see ``adversarial_failure``).

Every closed form (the sketch size of Theorem 5.1 and the parameter counts) comes from ``theory``
from ``theory``; nothing is re-typed here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps
from scipy.optimize import linprog
from scipy.stats import beta as _beta_dist

import theory

__all__ = [
    "bipartite_ensemble",
    "distributed_sparse_matrix",
    "sketch",
    "l1_recover",
    "RecoveryResult",
    "sketch_recovery_study",
    "smallest_sufficient_m",
    "parameter_counts",
    "time_recovery",
    "adversarial_failure",
    "default_delta",
]


# ---------------------------------------------------------------------------------------
def _theory_formula(name: str):
    """The ``theory`` Formula ``name`` (theorem_5_1_sketch_size, sketch_parameter_count,
    dense_parameter_count, naive_sparse_log_count).  Looked up on ``theory`` first; until the
    package re-exports them, from ``theory._sparsity`` where they are defined."""
    import theory

    found = getattr(theory, name, None)
    if found is None:
        from theory import _sparsity

        found = getattr(_sparsity, name)
    return found


# ---------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------
def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer (got {value!r})")
    return int(value)


def _generator(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _check_ensemble_args(m, p, delta) -> tuple[int, int, int]:
    m, p, delta = _positive_int("m", m), _positive_int("p", p), _positive_int("delta", delta)
    if delta > m:
        raise ValueError(f"delta must be <= m (each column picks delta distinct rows of m; got delta={delta}, m={m})")
    return m, p, delta


def default_delta(p: int) -> int:
    """theorem-5.1: the default left degree delta = ceil(ln p) (the theorem's delta = O(log p), constant 1), at least 1."""
    p = _positive_int("p", p)
    return max(1, math.ceil(math.log(p)))


# ---------------------------------------------------------------------------------------
# Definition E.1 and Definition 5.1 generators
# ---------------------------------------------------------------------------------------
def bipartite_ensemble(m: int, p: int, delta: int, seed=None) -> np.ndarray:
    """definition-e.1: an m x p 0/1 matrix whose every COLUMN has exactly ``delta`` ones in rows
    chosen uniformly without replacement, independently across columns.

    Orientation follows Dasarathy et al. 2013: each of the p left nodes (columns) is joined to
    delta of the m right nodes (rows); the paper words it the other way round.  Assumes
    1 <= delta <= m.  ``seed``: int, None or numpy Generator.
    """
    m, p, delta = _check_ensemble_args(m, p, delta)
    rng = _generator(seed)
    # the delta smallest of m iid uniforms per column are a uniform delta-subset of the rows
    rows = (
        np.argpartition(rng.random((m, p)), delta - 1, axis=0)[:delta]
        if delta < m
        else np.broadcast_to(np.arange(m)[:, None], (m, p))
    )
    out = np.zeros((m, p), dtype=np.float64)
    out[rows, np.broadcast_to(np.arange(p), rows.shape)] = 1.0
    return out


def distributed_sparse_matrix(p: int, j: int, seed=None) -> np.ndarray:
    """definition-5.1: a random p x p j-distributed-sparse matrix (at most j nonzeros in every row
    and every column, every diagonal entry nonzero).

    Support: the identity united with j - 1 independent uniform random permutation matrices
    (coinciding positions merge, so a row holds between 1 and j nonzeros; about j p - C(j, 2)
    in all on average).  Values: iid standard normal, nonzero almost surely.  Assumes 1 <= j <= p.
    """
    p, j = _positive_int("p", p), _positive_int("j", j)
    if j > p:
        raise ValueError(f"j must be <= p (at most p nonzeros fit in a row; got j={j}, p={p})")
    rng = _generator(seed)
    cols = np.empty((j, p), dtype=np.int64)
    cols[0] = np.arange(p)
    if j > 1:
        cols[1:] = rng.permuted(np.tile(np.arange(p), (j - 1, 1)), axis=1)
    mask = np.zeros((p, p), dtype=bool)
    mask[np.broadcast_to(np.arange(p), cols.shape), cols] = True
    values = rng.standard_normal((p, p))
    values[values == 0.0] = 1.0  # probability zero, kept for the definition's "nonzero diagonal"
    return np.where(mask, values, 0.0)


def _finite_matrix(name: str, value) -> np.ndarray:
    arr = np.asarray(value, float)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (got shape {arr.shape})")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (got NaN or infinity)")
    return arr


def _power_of_two_scale(arr: np.ndarray) -> float:
    """The power of two at or below max |arr| (1 for a zero array): dividing by it is exact and brings the
    largest entry into [1, 2) (2^1023 at most, so it never overflows)."""
    top = float(np.max(np.abs(arr))) if arr.size else 0.0
    return math.ldexp(1.0, math.frexp(top)[1] - 1) if top > 0 else 1.0


def sketch(X: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """theorem-5.1: the sketch Y = A X B^T (m x m for m x p ensembles and a p x p X), in X's units.

    Linear in X at any scale: X is divided by an exact power of two and the sketch multiplied back.
    Raises ValueError for non-2-D, non-finite or non-chaining inputs and ``theory.Float64RangeError`` (a
    ValueError) when an entry of the sketch exceeds float64's range."""
    X, A, B = _finite_matrix("X", X), _finite_matrix("A", A), _finite_matrix("B", B)
    if A.shape[1] != X.shape[0] or B.shape[1] != X.shape[1]:
        raise ValueError(f"shapes must chain: A {A.shape} X {X.shape} B^T {B.T.shape}")
    sx, sa, sb = _power_of_two_scale(X), _power_of_two_scale(A), _power_of_two_scale(B)
    core = (A / sa) @ (X / sx) @ (B / sb).T
    with np.errstate(over="ignore"):
        out = core * sx * sa * sb
    if not np.isfinite(out).all():
        raise theory.Float64RangeError("sketch: an entry of A X B^T exceeds float64's range (1.8e308)")
    return out


# ---------------------------------------------------------------------------------------
# L1 recovery
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecoveryResult:
    """Outcome of ``l1_recover``: the minimiser, whether it equals the true X, the LP's time."""

    X_hat: np.ndarray
    success: bool
    max_abs_error: float
    solve_seconds: float
    lp_status: int


def l1_recover(
    Y: np.ndarray, A: np.ndarray, B: np.ndarray, X_true: np.ndarray | None = None, tol: float = 1e-6
) -> RecoveryResult:
    """theorem-5.1: solve min ||X||_1 s.t. A X B^T = Y as a linear programme (HiGHS).

    With column-major vec, vec(A X B^T) = (B kron A) vec(X); writing X = U - V, U, V >= 0, the LP is
    min 1^T (u + v) s.t. [K, -K] [u; v] = vec(Y), K = B kron A (scipy.sparse.kron).  ``success`` is
    max|X_hat - X_true| <= tol * max(||X_true||_inf, tiny) (False when X_true is None or the LP fails).
    ``solve_seconds`` covers building and solving the LP.  When the minimiser is not unique (e.g. two
    identical columns of A or B, probability about p^2 / (2 C(m, delta)) per ensemble -- the main
    finite-p failure) the returned vertex may still equal X, so ``success`` slightly over-counts
    the theorem's "unique minimiser" event.

    Scale: the LP solver's tolerances are absolute, so Y, A and B are divided by exact powers of two near their
    largest entries before the solve and X_hat is multiplied back: X_hat(c Y) = c X_hat(Y) for any c whose
    product float64 holds (the minimiser scales with Y).  Shapes: Y (m_A, m_B), A (m_A, p1), B (m_B, p2),
    X_hat (p1, p2) in Y's units.  Raises ValueError for non-finite or non-2-D inputs, mismatched shapes or a
    bad ``tol``.
    """
    Y, A, B = _finite_matrix("Y", Y), _finite_matrix("A", A), _finite_matrix("B", B)
    if not (tol > 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a finite number > 0 (got {tol!r})")
    mA, p1 = A.shape
    mB, p2 = B.shape
    if Y.shape != (mA, mB):
        raise ValueError(f"Y must have shape (A rows, B rows) = {(mA, mB)} (got {Y.shape})")
    sy, sa, sb = _power_of_two_scale(Y), _power_of_two_scale(A), _power_of_two_scale(B)
    start = time.perf_counter()
    K = sps.kron(sps.csc_matrix(B / sb), sps.csc_matrix(A / sa), format="csc")
    A_eq = sps.hstack([K, -K], format="csc")
    n = p1 * p2
    res = linprog(np.ones(2 * n), A_eq=A_eq, b_eq=(Y / sy).ravel(order="F"), bounds=(0, None), method="highs")
    elapsed = time.perf_counter() - start
    if res.x is None:
        X_hat = np.full((p1, p2), np.nan)
    else:
        # A X B^T = Y  <=>  (A/sa) (X sa sb / sy) (B/sb)^T = Y/sy: the LP's unknown is X sa sb / sy
        with np.errstate(over="ignore", under="ignore"):
            X_hat = (res.x[:n] - res.x[n:]).reshape((p1, p2), order="F") * (sy / (sa * sb))
    if X_true is None or res.x is None:
        return RecoveryResult(X_hat, False, float("nan"), elapsed, int(res.status))
    X_true = np.asarray(X_true, float)
    err = float(np.max(np.abs(X_hat - X_true)))
    scale = max(float(np.max(np.abs(X_true))), np.finfo(float).tiny)
    return RecoveryResult(X_hat, bool(err <= tol * scale), err, elapsed, int(res.status))


# ---------------------------------------------------------------------------------------
# studies
# ---------------------------------------------------------------------------------------
def _clopper_pearson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided interval for a binomial proportion."""
    a = (1 - level) / 2
    lo = 0.0 if successes == 0 else float(_beta_dist.ppf(a, successes, trials - successes + 1))
    hi = 1.0 if successes == trials else float(_beta_dist.ppf(1 - a, successes + 1, trials - successes))
    return lo, hi


def _one_trial(p: int, j: int, m: int, delta: int, rng: np.random.Generator, tol: float) -> RecoveryResult:
    # A, B and X independent: the fixed-X setting of Theorem 5.1
    A = bipartite_ensemble(m, p, delta, rng)
    B = bipartite_ensemble(m, p, delta, rng)
    X = distributed_sparse_matrix(p, j, rng)
    return l1_recover(sketch(X, A, B), A, B, X, tol)


def _study_config(config: tuple) -> dict:
    """One (p, j, m, delta) cell of ``sketch_recovery_study`` (top level, so worker processes can run it)."""
    p, j, m, dlt, trials, seed, tol, level, scale = config
    rng = np.random.default_rng([seed, p, j, m, dlt])
    outcomes = [_one_trial(p, j, m, dlt, rng, tol) for _ in range(trials)]
    wins = sum(o.success for o in outcomes)
    lo, hi = _clopper_pearson(wins, trials, level)
    return {
        "p": p,
        "j": j,
        "m": m,
        "delta": dlt,
        "trials": trials,
        "successes": wins,
        "rate": wins / trials,
        "ci_low": lo,
        "ci_high": hi,
        "mean_solve_seconds": float(np.mean([o.solve_seconds for o in outcomes])),
        "m_over_theorem": m / scale if scale > 0 else float("inf"),
    }


def sketch_recovery_study(
    p_values: Iterable[int],
    j_values: Iterable[int],
    m_values: Iterable[int],
    delta: int | None = None,
    trials: int = 20,
    seed: int = 0,
    tol: float = 1e-6,
    level: float = 0.95,
    workers: int = 1,
) -> list[dict]:
    """theorem-5.1: empirical rate of exact L1 recovery over (p, j, m), fresh (A, B, X) per trial.

    ``delta=None`` uses ``default_delta(p)`` = ceil(ln p).  Each configuration draws from
    ``default_rng([seed, p, j, m, delta])``, so a record does not depend on the grid around it or
    on ``workers`` (processes; 1 = in this process).  Configurations with j > p are skipped;
    delta > m raises.  Returns one dict per configuration: p, j, m, delta, trials, successes, rate,
    ci_low, ci_high (Clopper-Pearson at ``level``), mean_solve_seconds, m_over_theorem
    (m / (sqrt(j p) ln p), Theorem 5.1's scaling with constant 1).
    """
    trials, workers = _positive_int("trials", trials), _positive_int("workers", workers)
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1 (got {level!r})")
    if not (tol > 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a finite number > 0 (got {tol!r})")
    p_values = [_positive_int("p_values", v) for v in p_values]
    j_values = [_positive_int("j_values", v) for v in j_values]
    m_values = [_positive_int("m_values", v) for v in m_values]
    configs = []
    for p in p_values:
        dlt = default_delta(p) if delta is None else _positive_int("delta", delta)
        for m in m_values:
            _check_ensemble_args(m, p, dlt)
        for j in j_values:
            if j > p:
                continue
            scale = float(theory.theorem_5_1_sketch_size(j, p, 1.0))
            configs += [(p, j, m, dlt, trials, seed, tol, level, scale) for m in m_values]
    if workers == 1:
        return [_study_config(c) for c in configs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_study_config, configs))


def smallest_sufficient_m(records: Sequence[dict], target: float = 0.9) -> list[dict]:
    """theorem-5.1: for each (p, j), the smallest tested m with rate >= target (and every larger
    tested m too), and its ratio to sqrt(j p) ln p (Theorem 5.1's scaling with constant 1).
    A roughly constant ratio across (p, j) supports the scaling.  m_star is None when never reached.
    """
    if not 0 < target <= 1:
        raise ValueError(f"target must lie in (0, 1] (got {target!r})")
    groups: dict[tuple[int, int], list[dict]] = {}
    for rec in records:
        groups.setdefault((rec["p"], rec["j"]), []).append(rec)
    out = []
    for (p, j), recs in sorted(groups.items()):
        recs = sorted(recs, key=lambda r: r["m"])
        m_star = None
        for i, rec in enumerate(recs):
            if all(r["rate"] >= target for r in recs[i:]):
                m_star = rec["m"]
                break
        scale = float(theory.theorem_5_1_sketch_size(j, p, 1.0)) if p > 1 else float("nan")
        out.append(
            {
                "p": p,
                "j": j,
                "m_star": m_star,
                "sqrt_jp_ln_p": scale,
                "ratio": (m_star / scale) if (m_star is not None and scale > 0) else None,
                "m_star_sq_over_jp": (m_star**2 / (j * p)) if m_star is not None else None,
            }
        )
    return out


def parameter_counts(p: int, j: int, m: int, J: int | None = None, r: int = 2**8) -> dict:
    """theorem-5.2 / lemma-d.1: what each description charges for a p x p layer.

    sketch_entries = m^2 (Theorem 5.2 counts the m x m sketch), dense = p^2, and the naive sparse
    log-count ln C(p^2, J) + J ln r (nats) with J nonzeros (default J = j p, the densest
    j-distributed-sparse case) and r rounding levels.  Also the sketch's log-count m^2 ln r for a
    like-for-like comparison in nats.  All from ``theory``.
    """
    p, j, m, r = (_positive_int(k, v) for k, v in (("p", p), ("j", j), ("m", m), ("r", r)))
    if j > p:
        raise ValueError(f"j must be <= p (got j={j}, p={p})")
    J = j * p if J is None else _positive_int("J", J)
    if J > p * p:
        raise ValueError(f"J must be <= p^2 (got J={J}, p^2={p * p})")
    # m^2 equals sketch_parameter_count(j, p, c_m) at c_m = m / (sqrt(j p) ln p)
    c_m = m / float(theory.theorem_5_1_sketch_size(j, p, 1.0)) if p > 1 else None
    sketch_entries = float(theory.sketch_parameter_count(j, p, c_m)) if c_m else float(m * m)
    naive = float(theory.naive_sparse_log_count(p, p, J, r))
    return {
        "p": p,
        "j": j,
        "m": m,
        "J": J,
        "r": r,
        "sketch_entries": sketch_entries,
        "dense": float(theory.dense_parameter_count(p, p)),
        "naive_sparse_log_count": naive,
        "sketch_log_count": sketch_entries * math.log(r),
        "dense_log_count": float(theory.dense_parameter_count(p, p)) * math.log(r),
    }


def time_recovery(
    p: int = 64, j: int = 2, m: int | None = None, delta: int | None = None, seed: int = 0, repeats: int = 1
) -> float:
    """theorem-5.1: median seconds of one L1 recovery (LP build + HiGHS solve) of a random
    j-distributed-sparse p x p matrix; m defaults to ceil(sqrt(j p) ln p) capped at p - 1 (a regime
    where recovery succeeds), delta to ceil(ln p).  Used by ``numerics.bench``."""
    p, j, repeats = _positive_int("p", p), _positive_int("j", j), _positive_int("repeats", repeats)
    if p < 2:
        raise ValueError(f"p must be >= 2 (got {p})")
    if m is None:
        m = min(p - 1, math.ceil(float(theory.theorem_5_1_sketch_size(j, p, 1.0))))
    delta = default_delta(p) if delta is None else delta
    _check_ensemble_args(m, p, delta)
    rng = np.random.default_rng(seed)
    return float(np.median([_one_trial(p, j, m, delta, rng, 1e-6).solve_seconds for _ in range(repeats)]))


# ---------------------------------------------------------------------------------------
# the fixed-X gap: an X chosen after (A, B)
# ---------------------------------------------------------------------------------------
def adversarial_failure(p: int, m: int, delta: int | None = None, seed=None) -> dict:
    """theorem-5.1 (fixed-X assumption): for ONE draw of (A, B), build a distributed-sparse X that
    L1 recovery gets wrong.

    Find a sparse h with A h = 0 (an L1-minimal null vector with one entry pinned to 1; it exists
    whenever m < p).  Then H = h e_k^T satisfies A H B^T = 0 for any column k.  Split supp(h) into S
    (largest entries, more than half the L1 mass) and the rest, and set X = D + h_S e_k^T with D a
    random diagonal and k outside supp(h).  X' = D - h_{S^c} e_k^T has the same sketch and
    ||X'||_1 < ||X||_1, so X is not the L1 minimiser.  Returns X, its row/column sparsity
    j_X = max nonzeros per row or column, and the recovery result on this (A, B).
    """
    p, m = _positive_int("p", p), _positive_int("m", m)
    if m >= p:
        raise ValueError(f"m must be < p for a nontrivial null space of A (got m={m}, p={p})")
    delta = default_delta(p) if delta is None else delta
    _check_ensemble_args(m, p, delta)
    rng = _generator(seed)
    A = bipartite_ensemble(m, p, delta, rng)
    B = bipartite_ensemble(m, p, delta, rng)
    best = None
    for i in range(p):  # sparsest L1-minimal null vector with h_i = 1
        eq = sps.vstack(
            [
                sps.hstack([sps.csr_matrix(A), -sps.csr_matrix(A)]),
                sps.csr_matrix(([1.0, -1.0], ([0, 0], [i, p + i])), shape=(1, 2 * p)),
            ]
        )
        res = linprog(np.ones(2 * p), A_eq=eq, b_eq=np.r_[np.zeros(m), 1.0], bounds=(0, None), method="highs")
        if res.x is None:
            continue
        h = res.x[:p] - res.x[p:]
        h[np.abs(h) < 1e-9] = 0.0
        if best is None or np.count_nonzero(h) < np.count_nonzero(best):
            best = h
    if best is None:  # m < p makes the null space nontrivial, so only a failing LP solver gets here
        raise RuntimeError(f"linprog found no null vector of A for any pinned entry (m={m}, p={p})")
    h = best
    support = np.flatnonzero(h)
    order = support[np.argsort(-np.abs(h[support]))]
    cum = np.cumsum(np.abs(h[order]))
    s_size = int(np.searchsorted(cum, cum[-1] / 2, side="right")) + 1  # smallest prefix with > half the mass
    S = order[:s_size]
    k = int(np.setdiff1d(np.arange(p), support)[0])
    X = np.diag(rng.standard_normal(p) + np.where(rng.random(p) < 0.5, -1.0, 1.0))  # entries bounded away from 0
    X[S, k] += h[S]
    j_X = int(max((X != 0).sum(axis=0).max(), (X != 0).sum(axis=1).max()))
    result = l1_recover(sketch(X, A, B), A, B, X)
    return {
        "X": X,
        "A": A,
        "B": B,
        "null_vector": h,
        "j_X": j_X,
        "nnz": int(np.count_nonzero(X)),
        "null_support": int(support.size),
        "recovered": result.success,
        "result": result,
    }
