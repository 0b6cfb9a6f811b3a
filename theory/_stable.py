"""Float64-stable numeric forms of the derived SymPy results (issue 14: closed forms over their whole domain).

A closed form evaluated in float64 the way it happens to be written overflows, underflows or cancels long
before its value leaves float64's range: ``Psi*d**(3/2)/(d + 2)**(3/2)`` is inf/inf = NaN at d = 1e210,
``1 - sqrt(d)/sqrt(d + 2)`` is 0 at d = 1e17, a product of ten norms of 1e35 is inf even in log10 when the
log is taken after the product.  This module rewrites a SymPy expression, by identities only, into forms
whose float64 evaluation is accurate wherever the value itself is a normal float64 number:

* ``log_form(e)``: an expression equal to ``log(e)`` for ``e >= 0`` built from sums of logarithms
  (log(ab) = log a + log b, log(a^x) = x log a for a > 0) and, for sums of nonnegative terms, the
  log-sum-exp of the terms' logarithms (``LogSumExp``), so no intermediate product or power is formed;
* ``value_form(e)``: ``e`` with every product of factors of known sign evaluated twice, as written and as
  ``exp`` of its ``log_form`` (``Consistent`` keeps the first where both agree to 1e-13, so nothing is lost
  where nothing over- or underflowed), products of positive integers kept exact, a factor that is a sum of
  terms of mixed signs rescaled by its largest term where the product as written overflows (``Prefer``),
  and every ``log(y)`` from y's value or from y's ``log_form``, whichever loses less (``StableLog``);
* ``zero_condition(e)``: a SymPy condition that holds exactly where ``e`` is 0 structurally (a factor 0, a
  ``Piecewise`` branch 0, log(1)), so that a 0 from float64 can be told apart from an underflow.

Differences whose terms cancel (``1 - sqrt(d/(d + 2))``, ``d1 d2 - min(d1, d2)``, log-gammas of large
arguments) are not handled here: the derivation modules rewrite them (rationalised, factored, a Stirling
difference) and prove the rewrite equal with SymPy, and pass the result to ``Formula``/``LayerFormula`` as
their ``numeric`` form (``Float64Safe`` marks one that is final, with the condition for its exact zeros).  The
functions such forms use beyond numpy's are here: ``DiffProd`` (a - f_1 ... f_n without rounding the product),
``ExpRel`` ((e^y - 1)/y) and ``Quotient`` (a/b as one factor that SymPy does not merge into a product).
Every name the generated code calls is
bound for numpy/scipy (``NUMPY_NAMESPACE``) and for torch (``_torch_namespace``); ``compile_numpy`` and
``compile_torch`` generate the two faces from the same printed code.
"""

from __future__ import annotations

import math
from functools import cache, reduce
from typing import Any

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.printing.numpy import SciPyPrinter

from ._symbols import UNIT_INTERVAL

FLOAT64_MAX = float(np.finfo(np.float64).max)
FLOAT64_TINY = float(np.finfo(np.float64).tiny)
LOG_FLOAT64_MAX = math.log(FLOAT64_MAX)
LOG_FLOAT64_TINY = math.log(FLOAT64_TINY)


class Float64RangeError(OverflowError, ValueError):
    """A value outside float64's normal range: above 1.8e308 (overflow) or below 2.2e-308 (underflow).

    A ``ValueError`` (and an ``OverflowError``): callers that catch bad arguments catch it too."""


class NotPositive(Exception):
    """Raised inside the rewriter when a factor's sign is not known to be >= 0 (no log-space form)."""


# ----------------------------------------------------------------------------------------------------------
# the functions the stable forms use
# ----------------------------------------------------------------------------------------------------------
class ExpOf(sp.Function):
    """exp(y), kept unevaluated so that SymPy does not fold exp(3 log(d)/2) back into d**(3/2)."""

    nargs = 1

    def _eval_rewrite_as_exp(self, y, **kwargs):
        return sp.exp(y)

    def _eval_evalf(self, prec):
        return sp.exp(self.args[0])._eval_evalf(prec)


class LogSumExp(sp.Function):
    """log(exp(a_1) + ... + exp(a_n)), evaluated as m + log(sum exp(a_i - m)) with m = max a_i (no overflow)."""

    def _eval_rewrite_as_log(self, *args, **kwargs):
        return sp.log(sp.Add(*[sp.exp(a) for a in args]))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.log)._eval_evalf(prec)


class StableLog(sp.Function):
    """log(y) from two evaluations of y: ``value``, y as written (a product of floats), and ``log_value``, a sum
    of the factors' logarithms, with ``scale`` the sum of those logarithms' magnitudes.  The sum of logs has an
    absolute error of about eps * scale, the log of the value about eps: numerically the sum of logs where it
    loses no more than a factor 4 to cancellation (scale <= 4 |log_value|) or where the value over- or
    underflowed, and the log of the value elsewhere (log(a m r / delta) with a = 1e-300, m = 1e300)."""

    nargs = 3

    def _eval_rewrite_as_log(self, value, log_value, scale, **kwargs):
        return sp.log(value)

    def _eval_evalf(self, prec):
        return sp.log(self.args[0])._eval_evalf(prec)


class Float64Safe(sp.Function):
    """``Float64Safe(expr, sign[, zero])``: ``expr``, already written for float64 by its derivation (a Stirling
    form), left as it is by ``value_form``; ``sign`` (+1 or -1) is its sign, known from the mathematics (a
    log-count is >= 0), so that sums containing it can still go to log-space; ``zero`` (optional) the condition
    on the arguments under which ``expr`` is exactly 0, so that a 0 computed anywhere else is reported as an
    underflow (without it, any 0 that ``expr`` evaluates to counts as exact)."""

    nargs = (2, 3)

    def _eval_rewrite_as_Add(self, expr, sign, *zero, **kwargs):
        return expr

    def _eval_evalf(self, prec):
        return self.args[0]._eval_evalf(prec)


class DiffProd(sp.Function):
    """``DiffProd(a, f_1, ..., f_n)`` = a - f_1 f_2 ... f_n, evaluated without the rounding of the product: each
    argument is split into mantissa and exponent (frexp), the mantissas are multiplied exactly (Dekker's two-product:
    the product as a sum hi + lo of two doubles), and a is subtracted from hi + lo at the product's scale.  Where
    a and the product agree to many digits (a difference of a value and a product of measured quantities: ||A||/L
    against lam Gamma, a count k against its mean m p) the result has the relative accuracy of a few roundings of
    itself, not of the product (the rounding of f_1 ... f_n would be all of a small difference); it loses that only
    where the difference is below ~1e-32 of the product.  An exact 0 is an exact 0.  Infinite where the difference
    itself overflows (``value_form`` then falls back to the rescaled difference)."""

    def _eval_rewrite_as_Add(self, a, *factors, **kwargs):
        return a - sp.Mul(*factors)

    def _eval_evalf(self, prec):
        return self.rewrite(sp.Add)._eval_evalf(prec)


class Quotient(sp.Function):
    """``Quotient(a, b)`` = a/b kept as one factor, so that SymPy does not merge it with the product around it:
    d (d/M) is not rewritten as d**2/M, which overflows (d = 1e200) where d (d/M) is a normal number."""

    nargs = 2

    def _eval_rewrite_as_Mul(self, a, b, **kwargs):
        return a / b

    def _eval_evalf(self, prec):
        return (self.args[0] / self.args[1])._eval_evalf(prec)


class ExpRel(sp.Function):
    """``ExpRel(y)`` = (exp(y) - 1)/y, 1 at y = 0 (scipy's ``exprel``): the relative growth of exp, accurate for
    tiny y where exp(y) - 1 is a difference of nearly equal numbers and y itself may underflow when formed."""

    nargs = 1

    def _eval_rewrite_as_exp(self, y, **kwargs):
        return (sp.exp(y) - 1) / y

    def _eval_evalf(self, prec):
        y = self.args[0]
        return (sp.Integer(1) if y == 0 else (sp.exp(y) - 1) / y)._eval_evalf(prec)


_SPLITTER = 134217729.0  # 2**27 + 1: Veltkamp's split of a double into two 26-bit halves


def _two_product(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x y = hi + lo exactly (Dekker), for |x|, |y| < 1 (mantissas: the split cannot overflow)."""
    hi = x * y
    cx, cy = _SPLITTER * x, _SPLITTER * y
    xh, yh = cx - (cx - x), cy - (cy - y)
    xl, yl = x - xh, y - yh
    lo = ((xh * yh - hi) + xh * yl + xl * yh) + xl * yl
    return hi, lo


def _np_diff_prod(a, *factors):
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in (a, *factors)])
    a_arr, rest = arrays[0], arrays[1:]
    with np.errstate(all="ignore"):
        hi, lo, scale = np.ones(a_arr.shape), np.zeros(a_arr.shape), np.zeros(a_arr.shape, dtype=np.int64)
        for f in rest:
            mant, expo = np.frexp(f)
            hi, err = _two_product(hi, mant)
            lo = err + lo * mant  # lo * mant: a rounding of a term ~1e-16 of hi
            scale = scale + expo
            # keep hi in [0.5, 1) so that the next split cannot overflow
            norm, shift = np.frexp(hi)
            lo, hi, scale = np.ldexp(lo, -shift), norm, scale + shift
        scaled_a = np.ldexp(a_arr, -scale)  # a at the product's scale: exact unless it over- or underflows
        out = np.ldexp((scaled_a - hi) - lo, scale)
        # a beyond 2^1024 times the product: the product is below a's last digit
        return np.where(np.isfinite(scaled_a), out, a_arr)


def _np_exprel(y):
    from scipy.special import exprel

    return exprel(y)


class Consistent(sp.Function):
    """``Consistent(direct, log_value)``: a positive product evaluated twice, as written (``direct``: exact to a
    few roundings unless an intermediate over- or underflowed) and as the exponential of its summed logs
    (accurate to about eps * sum |log factor|, never over- or underflowing in between).  Numerically
    ``direct`` where it is a normal float64 number agreeing with ``log_value`` to 1e-13 (so no intermediate
    went wrong), exp(log_value) elsewhere."""

    nargs = 2

    def _eval_rewrite_as_Add(self, direct, log_value, **kwargs):
        return direct

    def _eval_evalf(self, prec):
        return self.args[0]._eval_evalf(prec)


#: ``Consistent``'s agreement: |ln direct - log_value| <= _AGREE max(1, |log_value|).  |log_value| reaches 745 at
#: float64's ends, so this accepts a direct product at most 7.5e-11 off (1e-11 let 1e-15 * 1e-300 * sqrt(2) / 1e-8,
#: which passes through the subnormal 1.4e-315 and loses 9 digits there, through at 1e-9); where it is stricter than
#: the summed logs' own rounding (~4 eps sum |ln factor|) exp(log_value) is used, as accurate as that rounding
_AGREE = 1e-13


def _np_consistent(direct, log_value):
    d, lv = np.asarray(direct, dtype=float), np.asarray(log_value, dtype=float)
    with np.errstate(all="ignore"):
        normal = np.isfinite(d) & (d >= FLOAT64_TINY)
        agree = normal & (np.abs(np.log(np.where(normal, d, 1.0)) - lv) <= _AGREE * np.maximum(1.0, np.abs(lv)))
        return np.where(agree, d, np.exp(lv))


class Prefer(sp.Function):
    """``Prefer(direct, fallback, log_part)``: two evaluations of the same value.  ``direct`` is a product
    e^log_part * (factors as written); numerically it is used where it is finite and e^log_part is a normal
    float64 number (log_part within [ln 2.2e-308, ln 1.8e308]), ``fallback`` (the rescaled form) elsewhere."""

    nargs = 3

    def _eval_rewrite_as_Add(self, direct, fallback, log_part, **kwargs):
        return direct

    def _eval_evalf(self, prec):
        return self.args[0]._eval_evalf(prec)


def _np_prefer(direct, fallback, log_part):
    d, lp = np.asarray(direct, dtype=float), np.asarray(log_part, dtype=float)
    return np.where(np.isfinite(d) & (lp >= LOG_FLOAT64_TINY) & (lp <= LOG_FLOAT64_MAX), d, fallback)


def _np_exp(y):
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(y)


def _np_log_sum_exp(*args):
    stacked = np.stack(np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args]))
    top = np.max(stacked, axis=0)
    shift = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        out = shift + np.log(np.sum(np.exp(stacked - shift), axis=0))
    return np.where(np.isinf(top), top, out)


def _np_stable_log(value, log_value, scale):
    v = np.asarray(value, dtype=float)
    use_value = np.isfinite(v) & (v >= FLOAT64_TINY) & ~(np.asarray(scale) <= 4 * np.abs(log_value))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(use_value, np.log(np.where(use_value, v, 1.0)), log_value)


NUMPY_NAMESPACE: dict = {
    "Float64Safe": lambda expr, sign, zero=None: expr,
    "DiffProd": _np_diff_prod,
    "ExpRel": _np_exprel,
    "Quotient": lambda a, b: np.divide(a, b),
    "ExpOf": _np_exp,
    "LogSumExp": _np_log_sum_exp,
    "StableLog": _np_stable_log,
    "Prefer": _np_prefer,
    "Consistent": _np_consistent,
}


class _TorchReduce:
    """``logical_and.reduce((a, b, ...))`` as SymPy's numpy printer writes it, for tensors."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, a, b):
        return self._fn(_t(a), _t(b))

    def reduce(self, items):
        return reduce(self, items)


def _t(value):
    import torch

    return value if isinstance(value, torch.Tensor) else torch.as_tensor(value, dtype=torch.float64)


def _torch_namespace() -> dict:
    import torch

    def unary(fn):
        return lambda x: fn(_t(x))

    def select(conditions, choices, default=math.nan):
        out = _t(default)
        for cond, choice in reversed(list(zip(conditions, choices))):
            out = torch.where(_t(cond).bool(), _t(choice), out)
        return out

    def amin(items, axis=0):
        return reduce(torch.minimum, [_t(v) for v in items])

    def amax(items, axis=0):
        return reduce(torch.maximum, [_t(v) for v in items])

    def log_sum_exp(*args):
        tensors = [_t(a) for a in args]
        device = next((v.device for v in tensors if v.device.type != "cpu"), tensors[0].device)
        stacked = torch.stack(torch.broadcast_tensors(*[v.to(device) for v in tensors]))
        top = stacked.max(dim=0).values
        shift = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
        out = shift + torch.log(torch.exp(stacked - shift).sum(dim=0))
        return torch.where(torch.isinf(top), top, out)

    def stable_log(value, log_value, scale):
        v, lv = _t(value), _t(log_value)
        use_value = torch.isfinite(v) & (v >= FLOAT64_TINY) & ~(_t(scale) <= 4 * lv.abs())
        return torch.where(use_value, torch.log(torch.where(use_value, v, torch.ones_like(v))), lv)

    def consistent(direct, log_value):
        d, lv = _t(direct), _t(log_value)
        normal = torch.isfinite(d) & (d >= FLOAT64_TINY)
        logged = torch.log(torch.where(normal, d, torch.ones_like(d)))
        agree = normal & ((logged - lv).abs() <= _AGREE * torch.clamp(lv.abs(), min=1.0))
        return torch.where(agree, d, torch.exp(lv))

    def prefer(direct, fallback, log_part):
        d, lp = _t(direct), _t(log_part)
        ok = torch.isfinite(d) & (lp >= LOG_FLOAT64_TINY) & (lp <= LOG_FLOAT64_MAX)
        return torch.where(ok, d, _t(fallback))

    def betainc(a, b, x):
        # torch has no regularised incomplete beta: scipy's on the CPU, returned on the arguments' device
        from scipy.special import betainc as scipy_betainc

        tensors = [_t(v) for v in (a, b, x)]
        device = next((v.device for v in tensors if v.device.type != "cpu"), tensors[0].device)
        values = scipy_betainc(*[v.detach().cpu().numpy() for v in tensors])
        return torch.as_tensor(values, dtype=torch.float64, device=device)

    def diff_prod(*args):
        # the exact product of the mantissas is numpy's (one implementation); the result on the arguments' device
        tensors = [_t(v) for v in args]
        device = next((v.device for v in tensors if v.device.type != "cpu"), tensors[0].device)
        values = _np_diff_prod(*[v.detach().cpu().numpy() for v in tensors])
        return torch.as_tensor(values, dtype=torch.float64, device=device)

    def exprel(y):
        y = _t(y)
        # expm1(y)/y is exprel to a few roundings; 1 at y = 0, 0 at y = -inf
        return torch.where(y == 0, torch.ones_like(y), torch.expm1(y) / torch.where(y == 0, torch.ones_like(y), y))

    comparisons = {
        "less": torch.lt,
        "less_equal": torch.le,
        "greater": torch.gt,
        "greater_equal": torch.ge,
        "equal": torch.eq,
        "not_equal": torch.ne,
    }
    namespace: dict[str, Any] = {name: _TorchReduce(fn) for name, fn in comparisons.items()}
    namespace.update(
        {
            "logical_and": _TorchReduce(torch.logical_and),
            "logical_or": _TorchReduce(torch.logical_or),
            "logical_not": unary(torch.logical_not),
            "sqrt": unary(torch.sqrt),
            "exp": unary(torch.exp),
            "ExpOf": unary(torch.exp),
            "log": unary(torch.log),
            "log1p": unary(torch.log1p),
            "expm1": unary(torch.expm1),
            "gammaln": unary(torch.lgamma),
            "erf": unary(torch.erf),
            "erfc": unary(torch.erfc),
            "betainc": betainc,
            "select": select,
            "amin": amin,
            "amax": amax,
            "minimum": lambda a, b: torch.minimum(_t(a), _t(b)),
            "maximum": lambda a, b: torch.maximum(_t(a), _t(b)),
            "reduce": reduce,
            "LogSumExp": log_sum_exp,
            "StableLog": stable_log,
            "Prefer": prefer,
            "Consistent": consistent,
            "Float64Safe": lambda expr, sign, zero=None: expr,
            "DiffProd": diff_prod,
            "ExpRel": exprel,
            "Quotient": lambda a, b: _t(a) / _t(b),
            "inf": math.inf,
            "nan": math.nan,
            "pi": math.pi,
            "e": math.e,
        }
    )
    return namespace


_PRINTER_SETTINGS = {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True}


def compile_numpy(args, expr):
    """``expr`` as a numpy/scipy function of ``args`` (the code SymPy's SciPy printer writes)."""
    printer = SciPyPrinter(dict(_PRINTER_SETTINGS, user_functions={k: k for k in NUMPY_NAMESPACE}))
    return sp.lambdify(args, expr, modules=[NUMPY_NAMESPACE, "scipy", "numpy"], printer=printer)


def compile_torch(args, expr):
    """``expr`` as a torch function of ``args``: the same code as ``compile_numpy``, every name bound to torch."""
    namespace = _torch_namespace()
    printer = SciPyPrinter(dict(_PRINTER_SETTINGS, user_functions={k: k for k in namespace}))
    return sp.lambdify(args, expr, modules=[namespace], printer=printer)


# ----------------------------------------------------------------------------------------------------------
# signs
# ----------------------------------------------------------------------------------------------------------
def _probe(e: sp.Expr) -> sp.Expr:
    """``e`` with each probability symbol (0 < s < 1) written as 1/(1 + w), w > 0, and each positive integer
    (a count, per-layer or not) as 1 + k, k >= 0 an integer, so that SymPy's sign inference knows log(s) < 0,
    1 - s > 0, log(2 m / delta) > 0 and d1 - 1 >= 0."""
    reps = {s: 1 / (1 + sp.Dummy(f"w_{s.name}", positive=True)) for s in e.free_symbols & UNIT_INTERVAL}
    for atom in e.atoms(sp.Symbol, sp.Indexed):
        if atom not in reps and atom.is_integer and atom.is_positive:
            reps[atom] = 1 + sp.Dummy(f"k_{atom}", nonnegative=True, integer=True)
    return e.xreplace(reps) if reps else e


@cache
def sign_of(e: sp.Expr) -> int | None:
    """+1 when ``e >= 0`` is known, -1 when ``e <= 0`` is known, None otherwise: structurally (products and
    sums by their parts' signs, log(x) by the sign of x - 1, a probability is in (0, 1)), else by SymPy's
    inference on the probe."""
    structural = _structural_sign(e)
    if structural is not None or sp.count_ops(e) > 12:  # the probe is SymPy's inference: slow on large terms
        return structural
    probe = _probe(e)
    return 1 if probe.is_nonnegative else -1 if probe.is_nonpositive else None


def _structural_sign(e: sp.Expr) -> int | None:
    if e.is_Number:
        return 1 if e >= 0 else -1
    if e.is_Symbol or isinstance(e, sp.Indexed):
        return 1 if e.is_nonnegative else -1 if e.is_nonpositive else None
    if isinstance(e, sp.Mul):
        signs = [sign_of(f) for f in e.args]
        known = [s for s in signs if s is not None]
        return None if len(known) < len(signs) else int(np.prod(known))
    if isinstance(e, (sp.Add, sp.Min, sp.Max, sp.Piecewise)):
        parts = [v for v, _ in e.args] if isinstance(e, sp.Piecewise) else e.args
        part_signs = {sign_of(t) for t in parts}
        return part_signs.pop() if part_signs in ({1}, {-1}) else None
    if isinstance(e, sp.Pow):
        base, power = e.args
        if power.is_even:
            return 1
        base_sign = sign_of(base)
        return base_sign if base_sign == 1 or (base_sign == -1 and power.is_odd) else None
    if isinstance(e, sp.log):
        shifted = sp.expand(_probe(e.args[0]) - 1)
        return 1 if shifted.is_nonnegative else -1 if shifted.is_nonpositive else None
    if isinstance(e, (sp.exp, ExpOf, ExpRel, sp.Abs, sp.betainc_regularized)):
        return 1
    if isinstance(e, Float64Safe):
        return int(e.args[1])
    if isinstance(e, sp.erf):
        return sign_of(e.args[0])
    return None


# ----------------------------------------------------------------------------------------------------------
# log-space and value forms
# ----------------------------------------------------------------------------------------------------------
def log_form(e: sp.Expr) -> sp.Expr:
    """An expression equal to log(e) for e >= 0 (-oo where e = 0) that forms no product or power of values.

    Raises ``NotPositive`` when e is not known to be >= 0."""
    result = _log_form_cached(e)
    if result is None:
        raise NotPositive(e)
    return result


@cache
def _log_form_cached(e: sp.Expr) -> sp.Expr | None:
    try:
        return _log_form(e)
    except NotPositive:
        return None


def _log_form(e: sp.Expr) -> sp.Expr:
    if e.is_Number:
        if e > 0:
            return sp.log(e)
        if e == 0:
            return -sp.oo
        raise NotPositive(e)
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(log_form(v), c) for v, c in e.args])
    if sign_of(e) != 1:
        raise NotPositive(e)
    if isinstance(e, Float64Safe):
        return sp.log(e)
    if e.is_Symbol or isinstance(e, sp.Indexed):
        return sp.log(e)
    if isinstance(e, sp.Mul):
        terms = []
        for factor in e.args:
            s = sign_of(factor) if not factor.is_Number else (1 if factor >= 0 else -1)
            if s == 1:
                terms.append(log_form(factor))
            elif s == -1:
                # an even number of nonpositive factors: log of each one's magnitude (value first, then negate,
                # so that the negation is not rewritten again)
                terms.append(log_form(-factor) if factor.is_Number else sp.log(-value_form(factor)))
            else:
                raise NotPositive(factor)
        return sp.Add(*terms)
    if isinstance(e, sp.Pow):
        base, power = e.args
        if sign_of(base) != 1 and power.is_even:
            base = sp.Abs(base)  # x**2 of a real x: log(x**2) = 2 log|x|
        return power * log_form(base)
    if isinstance(e, (sp.exp, ExpOf)):
        return value_form(e.args[0])
    if isinstance(e, sp.Add):
        if all(sign_of(term) == 1 for term in e.args):
            return LogSumExp(*[log_form(term) for term in e.args])
        return sp.log(value_form(e))
    if isinstance(e, (sp.Max, sp.Min)):
        return e.func(*[log_form(a) for a in e.args], evaluate=False)
    return sp.log(value_form(e))


def _exact_integer_monomial(e: sp.Expr) -> bool:
    """A product of positive integers (symbols, per-layer symbols, numbers) with positive integer powers, or one
    such integer times a rational (n/2): its float64 value is exact (or one rounding) and overflows only when
    the value does."""
    factors = e.args if isinstance(e, sp.Mul) else (e,)
    if len(factors) == 2 and factors[0].is_Rational and factors[0] > 0:
        factors = factors[1:]
    for f in factors:
        base, power = f.args if isinstance(f, sp.Pow) else (f, sp.Integer(1))
        if not (power.is_Integer and power > 0):
            return False
        if not (
            (base.is_Integer and base > 0) or ((base.is_Symbol or isinstance(base, sp.Indexed)) and base.is_integer)
        ):
            return False
    return True


@cache
def value_form(e: sp.Expr) -> sp.Expr:
    """``e`` rewritten for float64 evaluation (see the module docstring); equal to ``e`` as an expression."""
    if e.is_Atom or isinstance(e, (sp.Indexed, Float64Safe)):
        return e
    if isinstance(e, (sp.Mul, sp.Pow)):
        if _exact_integer_monomial(e):
            return e
        return _product_form(e)
    if isinstance(e, sp.log):
        inner = e.args[0]
        if inner.is_Atom or isinstance(inner, sp.Indexed):
            return e
        try:
            logged = log_form(inner)
        except NotPositive:
            return sp.log(value_form(inner))
        terms = logged.args if isinstance(logged, sp.Add) else (logged,)
        scale = sp.Add(*[sp.Abs(term) for term in terms])
        return StableLog(_plain(inner), logged, scale)
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(value_form(v), c) for v, c in e.args])
    if isinstance(e, (sp.exp, ExpOf)):
        return ExpOf(value_form(e.args[0]))
    args = [value_form(a) for a in e.args]
    # evaluate=False: loggamma of an integer argument would otherwise come back as log(gamma(.))
    if isinstance(e, sp.Function):
        try:
            return e.func(*args, evaluate=False)
        except TypeError:  # a function without the keyword (betainc_regularized)
            pass
    return e.func(*args)


def _plain(e: sp.Expr) -> sp.Expr:
    """``e`` as written, with only its logarithms rewritten (the products evaluated directly, for StableLog)."""
    if isinstance(e, sp.log):
        return value_form(e)
    if e.is_Atom or isinstance(e, sp.Indexed) or not e.args:
        return e
    return e.func(*[_plain(a) for a in e.args])


def _unknown_factor(u: sp.Expr) -> sp.Expr:
    """A factor as written, its parts rewritten (a power keeps its exponent)."""
    if isinstance(u, sp.Pow):
        return sp.Pow(value_form(u.args[0]), u.args[1])
    return value_form(u)


def _product_form(e: sp.Expr) -> sp.Expr:
    """A product or power for float64: the factors of known sign as one ``ExpOf`` of their summed logs; each
    factor of unknown sign that is a sum of terms of known signs, u = sum s_i |t_i|, rescaled by its largest
    term, u = e^M sum s_i e^(log|t_i| - M), M = max log|t_i|, with e^M joining the exponential.  That
    rescaled product is the fallback (``Prefer``) of the product written directly, used where it overflows."""
    factors = e.args if isinstance(e, sp.Mul) else (e,)
    others = [f for f in factors if not f.is_Number]
    if len(others) == 1 and not isinstance(others[0], sp.Pow) and len(factors) == 2:
        return factors[0] * value_form(others[0])  # -log(p), 2*log(delta): one rounding, no log-space detour
    sign, logs, magnitudes, unknown = 1, [], [], []
    for factor in factors:
        s = (1 if factor >= 0 else -1) if factor.is_Number else sign_of(factor)
        if s is None:
            unknown.append(factor)
            continue
        sign *= s
        if s == 1:
            logs.append(log_form(factor))
            magnitudes.append(factor if factor.is_Number else _unknown_factor(factor))
        elif factor.is_Number:
            logs.append(log_form(-factor))
            magnitudes.append(-factor)
        elif isinstance(factor, sp.Pow) and factor.args[1].is_Integer:
            # a negative power of a negative base (odd integer exponent): log|b^n| = n log(-b), no recursion
            base, power = factor.args
            logs.append(power * sp.log(-value_form(base)))
            magnitudes.append(-_unknown_factor(factor))
        else:
            logs.append(sp.log(-value_form(factor)))
            magnitudes.append(-_unknown_factor(factor))
    known_log = sp.Add(*logs)
    known = Consistent(sp.Mul(*magnitudes), known_log) if logs else sp.Integer(1)
    if not unknown:
        return sign * known
    direct = sign * known * sp.Mul(*[_unknown_factor(u) for u in unknown])
    scaled, shift, rescaled_any = [], [], False
    for u in unknown:
        base, power = u.args if isinstance(u, sp.Pow) else (u, sp.Integer(1))
        if isinstance(base, DiffProd):  # where it overflows: the difference as written, rescaled by its larger term
            base = base.rewrite(sp.Add)
        signs = [sign_of(t) for t in base.args] if isinstance(base, sp.Add) else [None]
        if None in signs or not power.is_Number:
            scaled.append(_unknown_factor(u))
            continue
        term_logs = [log_form(t) if s == 1 else log_form(-t) for t, s in zip(base.args, signs)]
        top = sp.Max(*term_logs, evaluate=False) if len(term_logs) > 1 else term_logs[0]
        scaled.append(sp.Add(*[s * ExpOf(lg - top) for s, lg in zip(signs, term_logs)]) ** power)
        shift.append(power * top)
        rescaled_any = True
    if not rescaled_any:
        return direct
    fallback = sign * sp.Mul(*scaled) * ExpOf(sp.Add(*logs, *shift))
    return Prefer(direct, fallback, known_log)


def zero_condition(e: sp.Expr) -> sp.Basic:
    """A condition that holds where ``e`` is exactly 0 because of its structure (a zero factor, a zero
    ``Piecewise`` branch, log(1), a difference that float64 evaluates to 0 from exact inputs)."""
    if e.is_Number:
        return sp.true if e == 0 else sp.false
    if e.is_Symbol or isinstance(e, sp.Indexed):
        return sp.false if sign_of(e) == 1 and e.is_positive else sp.Eq(e, 0)
    if isinstance(e, sp.Mul):
        return sp.Or(*[zero_condition(a) for a in e.args])
    if isinstance(e, sp.Pow):
        return zero_condition(e.args[0]) if e.args[1].is_positive else sp.false
    if isinstance(e, sp.Piecewise):
        seen: list[sp.Basic] = []
        terms: list[sp.Basic] = []
        for v, c in e.args:
            terms.append(sp.And(c, *[sp.Not(s) for s in seen], zero_condition(v)))
            seen.append(c)
        return sp.Or(*terms)
    if isinstance(e, sp.log):
        return sp.Eq(e.args[0], 1)
    if isinstance(e, sp.loggamma):
        return sp.Or(sp.Eq(e.args[0], 1), sp.Eq(e.args[0], 2))
    if isinstance(e, (expm1, log1p)):  # exp(y) - 1 and log(1 + y): 0 exactly at y = 0
        return sp.Eq(e.args[0], 0)
    if isinstance(e, DiffProd):  # evaluated without rounding the product: a 0 is exact
        return sp.Eq(e, 0)
    if isinstance(e, sp.betainc_regularized):  # I_x(a, b) from 0: zero exactly at x = 0
        return zero_condition(e.args[3]) if e.args[2] == 0 else sp.false
    if isinstance(e, (sp.exp, ExpOf, LogSumExp)):
        return sp.false
    if isinstance(e, Float64Safe):
        return e.args[2] if len(e.args) > 2 else sp.Eq(e, 0)
    if isinstance(e, (sp.erf, sp.Max, sp.Min)) or isinstance(e, sp.Add):
        if isinstance(e, sp.Add) and all(sign_of(t) == 1 for t in e.args):
            return sp.And(*[zero_condition(t) for t in e.args])
        return sp.Eq(value_form(e), 0)
    return sp.false
