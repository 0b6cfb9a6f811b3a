"""Theorem D.1, Lemma D.1, Theorem 5.2, Theorem 6.2 and the paper-compatible bound."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs

import theory


@given(hs.floats(0.0, 1e7), hs.integers(1, 10**7), hs.floats(1e-9, 0.5))
def test_theorem_d_1_gap_solves_hoeffding_union(logN, m, delta):
    tau = theory.theorem_d_1_gap(max(logN, 1e-12), m, delta)
    assert math.exp(max(logN, 1e-12) - 2 * m * tau * tau) == pytest.approx(delta, rel=1e-7)


def test_lemma_d_1_is_theorem_d_1_with_the_naive_count():
    shapes, alpha, r, m, delta = [(784, 784), (10, 784)], [5000, 300], 2**16, 48000, 0.01
    logN = sum(theory.naive_sparse_log_count(a, b, k, r) for (a, b), k in zip(shapes, alpha))
    got = theory.lemma_d_1_gap(
        d1_l=[s[0] for s in shapes], d2_l=[s[1] for s in shapes], alpha_l=alpha, r=r, m=m, delta=delta
    )
    assert got == pytest.approx(theory.theorem_d_1_gap(logN, m, delta), rel=1e-12)


def test_theorem_5_2_is_theorem_d_1_with_the_sketch_count():
    j, p, c, r, m, delta = [8, 12], [784, 784], 0.7, 2**16, 48000, 0.01
    logN = sum(theory.sketch_parameter_count(a, b, c) for a, b in zip(j, p)) * math.log(r)
    got = theory.theorem_5_2_gap(j_l=j, p_l=p, c_m=c, r=r, m=m, delta=delta)
    assert got == pytest.approx(theory.theorem_d_1_gap(logN, m, delta), rel=1e-12)


def test_paper_ours_gap_reference():
    d1, d2, dv, m = np.array([784, 784, 10]), np.array([784, 784, 784]), 0.8, 48000
    chi = theory.lemma_4_1_keep_probability(dv)
    ref = math.sqrt((d1 * d2 * chi * np.log(np.maximum(d1, d2)) ** 2).sum() / m)
    assert theory.paper_ours_gap(d1_l=d1, d2_l=d2, d=dv, m=m) == pytest.approx(ref, rel=1e-12)
    assert theory.paper_ours_gap.log10(d1_l=d1, d2_l=d2, d=dv, m=m) == pytest.approx(math.log10(ref), rel=1e-12)


@given(hs.floats(1e-9, 50.0), hs.integers(1, 3000), hs.integers(10, 10**6))
def test_paper_ours_gap_ceiling_is_the_supremum_over_d(dv, h, m):
    d1, d2 = np.array([h, h, 10]), np.array([784, h, h])
    ceiling = theory.paper_ours_gap_ceiling(d1_l=d1, d2_l=d2, m=m)
    assert theory.paper_ours_gap(d1_l=d1, d2_l=d2, d=dv, m=m) <= ceiling * (1 + 1e-12)
    # reference: chi -> 1, i.e. every weight counted
    ref = math.sqrt((d1 * d2 * np.log(np.maximum(d1, d2)) ** 2).sum() / m)
    assert ceiling == pytest.approx(ref, rel=1e-12)
    assert theory.paper_ours_gap(d1_l=d1, d2_l=d2, d=1e-14, m=m) == pytest.approx(ceiling, rel=1e-6)


def test_paper_ours_margin_reference():
    delta_n, S, kappa, xmax = np.array([0.1, 0.2]), np.array([3.0, 2.0]), np.array([1.0, 0.5]), 9.0
    ref = math.e * xmax * (0.1 / 3 + 0.2 / 2) * 6.0 * 0.5
    assert theory.paper_ours_margin(Delta_l=delta_n, S_l=S, kappa_l=kappa, x_max=xmax) == pytest.approx(ref)


def test_theorem_5_2_margin_reference():
    kw = dict(
        kappa_l=[1.0, 1.0],
        S_l=[2.0, 4.0],
        lam_l=[2.0, 2.0],
        Gamma_l=[0.1, 0.3],
        rho_l=[0.01, 0.02],
        J_l=[100, 400],
        x_max=3.0,
    )
    ref = math.e * 3.0 * 8.0 * ((0.2 + 0.01 * 10 / 2) / 2.0 + (0.6 + 0.02 * 20 / 2) / 4.0)
    assert theory.theorem_5_2_margin(**kw) == pytest.approx(ref)


def test_theorem_6_2_monotone_in_width_and_samples():
    base = dict(d_in=784, n=100, l=2, p=1000, c_m=1.0, r=2**16, m=48000, delta=0.01)
    g = theory.theorem_6_2_gap(**base)
    assert theory.theorem_6_2_gap(**{**base, "n": 200}) > g > theory.theorem_6_2_gap(**{**base, "m": 96000})


def test_layer_arguments_are_validated():
    with pytest.raises(ValueError, match="layers"):
        theory.paper_ours_gap(d1_l=[784, 784], d2_l=[784], d=1.0, m=100)
    with pytest.raises(ValueError, match="d1_l must be an integer"):
        theory.paper_ours_gap(d1_l=[784.5], d2_l=[784], d=1.0, m=100)
    with pytest.raises(TypeError, match="missing"):
        theory.paper_ours_gap(d1_l=[784], d2_l=[784], d=1.0)


def test_theorem_6_2_from_nonzeros_agrees_with_the_width_form():
    d_in, n, l = 784, 100, 2
    base = dict(p=1000, c_m=0.8, r=2**16, m=48000, delta=0.01)
    assert theory.theorem_6_2_gap_from_nonzeros(q_nnz=d_in * n + l * n * n, **base) == pytest.approx(
        theory.theorem_6_2_gap(d_in=d_in, n=n, l=l, **base), rel=1e-12
    )
