"""Pruning error in norm: Lemma B.1 (Latala), Lemma 4.2, Lemma B.2, Lemma 4.3 (= B.3), Lemma 4.4,
Condition C.1 and Lemma C.1.

Lemma 4.2's bracket ``Gamma`` is derived by summing Lemma 4.1's moments over the entries of the
``d1 x d2`` difference matrix with the diagonal kept (its diagonal entries of Delta are 0).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from ._claim import Step
from ._layers import LayerFormula, l_idx, layer_product, layer_sum, layer_symbol
from ._numeric import Formula
from ._pruning import MAX_BETA_COUNT, lemma_4_1_derivation
from ._stable import DiffProd
from ._symbols import A_norm, C, J, L, Psi, a, b, d, d1, d2, d_in, delta, lam, m, n, rank, rho, t

row_i = sp.Symbol("i", positive=True, integer=True)
col_j = sp.Symbol("j_col", positive=True, integer=True)


@cache
def offdiagonal_counts() -> dict:
    """Off-diagonal entries per row and per column of a d1 x d2 matrix, and in total.

    Row i has sum_{j=1}^{d2} (1 - [i == j]) off-diagonal entries; the largest row count is
    d2 - 1 when every row meets the diagonal (d1 <= d2) and d2 otherwise; columns likewise.
    """
    row_count = sp.summation(1 - sp.KroneckerDelta(row_i, col_j), (col_j, 1, d2))
    # row i meets the diagonal iff i <= d2; the rows are i = 1..d1, so some row misses it iff d1 > d2
    row_max = sp.Piecewise((d2, d1 > d2), (d2 - 1, True))
    col_max = sp.Piecewise((d1, d2 > d1), (d1 - 1, True))
    total = sp.expand(d1 * d2 - sp.Min(d1, d2))
    # for numbers: d1 d2 overflows before the count does (d1 = d2 = 1e200); d1 d2 = min * max, so
    # d1 d2 - min = min (max - 1), a product of nonnegative factors; proved on both orderings
    total_factored = sp.Min(d1, d2) * (sp.Max(d1, d2) - 1)
    s_ = sp.Symbol("s", nonnegative=True, integer=True)
    for small, large in ((d1, d2), (d2, d1)):
        ordered = {large: small + s_}
        if sp.simplify((total - total_factored).xreplace(ordered)) != 0:
            raise AssertionError("off-diagonal count: d1 d2 - min(d1, d2) != min(d1, d2) (max(d1, d2) - 1)")
    return {
        "row_count(i)": row_count,
        "row_max": row_max,
        "col_max": col_max,
        "total": total,
        "total_factored": total_factored,
    }


@cache
def lemma_4_2_derivation() -> dict:
    """Lemma 4.2: Latala's bracket for Delta = A - Ahat (diagonal kept), then Markov.

    Assumptions: Assumption 3.1 (i.i.d. N(0, Psi) entries), Algorithm 1 with strength d, the
    entries of Delta independent and mean zero (Lemma 4.1 shows E[Delta_ij] = 0), so Lemma B.1
    applies with a universal constant C.
    """
    moments = lemma_4_1_derivation()
    s2, s4 = moments["E_Delta2"], moments["E_Delta4"]
    counts = offdiagonal_counts()
    row_term = sp.sqrt(counts["row_max"] * s2)
    col_term = sp.sqrt(counts["col_max"] * s2)
    fourth_term = (counts["total"] * s4) ** sp.Rational(1, 4)
    gamma_l = C * (row_term + col_term + fourth_term)
    s2n, s4n = moments["numeric"]["E_Delta2"], moments["numeric"]["E_Delta4"]
    gamma_numeric = C * (
        sp.sqrt(counts["row_max"] * s2n)
        + sp.sqrt(counts["col_max"] * s2n)
        + (counts["total_factored"] * s4n) ** sp.Rational(1, 4)
    )
    # the same bracket ignoring the kept diagonal (what a proof that forgets Remark 4.1 writes)
    gamma_full = C * (sp.sqrt(d2 * s2) + sp.sqrt(d1 * s2) + (d1 * d2 * s4) ** sp.Rational(1, 4))
    markov_ratio = sp.simplify((lam * sp.Symbol("G", positive=True)) ** -1 * sp.Symbol("G", positive=True))
    # a probability is also at most 1: the bound is min(1, 1/lam), informative only for lam > 1
    markov_fail = sp.Min(1, markov_ratio)
    steps = [
        Step(
            "Lemma B.1 (Latala): E||X|| \\le C[max_i \\sqrt{\\sum_j E X_{ij}^2} + max_j \\sqrt{\\sum_i E X_{ij}^2} + (\\sum_{ij} E X_{ij}^4)^{1/4}]"
        ),
        Step("Off-diagonal entries in row i: \\sum_{j=1}^{d_2} (1 - \\delta_{ij}) =", counts["row_count(i)"]),
        Step("Largest row count (some row misses the diagonal iff d_1 > d_2):", counts["row_max"]),
        Step("Largest column count:", counts["col_max"]),
        Step("Off-diagonal entries in total:", counts["total"]),
        Step("With E[\\Delta^2], E[\\Delta^4] from Lemma 4.1, \\Gamma_l =", gamma_l),
        Step("Markov: P(||\\Delta|| \\ge \\lambda \\Gamma) \\le E||\\Delta||/(\\lambda\\Gamma) \\le", markov_ratio),
        Step("A probability is at most 1 as well, so the bound is", markov_fail),
    ]
    return {
        "Gamma": gamma_l,
        "Gamma_numeric": gamma_numeric,
        "Gamma_no_diagonal": gamma_full,
        "markov_failure": markov_fail,
        "steps": steps,
    }


lemma_4_2_gamma = Formula(
    "Gamma",
    "lemma-4.2",
    lambda: lemma_4_2_derivation()["Gamma"],
    (d1, d2, d, Psi, C),
    "lemma-4.2: Gamma_l >= E||A - Ahat||_2 for a d1 x d2 layer, diagonal kept (C = Latala's constant); in the "
    "units of the entries (sqrt(Psi)).  Evaluated with d1 d2 - min(d1, d2) = min(d1, d2) (max(d1, d2) - 1) and "
    "products in log-space, so d1 = 10**200 works; Float64RangeError (a ValueError) if Gamma itself overflows.",
    numeric=lambda: lemma_4_2_derivation()["Gamma_numeric"],
)
lemma_4_2_markov_failure = Formula(
    "markov_failure",
    "lemma-4.2",
    lambda: lemma_4_2_derivation()["markov_failure"],
    (lam,),
    "lemma-4.2: P(||Delta||_2 >= lam * Gamma) <= min(1, 1/lam) (Markov, and a probability is at most 1: the "
    "bound says something only for lam > 1; lam > 0, dimensionless).",
)

# ---------------------------------------------------------------------------------------
# Lemma B.2 (perturbation), Lemma 4.3 / B.3, Lemma 4.4 (rounding)
# ---------------------------------------------------------------------------------------
S = layer_symbol("S_l", positive=True)  # ||A^l||_2
U = layer_symbol("U_l", nonnegative=True)  # ||U^l||_2 (perturbation norms)
G = layer_symbol("Gamma_l", positive=True)  # Gamma_l
LAM = layer_symbol("lam_l", positive=True)  # lambda_l
RHO = layer_symbol("rho_l", nonnegative=True)  # rho_l
JJ = layer_symbol("J_l", nonnegative=True)  # nonzeros J_l
KAPPA = layer_symbol("kappa_l", positive=True)  # kappa_l (Lemma C.1)
x_norm = sp.Symbol("x_norm", positive=True)  # ||x|| (or its max over the data)


@cache
def lemma_b_2_derivation() -> dict:
    """Lemma B.2 (Neyshabur et al. 2017): if ||U_l|| <= ||A_l||/L for all l, then
    ||f_{A+U}(x) - f_A(x)|| <= e ||x|| prod_l ||A_l|| sum_l ||U_l||/||A_l||.

    The induction gives the factor (1 + 1/L)^L, which we show is increasing in L with limit e,
    so e is a valid (and the tightest L-free) constant.
    """
    growth = (1 + 1 / L) ** L
    limit = sp.limit(growth, L, sp.oo)
    # monotone: d/dL [L log(1 + 1/L)] = log(1 + 1/L) - 1/(L + 1) > 0, since log(1+y) > y/(1+y)
    y = sp.Symbol("y", positive=True)
    slope = sp.simplify(sp.diff(L * sp.log(1 + 1 / L), L))
    slope_as_y = sp.simplify(slope.subs(L, 1 / y))
    induction = sp.E * x_norm * layer_product(S[l_idx]) * layer_sum(U[l_idx] / S[l_idx])
    steps = [
        Step("The induction over layers multiplies the error by (1 + 1/L) per layer; in total", growth),
        Step("whose limit as L \\to \\infty is", limit),
        Step("d/dL [L \\log(1 + 1/L)] =", slope),
        Step("with y = 1/L this is log(1+y) - y/(1+y) > 0 for y > 0, so (1+1/L)^L < e:", slope_as_y),
        Step("Bound:", induction),
    ]
    return {"bound": induction, "growth": growth, "growth_limit": limit, "steps": steps}


lemma_b_2_bound = LayerFormula(
    "perturbation_bound",
    "lemma-b.2",
    lambda: lemma_b_2_derivation()["bound"],
    (S, U),
    (x_norm,),
    "lemma-b.2: e ||x|| prod ||A_l|| sum ||U_l||/||A_l||; valid when ||U_l|| <= ||A_l||/L for all l.",
)


def lemma_b_2_condition(spectral_norms, perturbation_norms):
    """lemma-b.2: the lemma's condition ||U_l||_2 <= ||A_l||_2 / L, per layer (boolean array of length L).

    ``spectral_norms`` (||A_l||_2 > 0) and ``perturbation_norms`` (||U_l||_2 >= 0): 1-D, one finite value per
    layer, in the same units.  Raises ValueError naming the argument for NaN, infinite or negative norms (and
    a zero spectral norm), or mismatched shapes."""

    from ._numeric import validate_argument

    checked = []
    for label, symbol, values in (
        ("spectral_norms", S.label, spectral_norms),
        ("perturbation_norms", U.label, perturbation_norms),
    ):
        try:
            checked.append(validate_argument(symbol, values))
        except ValueError as exc:
            raise ValueError(f"lemma_b_2_condition: {label} ({exc})") from None
    s, u = checked
    if s.shape != u.shape or s.ndim != 1:
        raise ValueError("spectral_norms and perturbation_norms must be 1-D with one value per layer")
    return u <= s / s.size


@cache
def lemma_4_3_derivation() -> dict:
    """Lemma 4.3 (= B.3): Lemma 4.2 in Lemma B.2 with ||U_l|| <= lam_l Gamma_l; union bound over layers.

    Holds with probability >= 1 - sum_l 1/lam_l *and* only where lam_l Gamma_l <= ||A_l||/L
    (Lemma B.2's condition), which the paper's statement leaves implicit.
    """
    bound = lemma_b_2_derivation()["bound"].xreplace({U[l_idx]: LAM[l_idx] * G[l_idx]})
    failure = layer_sum(1 / LAM[l_idx])
    steps = [
        Step("Substitute ||U_l|| \\le \\lambda_l \\Gamma_l (Lemma 4.2) into Lemma B.2:", bound),
        Step("Union bound over the L Markov events: failure probability \\le", failure),
    ]
    return {"bound": bound, "failure": failure, "steps": steps}


lemma_4_3_bound = LayerFormula(
    "pruning_output_error",
    "lemma-4.3",
    lambda: lemma_4_3_derivation()["bound"],
    (S, LAM, G),
    (x_norm,),
    "lemma-4.3: e ||x|| prod ||A_l|| sum lam_l Gamma_l/||A_l||, w.p. >= 1 - sum 1/lam_l, needs lam_l Gamma_l <= ||A_l||/L.",
)


@cache
def lemma_4_4_derivation() -> dict:
    """Lemma 4.4: rounding each of the J nonzeros to the nearest multiple of rho moves each by at most
    rho/2, so ||Ahat - Atilde||_2 <= ||Ahat - Atilde||_F <= rho sqrt(J) / 2; and the largest rho that
    keeps Lemma B.2's condition lam Gamma + rho sqrt(J)/2 <= ||A||/L.
    """
    # an entry e lies in [k rho - rho/2, k rho + rho/2] for its nearest multiple k rho; the error is
    # u = e - k rho, so the worst case is the maximum of |u| over that cell
    u_ = sp.Symbol("u", real=True)
    per_entry_max = sp.sqrt(sp.maximum(u_**2, u_, sp.Interval(-rho / 2, rho / 2)))
    frob = sp.sqrt(sp.summation(per_entry_max**2, (sp.Symbol("s", integer=True, positive=True), 1, J)))
    frob = sp.simplify(frob)
    gamma_sym = sp.Symbol("Gamma", positive=True)
    rho_max = sp.solve(sp.Eq(lam * gamma_sym + frob, A_norm / L), rho)
    # for numbers: ||A|| - L lam Gamma is a difference of a norm and a product of measured quantities; where they
    # agree to many digits (the condition nearly tight), the rounding of the product L lam Gamma would be all of
    # it (||A|| = 1, L = 1, lam = Gamma = 1 + 4.3e-9: 2e-9 relative error), so the difference is taken without
    # rounding the product (DiffProd), proved equal here
    if len(rho_max) != 1:
        raise RuntimeError(f"lemma 4.4: expected one rho, got {rho_max}")
    rho_max_numeric = 2 * DiffProd(A_norm, L, lam, gamma_sym) / (L * sp.sqrt(J))
    if sp.simplify(rho_max_numeric.rewrite(sp.Add) - rho_max[0]) != 0:
        raise AssertionError("lemma 4.4: the evaluation form of rho_max is not the derived result")
    steps = [
        Step(
            "Rounding to the nearest multiple of \\rho: max |u| over the cell u \\in [-\\rho/2, \\rho/2] =",
            per_entry_max,
        ),
        Step("Frobenius norm of the rounding error over the J nonzeros, an upper bound on its spectral norm:", frob),
        Step("Largest \\rho with \\lambda\\Gamma + \\rho\\sqrt{J}/2 \\le ||A||/L (Lemma B.2's condition):", rho_max[0]),
    ]
    return {
        "rounding_error": frob,
        "rho_max": rho_max[0],
        "rho_max_numeric": rho_max_numeric,
        "paper_rounding_error": rho * sp.sqrt(J),
        "steps": steps,
    }


lemma_4_4_rounding_error = Formula(
    "rounding_error",
    "lemma-4.4",
    lambda: lemma_4_4_derivation()["rounding_error"],
    (rho, J),
    "lemma-4.4: ||Ahat - Atilde||_2 <= rho sqrt(J)/2 for rounding J nonzeros to multiples of rho.",
)
lemma_4_4_max_rho = Formula(
    "rho_max",
    "lemma-4.4",
    lambda: lemma_4_4_derivation()["rho_max"],
    (A_norm, L, lam, sp.Symbol("Gamma", positive=True), J),
    "lemma-4.4: the largest rounding grid keeping lam Gamma + rho sqrt(J)/2 <= ||A||/L (may be <= 0: no valid rho); "
    "||A|| - L lam Gamma is taken without rounding the product (accurate where the condition is nearly tight).",
    numeric=lambda: lemma_4_4_derivation()["rho_max_numeric"],
)


# ---------------------------------------------------------------------------------------
# Condition C.1 and Lemma C.1
# ---------------------------------------------------------------------------------------
@cache
def _prove_beta_symmetry() -> None:
    """I_{1-x}(p, q) = 1 - I_x(q, p), i.e. betainc_regularized(p, q, 0, 1 - x) = betainc_regularized(q, p, x, 1):
    both sides as integrals, the left one under s -> 1 - u.  Raises AssertionError if SymPy does not confirm it."""
    p_, q_, x_ = sp.symbols("p q x", positive=True)
    lhs = sp.betainc_regularized(p_, q_, 0, 1 - x_).rewrite(sp.Integral)
    rhs = sp.betainc_regularized(q_, p_, x_, 1).rewrite(sp.Integral)

    def flipped(integral: sp.Integral) -> sp.Integral:
        return integral.transform(integral.variables[0], 1 - sp.Dummy("u"))

    def same(i1: sp.Integral, i2: sp.Integral) -> bool:
        # equal as integrals: the same integrand and limits, or the negated integrand over the reversed limits
        (v1, lo1, hi1), (v2, lo2, hi2) = i1.limits[0], i2.limits[0]
        f1 = i1.function.subs(v1, v2)
        direct = sp.simplify(lo1 - lo2) == 0 and sp.simplify(hi1 - hi2) == 0 and sp.simplify(f1 - i2.function) == 0
        reverse = sp.simplify(lo1 - hi2) == 0 and sp.simplify(hi1 - lo2) == 0 and sp.simplify(f1 + i2.function) == 0
        return direct or reverse

    (num_l, den_l), (num_r, den_r) = (sp.fraction(lhs)), (sp.fraction(rhs))
    if not (same(flipped(num_l), num_r) and same(flipped(den_l), den_r)):
        raise AssertionError("condition C.1: I_{1-x}(p, q) = 1 - I_x(q, p) not confirmed")


def condition_c_1_derivation() -> dict:
    """Condition C.1 / Lemma C.1: the tail a exp(-b t^2 n) and the t that makes the union bound
    over m points and r singular directions fail with probability delta; the exact tail for x uniform
    on the sphere S^{n-1}; the released code's choice (a = b = 1, no factor r, 1 - delta = 0.99).
    """
    tail = a * sp.exp(-b * t**2 * n)
    union = m * rank * a * sp.exp(-b * t**2 * d_in)
    t_solution = [s for s in sp.solve(sp.Eq(union, delta), t) if s.is_positive is not False]
    t_lemma = sp.simplify(t_solution[0])
    code_union = m * sp.exp(-(t**2) * d_in)
    t_code = sp.simplify(
        [s for s in sp.solve(sp.Eq(1 - code_union, sp.Rational(99, 100)), t) if s.is_positive is not False][0]
    )
    kappa = sp.Min(1, t * sp.sqrt(rank))
    # exact: for x uniform on S^{n-1}, <v, x>^2 ~ Beta(1/2, (n-1)/2), so
    # P(|<v,x>| >= t) = P(Beta(1/2,(n-1)/2) >= t^2) = I_{1-t^2}((n-1)/2, 1/2)
    exact_tail = sp.betainc_regularized((n - 1) / 2, sp.Rational(1, 2), 0, 1 - t**2)
    # over every t > 0 and n >= 1: |<v, x>| <= ||v|| ||x|| = 1 (Cauchy-Schwarz), so the tail is exactly 0 for
    # t > 1; on S^0 = {-1, 1} (n = 1) |<v, x>| = 1, so it is 1 for t <= 1
    sphere_tail = sp.Piecewise((0, t > 1), (1, sp.Eq(n, 1)), (exact_tail, True))
    # for numbers, 1 - t^2 = (1 - t)(1 + t): no cancellation as t -> 1
    if sp.expand((1 - t) * (1 + t) - (1 - t**2)) != 0:
        raise AssertionError("condition C.1: (1 - t)(1 + t) != 1 - t^2")
    # where the tail is close to 1 (small t), I at x = 1 - t^2 ~ 1 loses digits: there use the symmetry
    # I_{1-x}(p, q) = 1 - I_x(q, p), the regularised integral from x to 1 (proved below by s -> 1 - u)
    complement = sp.betainc_regularized(sp.Rational(1, 2), (n - 1) / 2, t**2, 1)
    _prove_beta_symmetry()
    # (1 - I_{t^2}(1/2, (n-1)/2) when that is >= 1/2: no cancellation; the direct form where the tail is below 1/2)
    near_zero = sp.Piecewise(
        (complement, sp.betainc_regularized(sp.Rational(1, 2), (n - 1) / 2, 0, t**2) < sp.Rational(1, 2)),
        (exact_tail.func(*exact_tail.args[:3], (1 - t) * (1 + t)), True),
    )
    sphere_tail_numeric = sphere_tail.xreplace({exact_tail: near_zero})
    # Lemma C.1's t is real only when the union bound exceeds delta at t = 0: m r a > delta
    t_exists = sp.solve(sp.log(a * m * rank / delta) > 0, a)
    # check the exact tail for n = 3 (Archimedes: the first coordinate is uniform on [-1, 1])
    s_ = sp.Symbol("s", positive=True)
    n3_density = sp.Rational(1, 2)  # uniform on [-1, 1]
    n3_tail = sp.simplify(2 * sp.integrate(n3_density, (s_, t, 1)))
    steps = [
        Step("Condition C.1: P(|\\langle v, x/||x|| \\rangle| \\ge t) \\le", tail),
        Step("Lemma C.1 union bound over the m points and the r right singular vectors:", union),
        Step("Setting it to \\delta and solving for t:", t_lemma),
        Step("\\kappa = \\min(1, t\\sqrt{r}):", kappa),
        Step("Released code: 1 - m e^{-t^2 d_{in}} = 0.99 (a = b = 1, factor r dropped) gives t =", t_code),
        Step("Exact tail for x uniform on the sphere S^{n-1}: ", exact_tail),
        Step(
            "|<v, x>| \\le 1 (Cauchy-Schwarz), and S^0 = \\{-1, 1\\}: over all t > 0 and n \\ge 1 the tail is",
            sphere_tail,
        ),
        Step("t > 0 solves the union-bound equation only when m r a > \\delta (else the log is \\le 0):", t_exists),
        Step("check at n = 3 (first coordinate uniform on [-1, 1]): tail 2\\int_t^1 \\tfrac12 ds =", n3_tail),
    ]
    return {
        "tail": tail,
        "t": t_lemma,
        "t_code": t_code,
        "kappa": kappa,
        "exact_sphere_tail": exact_tail,
        "sphere_tail": sphere_tail,
        "sphere_tail_numeric": sphere_tail_numeric,
        "n3_tail": n3_tail,
        "steps": steps,
    }


condition_c_1_tail = Formula(
    "tail",
    "condition-c.1",
    lambda: condition_c_1_derivation()["tail"],
    (t, n, a, b),
    "condition-c.1: the assumed tail a exp(-b t^2 n) of |<v, x/||x||>| (n = input dimension).",
)
condition_c_1_sphere_tail = Formula(
    "exact_sphere_tail",
    "condition-c.1",
    lambda: condition_c_1_derivation()["sphere_tail"],
    (t, n),
    "condition-c.1: exact P(|<v,x>| >= t) for x uniform on S^{n-1} (t > 0, n >= 1; a probability): "
    "I_{1-t^2}((n-1)/2, 1/2), exactly 0 for t > 1 (|<v,x>| <= 1) and 1 on S^0 (n = 1, t <= 1).  Raises "
    "ValueError for n > 10**7 (outside the validated range) and Float64RangeError below 2.2e-308.",
    numeric=lambda: condition_c_1_derivation()["sphere_tail_numeric"],
    constraints=[
        (n <= MAX_BETA_COUNT, f"n must be <= {MAX_BETA_COUNT} (the range the incomplete beta is validated on)")
    ],
)
condition_c_1_t = Formula(
    "t",
    "lemma-c.1",
    lambda: condition_c_1_derivation()["t"],
    (m, rank, d_in, a, b, delta),
    "lemma-c.1: t with m r a exp(-b t^2 d_in) = delta (Lemma C.1 holds for all m points w.p. >= 1 - delta); "
    "dimensionless (a cosine).  Raises ValueError naming a, m, r_A and delta when a*m*r_A <= delta: then the "
    "union bound is below delta already at t = 0 and no t > 0 solves the equation.",
    constraints=[
        (
            a * m * rank > delta,
            "a*m*r_A must exceed delta: otherwise m r_A a exp(-b t^2 d_in) = delta has no solution t > 0 "
            "(the union bound is below delta already at t = 0)",
        )
    ],
)
condition_c_1_t_code = Formula(
    "t_code",
    "lemma-c.1",
    lambda: condition_c_1_derivation()["t_code"],
    (m, d_in),
    "lemma-c.1: the released code's t, solving 1 - m exp(-t^2 d_in) = 0.99.",
)
condition_c_1_kappa = Formula(
    "kappa",
    "lemma-c.1",
    lambda: condition_c_1_derivation()["kappa"],
    (t, rank),
    "lemma-c.1: kappa = min(1, t sqrt(r)) multiplying ||A|| ||x|| in Lemma C.1.",
)
