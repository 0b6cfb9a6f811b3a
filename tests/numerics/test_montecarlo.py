"""Tests of numerics._montecarlo against the closed forms of Lemma 4.1 and Lemmas D.2 / D.3 (1e-6 bands)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import entry_variances, prune_probability_floors, pruning_strengths, seeds, with_fixtures

import theory
from numerics import _montecarlo as mc
from numerics._tolerance import bernoulli

MOMENTS = {
    "E_Delta": theory.lemma_4_1_mean,
    "E_Delta2": theory.lemma_4_1_second_moment,
    "E_Delta4": theory.lemma_4_1_fourth_moment,
}


@with_fixtures
@given(d=pruning_strengths(), psi=entry_variances(), seed=seeds())
def test_prune_frequency_matches_lemma_4_1(master_seed, d, psi, seed):
    n = 20_000
    est = mc.prune_frequency(d, psi, n, np.random.default_rng([master_seed, seed]))
    p0 = float(theory.lemma_4_1_prune_probability(d))
    assert est.contains(p0)
    assert bernoulli(n, p0).accepts(est.value, p0)
    assert math.isclose(1 - p0, float(theory.lemma_4_1_keep_probability(d)), rel_tol=1e-12, abs_tol=1e-15)


@with_fixtures
@given(d=pruning_strengths(max_value=10.0), psi=entry_variances(), seed=seeds())
def test_moments_match_lemma_4_1(master_seed, d, psi, seed):
    est = mc.lemma_4_1_moments(d, psi, 200_000, np.random.default_rng([master_seed, seed]))
    for name, f in MOMENTS.items():
        assert est[name].contains(float(f(d, psi))), (name, est[name], float(f(d, psi)))


def test_ten_percent_wrong_second_and_fourth_moments_are_rejected(rng):
    d, psi, n = 1.0, 1.0, 2_000_000
    est = mc.lemma_4_1_moments(d, psi, n, rng)
    for name in ("E_Delta2", "E_Delta4"):
        true = float(MOMENTS[name](d, psi))
        tol = mc.moment_tolerance({"E_Delta2": 2, "E_Delta4": 4}[name], d, psi, n)
        assert tol.accepts(est[name].value, true)
        if tol.miss(true, 1.1 * true) < 1e-6:  # power computed in advance, not assumed
            assert not tol.accepts(est[name].value, 1.1 * true)
        else:
            pytest.fail(f"{name}: {n} samples cannot detect a 10% error (miss bound {tol.miss(true, 1.1 * true)})")


@given(power=st.sampled_from([2, 4]), d=pruning_strengths(), psi=entry_variances())
def test_quadrature_moments_agree_with_the_closed_forms(power, d, psi):
    f = MOMENTS["E_Delta2" if power == 2 else "E_Delta4"]
    assert math.isclose(mc.delta_power_moment_quadrature(power, d, psi), float(f(d, psi)), rel_tol=1e-6)


@given(d1=pruning_strengths(max_value=5.0), factor=st.floats(1.05, 4.0), psi=entry_variances())
def test_closed_form_moments_and_prune_probability_increase_with_d(d1, factor, psi):
    d2 = d1 * factor
    assert theory.lemma_4_1_prune_probability(d2) > theory.lemma_4_1_prune_probability(d1)
    assert theory.lemma_4_1_second_moment(d2, psi) > theory.lemma_4_1_second_moment(d1, psi)
    assert theory.lemma_4_1_fourth_moment(d2, psi) > theory.lemma_4_1_fourth_moment(d1, psi)


@given(d=pruning_strengths(), psi=entry_variances(), p_min=prune_probability_floors())
def test_threshold_has_pruning_probability_p_min(d, psi, p_min):
    threshold = theory.lemma_d_2_threshold(d, psi, p_min)
    assert math.isclose(theory.algorithm_1_prune_probability(threshold, d, psi), p_min, rel_tol=1e-9)


@with_fixtures
@given(d=pruning_strengths(), psi=entry_variances(), p_min=prune_probability_floors(), seed=seeds())
def test_lemma_d_2_probability_and_count_tail(master_seed, d, psi, p_min, seed):
    rng = np.random.default_rng([master_seed, seed])
    est = mc.lemma_d_2_frequency(d, psi, p_min, 50_000, rng)
    q = float(theory.lemma_d_2_probability(d, p_min))
    assert est.contains(q)
    entries = 30
    k = max(1, min(entries, int(round(entries * q))))
    if not 0 < q < 1:
        return
    tail = mc.lemma_d_2_count_tail(d, psi, p_min, entries, k, 5_000, rng)
    assert tail.contains(float(theory.binomial_upper_tail(entries, k, q)))


@with_fixtures
@given(
    d=pruning_strengths(),
    p_min=prune_probability_floors(),
    entries=st.integers(5, 60),
    fraction=st.floats(0.0, 1.0),
    seed=seeds(),
)
def test_lemma_d_3_binomial_tail_is_a_lower_bound_with_equality_at_the_threshold(
    master_seed, d, p_min, entries, fraction, seed
):
    rng = np.random.default_rng([master_seed, seed])
    k_prime = max(1, int(round(fraction * entries)))
    bound = float(theory.binomial_upper_tail(entries, k_prime, p_min))
    below = mc.lemma_d_3_frequency(d, 1.0, p_min, entries, k_prime, 4_000, rng)
    assert below.high >= bound
    at = mc.lemma_d_3_frequency(d, 1.0, p_min, entries, k_prime, 4_000, rng, at_threshold=True)
    assert at.contains(bound)


def test_lemma_d_3_check_rejects_a_wrong_tail(rng):
    """At the threshold the count is exactly Bin(K, p_min); the tail of Bin(K, 1.1 p_min) is rejected."""
    K, kp, p_min = 50, 20, 0.4
    at = mc.lemma_d_3_frequency(1.0, 1.0, p_min, K, kp, 100_000, rng, at_threshold=True)
    assert at.contains(float(theory.binomial_upper_tail(K, kp, p_min)))
    assert not at.contains(float(theory.binomial_upper_tail(K, kp, 1.1 * p_min)))


def test_sample_below_threshold_respects_the_threshold(rng):
    a = mc.sample_below_threshold(1.0, 2.0, 0.3, 100_000, rng)
    assert np.all(np.abs(a) <= theory.lemma_d_2_threshold(1.0, 2.0, 0.3) * (1 + 1e-12))


def test_bad_sample_counts_raise():
    with pytest.raises(ValueError, match="samples must be an integer >= 1"):
        mc.prune_frequency(1.0, 1.0, 0, np.random.default_rng(0))
