"""Lemma 5.1, Lemma E.1 and the parameter counts by independent routes."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs

import theory


@given(hs.integers(1, 60), hs.integers(1, 60), hs.floats(0.01, 100))
def test_expected_survivors_entrywise(d1, d2, dv):
    chi = theory.lemma_4_1_keep_probability(dv)
    keep = np.full((d1, d2), chi)
    np.fill_diagonal(keep, 1.0)
    assert theory.lemma_5_1_expected_survivors(d1, d2, dv) == pytest.approx(keep.sum(), rel=1e-12)
    assert theory.lemma_5_1_expected_row_nonzeros(d1, d2, dv) == pytest.approx(keep.sum(axis=1).max(), rel=1e-12)
    assert theory.lemma_5_1_expected_col_nonzeros(d1, d2, dv) == pytest.approx(keep.sum(axis=0).max(), rel=1e-12)


@given(hs.integers(1, 10**6), hs.integers(1, 10**4), hs.floats(1e-9, 0.5))
def test_max_load_solves_the_bernstein_union_equation(M, n, eps):
    mu = M / n
    t = theory.lemma_e_1_max_load_bound(M, n, eps) - mu
    assert t > 0
    assert n * math.exp(-t * t / (2 * (mu + t / 3))) == pytest.approx(eps, rel=1e-8)


def test_row_bound_exceeds_expectation_and_shrinks_with_epsilon():
    for shape in ((10, 2000), (2000, 10), (784, 784)):
        e = theory.lemma_5_1_expected_row_nonzeros(*shape, 2.0)
        b1 = theory.lemma_5_1_row_bound(*shape, 2.0, 0.1)
        b2 = theory.lemma_5_1_row_bound(*shape, 2.0, 1e-6)
        assert e < b1 < b2


@given(hs.integers(1, 30), hs.integers(1, 30), hs.data(), hs.integers(2, 2**20))
def test_naive_log_count_is_log_binomial(d1, d2, data, r):
    J = data.draw(hs.integers(1, d1 * d2))
    ref = math.log(math.comb(d1 * d2, J)) + J * math.log(r)
    assert theory.naive_sparse_log_count(d1, d2, J, r) == pytest.approx(ref, rel=1e-10, abs=1e-9)


def test_naive_log_count_large_is_finite():
    v = theory.naive_sparse_log_count(2500, 2500, 10**6, 2**32)
    assert np.isfinite(v) and v > 10**6 * math.log(2**32)


def test_sketch_counts():
    assert theory.theorem_5_1_sketch_size(4, 64, 1.0) == pytest.approx(math.sqrt(4 * 64) * math.log(64))
    assert theory.sketch_parameter_count(4, 64, 2.0) == pytest.approx((2 * 16 * math.log(64)) ** 2)
    assert theory.dense_parameter_count(10, 20) == 200


@given(hs.integers(20, 5000), hs.data(), hs.integers(2, 2**32))
def test_sketching_charges_more_than_naive_counting_at_unit_constant(p, data, r):
    j = data.draw(hs.integers(1, p))
    J = j * p
    sketch_nats = theory.sketch_parameter_count(j, p, 1.0) * math.log(r)
    naive_nats = theory.naive_sparse_log_count(p, p, J, r)
    lower = theory.sketch_over_naive_lower(j, p, 1.0, r)
    assert sketch_nats / naive_nats >= lower * (1 - 1e-9)
    assert lower > 1.0
