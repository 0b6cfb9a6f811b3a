"""theory._strength (claim algorithm-1): the critical strength solves the zeroing equation and splits d in two."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

import theory
from theory._pruning import PRUNE_PROBABILITY_GIVEN_ENTRY
from theory._strength import U
from theory._symbols import Psi, d, x

D_CRIT = theory.algorithm_1_critical_strength


def test_sympy_solution_satisfies_the_zeroing_equation():
    der = theory.critical_strength_derivation()
    expr = der["d_crit"]
    assert D_CRIT.expr == expr and D_CRIT.claim_id == "algorithm-1" and D_CRIT.args == (x, U, Psi)
    assert sp.simplify(PRUNE_PROBABILITY_GIVEN_ENTRY.subs(d, expr) - U) == 0
    # it is the closed form x^2 / (Psi ln(1/U)) (compared, not used: the numeric face is the derived one)
    assert sp.simplify(expr - x**2 / (Psi * sp.log(1 / U))) == 0
    assert der["monotone"] and der["dP_dd"].is_nonnegative
    assert der["scale_invariant"] == 0


@given(
    xv=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3),
    uv=st.floats(1e-6, 1 - 1e-6),
    psi=st.floats(1e-3, 1e3),
    factor=st.floats(1.001, 1e3),
)
def test_zeroed_iff_d_above_the_critical_strength(xv, uv, psi, factor):
    """Monotonicity: P(d) < U strictly below d_crit and P(d) > U strictly above it (away from the boundary)."""
    dc = float(D_CRIT(xv, uv, psi))
    assert dc > 0
    below, above = dc / factor, dc * factor

    def prob(dv: float) -> float:
        try:
            return float(theory.algorithm_1_prune_probability(xv, dv, psi))
        except theory.Float64RangeError:  # it underflows: below float64's smallest normal number
            return 0.0

    assert prob(below) < uv
    assert prob(above) > uv
    if uv > 1e-300:
        assert prob(dc) == pytest.approx(uv, rel=1e-9)


def test_numpy_and_torch_faces_agree():
    xs, us, ps = np.array([0.3, -2.0, 1e-4]), np.array([0.5, 1e-9, 0.999]), np.array([1.0, 0.01, 3.0])
    expect = xs**2 / (ps * -np.log(us))
    np.testing.assert_allclose(D_CRIT(xs, us, ps), expect, rtol=1e-14)
    np.testing.assert_allclose(D_CRIT.torch(torch.tensor(xs), torch.tensor(us), torch.tensor(ps)).numpy(), expect)
    assert D_CRIT(0.0, 0.5, 1.0) == 0.0  # a zero entry is zeroed at every d > 0


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.2, math.nan])
def test_draw_outside_the_open_unit_interval_is_rejected(bad):
    with pytest.raises(ValueError, match="U must"):
        D_CRIT(0.5, bad, 1.0)
    with pytest.raises(ValueError, match="U must"):
        D_CRIT.torch(0.5, bad, 1.0)


def test_bad_psi_is_rejected():
    with pytest.raises(ValueError, match="Psi must be > 0"):
        D_CRIT(0.5, 0.5, 0.0)
