"""An mpmath oracle for the closed forms of ``theory``: the SAME SymPy expression evaluated at 50 significant digits.

``reference(expr, symbols, values)`` lambdifies ``expr`` for mpmath and evaluates it at the float64 inputs
(converted exactly) with a working precision that starts at 120 + 2 * max |log10 input| digits (720 for
inputs of 1e300) and doubles until two successive evaluations agree to 50 digits, so cancellation in the
expression as written (1 - sqrt(d/(d+2)) at d = 1e300 needs 300 digits, d1 d2 - min(d1, d2) at 1e300 about
300, a difference of log-gammas of 1e600 about 600) is resolved by precision, never by a rewrite.  (Starting
lower is not safe: a cancellation beyond the working precision gives exactly 0 at two precisions in a row,
which would look converged.)

mpmath's own regularised incomplete beta (a hypergeometric series) does not converge for parameters above
about 10^3; the oracle evaluates ``betainc_regularized`` with the continued fraction of I_x(a, b) instead
(checked against mpmath's series where that converges, in tests/theory/test_domain.py).
"""

from __future__ import annotations

import math
from functools import lru_cache

import mpmath as mp
import sympy as sp

#: float64's largest finite and smallest normal magnitudes
FLOAT64_MAX = mp.mpf(1.7976931348623157e308)
FLOAT64_TINY = mp.mpf(2.2250738585072014e-308)


class OracleError(RuntimeError):
    """The oracle could not reach 50 stable digits (the test should not draw such a point)."""


def _betainc_lentz(a, b, x):
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1 (the continued fraction on the side where it converges)."""
    if x <= 0:
        return mp.mpf(0)
    if x >= 1:
        return mp.mpf(1)
    if x < (a + 1) / (a + b + 2):
        return _cf(a, b, x)
    return 1 - _cf(b, a, 1 - x)


def _cf(a, b, x):
    # the classical form: I_x(a,b) = front * 1/(1 + d1/(1 + d2/(1 + ...))); Lentz on the fraction starting
    # from b_0 = 1 gives the reciprocal's numerator chain, written out here explicitly
    tiny = mp.mpf(10) ** (-(mp.mp.dps + 50))
    eps = mp.mpf(10) ** (-(mp.mp.dps + 5))
    front = mp.exp(a * mp.log(x) + b * mp.log1p(-x) - mp.log(a) - mp.log(mp.beta(a, b)))
    c = mp.mpf(1)
    dd = 1 - (a + b) * x / (a + 1)
    dd = tiny if abs(dd) < tiny else dd
    dd = 1 / dd
    h = dd
    for mm in range(1, 10**7):
        num = mm * (b - mm) * x / ((a + 2 * mm - 1) * (a + 2 * mm))
        dd = 1 + num * dd
        dd = tiny if abs(dd) < tiny else dd
        c = 1 + num / c
        c = tiny if abs(c) < tiny else c
        dd = 1 / dd
        h *= dd * c
        num = -(a + mm) * (a + b + mm) * x / ((a + 2 * mm) * (a + 2 * mm + 1))
        dd = 1 + num * dd
        dd = tiny if abs(dd) < tiny else dd
        c = 1 + num / c
        c = tiny if abs(c) < tiny else c
        dd = 1 / dd
        step = dd * c
        h *= step
        if abs(step - 1) < eps:
            return front * h
    raise OracleError(f"continued fraction of I_x({a}, {b}) did not converge")  # pragma: no cover


def mp_betainc(a, b, x1=0, x2=1, regularized=False):
    """mpmath-compatible ``betainc`` (the name SymPy's mpmath printer uses), regularised, lower limit 0."""
    if not regularized or x1 != 0:
        return mp.betainc(a, b, x1, x2, regularized=regularized)
    a, b, x2 = mp.mpf(a), mp.mpf(b), mp.mpf(x2)
    if a <= 0 or b <= 0:
        return mp.nan  # outside the function's domain
    return _betainc_lentz(a, b, x2)


def _betainc_regularized(a, b, x1, x2):
    return mp_betainc(a, b, x1, x2, regularized=True)


_MODULES = [{"betainc": mp_betainc, "betainc_regularized": _betainc_regularized}, "mpmath"]


@lru_cache(maxsize=512)
def _compiled(expr: sp.Basic, symbols: tuple):
    return sp.lambdify(symbols, expr, modules=_MODULES)


def _as_mp(value):
    if isinstance(value, (list, tuple)):
        return [mp.mpf(float(v)) for v in value]
    return mp.mpf(float(value))


def _real(value):
    if isinstance(value, mp.mpc):
        if value.imag != 0:
            return None
        value = value.real
    try:
        value = mp.mpf(value)
    except (TypeError, ValueError):
        return None
    if mp.isnan(value) or mp.isinf(value):
        return None
    return value


def _largest_magnitude(values) -> float:
    flat = [v for item in values for v in (item if isinstance(item, (list, tuple)) else [item])]
    return max((abs(math.log10(abs(float(v)))) for v in flat if float(v) != 0), default=0.0)


def _zero_arguments(symbols, values) -> dict:
    """The arguments (and per-layer entries) whose value is 0, mapped to SymPy's 0."""
    zeros = {}
    for symbol, value in zip(symbols, values):
        if isinstance(value, (list, tuple)):
            zeros.update({symbol[i]: sp.Integer(0) for i, v in enumerate(value) if float(v) == 0})
        elif float(value) == 0:
            zeros[symbol] = sp.Integer(0)
    return zeros


def reference(expr: sp.Basic, symbols, values, digits: int = 50, start_dps: int | None = None):
    """``expr`` at ``values`` (floats or lists of floats for per-layer symbols) to ``digits`` digits, or None.

    An expression that is identically 0 once its zero arguments are put in (3 ln Gamma(a) - ln Gamma(3 a) -
    sum_l ln Gamma(a + n_l) + ln Gamma(3 a + sum_l n_l) with every n_l = 0: terms that cancel exactly) is 0: at any
    finite precision it leaves the rounding of its terms, which shrinks with the precision instead of converging."""
    zeros = _zero_arguments(symbols, values)
    if zeros and expr.xreplace(zeros) == 0:
        return mp.mpf(0)
    f = _compiled(expr, tuple(symbols))
    previous = None
    dps = start_dps or int(120 + 2 * _largest_magnitude(values))
    while dps <= 5000:
        with mp.workdps(dps):
            try:
                value = _real(f(*[_as_mp(v) for v in values]))
            except (ValueError, ZeroDivisionError, OverflowError, mp.libmp.NoConvergence):
                value = None
            if previous is not None:
                if value is None and previous is None:
                    return None
                if value is not None and previous is not None:
                    if value == previous or abs(value - previous) <= abs(value) * mp.mpf(10) ** (-digits):
                        return +value
            previous = value
        dps *= 2
    raise OracleError(f"no {digits} stable digits for {expr} at {values}")


def in_float64_range(value) -> bool:
    """True when ``value`` is 0 or a normal float64 magnitude (so a relative error of 1e-10 is attainable)."""
    return value == 0 or FLOAT64_TINY <= abs(value) <= FLOAT64_MAX


def relative_error(got: float, ref) -> float:
    if ref == 0:
        return 0.0 if got == 0 else float("inf")
    with mp.workdps(30):
        return float(abs(mp.mpf(got) - ref) / abs(ref))
