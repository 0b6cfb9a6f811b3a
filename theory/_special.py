"""Float64 forms of differences of special functions that cancel as written, each derived and proved equal by SymPy.

Written once here and used by every closed form that needs them (theory._occam):

* ``log_rising_factorial(a, n)`` = ln Gamma(a + n) - ln Gamma(a) (the log of a(a+1)...(a+n-1)): as written, two
  log-gammas of size (a + n) ln(a + n) cancel to a result of size n ln a (a = 1e7, n = 1: 9e-10 relative error);
  for a >= ``STIRLING_ABOVE`` the difference of the two Stirling series is taken term by term, (a - 1/2)
  log1p(n/a) + n ln(a + n) - n + R(a + n) - R(a), a sum without cancellation, and it is exactly 0 at n = 0;
* ``log_binomial(N, J)`` = ln C(N, J) from it, with K = min(J, N - J) (C(N, J) = C(N, N - J));
* ``stirling_error(n)`` = ln Gamma(n + 1) - (n + 1/2) ln n + n - ln(2 pi)/2, which is R(n), the Stirling remainder;
* ``binomial_deviance(x, M, d)`` = x ln(x/M) - d with d = x - M given separately (Loader's bd0): always >= 0, and
  as written a difference of two terms of size |d| where it is of size d^2/M; for |d| <= M/10 it is M times the
  power series of (1 + s) ln(1 + s) - s in s = d/M, whose terms alternate or all have one sign.

The binary kl divergence is the sum of two deviances, and ln P(Bin(m, p) = k) is Stirling's errors minus two
deviances (Loader 2000, "Fast and accurate computation of binomial probabilities"): sums of terms of one sign.
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy.codegen.cfunctions import log1p

from ._claim import Step
from ._stable import Quotient

#: ln Gamma by its Stirling series from this argument on: the first omitted term 1/(1188 z^9) is below 1e-21
STIRLING_ABOVE = 100
#: the deviance by its power series where |x - M| <= DEVIANCE_SERIES_RADIUS * M (|s| <= 1/10)
DEVIANCE_SERIES_RADIUS = sp.Rational(1, 10)
#: terms of that series: the first omitted, |s|^17 / (17 * 16) < 4e-20, is < 1e-17 of the value (~ s^2 / 2)
DEVIANCE_SERIES_TERMS = 16

_z = sp.Symbol("z", positive=True)
_a, _n, _x, _M = sp.symbols("a_aux n_aux x_aux M_aux", positive=True)
_s = sp.Symbol("s", real=True)


@cache
def stirling_remainder() -> tuple[sp.Symbol, sp.Expr]:
    """The asymptotic series of ln Gamma(z) at z -> oo, derived by SymPy, minus its leading part
    (z - 1/2) ln z - z + ln(2 pi)/2: R(z) = 1/(12 z) - 1/(360 z^3) + 1/(1260 z^5) - 1/(1680 z^7).  For real
    z > 0 the series envelops ln Gamma: the error is below the first omitted term, 1/(1188 z^9) < 1e-39 for
    z >= 5000 (< 1e-21 for z >= 100)."""
    z = _z
    series = sp.expand_log(sp.series(sp.loggamma(z), z, sp.oo, 9).removeO(), force=True)
    leading = (z - sp.Rational(1, 2)) * sp.log(z) - z + sp.log(2 * sp.pi) / 2
    remainder = sp.expand(sp.simplify(series - leading))
    if remainder.has(sp.log):
        raise AssertionError(f"Stirling remainder still holds a logarithm: {remainder}")
    return z, remainder


def _remainder(at: sp.Expr) -> sp.Expr:
    z, rem = stirling_remainder()
    return rem.subs(z, at)


@cache
def special_forms_derivation() -> dict:
    """The identities behind the forms of this module, each checked by SymPy (an AssertionError if one fails),
    and the steps that state them."""
    leading = lambda w: (w - sp.Rational(1, 2)) * sp.log(w) - w  # noqa: E731  (ln(2 pi)/2 cancels)
    rising_stirling = (_a - sp.Rational(1, 2)) * log1p(_n / _a) + _n * sp.log(_a + _n) - _n
    difference = leading(_a + _n) - leading(_a) - rising_stirling.rewrite(sp.log)
    if sp.simplify(sp.expand_log(difference, force=True)) != 0:
        raise AssertionError("log rising factorial: the Stirling difference is not an identity")
    # Stirling's error: ln Gamma(n + 1) = ln n + ln Gamma(n), so delta(n) = R(n)
    delta_def = sp.loggamma(_n + 1) - (_n + sp.Rational(1, 2)) * sp.log(_n) + _n - sp.log(2 * sp.pi) / 2
    if sp.gammasimp(sp.gamma(_n + 1) / (_n * sp.gamma(_n))) != 1:
        raise AssertionError("Stirling's error: Gamma(n + 1) != n Gamma(n)")
    # the deviance: its power series and the closed form it sums to
    f_s = (1 + _s) * sp.log(1 + _s) - _s
    taylor = sp.series(f_s, _s, 0, DEVIANCE_SERIES_TERMS + 1).removeO()
    claimed = sum((-1) ** j * _s**j / (j * (j - 1)) for j in range(2, DEVIANCE_SERIES_TERMS + 1))
    if sp.expand(taylor - claimed) != 0:
        raise AssertionError("deviance: the Taylor coefficients of (1+s) ln(1+s) - s are not (-1)^j / (j (j-1))")
    deviance = _x * sp.log(_x / _M) - (_x - _M)
    at_s = _M * f_s.subs(_s, (_x - _M) / _M)
    if sp.simplify(sp.expand_log(at_s - deviance, force=True)) != 0:
        raise AssertionError("deviance: M ((1 + s) ln(1 + s) - s) at s = (x - M)/M is not x ln(x/M) - (x - M)")
    steps = [
        Step(
            "For evaluation: \\ln\\Gamma(a + n) - \\ln\\Gamma(a) for a \\ge 100 (Stirling's series at a and a + n, "
            "the leading parts subtracted term by term; equal by SymPy):",
            rising_stirling + _remainder(_a + _n) - _remainder(_a),
        ),
        Step("Stirling's error \\delta(n) = \\ln\\Gamma(n+1) - (n + 1/2)\\ln n + n - \\ln(2\\pi)/2 = R(n):", delta_def),
        Step(
            "The deviance x\\ln(x/M) - (x - M) \\ge 0 (Loader's bd0) is M((1+s)\\ln(1+s) - s) at s = (x - M)/M, "
            "whose power series for |s| \\le 1/10 is",
            _M * claimed.subs(_s, sp.Symbol("s")),
        ),
    ]
    return {"log_rising_stirling": rising_stirling, "stirling_error": delta_def, "deviance": deviance, "steps": steps}


def log_rising_factorial(a: sp.Expr, n: sp.Expr) -> sp.Expr:
    """ln Gamma(a + n) - ln Gamma(a) for a > 0, n >= 0, written for float64: 0 at n = 0, the log-gammas for
    a < ``STIRLING_ABOVE`` (both then below ln Gamma(100 + n), no cancellation beyond a few roundings of the
    larger), the term-by-term Stirling difference above."""
    special_forms_derivation()  # the identity is checked once
    stirling = special_forms_derivation()["log_rising_stirling"].xreplace({_a: a, _n: n})
    stirling = stirling + _remainder(a + n) - _remainder(a)
    direct = sp.loggamma(a + n, evaluate=False) - sp.loggamma(a, evaluate=False)
    return sp.Piecewise((0, sp.Eq(n, 0)), (direct, a < STIRLING_ABOVE), (stirling, True))


def log_binomial(total: sp.Expr, chosen: sp.Expr) -> sp.Expr:
    """ln C(total, chosen) for 0 <= chosen <= total: with K = min(chosen, total - chosen),
    ln Gamma(total + 1) - ln Gamma(total - K + 1) - ln Gamma(K + 1), the first difference a log rising factorial
    (K <= total/2, so the subtracted ln Gamma(K + 1) is at most the size of the result times ln(total))."""
    k_min = sp.Min(chosen, total - chosen)
    return log_rising_factorial(total - k_min + 1, k_min) - log_rising_factorial(1, k_min)


def log_beta_ratio(a: sp.Expr, b: sp.Expr, x: sp.Expr, y: sp.Expr) -> sp.Expr:
    """ln B(a, b) - ln B(a + x, b + y) >= 0 for a, b > 0 and x, y >= 0 (minus the log-probability of one sequence
    with x items of one kind and y of the other in a Polya urn started at a and b), written for float64.

    It is R(a + b, x + y) - R(a, x) - R(b, y) with R the log rising factorial: where the counts exceed the
    parameters (x = 1e17, y = 0, a = b = 1: ln(1e17 + 1)) the first two cancel almost entirely, so there the larger
    count is paired with the total instead, R(a + x, b + y) - R(a, b) - R(b, y) for x >= y (and the mirror image),
    which cancels where a parameter exceeds the larger count (b = 1e6, x = 2): each grouping is used where the other
    would cancel, and neither then loses more than a factor ~ln(largest argument) to cancellation."""
    by_parameters = log_rising_factorial(a + b, x + y) - log_rising_factorial(a, x) - log_rising_factorial(b, y)
    x_larger = log_rising_factorial(a + x, b + y) - log_rising_factorial(a, b) - log_rising_factorial(b, y)
    y_larger = log_rising_factorial(b + y, a + x) - log_rising_factorial(b, a) - log_rising_factorial(a, x)
    return sp.Piecewise(
        (by_parameters, sp.Max(x, y) <= sp.Max(a, b)),
        (x_larger, x >= y),
        (y_larger, True),
    )


def log_beta_ratio_check() -> bool:
    """The three groupings of ``log_beta_ratio`` are each ln B(a, b) - ln B(a + x, b + y) (log-gammas as written)."""
    a, b, x, y = sp.symbols("a b x y", positive=True)

    def rising(u, v):
        return sp.loggamma(u + v) - sp.loggamma(u)

    target = sp.loggamma(a) + sp.loggamma(b) - sp.loggamma(a + b)
    target -= sp.loggamma(a + x) + sp.loggamma(b + y) - sp.loggamma(a + b + x + y)
    groupings = (
        rising(a + b, x + y) - rising(a, x) - rising(b, y),
        rising(a + x, b + y) - rising(a, b) - rising(b, y),
        rising(b + y, a + x) - rising(b, a) - rising(a, x),
    )
    return all(sp.expand(g - target) == 0 for g in groupings)


def stirling_error(n: sp.Expr) -> sp.Expr:
    """delta(n) = ln Gamma(n + 1) - (n + 1/2) ln n + n - ln(2 pi)/2 for n >= 1: as written below
    ``STIRLING_ABOVE`` (terms below 460, absolute error ~1e-13), Stirling's remainder R(n) above."""
    direct = special_forms_derivation()["stirling_error"].xreplace({_n: n})
    direct = direct.replace(lambda e: isinstance(e, sp.loggamma), lambda e: sp.loggamma(e.args[0], evaluate=False))
    return sp.Piecewise((direct, n < STIRLING_ABOVE), (_remainder(n), True))


def binomial_deviance(x: sp.Expr, big_m: sp.Expr, diff: sp.Expr) -> sp.Expr:
    """x ln(x/M) - d >= 0 for x >= 0, M > 0 and d = x - M (passed separately, computed without cancellation):
    M times the power series in s = d/M for |s| <= 1/10, M at x = 0, as written elsewhere (where its terms are at
    most ~500 times the value, at |s| = 1/10: a relative error ~1e-13)."""
    special_forms_derivation()
    s = Quotient(diff, big_m)  # one factor: d s = M s^2 is evaluated as d times s (no d**2 to overflow)
    series = sp.Integer(0)
    for j in range(DEVIANCE_SERIES_TERMS, 1, -1):  # Horner: 1/2 + s (-1/6 + s (1/12 + ...))
        series = sp.Rational((-1) ** j, j * (j - 1)) + s * series
    return sp.Piecewise(
        (diff * s * series, sp.Abs(diff) <= DEVIANCE_SERIES_RADIUS * big_m),
        (big_m, sp.Eq(x, 0)),
        (x * sp.log(x / big_m) - diff, True),
    )
