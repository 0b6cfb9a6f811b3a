"""Monte-Carlo estimators with confidence intervals for the scalar claims of Algorithm 1.

Claims ``algorithm-1`` / ``lemma-4.1`` (pruning and keep probability, moments of ``Delta = A - Ahat``),
``lemma-d.2`` (probability that an entry's pruning probability is at least ``p_min``; tail of the count of
such entries) and ``lemma-d.3`` (at least ``k'`` of ``K`` such entries pruned: ``P >= P(Bin(K, p_min) >= k')``).
Assumption 3.1 throughout: entries i.i.d. ``N(0, Psi)``; pruning is ``numerics.algorithm_1``.
Every estimator is a pure function of its parameters and a numpy ``Generator`` and returns ``Estimate``
records whose intervals hold with probability ``>= 1 - delta`` (no CLT; see ``numerics._tolerance``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special

import theory

from ._algorithm1 import _probability_function, algorithm_1
from ._tolerance import DEFAULT_DELTA, Tolerance, clopper_pearson, median_of_means, median_of_means_estimate

#: draws are generated in blocks of this many entries (bounded memory, same stream for any total)
BLOCK = 1 << 20


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo estimate with a (1 - delta) confidence interval ``[low, high]``."""

    name: str
    value: float
    low: float
    high: float
    samples: int
    method: str
    delta: float

    def contains(self, claimed: float) -> bool:
        return bool(self.low <= float(claimed) <= self.high)


def _blocks(total: int):
    done = 0
    while done < total:
        size = min(BLOCK, total - done)
        yield size
        done += size


def _check_samples(samples: int) -> int:
    if not (isinstance(samples, (int, np.integer)) and samples >= 1):
        raise ValueError(f"samples must be an integer >= 1 (got {samples!r})")
    return int(samples)


def bernoulli_estimate(name: str, successes: int, samples: int, delta: float = DEFAULT_DELTA) -> Estimate:
    """A frequency with its exact Clopper-Pearson (1 - delta) interval."""
    lo, hi = clopper_pearson(int(successes), int(samples), delta)
    return Estimate(name, successes / samples, lo, hi, int(samples), "clopper-pearson", delta)


def prune_frequency(
    d: float, psi: float, samples: int, rng: np.random.Generator, delta: float = DEFAULT_DELTA
) -> Estimate:
    """lemma-4.1 / algorithm-1: frequency with which Algorithm 1 zeroes an N(0, psi) entry (1-D: no diagonal)."""
    samples = _check_samples(samples)
    pruned = 0
    for size in _blocks(samples):
        a = rng.normal(0.0, math.sqrt(psi), size)
        _, kept = algorithm_1(a, d, psi=psi, generator=rng)
        pruned += int(size - np.count_nonzero(kept))
    return bernoulli_estimate("P_pruned", pruned, samples, delta)


def delta_power_moment_quadrature(power: int, d: float, psi: float) -> float:
    """E[Delta^power] = E[A^power P(prune | A)] for A ~ N(0, psi), by numerical quadrature (an upper
    bound with quad's error estimate added).  The integrand is the theory's pruning probability times the
    Gaussian density: no closed form of Lemma 4.1 is used, so this can bound the variance of the
    estimators of those closed forms without assuming them."""
    prob = _probability_function("numpy")
    sd = math.sqrt(psi)

    def integrand(z: float) -> float:
        x = sd * z
        return x**power * float(prob(x, d, psi)) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    value, err = integrate.quad(integrand, -np.inf, np.inf, epsabs=0.0, epsrel=1e-10, limit=200)
    return value + abs(err) + 1e-12 * abs(value)


def lemma_4_1_moments(
    d: float, psi: float, samples: int, rng: np.random.Generator, delta: float = DEFAULT_DELTA
) -> dict[str, Estimate]:
    """lemma-4.1: median-of-means estimates of E[Delta], E[Delta^2], E[Delta^4] for an off-diagonal entry.

    ``Delta = A - Ahat`` with ``A ~ N(0, psi)`` pruned by Algorithm 1.  Each interval is a median-of-means
    band whose variance bound is ``Var(Delta^k) <= E[Delta^(2k)]``, computed by quadrature
    (``delta_power_moment_quadrature``), so it does not lean on the formulas being checked.
    """
    samples = _check_samples(samples)
    deltas = np.empty(samples)
    start = 0
    for size in _blocks(samples):
        a = rng.normal(0.0, math.sqrt(psi), size)
        pruned, _ = algorithm_1(a, d, psi=psi, generator=rng)
        deltas[start : start + size] = a - pruned
        start += size
    out = {}
    for name, power in (("E_Delta", 1), ("E_Delta2", 2), ("E_Delta4", 4)):
        tol = median_of_means(samples, delta_power_moment_quadrature(2 * power, d, psi), delta)
        value = median_of_means_estimate(deltas**power, tol.groups)
        lo, hi = tol.interval(value)
        out[name] = Estimate(name, value, lo, hi, samples, f"median-of-means({tol.groups} groups)", delta)
    return out


def moment_tolerance(power: int, d: float, psi: float, samples: int, delta: float = DEFAULT_DELTA) -> Tolerance:
    """The median-of-means band ``lemma_4_1_moments`` uses for E[Delta^power] (for power calculations)."""
    return median_of_means(samples, delta_power_moment_quadrature(2 * power, d, psi), delta)


def lemma_d_2_frequency(
    d: float, psi: float, p_min: float, samples: int, rng: np.random.Generator, delta: float = DEFAULT_DELTA
) -> Estimate:
    """lemma-d.2: frequency of N(0, psi) entries whose Algorithm-1 pruning probability is >= p_min."""
    samples = _check_samples(samples)
    prob = _probability_function("numpy")
    hits = 0
    for size in _blocks(samples):
        a = rng.normal(0.0, math.sqrt(psi), size)
        hits += int(np.count_nonzero(prob(a, d, psi) >= p_min))
    return bernoulli_estimate("P(prune prob >= p_min)", hits, samples, delta)


def lemma_d_2_count_tail(
    d: float,
    psi: float,
    p_min: float,
    entries: int,
    k: int,
    trials: int,
    rng: np.random.Generator,
    delta: float = DEFAULT_DELTA,
) -> Estimate:
    """lemma-d.2: frequency, over ``trials`` matrices of ``entries`` N(0, psi) entries, that at least
    ``k`` entries have pruning probability >= p_min (to compare with the binomial tail)."""
    trials = _check_samples(trials)
    prob = _probability_function("numpy")
    per_block = max(1, BLOCK // max(1, entries))
    hits, done = 0, 0
    while done < trials:
        rows = min(per_block, trials - done)
        a = rng.normal(0.0, math.sqrt(psi), (rows, entries))
        counts = np.count_nonzero(prob(a, d, psi) >= p_min, axis=1)
        hits += int(np.count_nonzero(counts >= k))
        done += rows
    return bernoulli_estimate("P(count >= k)", hits, trials, delta)


def sample_below_threshold(d: float, psi: float, p_min: float, shape, rng: np.random.Generator) -> np.ndarray:
    """N(0, psi) entries conditioned on pruning probability >= p_min, i.e. on |A| <= the theory's threshold
    (inverse-CDF sampling of the truncated Gaussian)."""
    threshold = float(theory.lemma_d_2_threshold(d, psi, p_min))
    sd = math.sqrt(psi)
    lo = special.ndtr(-threshold / sd)
    u = rng.uniform(lo, 1.0 - lo, shape)
    return sd * special.ndtri(u)


def lemma_d_3_frequency(
    d: float,
    psi: float,
    p_min: float,
    entries: int,
    k_prime: int,
    trials: int,
    rng: np.random.Generator,
    at_threshold: bool = False,
    delta: float = DEFAULT_DELTA,
) -> Estimate:
    """lemma-d.3: frequency that Algorithm 1 prunes at least ``k_prime`` of ``entries`` entries whose
    pruning probability is >= p_min.  The claim: this is >= P(Bin(entries, p_min) >= k_prime).

    Entries are N(0, psi) conditioned on the D.2 event, or, with ``at_threshold``, all exactly at the
    threshold magnitude (pruning probability exactly p_min: the extreme case where equality holds).
    """
    trials = _check_samples(trials)
    per_block = max(1, BLOCK // max(1, entries))
    hits, done = 0, 0
    threshold = float(theory.lemma_d_2_threshold(d, psi, p_min))
    while done < trials:
        rows = min(per_block, trials - done)
        if at_threshold:
            a = threshold * rng.choice(np.array([-1.0, 1.0]), size=(rows, entries))
        else:
            a = sample_below_threshold(d, psi, p_min, (rows, entries), rng)
        _, kept = algorithm_1(a.ravel(), d, psi=psi, generator=rng)
        pruned = entries - np.count_nonzero(kept.reshape(rows, entries), axis=1)
        hits += int(np.count_nonzero(pruned >= k_prime))
        done += rows
    return bernoulli_estimate("P(pruned >= k')", hits, trials, delta)
