"""Baselines: code forms against direct numpy computations on random matrices; lpq(A,1,2) is Frobenius."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs

import theory


def lpq_reference(a, p, q):
    """The authors' helper as described: (sum_j ||column j of |A|^p||_2^(q/p))^(1/q)."""
    cols = np.linalg.norm(np.abs(a) ** p, axis=0)
    return (cols ** (q / p)).sum() ** (1 / q)


@given(hs.integers(0, 2**31 - 1), hs.integers(1, 12), hs.integers(1, 12))
def test_lpq_1_2_is_frobenius_and_below_norm_21(seed, r, c):
    a = np.random.default_rng(seed).normal(size=(r, c))
    assert lpq_reference(a, 1, 2) == pytest.approx(np.linalg.norm(a, "fro"), rel=1e-12)
    assert np.linalg.norm(a, axis=1).sum() >= np.linalg.norm(a, "fro") * (1 - 1e-12)


def test_symbolic_lpq_identity():
    assert theory.lpq_derivation()["lpq_minus_frobenius_sq"] == 0


def test_code_forms_against_numpy():
    rng = np.random.default_rng(0)
    A = [rng.normal(size=(20, 10)), rng.normal(size=(20, 20)), rng.normal(size=(5, 20))]
    S = np.array([np.linalg.norm(a, 2) for a in A])
    F = np.array([np.linalg.norm(a, "fro") for a in A])
    h = np.array([a.shape[1] for a in A])
    gamma = 0.7
    assert theory.neyshabur_2015_code(F_l=F, gamma=gamma) == pytest.approx(np.prod(F**2) / gamma**2)
    lpq = np.array([lpq_reference(a, 1, 2) for a in A])
    assert theory.bartlett_2017_code(S_l=S, lpq_l=lpq, gamma=gamma) == pytest.approx(
        np.prod(S**2) * (lpq**2 / S**2).sum() / gamma**2
    )
    assert theory.neyshabur_2017_code(S_l=S, F_l=F, h_l=h, gamma=gamma) == pytest.approx(
        np.prod(S**2) * (h * F**2 / S**2).sum() / gamma**2
    )
    R21 = np.array([np.linalg.norm(a, axis=1).sum() for a in A])
    X_norm, W, m, delta = 50.0, 20, 1000, 0.01
    ref = X_norm * np.prod(S) * ((R21 / S) ** (2 / 3)).sum() ** 1.5 * math.log(W) / (gamma * m) + math.sqrt(
        math.log(1 / delta) / m
    )
    assert theory.bartlett_2017_literature(
        S_l=S, R21_l=R21, X_norm=X_norm, W=W, gamma=gamma, m=m, delta=delta
    ) == pytest.approx(ref)


def test_log10_does_not_overflow_for_huge_products():
    F = np.full(200, 1e10)
    assert theory.neyshabur_2015_code.log10(F_l=F, gamma=1e-3) == pytest.approx(200 * 20 + 6)
