"""Compression bounds: Theorem D.1 (explicit Theorem 3.1), Lemma D.1, Theorem 5.2, Theorem 6.2 and
the paper-compatible "Ours" of the authors' code.  All generalisation gaps are natural-log formulas;
``LayerFormula.log10`` gives their base-10 logarithm.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from ._claim import Step
from ._layers import LayerFormula, l_idx, layer_product, layer_sum, layer_symbol
from ._norms import JJ, KAPPA, LAM, RHO, G, S, lemma_4_4_derivation
from ._numeric import Formula, stable_for_numbers
from ._pruning import lemma_4_1_derivation
from ._sparsity import MAX_EXACT_COUNT, sketch_counts_derivation
from ._symbols import J, N, c_m, d, d1, d2, d_in, delta, j, l, m, n, p, r, rho, tau

log_N = sp.Symbol("log_N", positive=True)  # ln(number of configurations), nats
q_nnz = sp.Symbol("q_nnz", positive=True)  # nonzero weights of a lottery ticket (Theorem 6.2's d_in n + l n^2)


@cache
def theorem_d_1_derivation() -> dict:
    """Theorem D.1: for each of N fixed configurations the empirical 0-1 loss is a mean of m i.i.d.
    Bernoulli variables, so Hoeffding gives P(R - Rhat >= tau) <= exp(-2 m tau^2); a union bound over
    the N configurations set equal to delta and solved for tau gives the gap."""
    hoeffding = sp.exp(-2 * m * tau**2)
    union = N * hoeffding
    roots = [s for s in sp.solve(sp.Eq(union, delta), tau) if s.is_positive is not False]
    gap = sp.simplify(roots[0])
    gap_log = sp.simplify(sp.expand_log(gap.subs(N, sp.exp(log_N)), force=True))
    steps = [
        Step("Hoeffding for one configuration: P(R_0 - \\hat R \\ge \\tau) \\le", hoeffding),
        Step("Union bound over N configurations:", union),
        Step("Set equal to \\delta and solve for \\tau:", gap),
        Step("In terms of \\ln N:", gap_log),
    ]
    return {"gap": gap, "gap_log": gap_log, "steps": steps}


theorem_d_1_gap = Formula(
    "gap",
    "theorem-d.1",
    lambda: theorem_d_1_derivation()["gap_log"],
    (log_N, m, delta),
    "theorem-d.1: R_0(g) <= Rhat_gamma(f) + this, w.p. >= 1 - delta, for ln N = log_N configurations.",
)

# per-layer shapes and pruning quantities
D1 = layer_symbol("d1_l", positive=True, integer=True)
D2 = layer_symbol("d2_l", positive=True, integer=True)
ALPHA = layer_symbol("alpha_l", positive=True, integer=True)  # nonzero bound of a layer (Lemma D.1)
JL = layer_symbol("j_l", positive=True)  # distributed sparsity of a layer
PL = layer_symbol("p_l", positive=True, integer=True)  # max(d1_l, d2_l)
DELTA_NORM = layer_symbol("Delta_l", nonnegative=True)  # realised ||A_l - Ahat_l||_2
x_max = sp.Symbol("x_max", positive=True)  # max_x ||x|| over the training set


def _layer_gap(log_count_per_layer: sp.Expr) -> sp.Expr:
    gap = theorem_d_1_derivation()["gap_log"]
    return stable_for_numbers(gap.subs(log_N, layer_sum(stable_for_numbers(log_count_per_layer))))


@cache
def bounds_derivation() -> dict:
    """Lemma D.1, Theorem 5.2, Theorem 6.2 and the paper-compatible "Ours", each as a gap over
    per-layer quantities; and Theorem 5.2's margin condition."""
    counts = sketch_counts_derivation()
    naive = counts["naive_log_count"].subs({d1: D1[l_idx], d2: D2[l_idx], J: ALPHA[l_idx]})
    lemma_d_1 = _layer_gap(naive)
    naive_numeric = counts["naive_log_count_numeric"].subs({d1: D1[l_idx], d2: D2[l_idx], J: ALPHA[l_idx]})
    lemma_d_1_numeric = _layer_gap(naive_numeric)
    sketch = counts["sketch_log_count"].subs({j: JL[l_idx], p: PL[l_idx]})
    theorem_5_2 = _layer_gap(sketch)
    # Theorem 6.2: first layer ~ d_in n nonzeros, l middle layers ~ n^2, each sketched (j p ~ nonzeros)
    gap = theorem_d_1_derivation()["gap_log"]
    sketch_nats = lambda nonzeros: nonzeros * c_m**2 * sp.log(p) ** 2 * sp.log(r)  # noqa: E731
    theorem_6_2 = gap.subs(log_N, sketch_nats(d_in * n + l * n**2))
    # the same with the ticket's measured nonzero count in place of d_in n + l n^2
    theorem_6_2_nnz = gap.subs(log_N, sketch_nats(q_nnz))
    # Theorem 5.2's margin: e max||x|| prod(kappa_l ||A_l||) sum (lam_l Gamma_l + rounding_l)/||A_l||
    rounding = lemma_4_4_derivation()["rounding_error"].subs({rho: RHO[l_idx], J: JJ[l_idx]})
    margin_5_2 = (
        sp.E * x_max * layer_product(KAPPA[l_idx] * S[l_idx]) * layer_sum((LAM[l_idx] * G[l_idx] + rounding) / S[l_idx])
    )
    # paper-compatible [code]: sqrt((1/m) sum d1 d2 chi ln^2 max(d1, d2)), gamma* with realised ||Delta||
    chi = lemma_4_1_derivation()["chi"]
    ours_gap_of = lambda c: sp.sqrt(
        layer_sum(D1[l_idx] * D2[l_idx] * c * sp.log(sp.Max(D1[l_idx], D2[l_idx])) ** 2) / m
    )  # noqa: E731
    ours_gap = ours_gap_of(chi)
    ours_gap_numeric = ours_gap_of(lemma_4_1_derivation()["chi_numeric"])
    # its supremum over d > 0: chi decreases in d (derivative negative), so the sup is the limit d -> 0+
    chi_decreasing = sp.simplify(sp.diff(chi, d)).is_negative
    if not chi_decreasing:
        raise AssertionError("chi(d) is not provably decreasing; the ceiling below would not be the supremum")
    ours_gap_ceiling = ours_gap_of(sp.limit(chi, d, 0, "+"))
    ours_margin = (
        sp.E * x_max * layer_sum(DELTA_NORM[l_idx] / S[l_idx]) * layer_product(S[l_idx]) * layer_product(KAPPA[l_idx])
    )
    steps = {
        "lemma-d.1": [
            Step("ln N = \\sum_l [\\ln\\binom{d_1 d_2}{\\alpha_l} + \\alpha_l \\ln r] in Theorem D.1:", lemma_d_1)
        ],
        "theorem-5.2": [
            Step("ln N = \\sum_l m_l^2 \\ln r with m_l = c_m\\sqrt{j_l p_l}\\ln p_l, in Theorem D.1:", theorem_5_2),
            Step("margin condition (Lemmas 4.3/4.4 with C.1's \\kappa_l):", margin_5_2),
        ],
        "theorem-6.2": [
            Step("q = c_m^2 (d_{in} n + l n^2) \\ln^2 p sketch entries of r values, in Theorem D.1:", theorem_6_2)
        ],
        "paper-compatible-ours": [
            Step("[code] gap:", ours_gap),
            Step("[code] \\gamma^*:", ours_margin),
            Step("\\chi'(d) < 0, so the gap's supremum over d > 0 is its limit d \\to 0^+:", ours_gap_ceiling),
        ],
    }
    return {
        "lemma_d_1": lemma_d_1,
        "lemma_d_1_numeric": lemma_d_1_numeric,
        "ours_gap_numeric": ours_gap_numeric,
        "theorem_5_2": theorem_5_2,
        "theorem_5_2_margin": margin_5_2,
        "theorem_6_2": theorem_6_2,
        "theorem_6_2_nnz": theorem_6_2_nnz,
        "ours_gap": ours_gap,
        "ours_gap_ceiling": ours_gap_ceiling,
        "ours_margin": ours_margin,
        "steps": steps,
    }


lemma_d_1_gap = LayerFormula(
    "lemma_d_1_gap",
    "lemma-d.1",
    lambda: bounds_derivation()["lemma_d_1"],
    (D1, D2, ALPHA),
    (r, m, delta),
    "lemma-d.1: naive counting gap (a difference of 0-1 risks, dimensionless; natural logs inside); alpha_l = "
    "nonzero bound per layer, r = values per entry.  ValueError naming alpha_l when alpha_l > d1_l*d2_l and "
    "d1_l*d2_l above 2**53.",
    numeric=lambda: bounds_derivation()["lemma_d_1_numeric"],
    constraints=[
        (ALPHA[l_idx] <= D1[l_idx] * D2[l_idx], "alpha_l must be <= d1_l*d2_l (nonzeros must fit in the entries)"),
        (D1[l_idx] * D2[l_idx] <= MAX_EXACT_COUNT, "d1_l*d2_l must be <= 2**53 (larger counts are not exact)"),
    ],
)
theorem_5_2_gap = LayerFormula(
    "theorem_5_2_gap",
    "theorem-5.2",
    lambda: bounds_derivation()["theorem_5_2"],
    (JL, PL),
    (c_m, r, m, delta),
    "theorem-5.2: sketch counting gap with explicit sketch constant c_m (Theorem 5.1's m = c_m sqrt(jp) ln p).",
)
theorem_5_2_margin = LayerFormula(
    "theorem_5_2_margin",
    "theorem-5.2",
    lambda: bounds_derivation()["theorem_5_2_margin"],
    (KAPPA, S, LAM, G, RHO, JJ),
    (x_max,),
    "theorem-5.2: the margin gamma must be at least this (kappa_l = 1 without Condition C.1).",
)
theorem_6_2_gap = Formula(
    "theorem_6_2_gap",
    "theorem-6.2",
    lambda: bounds_derivation()["theorem_6_2"],
    (d_in, n, l, p, c_m, r, m, delta),
    "theorem-6.2: lottery-ticket gap for a depth-l target of width n sketched in a network of max width p.",
)
theorem_6_2_gap_from_nonzeros = Formula(
    "theorem_6_2_gap_nnz",
    "theorem-6.2",
    lambda: bounds_derivation()["theorem_6_2_nnz"],
    (q_nnz, p, c_m, r, m, delta),
    "theorem-6.2: lottery-ticket gap for a ticket with q_nnz nonzero weights in a network of max width p.",
)
paper_ours_gap = LayerFormula(
    "ours_gap",
    "paper-compatible-ours",
    lambda: bounds_derivation()["ours_gap"],
    (D1, D2),
    (d, m),
    "paper-compatible-ours [code]: sqrt((1/m) sum d1 d2 chi(d) ln^2 max(d1, d2)) (chi rationalised for numbers).",
    numeric=lambda: bounds_derivation()["ours_gap_numeric"],
)
paper_ours_gap_ceiling = LayerFormula(
    "ours_gap_ceiling",
    "paper-compatible-ours",
    lambda: bounds_derivation()["ours_gap_ceiling"],
    (D1, D2),
    (m,),
    "paper-compatible-ours [code]: the supremum over d > 0 of the gap (chi -> 1 as d -> 0+); since the margin "
    "loss is <= 1, no network of these shapes can give an 'Ours' above log10(1 + this).",
)
paper_ours_margin = LayerFormula(
    "ours_margin",
    "paper-compatible-ours",
    lambda: bounds_derivation()["ours_margin"],
    (DELTA_NORM, S, KAPPA),
    (x_max,),
    "paper-compatible-ours [code]: gamma* = e max||x|| sum ||Delta_l||/||A_l|| prod ||A_l|| prod kappa_l.",
)
