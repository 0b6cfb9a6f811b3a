"""Numerical routines at any scale (issue 14): the matrix routines of numerics multiply out exactly as the
mathematics says when their input is multiplied by 10^k, for k across float64's range, or raise a clear
ValueError when the answer is outside float64's range.

- ||c A||_2 = |c| ||A||_2 (spectral_norms);
- a bias-free ReLU network is positively homogeneous: f_{cA}(c' x) = c^L c' f_A(x) (forward);
- Lemma 4.4's rounding: round(c A, c rho) = c round(A, rho) (round_to_grid);
- the sketch is linear, Y(c X) = c Y(X), and the L1 minimiser scales with the sketch: X_hat(c Y) = c X_hat(Y)
  (sketch, l1_recover).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import seeds

import theory
from numerics import _matrix as mx
from numerics import _sketching as sk

#: decimal exponents k of the multiplier 10^k, across float64's range
exponents = st.integers(min_value=-300, max_value=300)


def _relative(got: np.ndarray, want: np.ndarray) -> float:
    scale = float(np.max(np.abs(want)))
    return float(np.max(np.abs(got - want))) / scale if scale > 0 else float(np.max(np.abs(got)))


@settings(max_examples=30)
@given(seeds(), exponents, st.integers(1, 3), st.integers(1, 6), st.integers(1, 6))
def test_spectral_norms_are_homogeneous(seed, k, layers, d1, d2):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((2, d1, d2)) for _ in range(layers)]
    c = 10.0**k
    scaled = [w * c for w in weights]
    got = mx.spectral_norms(scaled)
    want = mx.spectral_norms(weights) * c
    assert _relative(got, want) < 1e-12


@settings(max_examples=30)
@given(seeds(), exponents, st.integers(-300, 300), st.lists(st.integers(1, 5), min_size=2, max_size=4))
def test_forward_is_positively_homogeneous(seed, kw, kx, widths):
    rng = np.random.default_rng(seed)
    weights = mx.random_network(widths, 2, rng)
    x = rng.standard_normal((2, widths[0]))
    base = mx.forward(weights, x)
    layers = len(weights)
    log10_scale = kw * layers + kx
    top = np.max(np.abs(base), axis=1)
    assume(np.all(top > 0))
    log10_out = np.log10(top) + log10_scale
    scaled_w, scaled_x = [w * 10.0**kw for w in weights], x * 10.0**kx
    if np.all((log10_out > -305) & (log10_out < 305)):
        got = mx.forward(scaled_w, scaled_x)
        want = base * 10.0 ** (log10_scale / 2) * 10.0 ** (log10_scale / 2)
        for t in range(2):
            assert _relative(got[t], want[t]) < 1e-12
    elif np.any((log10_out < -310) | (log10_out > 310)):
        with pytest.raises(ValueError, match="float64"):
            mx.forward(scaled_w, scaled_x)


@settings(max_examples=30)
@given(seeds(), exponents, st.floats(0.01, 1.0))
def test_rounding_to_a_grid_is_homogeneous(seed, k, rho):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((3, 4))
    ratio = values / rho
    assume(np.all(np.abs(ratio - np.floor(ratio) - 0.5) > 1e-6))  # no ties, where a rounding of c flips sides
    c = 10.0**k
    got = mx.round_to_grid(values * c, rho * c)
    assert _relative(got, mx.round_to_grid(values, rho) * c) < 1e-12


def test_rounding_keeps_values_far_finer_than_the_grid():
    # value / rho overflows (1e300 / 1e-300): the value is already on the grid to float64 precision
    assert mx.round_to_grid(np.array([1e300, -3e299, 0.0]), 1e-300).tolist() == [1e300, -3e299, 0.0]
    with pytest.raises(ValueError, match="rho must be > 0"):
        mx.round_to_grid(np.ones(2), 0.0)


@pytest.fixture(scope="module")
def recoverable():
    """A 12 x 12 one-sparse X whose sketch (m = 11) L1 recovery gets exactly (seeded)."""
    rng = np.random.default_rng(1)
    for _ in range(50):
        A = sk.bipartite_ensemble(11, 12, 3, rng)
        B = sk.bipartite_ensemble(11, 12, 3, rng)
        X = sk.distributed_sparse_matrix(12, 1, rng)
        result = sk.l1_recover(sk.sketch(X, A, B), A, B, X)
        if result.success:
            return A, B, X, result.X_hat
    raise AssertionError("no recoverable instance in 50 draws")


@settings(max_examples=20)
@given(k=exponents)
def test_l1_recovery_scales_with_the_sketch(recoverable, k):
    A, B, X, X_hat = recoverable
    c = 10.0**k
    result = sk.l1_recover(sk.sketch(X * c, A, B), A, B, X * c)
    assert result.success and result.lp_status == 0
    assert _relative(result.X_hat / c, X_hat) < 1e-9


def test_l1_recovery_at_the_extremes_of_float64(recoverable):
    # the LP's absolute tolerances saw 0 at 1e-300 and an infeasible problem at 1e300 before normalising
    A, B, X, _ = recoverable
    for c in (1e-300, 1e-200, 1e200, 1e300):
        assert sk.l1_recover(sk.sketch(X * c, A, B), A, B, X * c).success


@settings(max_examples=30)
@given(seeds(), exponents)
def test_sketch_is_linear_at_any_scale(seed, k):
    rng = np.random.default_rng(seed)
    A, B = sk.bipartite_ensemble(5, 8, 2, rng), sk.bipartite_ensemble(5, 8, 2, rng)
    X = sk.distributed_sparse_matrix(8, 2, rng)
    c = 10.0**k
    assert _relative(sk.sketch(X * c, A, B), sk.sketch(X, A, B) * c) < 1e-12


def test_sketch_overflow_is_an_error():
    A = np.ones((2, 2))
    with pytest.raises(theory.Float64RangeError, match="float64"):
        sk.sketch(np.full((2, 2), 1e308), A, A)


@pytest.mark.parametrize(
    "call",
    [
        lambda: mx.spectral_norms([np.array([[[1.0, math.nan]]])]),
        lambda: mx.forward([np.ones((1, 2, 2))], np.array([[1.0, math.inf]])),
        lambda: mx.round_to_grid(np.array([math.nan]), 0.5),
        lambda: sk.l1_recover(np.full((2, 2), math.nan), np.ones((2, 3)), np.ones((2, 3))),
        lambda: sk.sketch(np.ones((3, 3)), np.ones((2, 3)) * math.inf, np.ones((2, 3))),
    ],
)
def test_non_finite_inputs_are_rejected(call):
    with pytest.raises(ValueError, match="must be finite"):
        call()


def test_the_largest_floats_are_handled():
    a = np.full((1, 2, 2), 1e308)
    with pytest.raises(theory.Float64RangeError):  # ||a||_2 = 2e308
        mx.spectral_norms([a])
    assert mx.spectral_norms([a / 4])[0, 0] == pytest.approx(0.5e308, rel=1e-12)
    assert mx.forward([np.eye(2)[None] * 1e308], np.array([[1.0, 0.5]]))[0].tolist() == [1e308, 0.5e308]
