"""Algorithm 1 / Lemma 4.1 / Lemma D.2 closed forms against independent numerical routes."""

import math

import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as hs

import theory
from theory._checks import quadrature_vs_closed_form
from theory._pruning import PRUNE_PROBABILITY_GIVEN_ENTRY, lemma_4_1_derivation
from theory._symbols import Psi, x

strengths = hs.floats(min_value=1e-3, max_value=1e3, allow_nan=False)
variances = hs.floats(min_value=1e-4, max_value=1e2, allow_nan=False)


def _quad_moment(power: int, dv: float, pv: float) -> float:
    sd = math.sqrt(pv)
    f = lambda z: z**power * math.exp(-z * z / (dv * pv)) * st.norm.pdf(z, scale=sd)
    val, _ = si.quad(f, -40 * sd, 40 * sd, points=[0.0], limit=200, epsabs=0, epsrel=1e-11)
    return val


@given(strengths, variances)
def test_second_and_fourth_moment_match_scipy_quadrature(dv, pv):
    assert theory.lemma_4_1_second_moment(dv, pv) == pytest.approx(_quad_moment(2, dv, pv), rel=1e-7)
    assert theory.lemma_4_1_fourth_moment(dv, pv) == pytest.approx(_quad_moment(4, dv, pv), rel=1e-7)


@given(strengths)
def test_prune_probability_matches_quadrature_and_is_psi_free(dv):
    for pv in (0.01, 1.0, 30.0):
        assert theory.lemma_4_1_prune_probability(dv) == pytest.approx(_quad_moment(0, dv, pv), rel=1e-8)
    assert theory.lemma_4_1_keep_probability(dv) == pytest.approx(1 - theory.lemma_4_1_prune_probability(dv))


def test_mean_is_zero_and_limits():
    der = lemma_4_1_derivation()
    assert der["E_Delta"] == 0 and der["E_Delta3"] == 0
    assert der["limits"]["E_Delta2(d->oo)"] == Psi  # everything pruned: Delta = A
    assert der["limits"]["E_Delta2(d->0)"] == 0  # nothing pruned
    assert theory.lemma_4_1_second_moment(1e9, 2.0) == pytest.approx(2.0, rel=1e-6)
    assert theory.lemma_4_1_fourth_moment(1e9, 2.0) == pytest.approx(3 * 4.0, rel=1e-6)


def test_moments_increase_with_d():
    ds = np.logspace(-3, 3, 200)
    for f in (theory.lemma_4_1_second_moment, theory.lemma_4_1_fourth_moment):
        vals = f(ds, 1.5)
        assert np.all(np.diff(vals) > 0)
    assert np.all(np.diff(theory.lemma_4_1_prune_probability(ds)) > 0)


def test_quadrature_check_rejects_a_wrong_formula():
    closed = lemma_4_1_derivation()["E_Delta2"]
    ok, _ = quadrature_vs_closed_form("right", x**2 * PRUNE_PROBABILITY_GIVEN_ENTRY, closed)
    bad, _ = quadrature_vs_closed_form("wrong", x**2 * PRUNE_PROBABILITY_GIVEN_ENTRY, closed * sp.Rational(11, 10))
    assert ok and not bad


@given(strengths, hs.floats(min_value=1e-6, max_value=1 - 1e-6))
def test_lemma_d_2_threshold_and_probability(dv, pmin):
    psi = 0.7
    thr = theory.lemma_d_2_threshold(dv, psi, pmin)
    # at the threshold the algorithm's pruning probability is exactly p_min
    assert theory.algorithm_1_prune_probability(thr, dv, psi) == pytest.approx(pmin, rel=1e-9)
    folded = st.norm.cdf(thr, scale=math.sqrt(psi)) - st.norm.cdf(-thr, scale=math.sqrt(psi))
    assert theory.lemma_d_2_probability(dv, pmin) == pytest.approx(folded, rel=1e-9, abs=1e-300)


@given(hs.integers(1, 400), hs.data())
def test_binomial_tail_is_incomplete_beta(nn, data):
    kk = data.draw(hs.integers(1, nn))
    qq = data.draw(hs.floats(0.001, 0.999))
    ref = st.binom.sf(kk - 1, nn, qq)
    if ref < 2.2250738585072014e-308:  # below float64's normal range: an error, never a silent 0
        with pytest.raises(ValueError, match="float64"):
            theory.binomial_upper_tail(nn, kk, qq)
        return
    assert theory.binomial_upper_tail(nn, kk, qq) == pytest.approx(ref, rel=1e-9)


def test_binomial_identity_exact_small_n():
    assert theory.binomial_tail_identity_check(8)


def test_torch_and_numpy_faces_agree():
    ds = np.array([0.1, 1.0, 7.0])
    ref = theory.lemma_4_1_second_moment(ds, 0.3)
    got = theory.lemma_4_1_second_moment.torch(torch.tensor(ds), 0.3)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize(
    "args, match",
    [
        ((0.0, 1.0), "d must be > 0"),
        ((-1.0, 1.0), "d must be > 0"),
        ((1.0, 0.0), "Psi must be > 0"),
        ((float("nan"), 1.0), "d must be finite"),
        ((1.0, float("inf")), "Psi must be finite"),
    ],
)
def test_bad_input_names_argument_and_rule(args, match):
    with pytest.raises(ValueError, match=match):
        theory.lemma_4_1_second_moment(*args)


def test_probability_and_integer_rules():
    with pytest.raises(ValueError, match="p_min must lie strictly between 0 and 1"):
        theory.lemma_d_2_probability(1.0, 1.0)
    with pytest.raises(ValueError, match="n must be an integer"):
        theory.binomial_upper_tail(10.5, 2, 0.3)
    with pytest.raises(ValueError, match="d1 must be > 0"):
        theory.lemma_5_1_expected_survivors(0, 3, 1.0)
