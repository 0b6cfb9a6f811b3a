"""Independent numeric routes that the ledger runs when it is built (cheap: well under a second each).

Each function returns (passed: bool, sentence: str).  The sentence states what was compared and the
largest discrepancy, so the ledger's evidence is something a reader can follow.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import sympy as sp

from ._symbols import Psi, d, n, p_min, t, x

_POINTS = ((0.1, 0.5), (1.0, 1.0), (3.0, 0.02), (25.0, 4.0))


def quadrature_vs_closed_form(name: str, integrand: sp.Expr, closed: sp.Expr, rel_tol: float = 1e-10):
    """E_{x~N(0,Psi)}[integrand] by mpmath quadrature against the closed form at fixed (d, Psi) points."""
    worst = 0.0
    for dv, pv in _POINTS:
        f = sp.lambdify(x, integrand.subs({d: dv, Psi: pv}), "mpmath")
        dens = lambda z, pv=pv: mp.exp(-(z**2) / (2 * pv)) / mp.sqrt(2 * mp.pi * pv)
        quad = mp.quad(lambda z, f=f, dens=dens: f(z) * dens(z), [-mp.inf, 0, mp.inf])
        exact = sp.N(closed.subs({d: dv, Psi: pv}), 30)
        scale = max(abs(float(exact)), 1e-300)
        err = abs(float(quad) - float(exact)) if exact == 0 else abs(float(quad) - float(exact)) / scale
        worst = max(worst, err)
    ok = worst <= rel_tol
    return ok, (
        f"{name}: mpmath quadrature against the Gaussian density at (d, Psi) in {list(_POINTS)} "
        f"agrees with the closed form to {worst:.1e} (relative; tolerance {rel_tol:.0e})"
    )


def sphere_tail_check(a_val: float, b_val: float, dims=(3, 10, 100, 784, 2500)):
    """Is a exp(-b t^2 n) >= the exact tail P(|<v,x>| >= t), x uniform on S^{n-1}, on a grid of t?

    Returns (holds everywhere, sentence naming the worst ratio exact/assumed)."""
    from ._norms import condition_c_1_derivation

    exact = condition_c_1_derivation()["exact_sphere_tail"]
    f = sp.lambdify((t, n), exact, "mpmath")
    worst_ratio, where = 0.0, None
    for nv in dims:
        for tv in np.linspace(0.02, 0.98, 49):
            ex = float(f(mp.mpf(tv), nv))
            assumed = a_val * float(mp.exp(-b_val * tv**2 * nv))
            if assumed == 0.0:
                continue
            ratio = ex / assumed
            if ratio > worst_ratio:
                worst_ratio, where = ratio, (nv, float(tv))
    if where is None:  # no positive ratio anywhere (a <= 0, or every assumed tail underflowed to 0)
        raise ValueError(f"a={a_val:g}, b={b_val:g}: no grid point where exact and assumed tails are both positive")
    return worst_ratio <= 1.0, (
        f"a={a_val:g}, b={b_val:g}: max over n in {list(dims)} and t in [0.02, 0.98] of "
        f"exact tail / assumed tail = {worst_ratio:.3g} at (n, t) = "
        f"({where[0]}, {where[1]:.2f})"
    )


def erf_probability_check(closed: sp.Expr, rel_tol: float = 1e-12):
    """Lemma D.2's erf against the folded-normal CDF computed by scipy at a grid of (d, p_min)."""
    from scipy.stats import norm

    f = sp.lambdify((d, p_min), closed, "scipy")
    worst = 0.0
    for dv in (0.05, 0.5, 2.0, 10.0):
        for pv in (0.01, 0.3, 0.9):
            thr = np.sqrt(dv * np.log(1 / pv))  # in units of sqrt(Psi)
            ref = norm.cdf(thr) - norm.cdf(-thr)
            worst = max(worst, abs(f(dv, pv) - ref) / ref)
    return worst <= rel_tol, (
        f"erf form against scipy's normal CDF on the threshold solved independently "
        f"(12 grid points): max relative difference {worst:.1e}"
    )
