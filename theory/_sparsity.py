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
    return {
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
)
lemma_5_1_expected_row_nonzeros = Formula(
    "expected_row_nonzeros",
    "lemma-5.1",
    lambda: lemma_5_1_derivation()["expected_row_nonzeros"],
    (d1, d2, d),
    "lemma-5.1: largest expected row nonzero count, 1 + (d2-1) chi (diagonal kept).",
)
lemma_5_1_expected_col_nonzeros = Formula(
    "expected_col_nonzeros",
    "lemma-5.1",
    lambda: lemma_5_1_derivation()["expected_col_nonzeros"],
    (d1, d2, d),
    "lemma-5.1: largest expected column nonzero count, 1 + (d1-1) chi (diagonal kept).",
)
lemma_5_1_row_bound = Formula(
    "row_bound",
    "lemma-5.1",
    lambda: lemma_5_1_derivation()["row_bound"],
    (d1, d2, d, eps),
    "lemma-5.1: with prob >= 1 - epsilon every row of Ahat has at most this many nonzeros.",
)
lemma_5_1_col_bound = Formula(
    "col_bound",
    "lemma-5.1",
    lambda: lemma_5_1_derivation()["col_bound"],
    (d1, d2, d, eps),
    "lemma-5.1: with prob >= 1 - epsilon every column of Ahat has at most this many nonzeros.",
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
    ]
    return {
        "sketch_size": side,
        "sketch_entries": entries,
        "dense_count": dense,
        "naive_log_count": naive_log,
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
    "lemma-d.1: ln(number of sparse d1 x d2 matrices with J nonzeros taking r values), nats (J <= d1 d2).",
)
sketch_over_naive_lower = Formula(
    "sketch_over_naive_lower",
    "theorem-5.2",
    lambda: sketch_counts_derivation()["sketch_over_naive_lower"],
    (j, p, c_m, r),
    "theorem-5.2: lower bound on (sketch configurations)/(naive configurations) in nats, J = j p.",
)
