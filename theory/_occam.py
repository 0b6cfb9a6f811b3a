"""The toolkit's own certificate (not a statement of the paper): the Occam bound in Langford–Seeger form for a
network described by a prefix-free code, its exact-binomial and Catoni variants, and the code-length terms.

For a prefix-free code fixed before the sample is drawn, P(h) = 2^-|code(h)| is a prior (Kraft: the P(h) sum to
at most 1).  For one fixed h, the number of training errors is Bin(m, err(h)), and Chernoff's bound gives
P(err_S(h) <= q) <= exp(-m kl(q || err(h))) for q <= err(h); giving h the failure probability delta P(h) / G and
taking a union bound over all h (and over a grid of G settings) gives, with probability >= 1 - delta,
simultaneously for every coded h:

    kl(err_S(h) || err(h)) <= (|code(h)| ln 2 + ln G + ln(1/delta)) / m,

so err(h) <= kl^-1(err_S(h), that right-hand side) (the upper inverse).  The exact binomial tail inversion
(Langford 2005's Occam's Razor bound) is never looser; Catoni's bound for a point mass is never tighter (the kl is
the supremum over C of Catoni's exponent, derived below).

Units: ``bits`` is a code length in bits; every right-hand side ``c_kl`` is in nats per training example; error
rates are probabilities of error (not log10).  The numeric inverse lives in ``numerics`` (``numerics.kl_inverse``).
"""

from __future__ import annotations

from functools import cache
from itertools import combinations

import mpmath as mp
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from ._claim import Claim, Step
from ._layers import LayerFormula, l_idx, layer_sum, layer_symbol
from ._numeric import Formula
from ._special import (
    binomial_deviance,
    log_beta_ratio,
    log_beta_ratio_check,
    log_binomial,
    special_forms_derivation,
    stirling_error,
)
from ._stable import DiffProd, ExpRel, Float64Safe
from ._symbols import L, delta, m, p_err, q, q_emp

# --- symbols of this module (names as they appear in the ledger); the probabilities p_err (0 < p_err < 1) and
# q_emp (0 <= q_emp <= 1) are in theory._symbols with the others, validated and drawn on the unit interval
c_kl = sp.Symbol("c_kl", nonnegative=True)  # right-hand side of the kl bound, nats per example
bits = sp.Symbol("bits", nonnegative=True)  # length of the code word of h, bits
G = sp.Symbol("G", positive=True, integer=True)  # settings tried (union bound over a grid)
k_err = sp.Symbol("k_err", nonnegative=True, integer=True)  # training errors, 0 <= k_err <= m
C_cat = sp.Symbol("C_cat", positive=True)  # Catoni's free parameter
n_slots = sp.Symbol("n_slots", positive=True, integer=True)  # positions a mask can use
n_ones = sp.Symbol("n_ones", nonnegative=True, integer=True)  # survivors among them
n_k = sp.Symbol("n_k", nonnegative=True, integer=True)  # occurrences of one symbol so far
n_tot = sp.Symbol("n_tot", nonnegative=True, integer=True)  # symbols coded so far
K_sym = sp.Symbol("K_sym", positive=True, integer=True)  # alphabet size
alpha = sp.Symbol("alpha", positive=True)  # Dirichlet pseudo-count (1/2: Krichevsky–Trofimov)
h_units = sp.Symbol("h_units", positive=True, integer=True)  # hidden units of one layer
levels = sp.Symbol("levels", positive=True, integer=True)  # values stored in a codebook
value_bits = sp.Symbol("value_bits", positive=True, integer=True)  # bits of one stored value
N_SYM = layer_symbol("n_sym", nonnegative=True, integer=True)  # count of each symbol of an alphabet

_A, _B = sp.symbols("a_aux b_aux", positive=True)  # q = 1/(1+a), p = 1/(1+b): makes 1 - q, 1 - p positive


def _is_zero_on_unit_square(expr: sp.Expr) -> bool:
    """True when ``expr`` (in q, p_err) simplifies to 0 for 0 < q, p_err < 1 (substituted as 1/(1+a), 1/(1+b))."""
    e = sp.simplify(expr.subs({q: 1 / (1 + _A), p_err: 1 / (1 + _B)}))
    return sp.simplify(sp.expand_log(e, force=True)) == 0


def _stirling_at(n_val: sp.Expr) -> sp.Expr:
    """Stirling's error delta(n) as written (theory._special), at n_val."""
    return special_forms_derivation()["stirling_error"].subs(sp.Symbol("n_aux", positive=True), n_val)


def _deviance_plain(x_val: sp.Expr, m_val: sp.Expr) -> sp.Expr:
    """The deviance x ln(x/M) - (x - M) as written (theory._special), at x_val, m_val."""
    x_aux, m_aux = sp.symbols("x_aux M_aux", positive=True)
    return special_forms_derivation()["deviance"].subs({x_aux: x_val, m_aux: m_val})


@cache
def occam_derivation() -> dict:
    """Binary kl, its monotonicity in p, its q -> 0 limit and exact inverse there, Chernoff's tail, the complexity
    term, and Catoni's exponent with its supremum over C (which is the kl)."""
    kl = q * sp.log(q / p_err) + (1 - q) * sp.log((1 - q) / (1 - p_err))
    # for numbers: the sum of two deviances x ln(x/M) - (x - M) >= 0 (theory._special), one per outcome (the
    # -(q - p) and -(p - q) they add cancel exactly), so no cancellation between the terms and none inside them
    kl_deviances = _deviance_plain(q, p_err) + _deviance_plain(1 - q, 1 - p_err)
    stable_ok = _is_zero_on_unit_square(kl_deviances - kl)
    kl_numeric = Float64Safe(
        binomial_deviance(q, p_err, q - p_err) + binomial_deviance(1 - q, 1 - p_err, p_err - q),
        1,
        sp.Eq(q, p_err),  # kl(q || p) = 0 only at p = q: any other 0 is an underflow
    )
    dkl = (p_err - q) / (p_err * (1 - p_err))
    dkl_ok = _is_zero_on_unit_square(sp.diff(kl, p_err) - dkl)
    kl_zero = sp.limit(kl, q, 0, "+")
    kl_zero_stable = -log1p(-p_err)
    inverse_zero = sp.solve(sp.Eq(-sp.log(1 - p_err), c_kl), p_err)
    if len(inverse_zero) != 1:
        raise RuntimeError(f"occam-kl: expected one root of -log(1-p) = c, got {inverse_zero}")
    inverse_zero = inverse_zero[0]
    # 1 - exp(-c) cancels for small c (c = 1e-7: 1e-9 relative error); -expm1(-c) does not
    inverse_zero_numeric = -expm1(-c_kl)
    if sp.simplify(inverse_zero_numeric.rewrite(sp.exp) - inverse_zero) != 0:
        raise AssertionError("occam-kl: -expm1(-c) is not the kl inverse at q = 0")
    chernoff = sp.exp(-m * kl)
    complexity = (bits * sp.log(2) + sp.log(G) + sp.log(1 / delta)) / m
    # Catoni: for a fixed C, exponent f_C(p) = -C q - ln(1 - p + p e^-C); the bound solves f_C(p) = c for p
    f_c = -C_cat * q - sp.log(1 - p_err + p_err * sp.exp(-C_cat))
    c_star = sp.log(p_err * (1 - q) / (q * (1 - p_err)))
    stationary_ok = _is_zero_on_unit_square(sp.diff(f_c, C_cat).subs(C_cat, c_star))
    sup_ok = _is_zero_on_unit_square(f_c.subs(C_cat, c_star) - kl)
    second = sp.simplify(sp.diff(f_c, C_cat, 2))
    concave_ok = _is_zero_on_unit_square(
        second - p_err * (p_err - 1) * sp.exp(C_cat) / (p_err - (p_err - 1) * sp.exp(C_cat)) ** 2
    )
    catoni = (1 - sp.exp(-C_cat * q_emp - c_kl)) / (1 - sp.exp(-C_cat))
    catoni_solved = sp.solve(sp.Eq(f_c.subs(q, q_emp), c_kl), p_err)
    catoni_ok = len(catoni_solved) == 1 and sp.simplify(catoni_solved[0] - catoni) == 0
    # for numbers, with y = C q + c: both differences 1 - e^-y and 1 - e^-C cancel for small arguments, so the
    # ratio is expm1(-y)/expm1(-C); where c <= C it is (q + c/C) exprel(-y)/exprel(-C) (exprel(u) = (e^u - 1)/u),
    # which keeps C q when it underflows (C = 1e-200, q = 1e-200, c = 0: the value is q); where c > C the value is
    # >= 1 and the expm1 ratio has nothing to lose (c/C may overflow there)
    y_cat = C_cat * q_emp + c_kl
    catoni_expm1 = expm1(-y_cat) / expm1(-C_cat)
    catoni_exprel = (q_emp + c_kl / C_cat) * ExpRel(-y_cat) / ExpRel(-C_cat)
    for form in (catoni_expm1, catoni_exprel):
        if sp.simplify(form.rewrite(sp.exp) - catoni) != 0:
            raise AssertionError(f"occam-catoni: {form} is not Catoni's bound")
    catoni_numeric = Float64Safe(
        sp.Piecewise((catoni_exprel, c_kl <= C_cat), (catoni_expm1, True)),
        1,
        sp.And(sp.Eq(q_emp, 0), sp.Eq(c_kl, 0)),  # 0 only at q = c = 0
    )
    log_pmf = (
        sp.loggamma(m + 1)
        - sp.loggamma(k_err + 1)
        - sp.loggamma(m - k_err + 1)
        + k_err * sp.log(p_err)
        + (m - k_err) * log1p(-p_err)
    )
    log_pmf_plain = log_pmf.replace(log1p, lambda z: sp.log(1 + z))  # the ledger's (parseable) form
    # for numbers (Loader 2000): ln C(m, k) + k ln p + (m - k) ln(1 - p) cancels near k = m p (three terms of size
    # m H(k/m) leave -ln(2 pi m p (1 - p))/2); it equals Stirling's errors minus ln(2 pi k (m - k)/m)/2 (= ln P at
    # p = k/m, < 0) minus two deviances (>= 0), all of one sign; k - m p is taken without rounding m p (DiffProd)
    loader = (
        _stirling_at(m)
        - _stirling_at(k_err)
        - _stirling_at(m - k_err)
        - sp.log(2 * sp.pi * k_err * (m - k_err) / m) / 2
        - _deviance_plain(k_err, m * p_err)
        - _deviance_plain(m - k_err, m * (1 - p_err))
    )
    if sp.simplify(sp.expand_log(loader - log_pmf.rewrite(sp.log), force=True)) != 0:
        raise AssertionError("occam-binomial: Loader's form is not ln P(Bin(m, p) = k)")
    d_mean = DiffProd(k_err, m, p_err)  # k - m p
    loader_numeric = (
        stirling_error(m)
        - stirling_error(k_err)
        - stirling_error(m - k_err)
        - (sp.log(2 * sp.pi) + sp.log(k_err) + sp.log((m - k_err) / m)) / 2
        - binomial_deviance(k_err, m * p_err, d_mean)
        - binomial_deviance(m - k_err, m * (1 - p_err), -d_mean)
    )
    log_pmf_numeric = Float64Safe(
        sp.Piecewise(
            (m * log1p(-p_err), sp.Eq(k_err, 0)),  # P = (1 - p)^m
            (m * sp.log(p_err), sp.Eq(k_err, m)),  # P = p^m
            (loader_numeric, True),
        ),
        -1,
        sp.false,  # P < 1 for 0 < p < 1: its log is never 0
    )
    kl_steps = [
        Step("Binary relative entropy of Bernoulli(q) from Bernoulli(p):", kl),
        Step(
            "a sum of two deviances x ln(x/M) - (x - M) >= 0 (the numeric face, with each deviance by its power "
            "series near x = M; equal to it for 0 < q, p < 1):",
            kl_deviances,
        ),
        Step(
            "its derivative in p, positive for p > q, so kl(q||.) increases on [q, 1) and the upper inverse is unique:",
            dkl,
        ),
        Step("as q -> 0+ (no training error) it is -ln(1 - p), whose inverse at level c is", inverse_zero),
        Step("for evaluation (no cancellation for small c), equal by SymPy:", inverse_zero_numeric),
        Step("Chernoff: for one fixed h with err(h) = p >= q, P(err_S(h) <= q) <= exp(-m kl(q||p)) =", chernoff),
        Step(
            "Kraft: a prefix-free code gives sum_h 2^-|code(h)| <= 1; charge h the failure probability "
            "delta 2^-|code(h)| / G, so that the union over all h and G settings fails with probability <= delta; "
            "solving exp(-m kl) = delta 2^-bits / G for the kl gives the right-hand side c (nats per example):",
            complexity,
        ),
    ]
    catoni_steps = [
        Step("Catoni's exponent for a point mass and a fixed C > 0:", f_c),
        Step("its stationary point in C (a maximum: the second derivative is negative for 0 < p < 1):", c_star),
        Step("Catoni's bound, f_C(p) <= c solved for p:", catoni),
        Step(
            "for evaluation (equal by SymPy): expm1(-y)/expm1(-C) with y = C q + c where c > C, and where c <= C "
            "(so that C q counts even where it underflows; exprel(u) = (e^u - 1)/u)",
            catoni_exprel,
        ),
    ]
    binomial_steps = [
        Step("Langford's exact form: P(Bin(m, p) = k) in log space (loggamma), summed over k <= k_err:", log_pmf_plain),
        Step(
            "for evaluation (Loader 2000; equal by SymPy): Stirling's errors delta, minus ln(2 pi k (m - k)/m)/2, "
            "minus the deviances of k from m p and of m - k from m (1 - p), all of one sign:",
            loader,
        ),
    ]
    return {
        "kl": kl,
        "kl_deviances": kl_deviances,
        "kl_numeric": kl_numeric,
        "dkl_dp": dkl,
        "kl_at_zero": kl_zero,
        "kl_at_zero_stable": kl_zero_stable,
        "kl_inverse_at_zero": inverse_zero,
        "kl_inverse_at_zero_numeric": inverse_zero_numeric,
        "chernoff_tail": chernoff,
        "complexity": complexity,
        "catoni_exponent": f_c,
        "catoni_best_C": c_star,
        "catoni_bound": catoni,
        "catoni_bound_numeric": catoni_numeric,
        "binomial_log_pmf": log_pmf,
        "binomial_log_pmf_plain": log_pmf_plain,
        "binomial_log_pmf_numeric": log_pmf_numeric,
        "checks": {
            "kl = deviance(q, p) + deviance(1 - q, 1 - p) (the numeric form)": stable_ok,
            "dkl/dp = (p - q)/(p (1 - p))": dkl_ok,
            "Catoni stationary point": stationary_ok,
            "sup_C Catoni exponent = kl": sup_ok,
            "Catoni exponent concave in C": concave_ok,
            "Catoni bound solves f_C(p) = c": catoni_ok,
        },
        "steps": kl_steps + catoni_steps + binomial_steps,
        "steps_kl": kl_steps,
        "steps_catoni": catoni_steps,
        "steps_binomial": binomial_steps,
    }


@cache
def code_length_derivation() -> dict:
    """Ideal code lengths (bits) of the parts of a network's code, all in log space via loggamma.

    - positions: J survivors among N slots, coded by the enumerative (uniform-over-subsets) code, log2 C(N, J);
    - an adaptive Dirichlet(alpha) code of a sequence with symbol counts n_0 .. n_{K-1} (Krichevsky–Trofimov for
      alpha = 1/2): the product of the predictive probabilities (n_k + alpha)/(n + K alpha) telescopes to a ratio of
      gamma functions (the Dirichlet-multinomial), which does not depend on the order of the symbols;
    - coding modulo the order of h interchangeable hidden units can save at most log2 h!;
    - a codebook of ``levels`` stored values of ``value_bits`` bits each.
    """
    ln2 = sp.log(2)
    log2_binomial = (sp.loggamma(n_slots + 1) - sp.loggamma(n_ones + 1) - sp.loggamma(n_slots - n_ones + 1)) / ln2
    predictive = (n_k + alpha) / (n_tot + K_sym * alpha)
    total = layer_sum(N_SYM[l_idx])
    dm_bits = (
        sp.loggamma(total + L * alpha)
        - sp.loggamma(L * alpha)
        - layer_sum(sp.loggamma(N_SYM[l_idx] + alpha) - sp.loggamma(alpha))
    ) / ln2
    permutation = sp.loggamma(h_units + 1) / ln2
    codebook = levels * value_bits
    # for numbers: the differences of log-gammas as log rising factorials (theory._special: no cancellation of
    # ln Gamma(N + 1) ~ N ln N against a result ~ J ln N), exactly 0 where the value is (C(N, 0) = C(N, N) = 1,
    # no symbols coded, a one-symbol alphabet)
    log2_binomial_numeric = Float64Safe(
        log_binomial(n_slots, n_ones) / ln2, 1, sp.Or(sp.Eq(n_ones, 0), sp.Eq(n_ones, n_slots))
    )
    # the Dirichlet-multinomial as a chain of Polya urns (symbol l against the symbols before it, whose counts sum to
    # S_l): a sum over l = 1..L-1 of ln B(alpha, l alpha) - ln B(alpha + n_l, l alpha + S_l) >= 0, each written for
    # float64 (theory._special.log_beta_ratio); as written, ln Gamma(N + L alpha) ~ N ln N cancels against the
    # largest ln Gamma(n_l + alpha) wherever one symbol dominates (counts [0, 1e17]: 56.5 bits out of 5.5e18)
    before = sp.Sum(N_SYM[_i_idx], (_i_idx, 0, l_idx - 1))
    chain = sp.Sum(log_beta_ratio(alpha, l_idx * alpha, N_SYM[l_idx], before), (l_idx, 1, L - 1))
    dm_numeric = Float64Safe(chain / ln2, 1, sp.Or(sp.Eq(total, 0), sp.Eq(L, 1)))
    chain_ok = _chain_check(dm_bits) and log_beta_ratio_check()
    enumerative_ok = _enumerative_check(8)
    dm_ok = _dirichlet_check()
    steps = [
        Step(
            "Enumerative code of J positions among N (at each slot P(survivor) = survivors left / slots left; "
            "the product is 1/C(N, J) whatever the subset), bits:",
            log2_binomial,
        ),
        Step(
            "Adaptive code of one symbol after n symbols, n_k of them equal to it (Dirichlet(alpha) predictive):",
            predictive,
        ),
        Step("Product over a sequence with counts n_sym[l] (l = 0..L-1 runs over the alphabet), in bits:", dm_bits),
        Step(
            "For evaluation, the same as a chain of Polya urns (symbol l against the S_l symbols before it; equal for "
            "L = 1..5 by SymPy), a sum of terms ln B(alpha, l alpha) - ln B(alpha + n_l, l alpha + S_l) >= 0, in bits:",
            _plain_chain(sp.Sum(N_SYM[_i_idx], (_i_idx, 0, l_idx - 1))) / ln2,
        ),
        Step(
            "each a sum of log rising factorials ln Gamma(a + n) - ln Gamma(a), grouped so that the largest count is "
            "paired with the total, and each of those 0 at n = 0 and by Stirling's series term by term for a >= 100:",
            None,
        ),
        *special_forms_derivation()["steps"],
        Step("Upper limit on what coding modulo the order of h hidden units saves, bits:", permutation),
        Step("A codebook of stored values, bits:", codebook),
    ]
    return {
        "log2_binomial": log2_binomial,
        "dirichlet_predictive": predictive,
        "dirichlet_multinomial_bits": dm_bits,
        "dirichlet_multinomial_bits_numeric": dm_numeric,
        "log2_binomial_numeric": log2_binomial_numeric,
        "permutation_bits": permutation,
        "codebook_bits": codebook,
        "checks": {
            "enumerative product = 1/C(N, J), all N <= 8": enumerative_ok,
            "sequential Dirichlet products = closed form (exact rationals)": dm_ok,
            "Polya-urn chain = closed form, L = 1..5 (the numeric form)": chain_ok,
        },
        "steps": steps,
    }


_i_idx = sp.Idx(sp.Symbol("i_before", integer=True, nonnegative=True))  # the symbols before l (Polya-urn chain)


def _plain_chain(before: sp.Expr) -> sp.Expr:
    """The Polya-urn chain with its log-gammas as written: sum over l = 1..L-1 of ln B(alpha, l alpha) -
    ln B(alpha + n_l, l alpha + S_l), S_l = ``before``."""
    lb = lambda u, v: sp.loggamma(u) + sp.loggamma(v) - sp.loggamma(u + v)  # noqa: E731
    term = lb(alpha, l_idx * alpha) - lb(alpha + N_SYM[l_idx], l_idx * alpha + before)
    return sp.Sum(term, (l_idx, 1, L - 1))


def _chain_check(dm_bits: sp.Expr) -> bool:
    """Exact (symbolic): the Polya-urn chain equals the Dirichlet-multinomial closed form for L = 1..5 symbols."""
    from ._layers import expand_layers

    chain = _plain_chain(sp.Sum(N_SYM[_i_idx], (_i_idx, 0, l_idx - 1))) / sp.log(2)
    return all(sp.expand(expand_layers(chain - dm_bits, depth)) == 0 for depth in range(1, 6))


def _enumerative_check(n_max: int) -> bool:
    """Exact: the sequential enumerative probabilities of every subset of every size, N <= n_max, multiply to 1/C(N, J)."""
    for n in range(1, n_max + 1):
        for j in range(n + 1):
            for subset in combinations(range(n), j):
                chosen, prob, left = set(subset), sp.Integer(1), j
                for slot in range(n):
                    share = sp.Rational(left, n - slot)
                    if slot in chosen:
                        prob *= share
                        left -= 1
                    else:
                        prob *= 1 - share
                if prob != 1 / sp.binomial(n, j):
                    return False
    return True


def _dirichlet_check() -> bool:
    """Exact: sequential Dirichlet(alpha) predictive products over a few sequences equal the closed form."""
    sequences = ([0, 1, 1, 0, 2, 2, 2], [1, 1, 1, 1], [2, 0, 1, 0, 0, 3, 3, 1], [0])
    for a_val in (sp.Rational(1, 2), sp.Integer(1), sp.Rational(3, 7)):
        for seq in sequences:
            k_size = max(seq) + 1
            counts, prob = [0] * k_size, sp.Integer(1)
            for n_done, s in enumerate(seq):
                prob *= (counts[s] + a_val) / (n_done + k_size * a_val)
                counts[s] += 1
            closed = sp.gamma(k_size * a_val) / sp.gamma(len(seq) + k_size * a_val)
            for c in counts:
                closed *= sp.gamma(c + a_val) / sp.gamma(a_val)
            if sp.simplify(prob - closed) != 0:
                return False
    return True


def _mp_kl(qv, pv):
    out = mp.mpf(0)
    if qv > 0:
        out += qv * mp.log(qv / pv)
    if qv < 1:
        out += (1 - qv) * mp.log((1 - qv) / (1 - pv))
    return out


def _mp_binomial_cdf(mv: int, kv: int, pv):
    """P(Bin(mv, pv) <= kv) by the term ratio of consecutive probabilities (mpmath)."""
    term = (1 - pv) ** mv
    total = term
    for i in range(kv):
        term = term * (mv - i) / (i + 1) * pv / (1 - pv)
        total += term
    return total


def _mp_upper_inverse(f, lo, target, iters: int = 200):
    """Largest p in [lo, 1) with f(p) <= target for f increasing on [lo, 1) (mpmath bisection)."""
    hi = mp.mpf(1)
    for _ in range(iters):
        mid = (lo + hi) / 2
        if f(mid) <= target:
            lo = mid
        else:
            hi = mid
    return lo


def chernoff_and_ordering_check() -> tuple[bool, str]:
    """Exact binomial CDF (mpmath, 40 digits) <= exp(-m kl(k/m || p)) on a grid, and, at fixed (m, k, bits, delta),
    Langford's binomial inversion <= the kl inversion <= Catoni's bound for every C in a grid."""
    with mp.workdps(40):
        return _chernoff_and_ordering()


def _chernoff_and_ordering() -> tuple[bool, str]:
    worst = mp.mpf(0)
    for mv, kv in ((20, 0), (20, 3), (200, 17), (1000, 50), (5000, 400)):
        for pv in (0.01, 0.05, 0.1, 0.3, 0.6, 0.95):
            pv = mp.mpf(pv)
            qv = mp.mpf(kv) / mv
            if pv < qv:
                continue
            worst = max(worst, _mp_binomial_cdf(mv, kv, pv) / mp.exp(-mv * _mp_kl(qv, pv)))
    chernoff_ok = worst <= 1 + mp.mpf(10) ** -30  # equality at k = 0, where the tail is exactly exp(-m kl)
    order_ok = True
    for mv, kv, bv in ((1000, 30, 200), (4000, 200, 600), (300, 0, 40)):
        qv = mp.mpf(kv) / mv
        cv = (bv * mp.log(2) + mp.log(20)) / mv  # delta = 0.05, G = 1
        p_kl = _mp_upper_inverse(lambda p, qv=qv: _mp_kl(qv, p), qv, cv)
        log_target = -cv * mv  # log(delta 2^-bits)

        def log_cdf(p, mv=mv, kv=kv):
            return mp.log(_mp_binomial_cdf(mv, kv, p))

        # binomial inversion: largest p with log CDF >= log target (CDF decreasing in p)
        p_bin = _mp_upper_inverse(lambda p, f=log_cdf: -f(p), qv, -log_target, iters=80)
        for cv_cat in (0.5, 1.0, 2.0, 5.0):
            cat = (1 - mp.exp(-cv_cat * qv - cv)) / (1 - mp.exp(-cv_cat))
            order_ok &= p_kl <= cat
        order_ok &= p_bin <= p_kl
    ok = bool(chernoff_ok and order_ok)
    return ok, (
        f"exact binomial CDF / exp(-m kl) <= {float(worst):.6g} over 5 (m, k) x 6 p (Chernoff holds); "
        f"binomial inversion <= kl inversion <= Catoni (C in 0.5, 1, 2, 5) at 3 (m, k, bits) with delta = 0.05: {bool(order_ok)}"
    )


# --- numeric faces ----------------------------------------------------------------------------------------------
binary_kl = Formula(
    "kl",
    "occam-kl",
    lambda: occam_derivation()["kl"],
    (q, p_err),
    "occam-kl: kl(q || p_err) in nats for 0 < q < 1 and 0 < p_err < 1, evaluated as a sum of two deviances "
    "(no cancellation, exactly 0 at p_err = q).",
    numeric=lambda: occam_derivation()["kl_numeric"],
)
binary_kl_at_zero = Formula(
    "kl_at_zero",
    "occam-kl",
    lambda: occam_derivation()["kl_at_zero_stable"],
    (p_err,),
    "occam-kl: kl(0 || p_err) = -ln(1 - p_err) in nats (the q -> 0 limit).",
)
kl_inverse_at_zero = Formula(
    "kl_inverse_at_zero",
    "occam-kl",
    lambda: occam_derivation()["kl_inverse_at_zero"],
    (c_kl,),
    "occam-kl: the upper kl inverse at q = 0, 1 - exp(-c_kl) (c_kl in nats), evaluated as -expm1(-c_kl).",
    numeric=lambda: occam_derivation()["kl_inverse_at_zero_numeric"],
)
occam_complexity = Formula(
    "complexity",
    "occam-kl",
    lambda: occam_derivation()["complexity"],
    (bits, G, delta, m),
    "occam-kl: (bits ln 2 + ln G + ln(1/delta)) / m, nats per example (bits: code length; G: settings tried).",
)
catoni_bound = Formula(
    "catoni_bound",
    "occam-catoni",
    lambda: occam_derivation()["catoni_bound"],
    (q_emp, c_kl, C_cat),
    "occam-catoni: (1 - exp(-C q - c)) / (1 - exp(-C)), a probability of error (never below the kl inverse); "
    "0 <= q_emp <= 1, evaluated with expm1 / exprel (no cancellation for small C, c or q).",
    numeric=lambda: occam_derivation()["catoni_bound_numeric"],
)
binomial_log_pmf = Formula(
    "binomial_log_pmf",
    "occam-binomial",
    lambda: occam_derivation()["binomial_log_pmf"],
    (m, k_err, p_err),
    "occam-binomial: ln P(Bin(m, p_err) = k_err) in nats (0 <= k_err <= m, 0 < p_err < 1), evaluated in Loader's "
    "form (Stirling's errors and deviances, all of one sign).  Raises ValueError naming k_err when k_err > m.",
    numeric=lambda: occam_derivation()["binomial_log_pmf_numeric"],
    constraints=[(k_err <= m, "k_err must be <= m (k_err errors among m examples)")],
)
log2_binomial = Formula(
    "log2_binomial",
    "occam-code-length",
    lambda: code_length_derivation()["log2_binomial"],
    (n_slots, n_ones),
    "occam-code-length: log2 C(n_slots, n_ones), bits of the enumerative code of n_ones positions (n_ones <= n_slots; "
    "a ValueError naming n_ones otherwise), evaluated with log rising factorials (no cancellation of log-gammas).",
    numeric=lambda: code_length_derivation()["log2_binomial_numeric"],
    constraints=[(n_ones <= n_slots, "n_ones must be <= n_slots (n_ones positions among n_slots)")],
)
dirichlet_predictive = Formula(
    "dirichlet_predictive",
    "occam-code-length",
    lambda: code_length_derivation()["dirichlet_predictive"],
    (n_k, n_tot, K_sym, alpha),
    "occam-code-length: (n_k + alpha) / (n_tot + K_sym alpha), the adaptive probability of a symbol seen n_k times "
    "in n_tot over an alphabet of K_sym symbols.",
)
dirichlet_multinomial_bits = LayerFormula(
    "dirichlet_multinomial_bits",
    "occam-code-length",
    lambda: code_length_derivation()["dirichlet_multinomial_bits"],
    (N_SYM,),
    (alpha,),
    "occam-code-length: bits of the adaptive Dirichlet(alpha) code of a sequence whose symbol counts are n_sym "
    "(one entry per symbol of the alphabet, in any order); evaluated with log rising factorials (exactly 0 when "
    "nothing is coded or the alphabet has one symbol).",
    numeric=lambda: code_length_derivation()["dirichlet_multinomial_bits_numeric"],
)
permutation_bits = Formula(
    "permutation_bits",
    "occam-code-length",
    lambda: code_length_derivation()["permutation_bits"],
    (h_units,),
    "occam-code-length: log2 h_units!, bits (the most that coding modulo the order of the units can save).",
)
codebook_bits = Formula(
    "codebook_bits",
    "occam-code-length",
    lambda: code_length_derivation()["codebook_bits"],
    (levels, value_bits),
    "occam-code-length: levels * value_bits, bits of a stored codebook.",
)


# --- ledger entries ---------------------------------------------------------------------------------------------
SOURCES = (
    "McAllester (1999), Some PAC-Bayesian theorems, Machine Learning 37 (Occam/PAC-Bayes with a prior over hypotheses); "
    "Seeger (2002), PAC-Bayesian generalisation error bounds for Gaussian process classification, JMLR 3 (the kl form); "
    "Langford (2005), Tutorial on practical prediction theory for classification, JMLR 6 (Occam's Razor bound: "
    "binomial tail inversion and its relative-entropy form)"
)
ASSUMPTIONS = [
    "the m examples that err_S is measured on are i.i.d. draws from the distribution that err is taken over",
    "the code (hence the prior 2^-|code(h)|) is prefix-free and fixed before those m examples are seen; any adaptive "
    "model inside it is a deterministic function of previously decoded symbols",
    "err is the 0-1 loss of the deterministic hypothesis h (the compressed network itself), bounded in [0, 1]",
    "every choice made after seeing the data is either encoded in the code word or charged by the union bound (G)",
    "data-dependent prior: the code may be chosen on a part of the sample that is independent of the m examples "
    "used in the bound (m is then the size of the rest)",
]


def occam_claims() -> list[Claim]:
    """The ledger entries: occam-kl, occam-binomial, occam-catoni, occam-code-length."""
    der = occam_derivation()
    code = code_length_derivation()
    chern_ok, chern_sentence = chernoff_and_ordering_check()
    symbolic = der["checks"]
    kl_checks = {k: v for k, v in symbolic.items() if not k.startswith("Catoni")}
    cat_checks = {k: v for k, v in symbolic.items() if k.startswith("Catoni") or k.startswith("sup")}
    kl_claim = Claim(
        "occam-kl",
        "Occam bound, Langford–Seeger kl form, for a prefix-free code of the compressed network",
        r"With probability $\ge 1-\delta$ over $m$ i.i.d. examples, for every $h$ with a code word of $|c(h)|$ bits: "
        r"$\mathrm{kl}(\hat{err}_S(h)\,\|\,err(h)) \le (|c(h)|\ln 2 + \ln G + \ln(1/\delta))/m$, hence "
        r"$err(h) \le \mathrm{kl}^{-1}(\hat{err}_S(h), \cdot)$ (upper inverse).",
        ("cited", "derive"),
        list(ASSUMPTIONS),
        results={
            "kl": der["kl"],
            "dkl_dp": der["dkl_dp"],
            "kl_at_zero": der["kl_at_zero"],
            "kl_inverse_at_zero": der["kl_inverse_at_zero"],
            "chernoff_tail": der["chernoff_tail"],
            "complexity": der["complexity"],
        },
        steps=der["steps_kl"],
        checks=[f"symbolic: {k}" for k in kl_checks] + [chern_sentence],
        verdict="verified" if all(kl_checks.values()) and chern_ok else "refuted",
        evidence=(
            "Sources: " + SOURCES + ". Derived here: kl(q||p) increases in p on [q, 1) (dkl/dp = (p - q)/(p(1 - p)) "
            "> 0), so the upper inverse is unique; at q = 0 it is 1 - exp(-c) exactly; " + chern_sentence + ". "
            "No ln(2 sqrt(m)) term is needed: that term (Maurer 2004) pays for a stochastic posterior, while a point "
            "mass on a coded h only needs Chernoff's tail and Kraft's inequality. The bound is checked by simulation "
            "in tests/experiments/test_certify.py (a sparse teacher, fresh samples, binomial test of the failure rate)."
        ),
    )
    bin_claim = Claim(
        "occam-binomial",
        "Occam bound, exact binomial tail inversion (Langford 2005)",
        r"With probability $\ge 1-\delta$, for every coded $h$ with $k$ training errors: $err(h) \le "
        r"\max\{p : P(\mathrm{Bin}(m,p) \le k) \ge \delta\, 2^{-|c(h)|}/G\}$.",
        ("cited", "derive"),
        list(ASSUMPTIONS),
        results={"binomial_log_pmf": der["binomial_log_pmf_plain"]},
        steps=der["steps_binomial"],
        checks=[chern_sentence],
        verdict="verified" if chern_ok else "refuted",
        evidence=(
            "Langford (2005)'s Occam's Razor bound uses the exact binomial tail in place of Chernoff's exp(-m kl); since "
            "the tail is at most exp(-m kl), the inversion is never looser than occam-kl. " + chern_sentence + ". The "
            "target delta 2^-bits / G underflows double precision for codes of thousands of bits, so the tail is summed "
            "in log space (numerics.binomial_tail_inverse)."
        ),
    )
    cat_claim = Claim(
        "occam-catoni",
        "Catoni's bound for a point mass: never tighter than the kl form",
        r"For a fixed $C>0$: $err(h) \le (1 - e^{-C\hat{err}_S(h) - c})/(1 - e^{-C})$ with $c$ the right-hand side of "
        r"occam-kl; since $\mathrm{kl}(q\|p) = \sup_C [-Cq - \ln(1 - p + p e^{-C})]$, the kl inverse is at most this "
        r"for every $C$.",
        ("cited", "derive"),
        list(ASSUMPTIONS) + ["C fixed before the data (a grid of C values would add its ln to G)"],
        results={
            "catoni_exponent": der["catoni_exponent"],
            "catoni_best_C": der["catoni_best_C"],
            "catoni_bound": der["catoni_bound"],
        },
        steps=der["steps_catoni"],
        checks=[f"symbolic: {k}" for k in cat_checks] + [chern_sentence],
        verdict="verified" if all(cat_checks.values()) and chern_ok else "refuted",
        evidence=(
            "Catoni (2007), PAC-Bayesian supervised classification, IMS Lecture Notes 56. Derived: Catoni's exponent is "
            "concave in C with its maximum at C* = ln(p(1 - q)/(q(1 - p))), where it equals kl(q||p); so kl(q||p) <= c "
            "implies f_C(p) <= c for every C, and the kl inverse is never looser than Catoni's bound. The certificate "
            "therefore uses occam-kl (and reports occam-binomial beside it); Catoni's form is kept for the record."
        ),
    )
    code_claim = Claim(
        "occam-code-length",
        "Code-length terms of a pruned, quantised network",
        r"Positions: $\log_2\binom{N}{J}$; adaptive Dirichlet($\alpha$) code of symbol counts $n_k$: "
        r"$\log_2\frac{\Gamma(n+K\alpha)}{\Gamma(K\alpha)} - \sum_k \log_2\frac{\Gamma(n_k+\alpha)}{\Gamma(\alpha)}$; "
        r"at most $\log_2 h!$ saved by coding modulo the order of $h$ units; a codebook of $r$ values of $b$ bits: $rb$.",
        ("derive",),
        ["ideal code lengths: a range coder with finite precision adds a few bits per message (measured in numerics)"],
        results={
            k: code[k]
            for k in (
                "log2_binomial",
                "dirichlet_predictive",
                "dirichlet_multinomial_bits",
                "permutation_bits",
                "codebook_bits",
            )
        },
        steps=code["steps"],
        checks=[f"exact: {k}" for k in code["checks"]],
        verdict="verified" if all(code["checks"].values()) else "refuted",
        evidence=(
            "All in log space via loggamma. Exact rational checks: the enumerative code's sequential probabilities "
            "multiply to 1/C(N, J) for every subset with N <= 8, and sequential Dirichlet predictive probabilities "
            "multiply to the gamma-function closed form (alpha = 1/2, 1, 3/7). numerics.encode_network is a real range "
            "code; tests/numerics/test_coding.py compares its lengths with these terms."
        ),
    )
    return [kl_claim, bin_claim, cat_claim, code_claim]
