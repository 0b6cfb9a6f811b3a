"""Sparsity of the pruned matrices and the parameter counts of sketching:
Lemma 5.1, Lemma E.1 (balls into bins), Theorem 5.1's sketch size, and the counts that
Theorem 5.2 (sketch) and Lemma D.1 (naive sparse) charge against the dense count.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from ._claim import Step
from ._norms import offdiagonal_counts
from ._numeric import Formula
from ._pruning import lemma_4_1_derivation
from ._special import stirling_remainder
from ._stable import Float64Safe
from ._symbols import J, M, c_m, d, d1, d2, eps, j, mu, n, p, r, t


@cache
def lemma_5_1_derivation() -> dict:
    """Lemma 5.1: expected survivors of Algorithm 1 on a d1 x d2 matrix with the diagonal kept,
    the expected nonzeros of the fullest row and column, and explicit high-probability bounds on
    the row/column maxima (each row: 1 kept diagonal + Bin(d2 - 1, chi) off-diagonal survivors).
    """
    chi = lemma_4_1_derivation()["chi"]
    counts = offdiagonal_counts()
    n_diag = sp.Min(d1, d2)
    # E[survivors] = sum_{ij} P(kept_ij) = (diagonal entries) * 1 + (off-diagonal entries) * chi
    survivors = n_diag + counts["total"] * chi
    # a row meeting the diagonal: 1 + (d2 - 1) chi, one missing it: d2 chi; since chi <= 1 the first is larger
    row_expect = 1 + (d2 - 1) * chi
    col_expect = 1 + (d1 - 1) * chi
    row_vs_missing = sp.simplify(row_expect - d2 * chi)
    e1 = lemma_e_1_derivation()
    row_bound = row_expect + e1["t"].subs({mu: (d2 - 1) * chi, n: d1})
    col_bound = col_expect + e1["t"].subs({mu: (d1 - 1) * chi, n: d2})
    steps = [
        Step("E[survivors] = \\sum_{ij} P(kept) = min(d_1, d_2) + (d_1 d_2 - min(d_1, d_2))\\chi(d) =", survivors),
        Step("Fullest row in expectation (a row meeting the diagonal): 1 + (d_2 - 1)\\chi =", row_expect),
        Step("it exceeds a row missing the diagonal by 1 - \\chi \\ge 0:", row_vs_missing),
        Step("Bernstein + union bound over the d_1 rows (Lemma E.1's route, failure \\epsilon): j_r \\le", row_bound),
        Step("and over the d_2 columns: j_c \\le", col_bound),
    ]
    # for numbers: chi rationalised (Lemma 4.1) and d1 d2 - min = min (max - 1) (no overflow of d1 d2)
    chi_numeric = lemma_4_1_derivation()["chi_numeric"]
    numeric = {
        "expected_survivors": n_diag + counts["total_factored"] * chi_numeric,
        "expected_row_nonzeros": row_expect.subs(chi, chi_numeric),
        "expected_col_nonzeros": col_expect.subs(chi, chi_numeric),
        "row_bound": row_bound.subs(chi, chi_numeric),
        "col_bound": col_bound.subs(chi, chi_numeric),
    }
    return {
        "numeric": numeric,
        "expected_survivors": sp.simplify(survivors),
        "expected_row_nonzeros": row_expect,
        "expected_col_nonzeros": col_expect,
        "row_bound": row_bound,
        "col_bound": col_bound,
        "steps": steps,
    }


@cache
def lemma_e_1_derivation() -> dict:
    """Lemma E.1 (explicit version we prove): a bin's load X ~ Bin(M, 1/n) has mean mu = M/n and
    variance <= mu; Bernstein gives P(X >= mu + t) <= exp(-t^2 / (2 (mu + t/3))); a union bound over n
    bins set equal to epsilon and solved for t gives max load <= mu + t with probability >= 1 - epsilon.
    """
    bernstein = sp.exp(-(t**2) / (2 * (mu + t / 3)))
    union = n * bernstein
    # taking logs, n exp(-t^2/(2(mu + t/3))) = epsilon  <=>  t^2 = 2 (mu + t/3) ln(n/epsilon)
    ell = sp.Symbol("ell", positive=True)  # ln(n / epsilon), positive when epsilon < 1 <= n
    quadratic = sp.expand(t**2 - 2 * (mu + t / 3) * ell)
    roots = sp.solve(quadratic, t)
    positive = [s for s in roots if s.is_positive]
    if len(positive) != 1:
        raise RuntimeError(f"lemma E.1: expected one positive root, got {roots}")
    t_sol = positive[0].subs(ell, sp.log(n / eps))
    steps = [
        Step("Bernstein for one bin, X \\sim Bin(M, 1/n), Var X \\le \\mu = M/n: P(X \\ge \\mu + t) \\le", bernstein),
        Step("Union bound over the n bins:", union),
        Step("Set equal to \\epsilon and solve for t > 0:", t_sol),
        Step(
            "So with probability \\ge 1 - \\epsilon, max load \\le M/n + t; for \\mu \\gg \\log n this is "
            "M/n + \\sqrt{2 (M/n) \\log(n/\\epsilon)} + O(\\log(n/\\epsilon)).",
            None,
        ),
    ]
    return {"t": t_sol, "max_load": (M / n + t_sol.subs(mu, M / n)), "steps": steps}


lemma_5_1_expected_survivors = Formula(
    "expected_survivors",
    "lemma-5.1",
    lambda: lemma_5_1_derivation()["expected_survivors"],
    (d1, d2, d),
    "lemma-5.1: E[number of nonzeros of Ahat] for a d1 x d2 layer, diagonal kept, Assumption 3.1.",
    numeric=lambda: lemma_5_1_derivation()["numeric"]["expected_survivors"],
)
lemma_5_1_expected_row_nonzeros = Formula(
    "expected_row_nonzeros",
    "lemma-5.1",
    lambda: lemma_5_1_derivation()["expected_row_nonzeros"],
    (d1, d2, d),
    "lemma-5.1: largest expected row nonzero count, 1 + (d2-1) chi (diagonal kept).",
    numeric=lambda: lemma_5_1_derivation()["numeric"]["expected_row_nonzeros"],
)
lemma_5_1_expected_col_nonzeros = Formula(
    "expected_col_nonzeros",
    "lemma-5.1",
    lambda: lemma_5_1_derivation()["expected_col_nonzeros"],
    (d1, d2, d),
    "lemma-5.1: largest expected column nonzero count, 1 + (d1-1) chi (diagonal kept).",
    numeric=lambda: lemma_5_1_derivation()["numeric"]["expected_col_nonzeros"],
)
lemma_5_1_row_bound = Formula(
    "row_bound",
    "lemma-5.1",
    lambda: lemma_5_1_derivation()["row_bound"],
    (d1, d2, d, eps),
    "lemma-5.1: with prob >= 1 - epsilon every row of Ahat has at most this many nonzeros.",
    numeric=lambda: lemma_5_1_derivation()["numeric"]["row_bound"],
)
lemma_5_1_col_bound = Formula(
    "col_bound",
    "lemma-5.1",
    lambda: lemma_5_1_derivation()["col_bound"],
    (d1, d2, d, eps),
    "lemma-5.1: with prob >= 1 - epsilon every column of Ahat has at most this many nonzeros.",
    numeric=lambda: lemma_5_1_derivation()["numeric"]["col_bound"],
)
lemma_e_1_max_load_bound = Formula(
    "max_load",
    "lemma-e.1",
    lambda: lemma_e_1_derivation()["max_load"],
    (M, n, eps),
    "lemma-e.1: with prob >= 1 - epsilon the fullest of n bins holds at most this many of M balls.",
)


# ---------------------------------------------------------------------------------------
# Theorem 5.1 sketch size and the parameter counts
# ---------------------------------------------------------------------------------------
#: counts up to 2**53 are exact float64 integers (D - J must be exact for the log-binomial)
MAX_EXACT_COUNT = 2**53
#: below this many entries ln C(D, J) is evaluated from log-gammas directly (error ~ 1e-16 D relative)
STIRLING_FROM = 10**4


def log_binomial_numeric(total: sp.Expr, chosen: sp.Expr) -> tuple[sp.Expr, list]:
    """ln C(total, chosen) written for float64 (total <= 2**53, 0 <= chosen <= total), with its derivation.

    ln C(D, J) = lnGamma(D+1) - lnGamma(J+1) - lnGamma(D-J+1) loses all digits to cancellation once
    lnGamma(D+1) ~ D ln D is large against the result (J = 1, D = 1e8: relative error 1e-8).  With
    K = min(J, D - J) (C(D, J) = C(D, D - J)), A = D + 1, B = D - K + 1 and lnGamma(z) = (z - 1/2) ln z - z +
    ln(2 pi)/2 + R(z), the difference of the two large log-gammas is exactly
        lnGamma(A) - lnGamma(B) = (B - 1/2) log1p(K/B) + K ln A - K + R(A) - R(B),
    a sum without cancellation (B >= D/2 + 1 is large, so R is its series).  Below ``STIRLING_FROM``
    entries the log-gammas are used directly.
    """
    from sympy.codegen.cfunctions import log1p

    z, rem = stirling_remainder()
    big_a, big_b = sp.Symbol("A", positive=True), sp.Symbol("B", positive=True)
    leading = lambda w: (w - sp.Rational(1, 2)) * sp.log(w) - w  # noqa: E731  (ln(2 pi)/2 cancels)
    rewritten = (big_b - sp.Rational(1, 2)) * sp.log(big_a / big_b) + (big_a - big_b) * sp.log(big_a) - (big_a - big_b)
    if sp.simplify(sp.expand_log(leading(big_a) - leading(big_b) - rewritten, force=True)) != 0:
        raise AssertionError("Stirling difference: the rewrite of lnGamma(A) - lnGamma(B) is not an identity")
    k_sym = sp.Min(chosen, total - chosen)
    a_val, b_val = total + 1, total - k_sym + 1
    stirling = (
        (b_val - sp.Rational(1, 2)) * log1p(k_sym / b_val)
        + k_sym * sp.log(a_val)
        - k_sym
        + rem.subs(z, a_val)
        - rem.subs(z, b_val)
        - sp.loggamma(k_sym + 1, evaluate=False)
    )
    direct = (
        sp.loggamma(total + 1, evaluate=False)
        - sp.loggamma(chosen + 1, evaluate=False)
        - sp.loggamma(total - chosen + 1, evaluate=False)
    )
    steps = [
        Step(
            "Asymptotic series of \\ln\\Gamma(z) (SymPy), remainder after (z - 1/2)\\ln z - z + \\ln(2\\pi)/2: R(z) =",
            rem,
        ),
        Step(
            "For evaluation (D = d_1 d_2 >= 10^4, K = min(J, D - J), A = D + 1, B = D - K + 1): "
            "\\ln\\binom{D}{J} = (B - 1/2)\\,\\mathrm{log1p}(K/B) + K\\ln A - K + R(A) - R(B) - \\ln\\Gamma(K + 1) =",
            stirling,
        ),
    ]
    # C(D, 0) = C(D, D) = 1 exactly
    exact_one = sp.Or(sp.Eq(chosen, 0), sp.Eq(chosen, total))
    return sp.Piecewise((0, exact_one), (direct, total <= STIRLING_FROM), (stirling, True)), steps


@cache
def sketch_counts_derivation() -> dict:
    """Theorem 5.1 / 5.2 / Lemma D.1: the sketch side m = c_m sqrt(j p) ln p, the sketch's entry count
    m^2, the dense count p^2 (or d1 d2), the log-number of naive sparse configurations
    ln C(d1 d2, J) + J ln r, and the log-number of sketch configurations m^2 ln r.

    The comparison (the point of Section 5) is made in nats of configurations: a j-distributed
    sparse p x p matrix has J <= j p nonzeros, so m^2 ln r >= c_m^2 (ln p)^2 J ln r, already above the
    naive count's J ln r term by the factor c_m^2 ln^2 p.
    """
    side = c_m * sp.sqrt(j * p) * sp.log(p)
    entries = sp.expand(side**2)
    dense = d1 * d2
    # ln C(D, J) = lnGamma(D + 1) - lnGamma(J + 1) - lnGamma(D - J + 1), kept unevaluated as log-gamma
    # so that the numeric face uses scipy's gammaln (no overflow for D ~ 10^6)
    naive_log = (
        sp.loggamma(d1 * d2 + 1, evaluate=False)
        - sp.loggamma(J + 1, evaluate=False)
        - sp.loggamma(d1 * d2 - J + 1, evaluate=False)
        + J * sp.log(r)
    )
    sketch_log = entries * sp.log(r)
    naive_log_numeric, stirling_steps = log_binomial_numeric(d1 * d2, J)
    # a log-count: C(D, J) >= 1 and r >= 1, so it is >= 0; written for float64 already
    naive_log_numeric = Float64Safe(naive_log_numeric + J * sp.log(r), 1)
    # the ratio at the densest case J = j p on a p x p matrix, in the large-p Stirling regime:
    # ln C(p^2, j p) <= j p ln(e p / j)
    naive_upper = j * p * sp.log(sp.E * p / j) + j * p * sp.log(r)
    ratio = sp.cancel(sp.expand_log(sketch_log, force=True) / sp.expand_log(naive_upper, force=True))
    steps = [
        Step("Theorem 5.1: sketch side m =", side),
        Step("Entries of the m x m sketch Y (the parameters Theorem 5.2 charges):", entries),
        Step("Dense count of a d_1 x d_2 layer:", dense),
        Step("Naive sparse configurations (Lemma D.1), in nats: \\ln\\binom{d_1 d_2}{J} + J \\ln r =", naive_log),
        Step("Sketch configurations, in nats: m^2 \\ln r =", sketch_log),
        Step("With J = j p and \\ln\\binom{p^2}{jp} \\le jp\\ln(ep/j): sketch / naive \\ge", ratio),
        *stirling_steps,
    ]
    return {
        "sketch_size": side,
        "sketch_entries": entries,
        "dense_count": dense,
        "naive_log_count": naive_log,
        "naive_log_count_numeric": naive_log_numeric,
        "sketch_log_count": sketch_log,
        "sketch_over_naive_lower": ratio,
        "steps": steps,
    }


theorem_5_1_sketch_size = Formula(
    "sketch_size",
    "theorem-5.1",
    lambda: sketch_counts_derivation()["sketch_size"],
    (j, p, c_m),
    "theorem-5.1: sketch side m = c_m sqrt(j p) ln p for a j-distributed-sparse p x p matrix.",
)
sketch_parameter_count = Formula(
    "sketch_entries",
    "theorem-5.2",
    lambda: sketch_counts_derivation()["sketch_entries"],
    (j, p, c_m),
    "theorem-5.2: parameters charged per layer, m^2 = c_m^2 j p ln^2 p.",
)
dense_parameter_count = Formula(
    "dense_count",
    "lemma-d.1",
    lambda: sketch_counts_derivation()["dense_count"],
    (d1, d2),
    "lemma-d.1: dense parameter count d1 d2 of a layer.",
)
naive_sparse_log_count = Formula(
    "naive_log_count",
    "lemma-d.1",
    lambda: sketch_counts_derivation()["naive_log_count"],
    (d1, d2, J, r),
    "lemma-d.1: ln(number of sparse d1 x d2 matrices with J nonzeros taking r values), natural log (nats). "
    "Raises ValueError naming J when J > d1*d2 (more nonzeros than entries) and naming d1*d2 above 2**53 "
    "(not an exact float64 count).  Evaluated with a Stirling difference (no cancellation of log-gammas).",
    numeric=lambda: sketch_counts_derivation()["naive_log_count_numeric"],
    constraints=[
        (J <= d1 * d2, "J must be <= d1*d2 (a d1 x d2 matrix has d1*d2 entries to hold J nonzeros)"),
        (d1 * d2 <= MAX_EXACT_COUNT, "d1*d2 must be <= 2**53 (larger counts are not exact in float64)"),
    ],
)
sketch_over_naive_lower = Formula(
    "sketch_over_naive_lower",
    "theorem-5.2",
    lambda: sketch_counts_derivation()["sketch_over_naive_lower"],
    (j, p, c_m, r),
    "theorem-5.2: lower bound on (sketch configurations)/(naive configurations) in nats, J = j p "
    "(dimensionless ratio).  Raises ValueError naming j when j > p (J = j p > p^2 entries).",
    constraints=[(j <= p, "j must be <= p (J = j p nonzeros must fit in the p^2 entries)")],
)
