"""Sparse matrix sketching: Definition E.1 ensembles, Definition 5.1 matrices, Theorem 5.1 recovery.

Deterministic: fixed seeds; Hypothesis runs derandomised (tests/conftest.py).  Rate assertions use
Clopper-Pearson intervals at level 1 - 1e-6 on cases whose rates sit near 0 or 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics._sketching import (
    adversarial_failure,
    bipartite_ensemble,
    default_delta,
    distributed_sparse_matrix,
    l1_recover,
    parameter_counts,
    sketch,
    sketch_recovery_study,
    smallest_sufficient_m,
    time_recovery,
)

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def ensemble_shapes(draw, max_side: int = 40):
    """(m, p, delta) with 1 <= delta <= m."""
    m = draw(st.integers(1, max_side))
    p = draw(st.integers(1, max_side))
    delta = draw(st.integers(1, m))
    return m, p, delta


@st.composite
def sparse_shapes(draw, max_p: int = 40):
    """(p, j) with 1 <= j <= p."""
    p = draw(st.integers(1, max_p))
    return p, draw(st.integers(1, p))


# ----------------------------------------------------------------------------- Definition E.1
@given(ensemble_shapes(), SEEDS)
def test_ensemble_shape_and_exact_column_weights(shape, seed):
    m, p, delta = shape
    A = bipartite_ensemble(m, p, delta, seed)
    assert A.shape == (m, p)
    assert set(np.unique(A)) <= {0.0, 1.0}
    assert np.all(A.sum(axis=0) == delta)


def test_ensemble_is_seeded_and_rows_are_uniform():
    np.testing.assert_array_equal(bipartite_ensemble(12, 30, 3, 5), bipartite_ensemble(12, 30, 3, 5))
    # each entry is 1 with probability delta/m; 2000 columns, Hoeffding at 1e-6 per row: |freq - 1/4| <= 0.06
    A = bipartite_ensemble(8, 2000, 2, 11)
    assert np.all(np.abs(A.mean(axis=1) - 2 / 8) <= math.sqrt(math.log(2 * 8 / 1e-6) / (2 * 2000)))


@pytest.mark.parametrize(
    "args, needle",
    [
        ((0, 5, 1), "m must be a positive integer"),
        ((5, 0, 1), "p must be a positive integer"),
        ((5, 5, 0), "delta must be a positive integer"),
        ((3, 5, 4), "delta must be <= m"),
        ((2.5, 5, 1), "m must be a positive integer"),
    ],
)
def test_ensemble_rejects_bad_arguments(args, needle):
    with pytest.raises(ValueError, match=needle):
        bipartite_ensemble(*args)


# ----------------------------------------------------------------------------- Definition 5.1
@given(sparse_shapes(), SEEDS)
def test_distributed_sparse_matrix_definition(shape, seed):
    p, j = shape
    X = distributed_sparse_matrix(p, j, seed)
    nz = X != 0
    assert X.shape == (p, p)
    assert np.all(np.diag(nz))
    assert nz.sum(axis=1).max() <= j and nz.sum(axis=0).max() <= j


def test_distributed_sparse_matrix_rejects_bad_arguments():
    with pytest.raises(ValueError, match="j must be <= p"):
        distributed_sparse_matrix(4, 5)
    with pytest.raises(ValueError, match="j must be a positive integer"):
        distributed_sparse_matrix(4, 0)


# ----------------------------------------------------------------------------- sketches
@given(sparse_shapes(max_p=20), st.integers(1, 12), SEEDS, st.floats(-3, 3), st.floats(-3, 3))
def test_sketch_is_bilinear_and_matches_kron(shape, m, seed, a, b):
    p, j = shape
    rng = np.random.default_rng(seed)
    delta = min(m, 3)
    A, B = bipartite_ensemble(m, p, delta, rng), bipartite_ensemble(m, p, delta, rng)
    X1, X2 = distributed_sparse_matrix(p, j, rng), distributed_sparse_matrix(p, j, rng)
    lhs = sketch(a * X1 + b * X2, A, B)
    np.testing.assert_allclose(lhs, a * sketch(X1, A, B) + b * sketch(X2, A, B), atol=1e-9)
    K = sps.kron(sps.csc_matrix(B), sps.csc_matrix(A))
    np.testing.assert_allclose(K @ X1.ravel(order="F"), sketch(X1, A, B).ravel(order="F"), atol=1e-9)


def test_sketch_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes must chain"):
        sketch(np.eye(4), np.ones((3, 5)), np.ones((3, 4)))


# ----------------------------------------------------------------------------- Theorem 5.1 recovery
@pytest.mark.parametrize("j", [1, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_recovery_in_an_easy_case(j, seed):
    # p = 16, m = 16, delta = 6: 40/40 successes in calibration runs; duplicate columns of A or B
    # (the main finite-p failure, a tie in the L1 objective) have probability < 0.04 here
    rng = np.random.default_rng([seed, j])
    A, B = bipartite_ensemble(16, 16, 6, rng), bipartite_ensemble(16, 16, 6, rng)
    X = distributed_sparse_matrix(16, j, rng)
    res = l1_recover(sketch(X, A, B), A, B, X)
    assert res.success, res.max_abs_error
    assert res.max_abs_error <= 1e-6 * np.abs(X).max() and res.solve_seconds > 0


@given(st.integers(2, 4), st.integers(2, 5), SEEDS)
@settings(max_examples=10)
def test_recovery_impossible_when_sketch_smaller_than_support(j, m, seed):
    # m^2 < nnz(X): the LP returns a vertex with at most m^2 nonzeros, and a unique LP optimum is a
    # vertex, so X can never be the unique minimiser -- a property that must hold for every draw
    p = 16
    rng = np.random.default_rng(seed)
    X = distributed_sparse_matrix(p, j, rng)
    A, B = bipartite_ensemble(m, p, min(m, 3), rng), bipartite_ensemble(m, p, min(m, 3), rng)
    assert m * m < np.count_nonzero(X)
    res = l1_recover(sketch(X, A, B), A, B, X)
    assert not res.success
    assert np.count_nonzero(np.abs(res.X_hat) > 1e-9) <= m * m
    np.testing.assert_allclose(sketch(res.X_hat, A, B), sketch(X, A, B), atol=1e-6)  # feasible


def test_recovery_rate_increases_with_m_calibrated():
    # p = 16, j = 1: m = 6 is far below the transition (0/20 in calibration), m = 16 with delta = 6
    # far above (40/40).  Intervals at level 1 - 1e-6 must separate.
    level = 1 - 1e-6
    low = sketch_recovery_study([16], [1], [6], delta=6, trials=30, seed=3, level=level)[0]
    high = sketch_recovery_study([16], [1], [16], delta=6, trials=30, seed=3, level=level)[0]
    assert low["ci_high"] < high["ci_low"]
    for rec in (low, high):
        assert rec["ci_low"] <= rec["rate"] <= rec["ci_high"]
        assert rec["successes"] == round(rec["rate"] * rec["trials"])


def test_study_is_reproducible_per_configuration():
    one = sketch_recovery_study([12], [1, 2], [8, 10], delta=3, trials=3, seed=9)
    alone = sketch_recovery_study([12], [2], [10], delta=3, trials=3, seed=9)[0]
    match = [r for r in one if r["j"] == 2 and r["m"] == 10][0]
    assert match["successes"] == alone["successes"] and match["delta"] == 3
    assert len(one) == 4 and {r["p"] for r in one} == {12}


def test_study_validates_arguments():
    with pytest.raises(ValueError, match="delta must be <= m"):
        sketch_recovery_study([16], [1], [2], delta=3, trials=1)
    with pytest.raises(ValueError, match="trials must be a positive integer"):
        sketch_recovery_study([16], [1], [8], trials=0)
    with pytest.raises(ValueError, match="m_values must be a positive integer"):
        sketch_recovery_study([16], [1], [0], trials=1)


def test_smallest_sufficient_m_requires_all_larger_m():
    recs = [{"p": 16, "j": 1, "m": m, "rate": r} for m, r in [(4, 0.0), (6, 0.95), (8, 0.8), (10, 0.9), (12, 1.0)]]
    (row,) = smallest_sufficient_m(recs, target=0.9)
    assert row["m_star"] == 10
    assert row["ratio"] == pytest.approx(10 / (math.sqrt(16) * math.log(16)))
    (none,) = smallest_sufficient_m(recs[:1], target=0.9)
    assert none["m_star"] is None and none["ratio"] is None


# ----------------------------------------------------------------------------- counts, timing, gap
def test_parameter_counts_against_direct_computation():
    out = parameter_counts(64, 2, 30, r=16)
    assert out["sketch_entries"] == pytest.approx(900)
    assert out["dense"] == 64 * 64 and out["J"] == 128
    assert out["naive_sparse_log_count"] == pytest.approx(math.log(math.comb(64 * 64, 128)) + 128 * math.log(16))
    with pytest.raises(ValueError, match="j must be <= p"):
        parameter_counts(4, 5, 3)


def test_time_recovery_and_default_delta():
    assert default_delta(64) == 5 and default_delta(1) == 1
    assert time_recovery(p=12, j=1, m=8, seed=0) > 0


def test_adversarial_x_defeats_a_fixed_ensemble():
    # the X is built after seeing A: it is distributed sparse yet not recovered (Theorem 5.1 is per fixed X)
    out = adversarial_failure(24, 12, delta=3, seed=4)
    X = out["X"]
    assert np.all(np.diag(X) != 0)
    assert not out["recovered"]
    assert np.abs(out["result"].X_hat).sum() < np.abs(X).sum() - 1e-9  # a strictly cheaper preimage
