"""Matrix-level simulations: spectral norm of Delta (Lemma 4.2), survivor counts (Lemma 5.1, Lemma E.1),
random ReLU networks (Lemma B.2, Lemmas 4.3 / 4.4) and inputs uniform on the sphere (Condition C.1,
Lemma C.1).

Assumption 3.1 (entries i.i.d. N(0, Psi)) and Algorithm 1 (``numerics.algorithm_1``, diagonal kept) unless
stated.  Every closed form compared against is looked up in ``theory`` by its contract name; intervals hold
with probability ``>= 1 - delta`` (``numerics._tolerance``).  Pure functions of parameters and a numpy
``Generator``; matrices are simulated in stacks (batched SVD / matmul), chunked to bounded memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import theory

from ._algorithm1 import algorithm_1
from ._montecarlo import Estimate, bernoulli_estimate
from ._tolerance import DEFAULT_DELTA, hoeffding, median_of_means, median_of_means_estimate

#: entries per simulated chunk (trials x d1 x d2)
CHUNK_ENTRIES = 1 << 22


def _chunks(trials: int, per_trial: int):
    per_chunk = max(1, CHUNK_ENTRIES // max(1, per_trial))
    done = 0
    while done < trials:
        size = min(per_chunk, trials - done)
        yield size
        done += size


def _check_positive_int(name: str, value) -> int:
    if not (isinstance(value, (int, np.integer)) and value >= 1):
        raise ValueError(f"{name} must be an integer >= 1 (got {value!r})")
    return int(value)


# ---------------------------------------------------------------------------------------------------
# Lemma 4.2: E||Delta||_2 against Latala's bracket Gamma (C = 1), and the Markov step
# ---------------------------------------------------------------------------------------------------
def spectral_norm_variance_bound(d1: int, d2: int, psi: float) -> float:
    """An a-priori bound on Var(||Delta||_2) for a d1 x d2 Delta with |Delta_ij| <= |A_ij|, A_ij ~ N(0, psi).

    One-sided Efron-Stein: Var Z <= sum_ij E[(Z - Z^(ij))_+^2] with Z^(ij) the norm after resampling entry
    ij; with u, v the top singular vectors, Z - Z^(ij) <= u_i v_j (Delta_ij - Delta'_ij), and
    sum u_i^2 v_j^2 = 1, so Var Z <= E max_ij (Delta_ij - Delta'_ij)^2 <= E max_ij 2(A_ij^2 + A'_ij^2).
    The variables 2(A^2 + A'^2) are i.i.d. exponential with mean 4 psi, whose maximum over N = d1 d2 has
    mean 4 psi H_N (harmonic number).
    """
    n_entries = int(d1) * int(d2)
    harmonic = (
        float(np.sum(1.0 / np.arange(1, n_entries + 1)))
        if n_entries < 10**7
        else math.log(n_entries) + 0.5772156649015329 + 1.0 / (2 * n_entries)
    )
    return 4.0 * psi * harmonic


@dataclass(frozen=True)
class SpectralNormStudy:
    """lemma-4.2: E||Delta||_2 (median-of-means interval), the bracket Gamma (C = 1), their ratio and the
    Markov step P(||Delta|| >= lam Gamma) against 1/lam."""

    shape: tuple[int, int]
    d: float
    psi: float
    trials: int
    mean_norm: Estimate
    gamma: float
    ratio: Estimate
    lam: float
    markov_frequency: Estimate
    markov_bound: float
    norms: np.ndarray = field(repr=False)


def spectral_norm_study(
    d1: int,
    d2: int,
    d: float,
    psi: float,
    trials: int,
    rng: np.random.Generator,
    lam: float = 2.0,
    delta: float = DEFAULT_DELTA,
) -> SpectralNormStudy:
    """lemma-4.2: simulate ||A - Ahat||_2 for ``trials`` d1 x d2 Gaussian layers pruned by Algorithm 1."""
    d1, d2 = _check_positive_int("d1", d1), _check_positive_int("d2", d2)
    trials = _check_positive_int("trials", trials)
    norms = np.empty(trials)
    start = 0
    for size in _chunks(trials, d1 * d2):
        a = rng.normal(0.0, math.sqrt(psi), (size, d1, d2))
        pruned, _ = algorithm_1(a, d, psi=psi, generator=rng)
        norms[start : start + size] = np.linalg.norm(a - pruned, ord=2, axis=(1, 2))
        start += size
    tol = median_of_means(trials, spectral_norm_variance_bound(d1, d2, psi), delta)
    value = median_of_means_estimate(norms, tol.groups)
    lo, hi = tol.interval(value)
    mean = Estimate("E||Delta||_2", value, max(lo, 0.0), hi, trials, f"median-of-means({tol.groups} groups)", delta)
    gamma = float(theory.lemma_4_2_gamma(d1, d2, d, psi, 1.0))
    ratio = Estimate(
        "E||Delta||_2 / Gamma(C=1)", value / gamma, mean.low / gamma, mean.high / gamma, trials, mean.method, delta
    )
    exceed = int(np.count_nonzero(norms >= lam * gamma))
    markov = bernoulli_estimate("P(||Delta|| >= lam Gamma)", exceed, trials, delta)
    bound = float(theory.lemma_4_2_markov_failure(lam))
    return SpectralNormStudy((d1, d2), d, psi, trials, mean, gamma, ratio, lam, markov, bound, norms)


# ---------------------------------------------------------------------------------------------------
# Lemma 5.1 / Lemma E.1: survivors, fullest row and column; balls into bins
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SurvivorStudy:
    """lemma-5.1: survivors of Algorithm 1 (diagonal kept) on a d1 x d2 layer, with the theory's values."""

    shape: tuple[int, int]
    d: float
    trials: int
    survivors: Estimate
    expected_survivors: float
    max_row_mean: float
    expected_row: float
    max_col_mean: float
    expected_col: float
    epsilon: float
    row_bound: float
    col_bound: float
    row_exceed: Estimate
    col_exceed: Estimate
    lam: float
    markov_exceed: Estimate


def survivor_study(
    d1: int,
    d2: int,
    d: float,
    trials: int,
    rng: np.random.Generator,
    epsilon: float = 0.05,
    lam: float = 2.0,
    delta: float = DEFAULT_DELTA,
) -> SurvivorStudy:
    """lemma-5.1: survivor count (Hoeffding over the trials * d1 * d2 independent keep indicators), the
    fullest row/column against the theory's expectations and its (1 - epsilon) bounds, and Markov."""
    d1, d2 = _check_positive_int("d1", d1), _check_positive_int("d2", d2)
    trials = _check_positive_int("trials", trials)
    totals = np.empty(trials)
    max_rows = np.empty(trials)
    max_cols = np.empty(trials)
    start = 0
    for size in _chunks(trials, d1 * d2):
        a = rng.standard_normal((size, d1, d2))
        _, kept = algorithm_1(a, d, psi=1.0, generator=rng)
        rows = kept.sum(axis=2)
        cols = kept.sum(axis=1)
        totals[start : start + size] = rows.sum(axis=1)
        max_rows[start : start + size] = rows.max(axis=1)
        max_cols[start : start + size] = cols.max(axis=1)
        start += size
    n_entries = d1 * d2
    # the keep indicators are independent (not identical: the diagonal is always kept) Bernoullis in [0, 1]
    band = hoeffding(trials * n_entries, delta).halfwidth * n_entries
    mean_total = float(totals.mean())
    survivors = Estimate(
        "E[survivors]",
        mean_total,
        mean_total - band,
        mean_total + band,
        trials,
        "hoeffding over all keep indicators",
        delta,
    )
    expected = float(theory.lemma_5_1_expected_survivors(d1, d2, d))
    row_bound = float(theory.lemma_5_1_row_bound(d1, d2, d, epsilon))
    col_bound = float(theory.lemma_5_1_col_bound(d1, d2, d, epsilon))
    return SurvivorStudy(
        (d1, d2),
        d,
        trials,
        survivors,
        expected,
        float(max_rows.mean()),
        float(theory.lemma_5_1_expected_row_nonzeros(d1, d2, d)),
        float(max_cols.mean()),
        float(theory.lemma_5_1_expected_col_nonzeros(d1, d2, d)),
        epsilon,
        row_bound,
        col_bound,
        bernoulli_estimate("P(max row > bound)", int(np.count_nonzero(max_rows > row_bound)), trials, delta),
        bernoulli_estimate("P(max col > bound)", int(np.count_nonzero(max_cols > col_bound)), trials, delta),
        lam,
        bernoulli_estimate("P(survivors >= lam E)", int(np.count_nonzero(totals >= lam * expected)), trials, delta),
    )


@dataclass(frozen=True)
class BallsIntoBins:
    """lemma-e.1: the maximum load of ``bins`` bins after ``balls`` uniform throws, against the bound."""

    balls: int
    bins: int
    trials: int
    epsilon: float
    bound: float
    mean_max_load: float
    exceed: Estimate


def max_loads(balls: int, bins: int, trials: int, rng: np.random.Generator) -> np.ndarray:
    """The maximum bin load in each of ``trials`` independent throws of ``balls`` balls into ``bins`` bins."""
    out = np.empty(trials, dtype=np.int64)
    start = 0
    for size in _chunks(trials, max(balls, bins)):
        loads = rng.multinomial(balls, np.full(bins, 1.0 / bins), size=size)
        out[start : start + size] = loads.max(axis=1)
        start += size
    return out


def balls_into_bins_study(
    balls: int, bins: int, trials: int, rng: np.random.Generator, epsilon: float = 0.05, delta: float = DEFAULT_DELTA
) -> BallsIntoBins:
    """lemma-e.1: frequency with which the maximum load exceeds the theory's (1 - epsilon) bound."""
    balls, bins = _check_positive_int("balls", balls), _check_positive_int("bins", bins)
    trials = _check_positive_int("trials", trials)
    loads = max_loads(balls, bins, trials, rng)
    bound = float(theory.lemma_e_1_max_load_bound(balls, bins, epsilon))
    exceed = bernoulli_estimate("P(max load > bound)", int(np.count_nonzero(loads > bound)), trials, delta)
    return BallsIntoBins(balls, bins, trials, epsilon, bound, float(loads.mean()), exceed)


# ---------------------------------------------------------------------------------------------------
# Random ReLU networks: Lemma B.2, Lemma 4.3, Lemma 4.4
# ---------------------------------------------------------------------------------------------------
def random_network(widths, trials: int, rng: np.random.Generator, psi=None) -> list[np.ndarray]:
    """``trials`` stacked ReLU networks with layer shapes (widths[l+1], widths[l]); entries N(0, psi_l),
    psi_l = 1 / fan-in unless given (one value or one per layer)."""
    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must list at least 2 positive layer widths (got {widths})")
    layers = len(widths) - 1
    psis = [1.0 / widths[l] for l in range(layers)] if psi is None else list(np.broadcast_to(psi, (layers,)))
    return [rng.normal(0.0, math.sqrt(psis[l]), (trials, widths[l + 1], widths[l])) for l in range(layers)]


def _power_of_two_scale(values: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Per leading index, the power of two at or below max |values| over ``axes`` (1 where that is 0):
    dividing by it is exact and brings the largest entry into [1, 2), whatever the scale (2^1023 at most)."""
    top = np.max(np.abs(values), axis=axes, keepdims=True)
    _, exponent = np.frexp(np.where(top > 0, top, 1.0))
    return np.ldexp(1.0, exponent - 1)


def _finite(name: str, values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (got NaN or infinity)")
    return arr


def forward(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """lemma-b.2 / lemma-4.3: f_A(x) for stacked networks, ReLU after every layer but the last (linear);
    x has shape (trials, d0), the output (trials, d_L) in the units of x times those of the weights.

    weights[l] has shape (trials, d_{l+1}, d_l).  ReLU networks without biases are positively homogeneous
    (f_{cA}(x) = c^L f_A(x), f_A(cx) = c f_A(x)), so every layer and the running activations are divided by
    exact powers of two and the scales are multiplied back at the end: the output is right at any scale of
    the weights and inputs whose result float64 can hold.  Raises ValueError for non-finite inputs and
    ``theory.Float64RangeError`` (a ValueError) when a trial's output is outside float64's range."""
    h = _finite("x", x)
    log2_scale = np.zeros(h.shape[0])
    h_scale = _power_of_two_scale(h, (1,))
    h = h / h_scale
    log2_scale += np.log2(h_scale[:, 0])
    for l, a in enumerate(weights):
        a = _finite(f"weights[{l}]", a)
        a_scale = _power_of_two_scale(a, (1, 2))
        h = np.einsum("tij,tj->ti", a / a_scale, h)
        if l < len(weights) - 1:
            h = np.maximum(h, 0.0)
        h_scale = _power_of_two_scale(h, (1,))
        h = h / h_scale
        log2_scale += np.log2(a_scale[:, 0, 0]) + np.log2(h_scale[:, 0])
    top = np.max(np.abs(h), axis=1)
    exponents = log2_scale + np.log2(np.where(top > 0, top, 1.0))
    out_of_range = (top > 0) & ((exponents >= 1024) | (exponents < -1022))
    if out_of_range.any():
        t = int(np.flatnonzero(out_of_range)[0])
        raise theory.Float64RangeError(
            f"forward: the output of trial {t} is about 2^{exponents[t]:.0f}, outside float64's range "
            "(normal numbers 2^-1022 .. 2^1024)"
        )
    return np.ldexp(h, log2_scale.astype(np.int64)[:, None])


def spectral_norms(weights: list[np.ndarray]) -> np.ndarray:
    """lemma-4.2 / lemma-b.2: ||A_l||_2 per trial and layer, shape (trials, layers), in the weights' units.

    Each stack is divided by an exact power of two before the SVD and the norms multiplied back, so
    ||c A||_2 = |c| ||A||_2 at any scale; ValueError for non-finite weights and ``theory.Float64RangeError``
    when a norm itself exceeds float64's range."""
    columns = []
    for l, a in enumerate(weights):
        a = _finite(f"weights[{l}]", a)
        scale = _power_of_two_scale(a, (1, 2))
        with np.errstate(over="ignore"):
            norms = np.linalg.norm(a / scale, ord=2, axis=(1, 2)) * scale[:, 0, 0]
        if not np.isfinite(norms).all():
            raise theory.Float64RangeError(f"spectral_norms: ||weights[{l}]||_2 exceeds float64's range (1.8e308)")
        columns.append(norms)
    return np.stack(columns, axis=1)


def sphere_points(n: int, size, rng: np.random.Generator) -> np.ndarray:
    """Points uniform on the unit sphere S^{n-1}, shape (*size, n)."""
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    z = rng.standard_normal((*size, n))
    return z / np.linalg.norm(z, axis=-1, keepdims=True)


def _layer_bound(name: str, per_layer: dict, scalars: dict) -> np.ndarray:
    """Evaluate a theory LayerFormula once per trial (rows of the per-layer arrays)."""
    f = getattr(theory, name)
    trials = next(iter(per_layer.values())).shape[0]
    return np.array(
        [f(**{k: v[t] for k, v in per_layer.items()}, **{k: v[t] for k, v in scalars.items()}) for t in range(trials)]
    )


@dataclass(frozen=True)
class PerturbationStudy:
    """lemma-b.2 / lemma-4.3 / lemma-4.4: per-trial lhs ||f_{A+U}(x) - f_A(x)||, rhs, and whether the
    lemma's condition ||U_l|| <= ||A_l|| / L held."""

    claim: str
    lhs: np.ndarray
    rhs: np.ndarray
    condition: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        return self.lhs / self.rhs

    @property
    def max_ratio_when_condition(self) -> float:
        r = self.ratio[self.condition]
        return float(r.max()) if r.size else float("nan")

    @property
    def violations(self) -> int:
        """Trials where the condition held and lhs exceeded rhs."""
        return int(np.count_nonzero(self.condition & (self.lhs > self.rhs)))


def lemma_b_2_study(
    widths, trials: int, rng: np.random.Generator, scale: float = 1.0, x_norm: float = 1.0
) -> PerturbationStudy:
    """lemma-b.2: random Gaussian ReLU networks with random perturbations U_l, ||U_l|| = c_l ||A_l|| / L,
    c_l ~ U(0, scale] (scale <= 1 keeps the condition); inputs of norm ``x_norm``, uniform direction."""
    trials = _check_positive_int("trials", trials)
    weights = random_network(widths, trials, rng)
    layers = len(weights)
    s = spectral_norms(weights)
    directions = [rng.standard_normal(a.shape) for a in weights]
    dn = spectral_norms(directions)
    c = scale * (1.0 - rng.random((trials, layers)))  # in (0, scale]
    target = c * s / layers
    perturbed = [a + u * (target[:, l] / dn[:, l])[:, None, None] for l, (a, u) in enumerate(zip(weights, directions))]
    u_norms = spectral_norms([p - a for p, a in zip(perturbed, weights)])
    x = x_norm * sphere_points(int(widths[0]), trials, rng)
    lhs = np.linalg.norm(forward(perturbed, x) - forward(weights, x), axis=1)
    rhs = _layer_bound("lemma_b_2_bound", {"S_l": s, "U_l": u_norms}, {"x_norm": np.full(trials, x_norm)})
    cond = np.array([bool(np.all(theory.lemma_b_2_condition(s[t], u_norms[t]))) for t in range(trials)])
    return PerturbationStudy("lemma-b.2", lhs, rhs, cond)


def aligned_network_study(layers: int, width: int, bound_factor: float = 1.0) -> PerturbationStudy:
    """lemma-b.2, worst case: rank-one nonnegative layers A_l = (1/width) 1 1^T (so ReLU is the identity on
    the path), U_l = A_l / L, x = 1/sqrt(width); then lhs/rhs = ((1 + 1/L)^L - 1) / e, the largest ratio
    the lemma allows in this family.  ``bound_factor`` scales the rhs (a deliberately wrong bound < 1
    must then be exceeded: used to show the assertion can fail)."""
    ones = np.ones((1, width, width)) / width
    weights = [ones.copy() for _ in range(layers)]
    # a hair under ||A_l|| / L so that rounding cannot break the condition
    perturbed = [a + a * ((1.0 - 1e-12) / layers) for a in weights]
    x = np.ones((1, width)) / math.sqrt(width)
    lhs = np.linalg.norm(forward(perturbed, x) - forward(weights, x), axis=1)
    s = spectral_norms(weights)
    u = spectral_norms([p - a for p, a in zip(perturbed, weights)])
    rhs = bound_factor * _layer_bound("lemma_b_2_bound", {"S_l": s, "U_l": u}, {"x_norm": np.ones(1)})
    cond = np.array([bool(np.all(theory.lemma_b_2_condition(s[0], u[0])))])
    return PerturbationStudy("lemma-b.2", lhs, rhs, cond)


def round_to_grid(values: np.ndarray, rho: float | np.ndarray) -> np.ndarray:
    """lemma-4.4: rounding every nonzero to the nearest multiple of rho > 0 (zeros stay zero); ``values`` any
    shape, ``rho`` a scalar or broadcastable array, same units.  Homogeneous: round(cA, c rho) = c round(A, rho).
    Where |value / rho| >= 2^52 every float near the value is already a multiple of rho to float64 precision
    (and value / rho may overflow), so the value is kept.  ValueError for non-finite values or rho <= 0."""
    values = _finite("values", values)
    rho = _finite("rho", rho)
    if np.any(rho <= 0):
        raise ValueError(f"rho must be > 0 (got {float(np.min(rho))!r})")
    with np.errstate(over="ignore"):
        ratio = values / rho
    on_grid = ~(np.abs(ratio) < 2.0**52)
    rounded = rho * np.round(np.where(on_grid, 0.0, ratio))
    return np.where(values != 0, np.where(on_grid, values, rounded), 0.0)


def lemma_4_3_study(
    widths, d: float, lam: float, trials: int, rng: np.random.Generator, rho_fraction: float = 0.0, x_norm: float = 1.0
) -> PerturbationStudy:
    """lemma-4.3 (rho_fraction = 0) / lemma-4.4 (rho_fraction > 0): prune every layer of random Gaussian
    ReLU networks (entries N(0, 1/fan-in), diagonal kept), optionally round the survivors to multiples of
    rho_l = rho_fraction * (the theory's largest rho keeping B.2's condition), and compare the output error
    with the theory's bound e||x|| prod||A_l|| sum (lam Gamma_l [+ rho_l sqrt(J_l)/2]) / ||A_l||.
    ``condition`` records lam Gamma_l (+ rounding) <= ||A_l|| / L for every layer; the claim is
    P(lhs > rhs) <= L / lam among those trials."""
    trials = _check_positive_int("trials", trials)
    widths = [int(w) for w in widths]
    weights = random_network(widths, trials, rng)
    layers = len(weights)
    compressed, gammas, rounding = [], [], []
    for l, a in enumerate(weights):
        psi_l = 1.0 / widths[l]
        pruned, kept = algorithm_1(a, d, psi=psi_l, generator=rng)
        gamma_l = float(theory.lemma_4_2_gamma(a.shape[1], a.shape[2], d, psi_l, 1.0))
        gammas.append(np.full(trials, gamma_l))
        if rho_fraction > 0:
            j_count = kept.sum(axis=(1, 2))
            s_l = np.linalg.norm(a, ord=2, axis=(1, 2))
            rho_max = np.array(
                [float(theory.lemma_4_4_max_rho(s_l[t], layers, lam, gamma_l, j_count[t])) for t in range(trials)]
            )
            rho_l = np.where(rho_max > 0, rho_fraction * rho_max, np.nan)
            grid = np.where(np.isfinite(rho_l), rho_l, 1.0)[:, None, None]
            rounded = np.where(np.isfinite(rho_l)[:, None, None], round_to_grid(pruned, grid), pruned)
            err = np.array(
                [
                    float(theory.lemma_4_4_rounding_error(rho_l[t], j_count[t]))
                    if np.isfinite(rho_l[t]) and j_count[t] > 0
                    else np.inf
                    for t in range(trials)
                ]
            )
            compressed.append(rounded)
            rounding.append(err)
        else:
            compressed.append(pruned)
            rounding.append(np.zeros(trials))
    s = spectral_norms(weights)
    x = x_norm * sphere_points(widths[0], trials, rng)
    lhs = np.linalg.norm(forward(compressed, x) - forward(weights, x), axis=1)
    gam = np.stack(gammas, axis=1)
    rnd = np.stack(rounding, axis=1)
    perturbation = lam * gam + rnd
    cond = np.all(np.isfinite(perturbation) & (perturbation <= s / layers), axis=1)
    safe = np.where(np.isfinite(perturbation), perturbation, 0.0)
    rhs = _layer_bound("lemma_b_2_bound", {"S_l": s, "U_l": safe}, {"x_norm": np.full(trials, x_norm)})
    return PerturbationStudy("lemma-4.4" if rho_fraction > 0 else "lemma-4.3", lhs, rhs, cond)


def rounding_study(d1: int, d2: int, d: float, rho: float, trials: int, rng: np.random.Generator) -> np.ndarray:
    """lemma-4.4: ||Ahat - Atilde||_2 / (theory's rho sqrt(J)/2) for ``trials`` pruned Gaussian layers."""
    a = rng.standard_normal((trials, d1, d2))
    pruned, kept = algorithm_1(a, d, psi=1.0, generator=rng)
    err = np.linalg.norm(pruned - round_to_grid(pruned, rho), ord=2, axis=(1, 2))
    j_count = kept.sum(axis=(1, 2))
    bound = np.asarray(theory.lemma_4_4_rounding_error(rho, j_count), dtype=float)
    return err / bound


# ---------------------------------------------------------------------------------------------------
# Condition C.1 / Lemma C.1: inputs uniform on the sphere
# ---------------------------------------------------------------------------------------------------
def sphere_coordinates(n: int, r: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """The first ``r`` coordinates <v_k, x> (v_k orthonormal) of ``size`` points x uniform on S^{n-1},
    shape (size, r): Z_{1..r} / sqrt(|Z_{1..r}|^2 + chi^2_{n-r}) by rotation invariance (exact)."""
    z = rng.standard_normal((size, r))
    rest = rng.chisquare(n - r, size) if n > r else np.zeros(size)
    return z / np.sqrt((z * z).sum(axis=1) + rest)[:, None]


@dataclass(frozen=True)
class SphereTail:
    """condition-c.1: P(|<v, x>| >= t) for x uniform on S^{n-1}, against the assumed and exact tails."""

    n: int
    t: float
    frequency: Estimate
    tail_code: float  # a = b = 1
    tail_correct: float  # a = 2, b = 1/2
    tail_exact: float
    ks_distance: float
    ks_band: float


def sphere_tail_study(
    n: int, t: float, samples: int, rng: np.random.Generator, delta: float = DEFAULT_DELTA
) -> SphereTail:
    """condition-c.1: frequency of |<v, x>| >= t, and the DKW distance of |<v, x>| to the theory's exact law."""
    from ._tolerance import dkw, ks_distance

    proj = np.abs(sphere_coordinates(n, 1, samples, rng)[:, 0])
    freq = bernoulli_estimate("P(|<v,x>| >= t)", int(np.count_nonzero(proj >= t)), samples, delta)
    exact = theory.condition_c_1_sphere_tail
    sub = proj[: min(samples, 200_000)]
    sub = sub[(sub > 0) & (sub < 1)]
    ks = ks_distance(sub, lambda v: 1.0 - np.asarray(exact(v, n), dtype=float))
    tail = theory.condition_c_1_tail
    return SphereTail(
        n,
        t,
        freq,
        float(tail(t, n, 1.0, 1.0)),
        float(tail(t, n, 2.0, 0.5)),
        float(exact(t, n)),
        ks,
        dkw(sub.size, delta).halfwidth,
    )


@dataclass(frozen=True)
class UnionEventStudy:
    """lemma-c.1: P(some of m points has ||A x|| > kappa ||A|| ||x||) for a rank-r layer, t from the theory."""

    m: int
    d_in: int
    r: int
    a: float
    b: float
    target_failure: float
    t: float
    kappa: float
    failure: Estimate


def lemma_c_1_study(
    m: int,
    d_in: int,
    r: int,
    trials: int,
    rng: np.random.Generator,
    a: float = 1.0,
    b: float = 1.0,
    target_failure: float = 0.01,
    code: bool = False,
    delta: float = DEFAULT_DELTA,
) -> UnionEventStudy:
    """lemma-c.1: failure frequency over ``trials`` training sets of m points uniform on S^{d_in - 1}.

    t solves m r a exp(-b t^2 d_in) = target_failure (``theory.condition_c_1_t``), or the released code's
    1 - m exp(-t^2 d_in) = 0.99 when ``code`` (``condition_c_1_t_code``); kappa = min(1, t sqrt(r)).
    The layer is rank r with singular values drawn uniform in (0, 1] (largest set to 1); by rotation
    invariance only the coordinates of x along its right singular vectors matter.
    """
    if code:
        t = float(theory.condition_c_1_t_code(m, d_in))
    else:
        t = float(theory.condition_c_1_t(m, r, d_in, a, b, target_failure))
    kappa = float(theory.condition_c_1_kappa(t, r))
    fails = 0
    for size in _chunks(trials, m * (r + 1)):
        sv = 1.0 - rng.random((size, r))
        sv[:, 0] = 1.0
        coords = sphere_coordinates(d_in, r, size * m, rng).reshape(size, m, r)
        ax_norm = np.sqrt(((coords * sv[:, None, :]) ** 2).sum(axis=2))  # ||A x|| with ||x|| = 1, ||A|| = 1
        fails += int(np.count_nonzero((ax_norm > kappa).any(axis=1)))
    est = bernoulli_estimate("P(some point fails)", fails, trials, delta)
    return UnionEventStudy(m, d_in, r, a, b, target_failure, t, kappa, est)
