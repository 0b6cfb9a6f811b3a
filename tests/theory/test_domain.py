"""Closed forms over their whole domain (issue 14, items 6-10).

For EVERY ``theory.Formula`` (numpy and torch faces) and every ``theory.LayerFormula`` (value and ``.log10``),
enumerated from the package so that new ones are covered automatically: each argument is drawn log-uniformly
over the whole domain its symbol's assumptions allow (1e-300 .. 1e300, integers up to 1e300, unit-interval
values within 1e-15 of 0 and 1, and 0 and 1 themselves where the closed interval is allowed), and the face must either return the value of the SAME SymPy expression
evaluated by mpmath at 50 digits (``tests/oracle.py``) to a relative error <= 1e-10, or raise a one-line
ValueError: naming the argument when one of the formula's stated constraints fails, or saying the value is
outside float64's range when it is.  Never NaN, inf or a 0 that is not exactly 0.
"""

from __future__ import annotations

import math
from functools import cache

import mpmath as mp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import in_float64_range, mp_betainc, reference, relative_error
from strategies import symbol_values

import theory

FORMULAS = sorted(n for n in dir(theory) if isinstance(getattr(theory, n), theory.Formula))
LAYER_FORMULAS = sorted(n for n in dir(theory) if isinstance(getattr(theory, n), theory.LayerFormula))
REL_TOL = 1e-10


def test_every_formula_is_enumerated():
    # the enumeration must see the package's formulas (a rename that hides them would make the property vacuous)
    assert len(FORMULAS) >= 30 and len(LAYER_FORMULAS) >= 14
    assert "lemma_4_1_keep_probability" in FORMULAS and "bartlett_2017_literature" in LAYER_FORMULAS


def _constraints_hold(constraints, symbols, values) -> tuple[bool, list[str]]:
    """Whether every constraint a formula states (SymPy relations between its arguments) holds, at 20 digits."""
    failed = []
    for relation, message in constraints:
        if not _truth(relation, symbols, values):
            failed.append(message)
    return not failed, failed


def _truth(relation, symbols, values) -> bool:
    import sympy as sp

    indicator = sp.Piecewise((1, relation), (0, True))
    return reference(indicator, symbols, values, digits=20) == 1


def _one_line(exc: Exception) -> str:
    text = str(exc)
    assert text and "\n" not in text, f"error message is not one line: {text!r}"
    return text


def _check_value(label, got_fn, expr, symbols, values, names, violated, log10_hint=False):
    """The contract for one face at one point."""
    try:
        got = got_fn()
    except ValueError as exc:
        text = _one_line(exc)
        if violated:
            assert any(nm in text for nm in names), f"{label}: constraint error names no argument: {text!r}"
            return
        ref = reference(expr, symbols, values)
        assert ref is not None and not in_float64_range(ref), (
            f"{label}: raised {text!r} but the value is {mp.nstr(ref, 17) if ref is not None else 'not real'}"
        )
        assert "float64" in text, f"{label}: range error does not say float64: {text!r}"
        if log10_hint:
            assert ".log10" in text, f"{label}: range error does not point to .log10: {text!r}"
        return
    assert not violated, f"{label}: returned {got!r} although {violated}"
    ref = reference(expr, symbols, values)
    assert ref is not None, f"{label}: returned {got!r} where the expression is not a finite real number"
    assert in_float64_range(ref), f"{label}: returned {got!r} silently; the value {mp.nstr(ref, 17)} is out of range"
    assert math.isfinite(got), f"{label}: returned {got!r}, value {mp.nstr(ref, 17)}"
    err = relative_error(got, ref)
    assert err <= REL_TOL, f"{label}: got {got!r}, value {mp.nstr(ref, 20)} (relative error {err:.2e})"


# ----------------------------------------------------------------------------------------------------------
# Formula: numpy and torch faces
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FORMULAS)
@settings(max_examples=30)
@given(data=st.data())
def test_formula_matches_mpmath_over_whole_domain(name, data):
    import torch

    f = getattr(theory, name)
    values = [data.draw(symbol_values(s), label=s.name) for s in f.args]
    names = [s.name for s in f.args]
    ok, failed = _constraints_hold(f.constraints, f.args, values)
    violated = "; ".join(failed) if not ok else ""
    label = f"{name}({', '.join(f'{n}={v!r}' for n, v in zip(names, values))})"
    _check_value(label, lambda: float(f(*values)), f.expr, f.args, values, names, violated)

    def torch_face():
        out = f.torch(*values)
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
        return float(out)

    _check_value(label + ".torch", torch_face, f.expr, f.args, values, names, violated)


# ----------------------------------------------------------------------------------------------------------
# LayerFormula: value and log10
# ----------------------------------------------------------------------------------------------------------
@cache
def _expanded(name: str, depth: int):
    return getattr(theory, name).expanded(depth)


@pytest.mark.parametrize("name", LAYER_FORMULAS)
@settings(max_examples=30)
@given(data=st.data())
def test_layer_formula_matches_mpmath_over_whole_domain(name, data):
    f = getattr(theory, name)
    depth = data.draw(st.integers(min_value=1, max_value=4), label="depth")
    kwargs = {}
    for base in f.layer_args:
        kwargs[base.label.name] = data.draw(
            st.lists(symbol_values(base.label), min_size=depth, max_size=depth), label=base.label.name
        )
    for sym in f.scalar_args:
        kwargs[sym.name] = data.draw(symbol_values(sym), label=sym.name)
    symbols = tuple(f.layer_args) + tuple(f.scalar_args)
    values = [kwargs[b.label.name] for b in f.layer_args] + [kwargs[s.name] for s in f.scalar_args]
    names = list(kwargs)
    expr = _expanded(name, depth)
    ok, failed = _constraints_hold(f.constraints_for(depth), symbols, values)
    violated = "; ".join(failed) if not ok else ""
    label = f"{name}({kwargs})"
    _check_value(label, lambda: float(f(**kwargs)), expr, symbols, values, names, violated, log10_hint=True)

    # log10 face: absolute error <= 1e-10 * max(1, |log10 value|) (a relative error of ~2e-10 in the value)
    try:
        got = f.log10(**kwargs)
    except ValueError as exc:
        text = _one_line(exc)
        assert violated, f"{label}.log10 raised {text!r}"
        assert any(nm in text for nm in names), text
        return
    assert not violated, f"{label}.log10 returned {got!r} although {violated}"
    ref = reference(expr, symbols, values)
    assert ref is not None and ref >= 0, f"{label}: value {ref} is not a nonnegative real"
    if ref == 0:
        assert got == -math.inf, f"{label}.log10: value is exactly 0, got {got!r}"
        return
    with mp.workdps(60):
        ref10 = mp.log10(ref)
    assert math.isfinite(got), f"{label}.log10 returned {got!r}; log10 value {mp.nstr(ref10, 17)}"
    err = float(abs(mp.mpf(got) - ref10))
    assert err <= REL_TOL * max(1.0, abs(float(ref10))), f"{label}.log10: got {got!r}, {mp.nstr(ref10, 20)}"


# ----------------------------------------------------------------------------------------------------------
# the oracle itself
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "a, b, x", [(5, 3, 0.5), (1000, 1001, 0.5), (3, 7, 0.9), (0.5, 30, 0.01), (2, 10**6, 1e-7), (4.5, 0.5, 0.96)]
)
def test_oracle_incomplete_beta_agrees_with_mpmath_series(a, b, x):
    with mp.workdps(40):
        assert abs(mp_betainc(a, b, 0, x, regularized=True) / mp.betainc(a, b, 0, x, regularized=True) - 1) < 1e-35


def test_oracle_resolves_cancellation():
    import sympy as sp

    from theory._symbols import d

    # 1 - sqrt(d/(d+2)) at d = 1e300 is 1/d - 3/(2 d^2) + ...; float64 as written gives 0
    ref = reference(1 - sp.sqrt(d / (d + 2)), (d,), [1e300])
    assert abs(ref * mp.mpf(1e300) - 1) < 1e-250


# ----------------------------------------------------------------------------------------------------------
# the inputs of issue 14, each with its right value
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dv", [1e130, 1e210, 1e300])
def test_lemma_4_1_moments_at_huge_d(dv):
    # (d/(d+2))^{3/2} Psi and 3 (d/(d+2))^{5/2} Psi^2: Psi and 3 Psi^2 to 1e-130 (was NaN from d ~ 1e124)
    assert theory.lemma_4_1_second_moment(dv, 1.0) == pytest.approx(1.0, rel=1e-15)
    assert theory.lemma_4_1_fourth_moment(dv, 1.0) == pytest.approx(3.0, rel=1e-15)
    assert theory.lemma_4_1_second_moment.torch(dv, 2.0).item() == pytest.approx(2.0, rel=1e-15)
    assert theory.lemma_4_1_fourth_moment.torch(dv, 2.0).item() == pytest.approx(12.0, rel=1e-15)
    assert theory.lemma_4_1_prune_probability(dv) == pytest.approx(1.0, rel=1e-15)


def test_lemma_4_1_second_moment_at_the_top_of_float64():
    # 1e308 * (1e308/(1e308 + 2))^{3/2} = 1e308 (1 - 3e-308): representable (was NaN)
    assert theory.lemma_4_1_second_moment(1e308, 1e308) == pytest.approx(1e308, rel=1e-14)


@pytest.mark.parametrize("dv", [1e12, 1e15, 1e17])
def test_keep_probability_has_no_cancellation(dv):
    # chi(d) = 1 - sqrt(d/(d+2)) = 1/d - 3/(2 d^2) + ...: 1e-12, 1e-15, 1e-17 (was off by 2e-5, 11%, 100%)
    with mp.workdps(80):
        exact = 1 - mp.sqrt(mp.mpf(dv) / (mp.mpf(dv) + 2))
    for got in (theory.lemma_4_1_keep_probability(dv), theory.lemma_4_1_keep_probability.torch(dv).item()):
        assert abs(got / exact - 1) < 1e-14
    assert theory.lemma_4_1_keep_probability(dv) == pytest.approx(1 / dv, rel=1e-11)


def test_binomial_tail_beyond_n_is_exactly_zero():
    # P(Bin(5, .5) >= 7) and P(Bin(10, .3) >= 15): the count is at most n (were NaN)
    assert theory.binomial_upper_tail(5, 7, 0.5) == 0.0
    assert theory.binomial_upper_tail(10, 15, 0.3) == 0.0
    assert theory.binomial_upper_tail(10, 0, 0.3) == 1.0
    assert theory.binomial_upper_tail(5, 5, 0.5) == pytest.approx(1 / 32, rel=1e-14)  # the last nonzero
    assert theory.binomial_upper_tail.torch(5, 7, 0.5).item() == 0.0


def test_condition_c_1_t_without_a_solution_names_the_arguments():
    # m r_A a = 0.5 <= delta = 0.9: m r a exp(-b t^2 d_in) = delta has no t > 0 (was NaN)
    with pytest.raises(ValueError, match=r"a\*m\*r_A must exceed delta") as info:
        theory.condition_c_1_t(1, 1, 10, a=0.5, b=1, delta=0.9)
    assert "\n" not in str(info.value) and "a=0.5" in str(info.value) and "delta=0.9" in str(info.value)
    # just above the boundary the solution exists and is small
    assert theory.condition_c_1_t(1, 1, 10, a=0.91, b=1, delta=0.9) == pytest.approx(
        math.sqrt(math.log(0.91 / 0.9) / 10), rel=1e-12
    )


# The issue gives 351.80, 352.21, 352.12 for "the three literature bounds with 10 layers whose norms are 1e35" and no
# other arguments.  In the order bartlett_2017, neyshabur_2015, neyshabur_2017 (alphabetical) these arguments
# reproduce them: x_max = 1, gamma = 1, m = 40, delta = 0.01, h = 100 and, for Bartlett et al., X_norm = x_max
# sqrt(m) (every point at the maximal norm) and W = 300000.  (No single set with W = h and X_norm <= x_max sqrt(m)
# reproduces all three; m = 48000, W = h = 784 gives 352.16, 350.67, 351.08.)
LITERATURE_AT_1E35 = {
    "bartlett_2017_literature": (
        dict(S_l=[1e35] * 10, R21_l=[1e35] * 10, X_norm=math.sqrt(40), W=300_000, gamma=1.0, m=40, delta=0.01),
        351.80,
    ),
    "neyshabur_2015_literature": (dict(F_l=[1e35] * 10, x_max=1.0, gamma=1.0, m=40), 352.21),
    "neyshabur_2017_literature": (
        dict(S_l=[1e35] * 10, F_l=[1e35] * 10, x_max=1.0, h=100, gamma=1.0, m=40, delta=0.01),
        352.12,
    ),
}


@pytest.mark.parametrize("name", sorted(LITERATURE_AT_1E35))
def test_literature_bounds_with_norms_1e35(name):
    f = getattr(theory, name)
    kwargs, expected = LITERATURE_AT_1E35[name]
    got = f.log10(**kwargs)  # was inf
    assert round(got, 2) == expected
    symbols = tuple(f.layer_args) + tuple(f.scalar_args)
    values = [kwargs[b.label.name] for b in f.layer_args] + [kwargs[s.name] for s in f.scalar_args]
    with mp.workdps(60):
        ref = mp.log10(reference(f.expanded(10), symbols, values))
    assert abs(got - float(ref)) < 1e-10 * abs(float(ref))
    with pytest.raises(ValueError, match=r"float64.*\.log10"):  # the value itself is about 1e352
        f(**kwargs)


def test_sphere_tail_beyond_one_is_exactly_zero():
    # |<v, x>| <= 1 on the sphere: P(|<v,x>| >= 2) = 0 (was NaN)
    assert theory.condition_c_1_sphere_tail(2.0, 10) == 0.0
    assert theory.condition_c_1_sphere_tail(1.0, 10) == 0.0
    assert theory.condition_c_1_sphere_tail(0.5, 1) == 1.0  # S^0 = {-1, 1}
    assert theory.condition_c_1_sphere_tail(0.5, 3) == pytest.approx(0.5, rel=1e-14)  # Archimedes: 1 - t


def test_naive_count_with_more_nonzeros_than_entries_names_j():
    with pytest.raises(ValueError, match=r"J must be <= d1\*d2") as info:
        theory.naive_sparse_log_count(784, 784, 10**7, 65536)  # was -inf
    assert "\n" not in str(info.value)


def test_naive_count_has_no_cancellation():
    # ln C(D, 1) = ln D: log-gammas of D ~ 6e6 cancel to 1e-9 relative in the form as written
    for dims in ((2500, 2500), (10**6, 10**6), (2**26, 2**27)):
        got = theory.naive_sparse_log_count(*dims, 1, 1)
        assert got == pytest.approx(math.log(dims[0] * dims[1]), rel=1e-14)
    assert theory.naive_sparse_log_count(784, 784, 784 * 784, 1) == 0.0  # C(D, D) = 1


@pytest.mark.parametrize("dims", [(10**200, 784), (10**200, 10**200), (784, 10**200)])
def test_gamma_with_a_huge_side(dims):
    args = (*dims, 1.0, 1.0, 1.0)
    f = theory.lemma_4_2_gamma
    got = f(*args)  # was inf
    ref = reference(f.expr, f.args, list(args))
    assert relative_error(got, ref) < 1e-12
    assert relative_error(f.torch(*args).item(), ref) < 1e-12


def test_neyshabur_2015_code_overflow_points_to_log10():
    f = theory.neyshabur_2015_code
    with pytest.raises(theory.Float64RangeError, match=r"float64's range.*use \.log10") as info:
        f(F_l=[1e100] * 5, gamma=1)  # was inf
    assert isinstance(info.value, ValueError) and isinstance(info.value, OverflowError)
    assert "\n" not in str(info.value) and "10^1000" in str(info.value)
    assert f.log10(F_l=[1e100] * 5, gamma=1) == pytest.approx(1000.0, rel=1e-15)


@pytest.mark.parametrize(
    "spectral, perturbation, word",
    [
        ([1.0, float("nan")], [0.1, 0.1], "spectral_norms"),
        ([1.0, 2.0], [-0.1, 0.1], "perturbation_norms"),
        ([1.0, -2.0], [0.1, 0.1], "spectral_norms"),
        ([1.0, 2.0], [0.1, float("inf")], "perturbation_norms"),
    ],
)
def test_lemma_b_2_condition_rejects_nan_and_negative_norms(spectral, perturbation, word):
    with pytest.raises(ValueError, match=word):
        theory.lemma_b_2_condition(spectral, perturbation)


def test_markov_bound_is_a_probability():
    # P(||Delta|| >= lam Gamma) <= min(1, 1/lam): 0.5 gave a "probability" of 2.0
    assert theory.lemma_4_2_markov_failure(0.5) == 1.0
    assert theory.lemma_4_2_markov_failure(1.0) == 1.0
    assert theory.lemma_4_2_markov_failure(4.0) == 0.25
    assert theory.lemma_4_2_markov_failure.torch(0.5).item() == 1.0


def test_a_wrong_formula_fails_the_oracle():
    # the property above can fail: a 10% error in a closed form is caught by the 50-digit comparison
    f = theory.lemma_4_1_second_moment
    ref = reference(f.expr, f.args, [3.0, 2.0])
    assert relative_error(1.1 * f(3.0, 2.0), ref) > 0.09
    assert relative_error(f(3.0, 2.0), ref) < 1e-14
