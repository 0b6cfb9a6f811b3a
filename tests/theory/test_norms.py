"""Lemma 4.2 bracket, Lemma B.2, Lemma 4.3, Lemma 4.4, Condition C.1 / Lemma C.1 by independent routes."""

import math

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as hs

import theory
from theory._checks import sphere_tail_check


def _bracket_brute_force(d1, d2, dv, psi):
    """Latala's bracket summed entry by entry over an explicit off-diagonal mask."""
    s2 = theory.lemma_4_1_second_moment(dv, psi)
    s4 = theory.lemma_4_1_fourth_moment(dv, psi)
    off = np.ones((d1, d2))
    np.fill_diagonal(off, 0.0)
    rows = np.sqrt((off * s2).sum(axis=1)).max()
    cols = np.sqrt((off * s2).sum(axis=0)).max()
    return rows + cols + (off * s4).sum() ** 0.25


@given(hs.integers(1, 40), hs.integers(1, 40), hs.floats(0.01, 50), hs.floats(0.001, 10))
def test_gamma_matches_entrywise_sum(d1, d2, dv, psi):
    if d1 * d2 == 1:  # a 1x1 matrix is all diagonal: bracket 0
        assert theory.lemma_4_2_gamma(d1, d2, dv, psi, 1.0) == pytest.approx(0.0, abs=1e-12)
        return
    assert theory.lemma_4_2_gamma(d1, d2, dv, psi, 1.0) == pytest.approx(
        _bracket_brute_force(d1, d2, dv, psi), rel=1e-10
    )
    assert theory.lemma_4_2_gamma(d1, d2, dv, psi, 2.5) == pytest.approx(
        2.5 * _bracket_brute_force(d1, d2, dv, psi), rel=1e-10
    )


def test_markov_failure():
    assert theory.lemma_4_2_markov_failure(4.0) == pytest.approx(0.25)


def _relu_net(weights, xv):
    h = xv
    for k, w in enumerate(weights):
        h = w @ h
        if k < len(weights) - 1:
            h = np.maximum(h, 0)
    return h


@given(hs.integers(0, 2**31 - 1), hs.integers(2, 5), hs.floats(0.05, 1.0))
def test_lemma_b_2_bound_never_exceeded(seed, depth, frac):
    rng = np.random.default_rng(seed)
    widths = rng.integers(3, 12, size=depth + 1)
    A = [rng.normal(size=(widths[k + 1], widths[k])) for k in range(depth)]
    S = np.array([np.linalg.norm(a, 2) for a in A])
    U = []
    for a, s in zip(A, S):
        u = rng.normal(size=a.shape)
        # ||U_l|| = frac ||A_l|| / L <= ||A_l|| / L, a hair under at frac = 1 so that rounding keeps the condition
        U.append(u * (frac * (1 - 1e-12) * s / depth) / np.linalg.norm(u, 2))
    Un = np.array([np.linalg.norm(u, 2) for u in U])
    assert theory.lemma_b_2_condition(S, Un).all()
    xv = rng.normal(size=widths[0])
    lhs = np.linalg.norm(_relu_net([a + u for a, u in zip(A, U)], xv) - _relu_net(A, xv))
    rhs = theory.lemma_b_2_bound(S_l=S, U_l=Un, x_norm=np.linalg.norm(xv))
    assert lhs <= rhs * (1 + 1e-12)
    assert theory.lemma_b_2_bound.log10(S_l=S, U_l=Un, x_norm=np.linalg.norm(xv)) == pytest.approx(math.log10(rhs))


def test_lemma_4_3_is_b_2_with_lambda_gamma():
    S, lam, G = np.array([2.0, 3.0, 1.5]), np.array([2.0, 4.0, 3.0]), np.array([0.1, 0.05, 0.02])
    assert theory.lemma_4_3_bound(S_l=S, lam_l=lam, Gamma_l=G, x_norm=2.0) == pytest.approx(
        theory.lemma_b_2_bound(S_l=S, U_l=lam * G, x_norm=2.0)
    )


@given(hs.integers(0, 2**31 - 1), hs.floats(1e-3, 1.0))
def test_rounding_error_bound_holds_on_random_sparse_matrices(seed, rho):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(30, 20)) * (rng.random((30, 20)) < 0.3)
    rounded = rho * np.round(a / rho)
    J = int(np.count_nonzero(a))
    if J == 0:
        return
    assert np.linalg.norm(a - rounded, 2) <= theory.lemma_4_4_rounding_error(rho, J) * (1 + 1e-12)


def test_max_rho_meets_the_condition_with_equality():
    A, L, lam, G, J = 3.0, 5, 2.0, 0.1, 400
    rho = theory.lemma_4_4_max_rho(A, L, lam, G, J)
    assert lam * G + theory.lemma_4_4_rounding_error(rho, J) == pytest.approx(A / L)


@given(hs.integers(2, 3000), hs.floats(0.01, 0.99))
def test_sphere_tail_matches_beta_distribution(nn, tv):
    # <v, x>^2 ~ Beta(1/2, (n-1)/2) for x uniform on S^{n-1}
    ref = st.beta.sf(tv**2, 0.5, (nn - 1) / 2)
    if ref < 2.2250738585072014e-308:  # below float64's normal range: an error, never a silent 0
        with pytest.raises(ValueError, match="float64"):
            theory.condition_c_1_sphere_tail(tv, nn)
        return
    assert theory.condition_c_1_sphere_tail(tv, nn) == pytest.approx(ref, rel=1e-8)


def test_code_constants_are_not_a_valid_tail_but_2_half_are():
    assert not sphere_tail_check(1.0, 1.0)[0]
    assert sphere_tail_check(2.0, 0.5)[0]


def test_c_1_t_solves_its_equation():
    m, r, din, a, b, delta = 48000, 784, 784, 2.0, 0.5, 0.01
    tv = theory.condition_c_1_t(m, r, din, a, b, delta)
    assert m * r * a * math.exp(-b * tv**2 * din) == pytest.approx(delta)
    tc = theory.condition_c_1_t_code(m, din)
    assert 1 - m * math.exp(-(tc**2) * din) == pytest.approx(0.99)
    assert theory.condition_c_1_kappa(tv, 4) == pytest.approx(min(1.0, tv * 2))
