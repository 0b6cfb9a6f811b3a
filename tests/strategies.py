"""Shared Hypothesis strategies, named for what they generate (used across tests/numerics)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: settings for property tests that also take pytest fixtures (master_seed is constant across examples)
with_fixtures = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def pruning_strengths(min_value: float = 0.05, max_value: float = 20.0):
    """Algorithm 1 strengths d > 0."""
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False)


def entry_variances(min_value: float = 1e-3, max_value: float = 1e3):
    """Layer variances Psi > 0 over six orders of magnitude."""
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False)


def seeds():
    """Integer seeds for numpy / torch generators."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def array_shapes_up_to_4d(max_side: int = 6):
    """Array shapes with 0 to 4 dimensions (sides 1..max_side)."""
    return hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=max_side)


def matrix_shapes(min_side: int = 1, max_side: int = 60):
    """(d1, d2) layer shapes, including 1 x n and n x 1."""
    return st.tuples(st.integers(min_side, max_side), st.integers(min_side, max_side))


def wide_or_tall_shapes():
    """Very unbalanced (d1, d2) shapes such as 10 x 2000, where one side holds < 1 survivor on average."""
    small, large = st.integers(2, 12), st.integers(500, 2000)
    return st.one_of(st.tuples(small, large), st.tuples(large, small))


def prune_probability_floors():
    """p_min in (0, 1) for Lemmas D.2 / D.3."""
    return st.floats(min_value=0.05, max_value=0.95)


def relu_widths(min_layers: int = 1, max_layers: int = 5, max_width: int = 30):
    """Layer widths [d0, d1, ..., dL] of a ReLU network (L = len - 1 layers)."""
    return st.lists(st.integers(2, max_width), min_size=min_layers + 1, max_size=max_layers + 1)


def perturbation_scales():
    """Fractions in (0, 1] of Lemma B.2's allowed perturbation ||A_l|| / L."""
    return st.floats(min_value=0.01, max_value=1.0)


def rounding_grids():
    """Rounding grids rho > 0 for Lemma 4.4."""
    return st.floats(min_value=1e-3, max_value=2.0)


def sphere_dimensions(min_value: int = 3, max_value: int = 1000):
    """Input dimensions n of the sphere S^{n-1} (Condition C.1)."""
    return st.integers(min_value, max_value)


def standardised_deviations():
    """t * sqrt(n): deviations of <v, x> in units of its standard deviation 1/sqrt(n)."""
    return st.floats(min_value=0.1, max_value=3.0)


def float_dtypes():
    """Names of the floating dtypes Algorithm 1 must preserve."""
    return st.sampled_from(["float32", "float64"])


# --- the whole domain of a theory symbol (tests/theory/test_domain.py) ---------------------------------------
def log_uniform(low_exp: float, high_exp: float):
    """Positive floats 10**e with e uniform in [low_exp, high_exp]."""
    return st.floats(min_value=low_exp, max_value=high_exp).map(lambda e: float(10.0**e))


def symbol_values(symbol, low_exp: float = -300.0, high_exp: float = 300.0):
    """Values a theory symbol's assumptions allow, log-uniform over its whole domain (10**low_exp to
    10**high_exp) mixed with moderate values (1e-4 to 1e4): positive or nonnegative (0 included), integer,
    real of either sign, or strictly inside (0, 1) with values very near 0 and very near 1 (and 0 and 1
    themselves for the probabilities that may take them, ``CLOSED_UNIT_INTERVAL``)."""
    from theory._symbols import CLOSED_UNIT_INTERVAL, UNIT_INTERVAL

    if symbol in UNIT_INTERVAL or symbol in CLOSED_UNIT_INTERVAL:
        near_zero = log_uniform(low_exp, -0.01)
        near_one = st.floats(min_value=1.0, max_value=15.6).map(lambda e: 1.0 - 10.0**-e)
        inside = st.one_of(near_zero, near_one, st.floats(min_value=1e-3, max_value=0.999))
        return st.one_of(st.sampled_from([0.0, 1.0]), inside) if symbol in CLOSED_UNIT_INTERVAL else inside
    if symbol.is_integer:
        big = st.floats(min_value=0.0, max_value=high_exp).map(lambda e: int(round(10.0**e)))
        small = st.integers(min_value=1, max_value=10**4)
        values = st.one_of(big, small)
        return st.one_of(st.just(0), values) if not symbol.is_positive else values
    magnitudes = st.one_of(log_uniform(low_exp, high_exp), log_uniform(-4.0, 4.0), st.just(1.0))
    if symbol.is_positive:
        return magnitudes
    if symbol.is_nonnegative:
        return st.one_of(st.just(0.0), magnitudes)
    return st.one_of(st.just(0.0), magnitudes, magnitudes.map(lambda v: -v))
