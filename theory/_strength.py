"""Algorithm 1 over all strengths at once: the critical strength of an entry (claim ``algorithm-1``).

Algorithm 1 zeroes an off-diagonal entry of value ``x`` when its uniform draw ``U`` falls below the zeroing
probability ``P(x, d, Psi) = exp(-x^2/(d Psi))``.  Solving ``P = U`` for ``d`` gives the strength at which that
entry's fate flips.  ``P`` is nondecreasing in ``d`` (its derivative is ``x^2 P / (Psi d^2) >= 0``), so with the
draw held fixed (common random numbers) the entry is zeroed at every ``d`` above the critical strength and kept
at every ``d`` at or below it: the pruned sets are nested in ``d``, and one draw per entry answers every ``d``.

Derived here, from ``theory._pruning``'s definition of the zeroing probability; nothing is typed in.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from ._claim import Step
from ._numeric import Formula
from ._pruning import PRUNE_PROBABILITY_GIVEN_ENTRY
from ._symbols import Psi, U, d, x


@cache
def critical_strength_derivation() -> dict:
    """algorithm-1: solve exp(-x^2/(d Psi)) = U for d (x real, 0 < U < 1, Psi > 0) and check the solution.

    Returns ``d_crit`` (the unique solution), ``dP_dd`` (the derivative of the zeroing probability in d),
    ``monotone`` (SymPy's proof that it is nonnegative), ``substituted`` (P at d_crit, which simplifies to U),
    ``scale_invariant`` (d_crit(c x, U, c^2 Psi) - d_crit(x, U, Psi) simplified, 0) and the steps.
    Raises ``RuntimeError`` if SymPy finds other than one solution or a check fails.
    """
    solutions = sp.solve(sp.Eq(PRUNE_PROBABILITY_GIVEN_ENTRY, U), d)
    if len(solutions) != 1:
        raise RuntimeError(f"algorithm-1: expected one critical strength, got {solutions}")
    d_crit = sp.simplify(solutions[0])
    substituted = sp.simplify(PRUNE_PROBABILITY_GIVEN_ENTRY.subs(d, d_crit))
    if sp.simplify(substituted - U) != 0:
        raise RuntimeError(f"algorithm-1: P(d_crit) = {substituted}, not U")
    derivative = sp.simplify(sp.diff(PRUNE_PROBABILITY_GIVEN_ENTRY, d))
    monotone = bool(derivative.is_nonnegative)
    if not monotone:
        raise RuntimeError(f"algorithm-1: could not prove dP/dd = {derivative} >= 0")
    c = sp.Symbol("c", positive=True)
    scale = sp.simplify(d_crit.subs({x: c * x, Psi: c**2 * Psi}, simultaneous=True) - d_crit)
    steps = [
        Step("Algorithm 1 zeroes an entry x when its draw U is below", PRUNE_PROBABILITY_GIVEN_ENTRY),
        Step("Solving e^{-x^2/(d\\Psi)} = U for d gives the critical strength d_{crit} =", d_crit),
        Step("dP/dd =", derivative),
        Step(
            "which is >= 0, so P(d) < U for d < d_{crit} and P(d) > U for d > d_{crit} (x \\ne 0): "
            "the entry is zeroed at strength d iff d > d_{crit}; the pruned set grows with d",
        ),
        Step("d_{crit}(c x, U, c^2 \\Psi) - d_{crit}(x, U, \\Psi) =", scale),
    ]
    return {
        "d_crit": d_crit,
        "dP_dd": derivative,
        "monotone": monotone,
        "substituted": substituted,
        "scale_invariant": scale,
        "steps": steps,
    }


#: algorithm-1: the strength above which an entry of value x with draw U is zeroed (derived, never typed).
algorithm_1_critical_strength = Formula(
    "critical_strength",
    "algorithm-1",
    lambda: critical_strength_derivation()["d_crit"],
    (x, U, Psi),
    "algorithm-1: critical strength x^2/(Psi ln(1/U)) of an entry x with uniform draw U (0 < U < 1, Psi > 0); "
    "the entry is zeroed at strength d iff d > this.  Raises ValueError for U outside (0, 1), Psi <= 0 or "
    "non-finite arguments.",
)
