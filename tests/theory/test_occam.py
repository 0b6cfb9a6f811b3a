"""The Occam / Langford–Seeger certificate: ledger entries, code-length formulas, and the numeric inverses
(numerics.kl_inverse, numerics.binomial_tail_inverse) against mpmath at 50 digits."""

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import comb

import numerics
import theory
from theory import build_ledger

OCCAM_IDS = ("occam-kl", "occam-binomial", "occam-catoni", "occam-code-length")


def mp_kl(q, p):
    with mp.workdps(50):
        q, p = mp.mpf(q), mp.mpf(p)
        out = mp.mpf(0)
        if q > 0:
            out += q * mp.log(q / p)
        if q < 1:
            if p >= 1:
                return mp.inf
            out += (1 - q) * mp.log((1 - q) / (1 - p))
        return out


def mp_kl_inverse(q, c):
    """Oracle: bisection in mpmath at 50 digits for the largest p in [q, 1] with kl(q||p) <= c."""
    with mp.workdps(50):
        q, c = mp.mpf(q), mp.mpf(c)
        if q == 1:
            return mp.mpf(1)
        lo, hi = q, mp.mpf(1)
        for _ in range(200):
            mid = (lo + hi) / 2
            if mp_kl(q, mid) <= c:
                lo = mid
            else:
                hi = mid
        return lo


# ----------------------------------------------------------------------------------------------- ledger
def test_entries_present_verified_with_sources_and_assumptions():
    by_id = {c.id: c for c in build_ledger(None)}
    for cid in OCCAM_IDS:
        c = by_id[cid]
        assert c.verdict == "verified", (cid, c.evidence)
        assert c.results, cid
    kl = by_id["occam-kl"]
    assert any("i.i.d." in a for a in kl.assumptions)
    assert any("fixed before" in a for a in kl.assumptions)
    for source in ("Langford", "Seeger", "McAllester"):
        assert source in kl.evidence
    assert "never tighter" in by_id["occam-catoni"].title


def test_complexity_term_is_the_stated_one():
    # (bits ln 2 + ln G + ln(1/delta)) / m, nats per example
    assert theory.occam_complexity(7078, 1, 0.05, 48000) == pytest.approx((7078 * math.log(2) + math.log(20)) / 48000)
    assert theory.occam_complexity(0, 8, 0.5, 10) == pytest.approx((math.log(8) + math.log(2)) / 10)
    with pytest.raises(ValueError, match="delta"):
        theory.occam_complexity(10, 1, 1.5, 100)
    with pytest.raises(ValueError, match="G must be an integer"):
        theory.occam_complexity(10, 1.5, 0.05, 100)


def test_kl_formula_matches_mpmath_including_near_q():
    for q, p in ((0.3, 0.5), (1e-6, 0.2), (0.999, 0.9999), (0.02, 0.021)):
        assert theory.binary_kl(q, p) == pytest.approx(float(mp_kl(q, p)), rel=1e-12)
    # p within 1e-9 of q: kl ~ 2e-18 is a difference of terms ~1e-9, so ~1e-7 relative (the root stays ~1e-16 exact)
    assert theory.binary_kl(0.5, 0.5 + 1e-9) == pytest.approx(float(mp_kl(0.5, 0.5 + 1e-9)), rel=1e-6)
    assert theory.binary_kl_at_zero(0.25) == pytest.approx(-math.log(0.75))
    assert theory.kl_inverse_at_zero(0.1) == pytest.approx(1 - math.exp(-0.1))


# ----------------------------------------------------------------------------------------------- kl_inverse
@given(
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    st.floats(min_value=0.0, max_value=5.0, allow_nan=False),
)
def test_kl_inverse_matches_mpmath_to_1e12(q, c):
    got = numerics.kl_inverse(q, c)
    want = mp_kl_inverse(q, c)
    assert abs(got - float(want)) <= 1e-12
    assert q <= got <= 1.0
    assert got >= float(want) - 1e-15  # the upper end of the bracket: never meaningfully below the exact inverse


@pytest.mark.parametrize(
    "q,c",
    [
        (0.0, 0.0),
        (0.0, 1e-15),
        (0.0, 50.0),
        (1e-300, 1e-20),
        (1e-12, 1e-3),
        (0.5, 1e-30),
        (0.5, 1e-14),
        (1 - 1e-12, 1e-6),
        (0.999999, 20.0),
        (1.0, 0.0),
        (1.0, 3.0),
        (0.05, 0.0723),
    ],
)
def test_kl_inverse_edges(q, c):
    got = numerics.kl_inverse(q, c)
    assert abs(got - float(mp_kl_inverse(q, c))) <= 1e-12
    if c == 0:
        assert got == pytest.approx(q, abs=1e-15)


def test_kl_inverse_vectorised_monotone_and_errors():
    qs = np.linspace(0, 1, 41)
    cs = np.array([0.0, 1e-6, 0.01, 0.1, 1.0, np.inf])
    grid = numerics.kl_inverse(qs[:, None], cs[None, :])
    assert grid.shape == (41, 6)
    assert np.all(np.diff(grid, axis=0) >= 0)  # non-decreasing in q
    assert np.all(np.diff(grid, axis=1) >= 0)  # non-decreasing in c
    assert np.all(grid[:, -1] == 1.0)
    assert isinstance(numerics.kl_inverse(0.1, 0.1), float)
    for bad_q, bad_c, word in (
        (-0.1, 0.1, "q must"),
        (1.1, 0.1, "q must"),
        (0.1, -1.0, "c must"),
        (np.nan, 1.0, "NaN"),
    ):
        with pytest.raises(ValueError, match=word):
            numerics.kl_inverse(bad_q, bad_c)


# ----------------------------------------------------------------------------------------------- binomial form
def mp_binomial_inverse(k, m, log_target):
    with mp.workdps(50):

        def log_cdf(p):
            return mp.log(mp.fsum(mp.binomial(m, i) * p**i * (1 - p) ** (m - i) for i in range(k + 1)))

        lo, hi = mp.mpf(k) / m, mp.mpf(1)
        for _ in range(120):
            mid = (lo + hi) / 2
            if log_cdf(mid) >= log_target:
                lo = mid
            else:
                hi = mid
        return lo


@pytest.mark.parametrize("k,m,bits", [(0, 50, 10), (3, 100, 20), (40, 1000, 300), (120, 2000, 1500)])
def test_binomial_inverse_matches_mpmath_and_is_tighter_than_kl(k, m, bits):
    delta = 0.05
    log_target = math.log(delta) - bits * math.log(2)
    got = numerics.binomial_tail_inverse(k, m, log_target)
    assert got == pytest.approx(float(mp_binomial_inverse(k, m, log_target)), abs=1e-10)
    b = numerics.occam_bound(k, m, bits, delta)
    assert b.binomial == pytest.approx(got, abs=1e-12)
    assert b.binomial <= b.kl + 1e-12  # Chernoff: the exact tail is never looser


def test_occam_bound_shape_of_the_answer():
    b = numerics.occam_bound(2496, 48000, 7078, 0.05)
    # the quick study: 7,078 bits, 5.2% train error, m = 48,000 -> 0.21
    assert 0.20 < b.kl < 0.22
    assert b.c_kl == pytest.approx((7078 * math.log(2) + math.log(20)) / 48000)
    # a grid of G settings costs ln G nats, so it can only loosen the bound
    assert numerics.occam_bound(2496, 48000, 7078, 0.05, grid=64).kl > b.kl
    # more bits, looser; more data, tighter
    assert numerics.occam_bound(2496, 48000, 8000, 0.05).kl > b.kl
    assert numerics.occam_bound(2 * 2496, 2 * 48000, 7078, 0.05).kl < b.kl
    with pytest.raises(ValueError, match="errors"):
        numerics.occam_bound(10, 5, 1.0)
    with pytest.raises(ValueError, match="grid"):
        numerics.occam_bound(1, 5, 1.0, grid=0)


def test_catoni_never_below_kl():
    for q, c in ((0.0, 0.1), (0.05, 0.07), (0.3, 0.01)):
        kl = numerics.kl_inverse(q, c)
        for cc in (0.1, 0.5, 1.0, 2.0, 4.0, 10.0):
            assert theory.catoni_bound(q, c, cc) >= kl - 1e-12


# ----------------------------------------------------------------------------------------------- code lengths
def test_code_length_formulas():
    assert theory.log2_binomial(100, 10) == pytest.approx(math.log2(comb(100, 10, exact=True)), rel=1e-12)
    # log space: no overflow for the sizes of real layers
    assert theory.log2_binomial(784 * 2500, 20000) > 1e5
    assert np.isfinite(theory.log2_binomial(10**9, 10**6))
    # Dirichlet(1/2) over two symbols = KT: an all-zero sequence of n costs about 0.5 log2(n) + 1 bits
    n = 1000
    kt = theory.dirichlet_multinomial_bits(n_sym=[n, 0], alpha=0.5)
    assert 0.5 * math.log2(n) < kt < 0.5 * math.log2(n) + 2
    # the sequential predictive probabilities multiply to the closed form
    seq = [0, 2, 2, 1, 0, 2, 2, 2, 3]
    counts, bits = [0, 0, 0, 0], 0.0
    for t, s in enumerate(seq):
        bits -= math.log2(theory.dirichlet_predictive(counts[s], t, 4, 0.5))
        counts[s] += 1
    assert bits == pytest.approx(theory.dirichlet_multinomial_bits(n_sym=counts, alpha=0.5), rel=1e-12)
    assert theory.permutation_bits(40) == pytest.approx(math.log2(math.factorial(40)))
    assert theory.codebook_bits(8, 16) == 128
