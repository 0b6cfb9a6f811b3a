"""Algorithm 1 (randomised magnitude-based pruning), Lemma 4.1, Lemmas D.2 and D.3.

Everything here is derived by integrating against the Gaussian density of
Assumption 3.1 (entries i.i.d. N(0, Psi)); the only typed-in formula is the
algorithm's own definition: an off-diagonal entry ``x`` is zeroed with probability
``exp(-x**2 / (d * Psi))``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from ._claim import Step
from ._numeric import Formula
from ._symbols import Psi, d, i, k, n, p_min, q, x

#: Algorithm 1's definition [code]: probability that an off-diagonal entry of value x is zeroed.
PRUNE_PROBABILITY_GIVEN_ENTRY = sp.exp(-(x**2) / (d * Psi))


def gaussian_density(var: sp.Expr, at: sp.Symbol = x) -> sp.Expr:
    """Density of N(0, var) at ``at`` (Assumption 3.1)."""
    return sp.exp(-(at**2) / (2 * var)) / sp.sqrt(2 * sp.pi * var)


def _expect(integrand: sp.Expr) -> sp.Expr:
    """E[integrand(x)] for x ~ N(0, Psi), by symbolic integration over the real line."""
    value = sp.integrate(integrand * gaussian_density(Psi), (x, -sp.oo, sp.oo))
    return sp.simplify(value)


@cache
def lemma_4_1_derivation() -> dict:
    """Lemma 4.1 / Algorithm 1: pruning and keep probabilities and the moments of Delta = A - Ahat.

    Assumptions: A_ij ~ N(0, Psi) (Assumption 3.1), an off-diagonal entry, Algorithm 1 with
    strength d > 0.  Delta_ij = A_ij when the entry is pruned and 0 when it is kept, so
    E[Delta^k] = E[A^k exp(-A^2/(d Psi))].
    """
    prune = _expect(PRUNE_PROBABILITY_GIVEN_ENTRY)
    keep = sp.simplify(1 - prune)
    moments = {power: _expect(x**power * PRUNE_PROBABILITY_GIVEN_ENTRY) for power in (1, 2, 3, 4)}
    # for numbers, each in u = 1 + 2/d (d/(d+2) = 1/u: no d**(3/2) overflowing at d = 1e210) and the keep
    # probability rationalised: 1 - s with s = sqrt(d/(d+2)) cancels for large d (0 at d = 1e17), while
    # 1 - s = (1 - s^2)/(1 + s) = (2/(d+2))/(1 + s) is a quotient of positive terms; each proved equal here
    u_ = 1 + 2 / d
    numeric = {
        "P_pruned": u_ ** sp.Rational(-1, 2),
        "chi": 2 / ((d + 2) * (1 + u_ ** sp.Rational(-1, 2))),
        "E_Delta2": Psi * u_ ** sp.Rational(-3, 2),
        "E_Delta4": 3 * Psi**2 * u_ ** sp.Rational(-5, 2),
    }
    derived = {"P_pruned": prune, "chi": keep, "E_Delta2": moments[2], "E_Delta4": moments[4]}
    for key, form in numeric.items():
        if sp.simplify(derived[key] - form) != 0:
            raise AssertionError(f"lemma 4.1: the evaluation form of {key} is not equal to the derived result")
    keep_numeric = numeric["chi"]
    variance = sp.simplify(moments[2] - moments[1] ** 2)
    # the kept entries: E[A^2 | kept] P(kept), for the norm of the pruned matrix itself
    kept_second = sp.simplify(Psi - moments[2])
    steps = [
        Step("Algorithm 1 zeroes an off-diagonal entry x with probability", PRUNE_PROBABILITY_GIVEN_ENTRY),
        Step("Assumption 3.1: the entry is N(0, Psi), with density", gaussian_density(Psi)),
        Step("P(pruned) = \\int e^{-x^2/(d\\Psi)} \\phi_\\Psi(x) dx =", prune),
        Step("P(kept) = \\chi(d) = 1 - P(pruned) =", keep),
        Step("Rationalised for evaluation (1 - s = (1 - s^2)/(1 + s), equal by SymPy): \\chi(d) =", keep_numeric),
        Step("and the moments in u = 1 + 2/d for evaluation (equal by SymPy): E[\\Delta^2] =", numeric["E_Delta2"]),
        Step(
            "\\Delta = A\\,\\mathbf{1}[pruned]; E[\\Delta] = \\int x e^{-x^2/(d\\Psi)} \\phi_\\Psi(x) dx =", moments[1]
        ),
        Step("E[\\Delta^2] = \\int x^2 e^{-x^2/(d\\Psi)} \\phi_\\Psi(x) dx =", moments[2]),
        Step("E[\\Delta^4] = \\int x^4 e^{-x^2/(d\\Psi)} \\phi_\\Psi(x) dx =", moments[4]),
        Step("Var[\\Delta] = E[\\Delta^2] - E[\\Delta]^2 =", variance),
    ]
    limits = {
        "P_pruned(d->0)": sp.limit(prune, d, 0, "+"),
        "P_pruned(d->oo)": sp.limit(prune, d, sp.oo),
        "E_Delta2(d->0)": sp.limit(moments[2], d, 0, "+"),
        "E_Delta2(d->oo)": sp.limit(moments[2], d, sp.oo),
        "dP_pruned/dd": sp.simplify(sp.diff(prune, d)),
        "dE_Delta2/dd": sp.simplify(sp.diff(moments[2], d)),
    }
    return {
        "P_pruned": prune,
        "chi": keep,
        "chi_numeric": keep_numeric,
        "numeric": numeric,
        "E_Delta": moments[1],
        "E_Delta2": moments[2],
        "E_Delta3": moments[3],
        "E_Delta4": moments[4],
        "Var_Delta": variance,
        "E_Ahat2": kept_second,
        "steps": steps,
        "limits": limits,
    }


def _lemma_4_1(name: str):
    return lambda: lemma_4_1_derivation()[name]


#: Algorithm 1 [code]: zeroing probability of an entry of value x (the definition, not a result).
algorithm_1_prune_probability = Formula(
    "prune_probability_given_entry",
    "algorithm-1",
    PRUNE_PROBABILITY_GIVEN_ENTRY,
    (x, d, Psi),
    "algorithm-1: probability that Algorithm 1 zeroes an off-diagonal entry of value x (d > 0, Psi > 0).",
)
#: Lemma 4.1: P(an off-diagonal N(0, Psi) entry is pruned) -- independent of Psi.
lemma_4_1_prune_probability = Formula(
    "P_pruned",
    "lemma-4.1",
    _lemma_4_1("P_pruned"),
    (d,),
    "lemma-4.1: P(pruned) of an off-diagonal entry under Assumption 3.1 (d > 0).",
    numeric=lambda: lemma_4_1_derivation()["numeric"]["P_pruned"],
)
#: Lemma 4.1: chi(d) = P(kept).
lemma_4_1_keep_probability = Formula(
    "chi",
    "lemma-4.1",
    _lemma_4_1("chi"),
    (d,),
    "lemma-4.1: chi(d) = P(kept) of an off-diagonal entry under Assumption 3.1 (d > 0); evaluated in the "
    "rationalised form 2/((d+2)(1+sqrt(d/(d+2)))) (no cancellation: chi(1e17) = 1e-17 to full precision).",
    numeric=_lemma_4_1("chi_numeric"),
)
lemma_4_1_mean = Formula(
    "E_Delta",
    "lemma-4.1",
    _lemma_4_1("E_Delta"),
    (d, Psi),
    "lemma-4.1: E[Delta_ij] for an off-diagonal entry (d > 0, Psi > 0).",
)
lemma_4_1_second_moment = Formula(
    "E_Delta2",
    "lemma-4.1",
    _lemma_4_1("E_Delta2"),
    (d, Psi),
    "lemma-4.1: E[Delta_ij^2] for an off-diagonal entry (d > 0, Psi > 0).",
    numeric=lambda: lemma_4_1_derivation()["numeric"]["E_Delta2"],
)
lemma_4_1_fourth_moment = Formula(
    "E_Delta4",
    "lemma-4.1",
    _lemma_4_1("E_Delta4"),
    (d, Psi),
    "lemma-4.1: E[Delta_ij^4] for an off-diagonal entry (d > 0, Psi > 0).",
    numeric=lambda: lemma_4_1_derivation()["numeric"]["E_Delta4"],
)


# ---------------------------------------------------------------------------------------
# Lemma D.2 / D.3: entries whose pruning probability is at least p_min, and the counts.
# ---------------------------------------------------------------------------------------
@cache
def lemma_d_2_derivation() -> dict:
    """Lemma D.2: P(exp(-A^2/(d Psi)) >= p_min) for A ~ N(0, Psi), and the count tail.

    Solves the algorithm's pruning probability for the magnitude threshold, integrates the
    Gaussian density over [-T, T], and writes the binomial upper tail both as a finite sum
    and as a regularised incomplete beta function I_q(k, n - k + 1).
    """
    positive_x = sp.Symbol("x_abs", positive=True)
    roots = sp.solve(sp.Eq(PRUNE_PROBABILITY_GIVEN_ENTRY.subs(x, positive_x), p_min), positive_x)
    if len(roots) != 1:
        raise RuntimeError(f"lemma D.2: expected one positive threshold, got {roots}")
    threshold = sp.simplify(roots[0])
    probability = sp.simplify(sp.integrate(gaussian_density(Psi), (x, -threshold, threshold)))
    tail_sum = sp.Sum(sp.binomial(n, i) * q**i * (1 - q) ** (n - i), (i, k, n))
    tail_beta = sp.betainc_regularized(k, n - k + 1, 0, q)
    # a Bin(n, q) count lies in {0, ..., n}: P(count >= 0) = 1 and P(count >= k) = 0 for k > n (the sum over
    # the support {k, ..., n} is empty); I_q(k, n - k + 1) covers 1 <= k <= n
    tail = sp.Piecewise((1, sp.Eq(k, 0)), (0, k > n), (tail_beta, True))
    steps = [
        Step("Solve e^{-x^2/(d\\Psi)} = p_{min} for x > 0: the threshold T =", threshold),
        Step("P(|A| \\le T) = \\int_{-T}^{T} \\phi_\\Psi(x) dx =", probability),
        Step("Count of such entries among n i.i.d. entries ~ Bin(n, q); P(count \\ge k) =", tail_sum),
        Step("The same tail as a regularised incomplete beta function:", tail_beta),
        Step("Over all k >= 0 (a count lies in 0..n: certain for k = 0, impossible for k > n):", tail),
    ]
    return {
        "threshold": threshold,
        "P_below_threshold": probability,
        "tail_sum": tail_sum,
        "tail_beta": tail_beta,
        "tail": tail,
        "steps": steps,
    }


def binomial_tail_identity_check(max_n: int = 10) -> bool:
    """Exact check of sum_{i>=k} C(n,i) q^i (1-q)^(n-i) == I_q(k, n-k+1) for 1 <= k <= n <= max_n.

    Both sides are expanded as polynomials in q with rational coefficients (the beta side by
    integrating its density, which is how I_q is defined); True when all agree exactly.
    """
    s = sp.Symbol("s", positive=True)
    for nn in range(1, max_n + 1):
        for kk in range(1, nn + 1):
            lhs = sp.expand(sum(sp.binomial(nn, ii) * q**ii * (1 - q) ** (nn - ii) for ii in range(kk, nn + 1)))
            beta_fn = sp.gamma(kk) * sp.gamma(nn - kk + 1) / sp.gamma(nn + 1)  # B(k, n-k+1)
            density = s ** (kk - 1) * (1 - s) ** (nn - kk) / beta_fn
            rhs = sp.expand(sp.integrate(sp.expand(density), (s, 0, q)))
            if sp.simplify(lhs - rhs) != 0:
                return False
    return True


lemma_d_2_threshold = Formula(
    "threshold",
    "lemma-d.2",
    lambda: lemma_d_2_derivation()["threshold"],
    (d, Psi, p_min),
    "lemma-d.2: |A| at or below this has pruning probability >= p_min (d, Psi > 0, 0 < p_min < 1).",
)
lemma_d_2_probability = Formula(
    "P_below_threshold",
    "lemma-d.2",
    lambda: lemma_d_2_derivation()["P_below_threshold"],
    (d, p_min),
    "lemma-d.2: P(pruning probability >= p_min) for A ~ N(0, Psi) (d > 0, 0 < p_min < 1).",
)
#: the largest n the incomplete beta of the binomial tail and the sphere tail is evaluated for (validated
#: against an independent 50-digit continued fraction up to there, tests/theory/test_domain.py)
MAX_BETA_COUNT = 10**7

#: Lemma D.2/D.3: P(Bin(n, q) >= k) as the regularised incomplete beta I_q(k, n-k+1), 1 <= k <= n.
binomial_upper_tail = Formula(
    "tail_beta",
    "lemma-d.2",
    lambda: lemma_d_2_derivation()["tail"],
    (n, k, q),
    "lemma-d.2: P(Bin(n, q) >= k) = I_q(k, n-k+1) for integers 1 <= k <= n, 1 for k = 0 and exactly 0 for k > n "
    "(0 < q < 1); a probability, dimensionless.  Raises ValueError for n > 10**7 (outside the validated range).",
    constraints=[
        (n <= MAX_BETA_COUNT, f"n must be <= {MAX_BETA_COUNT} (the range the incomplete beta is validated on)")
    ],
)
