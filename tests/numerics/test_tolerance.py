"""Tests of numerics._tolerance: each band's tail at its half-width is delta, correct means stay inside,
10%-wrong means fall outside, and the computed power agrees."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from numerics import _tolerance as tl


@given(n=st.integers(1, 10**8), delta=st.floats(1e-12, 0.5))
def test_every_band_has_tail_delta_at_its_halfwidth(n, delta):
    for tol in (
        tl.hoeffding(n, delta),
        tl.bernstein(n, 0.1, 1.0, delta),
        tl.dkw(n, delta),
        tl.chebyshev(n, 2.0, delta),
    ):
        assert tol.tail(tol.halfwidth) <= delta * (1 + 1e-9)
        assert tol.tail(tol.halfwidth * 0.9) > delta or tol.tail(tol.halfwidth * 0.9) == 1.0


@given(n=st.integers(50, 10**7), variance=st.floats(1e-4, 1e3))
def test_median_of_means_tail_at_halfwidth_is_at_most_delta(n, variance):
    tol = tl.median_of_means(n, variance)
    assert 1 <= tol.groups <= n and tol.groups % 2 == 1
    assert tol.tail(tol.halfwidth) <= tl.DEFAULT_DELTA * (1 + 1e-6)


def test_bernstein_is_narrower_than_hoeffding_for_small_variance():
    assert tl.bernoulli(10**5, 0.01).halfwidth < 0.5 * tl.hoeffding(10**5).halfwidth


def test_uniform_mean_correct_inside_ten_percent_wrong_outside(rng):
    n = 100_000
    mean = rng.random(n).mean()
    tol = tl.hoeffding(n)
    assert tol.accepts(mean, 0.5)
    assert not tol.accepts(mean, 0.55)
    assert tol.miss(0.5, 0.55) < 1e-12  # the computed power says so in advance


def test_median_of_means_on_an_unbounded_variable(rng):
    """Exponential(1): mean 1, variance 1, unbounded; a 10%-wrong mean is rejected."""
    n = 400_000
    x = rng.exponential(1.0, n)
    tol = tl.median_of_means(n, 1.0)
    est = tl.median_of_means_estimate(x, tol.groups)
    assert tol.accepts(est, 1.0)
    assert tol.miss(1.0, 1.1) < 1e-6
    assert not tol.accepts(est, 1.1)


def test_dkw_accepts_the_true_law_and_rejects_a_ten_percent_wrong_scale(rng):
    n = 200_000
    x = rng.standard_normal(n)
    band = tl.dkw(n).halfwidth
    assert tl.ks_distance(x, stats.norm.cdf) <= band
    assert tl.ks_distance(x, lambda v: stats.norm.cdf(v / 1.1)) > band


@given(k=st.integers(0, 200), extra=st.integers(0, 200), delta=st.floats(1e-8, 0.2))
def test_clopper_pearson_endpoints_solve_their_equations(k, extra, delta):
    n = k + extra
    if n == 0:
        return
    lo, hi = tl.clopper_pearson(k, n, delta)
    assert 0 <= lo <= k / n <= hi <= 1
    if k > 0:
        assert math.isclose(stats.binom.sf(k - 1, n, lo), delta / 2, rel_tol=1e-4)
    if k < n:
        assert math.isclose(stats.binom.cdf(k, n, hi), delta / 2, rel_tol=1e-4)


def test_power_is_zero_inside_the_band_and_near_one_far_outside():
    tol = tl.hoeffding(10_000)
    assert tol.power(0.5, 0.5 + tol.halfwidth / 2) == 0.0
    assert tol.power(0.5, 0.7) > 1 - 1e-12


def test_detection_table_reports_rejection_of_ten_percent_errors():
    table = tl.detection_table()
    assert "bernoulli(p=0.5)" in table and "MoM" in table


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: tl.hoeffding(0), "n \\(samples\\) must be an integer >= 1"),
        (lambda: tl.hoeffding(10, 0.0), "delta"),
        (lambda: tl.hoeffding(10, 1e-3, 1.0, 0.0), "hi must be > lo"),
        (lambda: tl.bernstein(10, -1.0, 1.0), "variance"),
        (lambda: tl.median_of_means(10, 1.0, groups=11), "groups"),
        (lambda: tl.bernoulli(10, 1.5), "p0"),
    ],
)
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
