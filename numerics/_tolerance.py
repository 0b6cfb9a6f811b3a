"""Calibrated tolerances: sample size + false-failure probability -> half-width of an acceptance band.

Every Monte-Carlo assertion in the toolkit accepts a closed form ``mu0`` when
``|estimate - mu0| <= halfwidth``, where ``halfwidth`` is chosen so that a *correct* ``mu0`` is rejected
with probability at most ``delta`` (default ``1e-6`` per assertion), with no appeal to the central limit
theorem.  Each ``Tolerance`` also carries the tail bound it was built from, so the *detection power*
against a wrong closed form is computed, not guessed: a formula that is off by ``|mu1 - mu0| = e`` is
rejected whenever ``|estimate - mu| < e - halfwidth``, hence with probability at least
``1 - tail(e - halfwidth)`` (``Tolerance.power``).

Inequalities (two-sided, ``n`` i.i.d. samples):

* ``hoeffding``: values in ``[lo, hi]``; ``P(|mean - mu| >= s) <= 2 exp(-2 n s^2 / (hi - lo)^2)``.
* ``bernstein``: ``|X - mu| <= b`` and ``Var X <= v`` (an explicit variance bound);
  ``P(|mean - mu| >= s) <= 2 exp(-n s^2 / (2 v + 2 b s / 3))``.  For a Bernoulli indicator tested
  against a claimed probability ``p0`` one may take ``v = p0 (1 - p0)``: the false-failure rate only has
  to hold when the claim is true.
* ``median_of_means``: for unbounded variables with a known variance bound ``v`` (no higher moment is
  assumed).  The ``n`` samples are cut into ``k`` groups; a group mean deviates by ``>= s`` with
  probability ``<= q = v k / (n s^2)`` (Chebyshev) and the median deviates only if at least half the
  groups do, which has probability ``<= P(Bin(k, q) >= ceil(k/2))`` (exact binomial tail).  ``k`` is
  chosen to minimise the half-width.  This is the route for the moments of Lemma 4.1: ``Delta^2 <= A^2``
  is unbounded, so Hoeffding does not apply; the variance bound ``Var(Delta^k) <= E[Delta^(2k)]`` is
  obtained by quadrature of the algorithm's definition against the Gaussian density (independent of
  the closed form under test) -- see ``numerics._montecarlo``.
* ``chebyshev``: plain ``P(|mean - mu| >= s) <= v / (n s^2)``; kept for comparison (much wider at 1e-6).
* ``dkw``: distributions; ``P(sup_x |F_n(x) - F(x)| > s) <= 2 exp(-2 n s^2)`` (Massart's constant).

What the chosen sample sizes detect (computed by ``detection_table()``, which prints, for a claim off by
10%, the bound ``tail(|error| - halfwidth)`` on the probability of wrongly accepting it; delta = 1e-6):

    band                           n    truth   halfwidth  P(accept a 10%-wrong claim) <=
    bernoulli(p=0.1)           20000      0.1     0.01214  1          (undetectable: 0.01 < halfwidth)
    bernoulli(p=0.5)           20000      0.5     0.01905  4.5e-17
    bernoulli(p=0.1)          200000      0.1     0.00379  1.2e-18
    bernoulli(p=0.5)          200000      0.5    0.006006  0
    MoM E[D^2], var<=3       1000000    0.192     0.02533  1          (crude variance bound E[A^4])
    MoM E[D^2], var<=0.192   1000000    0.192    0.006416  4.3e-14    (quadrature bound E[Delta^4])
    MoM E[D^2], var<=0.192   2000000    0.192    0.004537  1.8e-19

So: the property tests' 20 000-sample frequency bands reject a 10% error in a probability p with
probability >= 0.27 at p = 0.2, >= 0.9975 at p = 0.3, >= 1 - 3.1e-8 at p = 0.4 (computed the same way); the CLI's 200 000+ sample frequencies detect 10%
errors down to p = 0.1; the moments of Lemma 4.1 need ~10^6 samples and the quadrature variance bound
(the crude bound E[A^4] = 3 Psi^2 would need ~10^7).  Tests that claim to reject a wrong formula assert
the computed miss bound first (``Tolerance.miss``), so the power is never assumed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import stats

#: default false-failure probability of one assertion
DEFAULT_DELTA = 1e-6


def _check_common(n: int, delta: float) -> None:
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n (samples) must be an integer >= 1 (got {n!r})")
    if not (0 < delta < 1):
        raise ValueError(f"delta (false-failure probability) must lie strictly between 0 and 1 (got {delta!r})")


@dataclass(frozen=True)
class Tolerance:
    """An acceptance band ``|estimate - claimed| <= halfwidth`` and the tail bound behind it.

    ``tail(s)`` bounds ``P(|estimate - true mean| >= s)``; ``tail(halfwidth) <= delta``.
    """

    method: str
    samples: int
    delta: float
    halfwidth: float
    tail: Callable[[float], float] = field(repr=False, compare=False)
    groups: int = 1  # median-of-means: the number of groups the estimator must use

    def accepts(self, estimate: float, claimed: float) -> bool:
        """True when ``claimed`` lies within ``halfwidth`` of ``estimate``."""
        return bool(abs(float(estimate) - float(claimed)) <= self.halfwidth)

    def interval(self, estimate: float) -> tuple[float, float]:
        """The (1 - delta) confidence interval ``estimate +- halfwidth``."""
        return (float(estimate) - self.halfwidth, float(estimate) + self.halfwidth)

    def power(self, true_value: float, wrong_value: float, truth: Tolerance | None = None) -> float:
        """Lower bound on the probability that this band rejects a claim of ``wrong_value`` when the
        truth is ``true_value``: ``1 - tail(|wrong - true| - halfwidth)`` (0 when the gap is inside
        the band).  ``truth`` supplies a tail bound valid under the true distribution when this band's
        own tail is not (e.g. a Bernstein band built from the wrong claim's variance); default: self."""
        gap = abs(float(wrong_value) - float(true_value)) - self.halfwidth
        if gap <= 0:
            return 0.0
        return max(0.0, 1.0 - (truth or self).tail(gap))

    def miss(self, true_value: float, wrong_value: float, truth: Tolerance | None = None) -> float:
        """Upper bound on the probability that a claim of ``wrong_value`` is wrongly accepted."""
        gap = abs(float(wrong_value) - float(true_value)) - self.halfwidth
        return 1.0 if gap <= 0 else min(1.0, (truth or self).tail(gap))


def hoeffding(n: int, delta: float = DEFAULT_DELTA, lo: float = 0.0, hi: float = 1.0) -> Tolerance:
    """Half-width for the mean of ``n`` i.i.d. variables in ``[lo, hi]`` (Hoeffding, two-sided)."""
    _check_common(n, delta)
    if not hi > lo:
        raise ValueError(f"hi must be > lo (got lo={lo}, hi={hi})")
    width = hi - lo

    def tail(s: float) -> float:
        return min(1.0, 2.0 * math.exp(-2.0 * n * s * s / width**2))

    return Tolerance("hoeffding", int(n), delta, width * math.sqrt(math.log(2.0 / delta) / (2.0 * n)), tail)


def bernstein(n: int, variance: float, bound: float, delta: float = DEFAULT_DELTA) -> Tolerance:
    """Half-width for the mean of ``n`` i.i.d. variables with ``|X - EX| <= bound`` and ``Var X <= variance``."""
    _check_common(n, delta)
    if not variance >= 0:
        raise ValueError(f"variance must be >= 0 (got {variance!r})")
    if not bound > 0:
        raise ValueError(f"bound must be > 0 (got {bound!r})")
    log_term = math.log(2.0 / delta)
    # solve n s^2 = log_term (2 v + 2 b s / 3) for s > 0
    a_coef, b_coef = 2.0 * bound * log_term / (3.0 * n), 2.0 * variance * log_term / n
    half = 0.5 * (a_coef + math.sqrt(a_coef**2 + 4.0 * b_coef))

    def tail(s: float) -> float:
        return min(1.0, 2.0 * math.exp(-n * s * s / (2.0 * variance + 2.0 * bound * s / 3.0)))

    return Tolerance("bernstein", int(n), delta, half, tail)


def bernoulli(n: int, p0: float, delta: float = DEFAULT_DELTA) -> Tolerance:
    """Bernstein band for a frequency of ``n`` Bernoulli trials tested against a claimed ``p0``.

    Under the claim the variance is ``p0 (1 - p0)`` and ``|X - p0| <= max(p0, 1 - p0)``; never wider
    than Hoeffding's band (the narrower of the two is returned).
    """
    if not (0.0 <= p0 <= 1.0):
        raise ValueError(f"p0 must lie in [0, 1] (got {p0!r})")
    hoef = hoeffding(n, delta)
    if p0 in (0.0, 1.0):
        return hoef
    bern = bernstein(n, p0 * (1.0 - p0), max(p0, 1.0 - p0), delta)
    return bern if bern.halfwidth < hoef.halfwidth else hoef


def chebyshev(n: int, variance: float, delta: float = DEFAULT_DELTA) -> Tolerance:
    """Half-width from Chebyshev's inequality for the mean of ``n`` variables with ``Var <= variance``."""
    _check_common(n, delta)
    if not variance >= 0:
        raise ValueError(f"variance must be >= 0 (got {variance!r})")

    def tail(s: float) -> float:
        return min(1.0, variance / (n * s * s))

    return Tolerance("chebyshev", int(n), delta, math.sqrt(variance / (n * delta)), tail)


def _median_failure(groups: int, q: float) -> float:
    """P(at least half of ``groups`` independent groups fail), each failing w.p. <= q (exact binomial)."""
    if q >= 1.0:
        return 1.0
    return float(stats.binom.sf(math.ceil(groups / 2) - 1, groups, q))


@lru_cache(maxsize=4096)
def _largest_q(groups: int, delta: float) -> float:
    """The largest per-group failure probability q with P(Bin(groups, q) >= ceil(groups/2)) <= delta.

    P(Bin(k, q) >= h) = I_q(h, k - h + 1) is increasing in q, so q is the delta-quantile of Beta(h, k-h+1).
    """
    h = math.ceil(groups / 2)
    q = float(stats.beta.ppf(delta, h, groups - h + 1))
    while q > 0 and _median_failure(groups, q) > delta:  # guard against rounding in the quantile
        q *= 1 - 1e-9
    return min(q, 0.5)


@lru_cache(maxsize=256)
def _best_groups(n: int, delta: float) -> int:
    """The odd group count k <= min(n, 399) minimising k / ((n // k) * k * q_k), i.e. the MoM half-width."""
    best, best_cost = 1, math.inf
    for k in range(1, min(n, 400), 2):
        q = _largest_q(k, delta)
        if q > 0:
            cost = 1.0 / ((n // k) * q)
            if cost < best_cost:
                best, best_cost = k, cost
    return best


def median_of_means(n: int, variance: float, delta: float = DEFAULT_DELTA, groups: int | None = None) -> Tolerance:
    """Median-of-means band for ``n`` samples of an unbounded variable with ``Var <= variance``.

    The estimator is ``median_of_means_estimate(samples, tol.groups)``; ``groups`` is chosen (odd,
    at most ``n``) to minimise the half-width unless given.
    """
    _check_common(n, delta)
    if not variance >= 0:
        raise ValueError(f"variance must be >= 0 (got {variance!r})")

    def halfwidth(k: int) -> float:
        q = _largest_q(k, delta)
        if q <= 0:
            return math.inf
        return math.sqrt(variance * k / ((n // k) * k * q)) if variance > 0 else 0.0

    groups = _best_groups(int(n), float(delta)) if groups is None else int(groups)
    if not 1 <= groups <= n:
        raise ValueError(f"groups must lie in [1, n] (got {groups})")
    per_group = n // groups

    def tail(s: float) -> float:
        if variance == 0:
            return 0.0
        return _median_failure(groups, variance / (per_group * s * s))

    return Tolerance("median-of-means", int(n), delta, halfwidth(groups), tail, groups)


def median_of_means_estimate(samples: np.ndarray, groups: int) -> float:
    """The median of ``groups`` group means of ``samples`` (the last ``n mod groups`` samples dropped)."""
    samples = np.asarray(samples, dtype=np.float64).ravel()
    per_group = samples.size // groups
    if per_group < 1:
        raise ValueError(f"need at least {groups} samples for {groups} groups (got {samples.size})")
    return float(np.median(samples[: per_group * groups].reshape(groups, per_group).mean(axis=1)))


def dkw(n: int, delta: float = DEFAULT_DELTA) -> Tolerance:
    """Band on ``sup_x |F_n(x) - F(x)|`` for the empirical CDF of ``n`` samples (DKW, Massart's constant)."""
    _check_common(n, delta)

    def tail(s: float) -> float:
        return min(1.0, 2.0 * math.exp(-2.0 * n * s * s))

    return Tolerance("dkw", int(n), delta, math.sqrt(math.log(2.0 / delta) / (2.0 * n)), tail)


def ks_distance(samples: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray]) -> float:
    """sup_x |F_n(x) - cdf(x)| for the empirical CDF of ``samples`` (evaluated at the jumps)."""
    xs = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    n = xs.size
    f = np.asarray(cdf(xs), dtype=np.float64)
    upper = np.arange(1, n + 1) / n - f
    lower = f - np.arange(0, n) / n
    return float(max(upper.max(), lower.max()))


def clopper_pearson(successes: int, n: int, delta: float = DEFAULT_DELTA) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided 1 - delta interval for a binomial proportion."""
    _check_common(n, delta)
    lo = 0.0 if successes == 0 else float(stats.beta.ppf(delta / 2, successes, n - successes + 1))
    hi = 1.0 if successes == n else float(stats.beta.ppf(1 - delta / 2, successes + 1, n - successes))
    return lo, hi


def detection_table(delta: float = DEFAULT_DELTA, relative_error: float = 0.10) -> str:
    """Half-widths, and the computed bound on P(accept) of a formula off by ``relative_error``."""
    import theory

    rows = [f"{'band':<22}{'n':>10}  {'truth':>7}  {'halfwidth':>10}  P(accept a {relative_error:.0%}-wrong claim) <="]
    for n in (20_000, 200_000, 2_000_000):
        for p in (0.1, 0.5):
            wrong = p * (1 + relative_error)
            band, truth = bernoulli(n, wrong, delta), bernoulli(n, p, delta)
            rows.append(
                f"{'bernoulli(p=' + str(p) + ')':<22}{n:>10}  {p:>7.3g}  {band.halfwidth:>10.4g}  "
                f"{band.miss(p, wrong, truth):.3g}"
            )
    # E[Delta^2] at d = 1, Psi = 1 from the theory; Var(Delta^2) <= E[A^4] = 3 Psi^2 (crude), or
    # <= E[Delta^4] (~0.19; what the quadrature bound in numerics._montecarlo gives)
    mu = float(theory.lemma_4_1_second_moment(1.0, 1.0))
    tight = float(theory.lemma_4_1_fourth_moment(1.0, 1.0))
    for n in (200_000, 1_000_000, 2_000_000):
        for label, var in (("MoM E[D^2], var<=3", 3.0), (f"MoM E[D^2], var<={tight:.3g}", tight)):
            tol = median_of_means(n, var, delta)
            rows.append(
                f"{label:<22}{n:>10}  {mu:>7.3g}  {tol.halfwidth:>10.4g}  {tol.miss(mu, mu * (1 + relative_error)):.3g}"
            )
    return "\n".join(rows)
