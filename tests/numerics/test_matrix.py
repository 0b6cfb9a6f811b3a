"""Tests of numerics._matrix: Lemma 4.2, Lemma 5.1 / E.1, Lemma B.2, Lemmas 4.3 / 4.4, Condition C.1 / Lemma C.1."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    matrix_shapes,
    perturbation_scales,
    pruning_strengths,
    relu_widths,
    rounding_grids,
    seeds,
    sphere_dimensions,
    standardised_deviations,
    wide_or_tall_shapes,
    with_fixtures,
)

import theory
from numerics import _matrix as mx
from numerics._tolerance import hoeffding


def test_lemma_4_2_bracket_bounds_the_mean_norm_and_markov_holds(rng):
    st_ = mx.spectral_norm_study(30, 30, 1.0, 1.0, 600, rng, lam=2.0)
    assert st_.ratio.high < 1.0  # Gamma with C = 1 already exceeds E||Delta||_2
    assert st_.markov_frequency.low <= st_.markov_bound
    assert st_.mean_norm.low <= float(st_.norms.mean()) <= st_.mean_norm.high


def test_spectral_norm_variance_bound_covers_the_observed_spread(rng):
    st_ = mx.spectral_norm_study(20, 40, 2.0, 3.0, 400, rng)
    assert np.var(st_.norms) <= mx.spectral_norm_variance_bound(20, 40, 3.0)


@with_fixtures
@given(shape=st.one_of(matrix_shapes(1, 40), wide_or_tall_shapes()), d=pruning_strengths(), seed=seeds())
def test_survivor_mean_matches_lemma_5_1_and_maxima_respect_their_bounds(master_seed, shape, d, seed):
    d1, d2 = shape
    st_ = mx.survivor_study(d1, d2, d, 60, np.random.default_rng([master_seed, seed]), epsilon=0.05)
    assert st_.survivors.contains(st_.expected_survivors)
    assert st_.row_exceed.low <= st_.epsilon and st_.col_exceed.low <= st_.epsilon
    assert st_.markov_exceed.low <= 1 / st_.lam


def test_survivor_check_rejects_a_ten_percent_wrong_expectation(rng):
    st_ = mx.survivor_study(10, 2000, 1.0, 200, rng)
    assert st_.survivors.contains(st_.expected_survivors)
    assert not st_.survivors.contains(1.1 * st_.expected_survivors)
    half = hoeffding(200 * 10 * 2000).halfwidth * 10 * 2000
    assert 0.1 * st_.expected_survivors > 2 * half  # the band is far narrower than a 10% error


@with_fixtures
@given(balls=st.integers(1, 3000), bins=st.integers(2, 300), seed=seeds())
def test_balls_into_bins_bound_fails_at_most_epsilon(master_seed, balls, bins, seed):
    st_ = mx.balls_into_bins_study(balls, bins, 400, np.random.default_rng([master_seed, seed]), epsilon=0.05)
    assert st_.exceed.low <= 0.05


def test_balls_into_bins_check_rejects_the_mean_load_as_a_bound(rng):
    loads = mx.max_loads(2000, 100, 500, rng)
    assert np.mean(loads > 2000 / 100) > 0.99  # the naive "M/n" bound is refuted


@with_fixtures
@given(widths=relu_widths(), scale=perturbation_scales(), seed=seeds())
def test_lemma_b_2_is_never_exceeded_when_its_condition_holds(master_seed, widths, scale, seed):
    st_ = mx.lemma_b_2_study(widths, 30, np.random.default_rng([master_seed, seed]), scale=scale)
    assert st_.condition.all()
    assert st_.violations == 0 and np.all(st_.ratio <= 1.0)


@given(layers=st.integers(1, 12), width=st.integers(1, 10))
def test_aligned_networks_reach_the_lemma_b_2_growth_factor(layers, width):
    ratio = float(mx.aligned_network_study(layers, width).ratio[0])
    growth = (1 + 1 / layers) ** layers
    assert math.isclose(ratio, (growth - 1) / math.e, rel_tol=1e-9) and ratio < 1
    # the same assertion rejects a bound that is half the lemma's (and thus wrong)
    assert mx.aligned_network_study(max(layers, 5), width, bound_factor=0.5).violations == 1


@with_fixtures
@given(shape=matrix_shapes(2, 40), d=pruning_strengths(), rho=rounding_grids(), seed=seeds())
def test_lemma_4_4_rounding_error_never_exceeds_rho_sqrt_j_over_2(master_seed, shape, d, rho, seed):
    ratios = mx.rounding_study(*shape, d, rho, 10, np.random.default_rng([master_seed, seed]))
    assert np.all(ratios <= 1.0 + 1e-12)


def test_rounding_bound_is_nearly_tight_and_rejects_half_of_it():
    """Worst case: every survivor sits just below rho/2, so every error has the same sign and size."""
    rho, shape = 0.3, (12, 20)
    hat = np.full(shape, 0.499 * rho)
    err = float(np.linalg.norm(hat - mx.round_to_grid(hat, rho), ord=2))
    bound = float(theory.lemma_4_4_rounding_error(rho, hat.size))
    assert 0.99 * bound < err <= bound
    assert err > 0.5 * bound  # a bound of rho sqrt(J)/4 would be refuted by the same comparison


@with_fixtures
@given(widths=relu_widths(2, 3, 30), d=st.floats(0.001, 0.02), seed=seeds(), rho_fraction=st.sampled_from([0.0, 0.5]))
def test_lemmas_4_3_and_4_4_hold_with_probability_at_least_1_minus_l_over_lam(
    master_seed, widths, d, seed, rho_fraction
):
    lam = 4.0
    st_ = mx.lemma_4_3_study(widths, d, lam, 40, np.random.default_rng([master_seed, seed]), rho_fraction=rho_fraction)
    held = int(st_.condition.sum())
    if held:
        from numerics._montecarlo import bernoulli_estimate

        est = bernoulli_estimate("violations", st_.violations, held)
        assert est.low <= (len(widths) - 1) / lam


@with_fixtures
@given(n=sphere_dimensions(), z=standardised_deviations(), seed=seeds())
def test_sphere_projection_follows_the_exact_tail(master_seed, n, z, seed):
    t = min(z / math.sqrt(n), 0.95)
    st_ = mx.sphere_tail_study(n, t, 40_000, np.random.default_rng([master_seed, seed]))
    assert st_.frequency.contains(st_.tail_exact)
    assert st_.ks_distance <= st_.ks_band
    assert st_.frequency.low <= st_.tail_correct  # 2 exp(-n t^2 / 2) is a valid tail


def test_code_tail_a_b_equal_1_is_refuted_on_the_sphere(rng):
    n = 784
    st_ = mx.sphere_tail_study(n, 1.5 / math.sqrt(n), 200_000, rng)
    assert st_.frequency.low > st_.tail_code
    assert st_.frequency.low <= st_.tail_correct


def test_code_99_percent_event_fails_while_the_corrected_t_holds(rng):
    code = mx.lemma_c_1_study(2000, 100, 1, 300, rng, code=True)
    assert code.failure.low > 0.01
    fixed = mx.lemma_c_1_study(2000, 100, 1, 300, rng, a=2.0, b=0.5, target_failure=0.01)
    assert fixed.failure.low <= 0.01
    assert math.isclose(fixed.t, float(theory.condition_c_1_t(2000, 1, 100, 2.0, 0.5, 0.01)))


def test_sphere_points_have_unit_norm(rng):
    x = mx.sphere_points(7, (3, 5), rng)
    assert x.shape == (3, 5, 7)
    np.testing.assert_allclose(np.linalg.norm(x, axis=-1), 1.0, rtol=1e-12)
