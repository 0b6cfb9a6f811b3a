"""The numeric face of a derived SymPy result: one ``Formula`` per closed form.

A ``Formula`` holds the simplified SymPy expression and the ordered symbols it is a
function of, and evaluates it with numpy/scipy (``formula(...)``) or torch
(``formula.torch(...)``), both generated once by ``lambdify``.  Every call validates
its arguments from the symbols' assumptions (see ``theory._symbols``): positive,
nonnegative, integer, inside (0, 1), finite.  A violation raises ``ValueError``
naming the argument and the rule, so no NaN leaks out of a bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ._stable import (
    FLOAT64_TINY,
    Float64RangeError,
    NotPositive,
    compile_numpy,
    compile_torch,
    log_form,
    value_form,
    zero_condition,
)
from ._symbols import CLOSED_UNIT_INTERVAL, UNIT_INTERVAL


def _as_float_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real number or array of real numbers (got {value!r})") from exc
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (got NaN or infinity)")
    return arr


def validate_argument(symbol: sp.Symbol, value: Any) -> np.ndarray:
    """Check ``value`` against the assumptions of ``symbol``; return it as a float array.

    Raises ``ValueError`` with the argument's name and the violated rule.
    """
    name = symbol.name
    arr = _as_float_array(name, value)
    if symbol in UNIT_INTERVAL:
        if np.any((arr <= 0) | (arr >= 1)):
            raise ValueError(f"{name} must lie strictly between 0 and 1 (got {_worst(arr, (arr <= 0) | (arr >= 1))})")
    elif symbol in CLOSED_UNIT_INTERVAL:
        if np.any((arr < 0) | (arr > 1)):
            raise ValueError(f"{name} must lie in [0, 1] (got {_worst(arr, (arr < 0) | (arr > 1))})")
    elif symbol.is_positive:
        if np.any(arr <= 0):
            raise ValueError(f"{name} must be > 0 (got {_worst(arr, arr <= 0)})")
    elif symbol.is_nonnegative:
        if np.any(arr < 0):
            raise ValueError(f"{name} must be >= 0 (got {_worst(arr, arr < 0)})")
    if symbol.is_integer and np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must be an integer (got {_worst(arr, arr != np.round(arr))})")
    return arr


def stable_for_numbers(expr: sp.Expr) -> sp.Expr:
    """Rewrite log(gamma(z)) as an unevaluated loggamma(z) (scipy's gammaln), so that log-factorials
    and log-binomials of large arguments never overflow; SymPy re-evaluates loggamma of integer
    arguments into log(gamma(.)) whenever a substitution touches it."""
    return expr.replace(
        lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.gamma),
        lambda e: sp.loggamma(e.args[0].args[0], evaluate=False),
    )


def _worst(arr: np.ndarray, bad: np.ndarray) -> str:
    return repr(float(np.atleast_1d(arr)[np.atleast_1d(bad)][0]))


class _Checked:
    """What ``Formula`` and ``LayerFormula`` share: the constraints between arguments and the range check of a
    computed value (NaN, inf, a 0 that is not structurally 0, a subnormal number: each a one-line error)."""

    name: str
    _log10_hint: str = ""

    def _label(self) -> str:
        claim_id = getattr(self, "claim_id", None)
        return f"{self.name} ({claim_id})" if claim_id else self.name

    def _compile_checks(self, args, numeric: sp.Expr, constraints) -> None:
        self._constraint_fns = [(compile_numpy(args, rel), msg) for rel, msg in constraints]
        # compiled on the first value that needs them (a 0, inf or NaN)
        self._check_args, self._check_source = list(args), numeric
        self._zero_fn_cache, self._log10_fn_cache = None, False

    @property
    def _zero_fn(self):
        if self._zero_fn_cache is None:
            self._zero_fn_cache = compile_numpy(self._check_args, zero_condition(self._check_source))
        return self._zero_fn_cache

    @property
    def _log10_fn(self):
        if self._log10_fn_cache is False:
            try:
                form = stable_for_numbers(log_form(self._check_source)) / sp.log(10)
                self._log10_fn_cache = compile_numpy(self._check_args, form)
            except NotPositive:
                self._log10_fn_cache = None
        return self._log10_fn_cache

    def _check_constraints(self, names, arrays) -> None:
        for fn, message in self._constraint_fns:
            with np.errstate(all="ignore"):
                held = np.asarray(fn(*arrays), dtype=bool)
            if not held.all():
                raise ValueError(f"{self._label()}: {message} (got {self._describe(names, arrays, held, False)})")

    def _describe(self, names, arrays, mask, bad_value) -> str:
        """The arguments at the first element where ``mask`` is ``bad_value``."""
        flat = np.flatnonzero(np.atleast_1d(mask) == bad_value)
        first = int(flat[0]) if flat.size else 0
        shape = np.shape(mask)
        parts = []
        for nm, arr in zip(names, arrays):
            arr = np.asarray(arr)
            if arr.ndim == 1 and not shape:
                parts.append(f"{nm}={[float(v) for v in arr]}")
                continue
            value = np.broadcast_to(arr, shape).flat[first] if shape else arr
            parts.append(f"{nm}={float(value)!r}")
        return ", ".join(parts)

    def _check_range(self, out: np.ndarray, names, arrays) -> None:
        finite = np.isfinite(out)
        with np.errstate(all="ignore"):
            tiny = finite & (np.abs(out) < FLOAT64_TINY)
        if finite.all() and not tiny.any():
            return
        if np.isnan(out).any():
            where = self._describe(names, arrays, np.isnan(out), True)
            raise ValueError(f"{self._label()}: no real value at {where} (the closed form is not defined there)")
        with np.errstate(all="ignore"):
            structural = np.broadcast_to(np.asarray(self._zero_fn(*arrays), dtype=bool), out.shape)
        underflow = tiny & ~((out == 0) & structural)
        overflow = ~finite
        for mask, what in ((overflow, "above 1.8e308: it overflows"), (underflow, "below 2.2e-308: it underflows")):
            if mask.any():
                where = self._describe(names, arrays, mask, True)
                size = ""
                if self._log10_fn is not None:
                    with np.errstate(all="ignore"):
                        log10 = np.broadcast_to(np.asarray(self._log10_fn(*arrays), dtype=float), out.shape)
                    first = log10[mask].flat[0] if log10.ndim else float(log10)
                    if np.isfinite(first):
                        size = f" (about 10^{first:.4g})"
                raise Float64RangeError(
                    f"{self._label()}: the value at {where} is outside float64's range{size}, {what}{self._log10_hint}"
                )


class Formula(_Checked):
    """A derived closed form with validated numpy and torch evaluators.

    ``claim_id`` names the paper statement it belongs to; ``args`` fixes the order of positional arguments
    (keyword arguments use the symbol names).  ``numeric`` (optional) is an expression equal to ``expr``
    written for float64 (a rationalised difference, a Stirling form), derived and proved equal where the
    result is derived; both faces evaluate ``value_form`` of it (``theory._stable``).  ``constraints`` are
    ``(relation, message)`` pairs between the arguments outside which the closed form has no meaning (a
    ValueError naming them).  A value outside float64's normal range raises ``Float64RangeError`` (a
    ValueError); NaN, inf and an underflow to 0 are never returned.
    """

    def __init__(
        self,
        name: str,
        claim_id: str,
        expr,
        args: Sequence[sp.Symbol],
        doc: str = "",
        *,
        numeric=None,
        constraints: Sequence[tuple[Any, str]] = (),
    ):
        """``expr`` and ``numeric`` are SymPy expressions or zero-argument callables that derive them
        (called once, on first use, so that importing ``theory`` stays cheap)."""
        self.name = name
        self.claim_id = claim_id
        self._expr: sp.Expr | None = expr if isinstance(expr, sp.Basic) else None
        self._factory: Callable[[], Any] | None = None if isinstance(expr, sp.Basic) else expr
        self._numeric_factory = numeric
        self.args = tuple(args)
        self.constraints = tuple(constraints)
        self.__doc__ = doc or f"{claim_id}: {name}"
        self._np: Callable[..., Any] | None = None
        self._torch: Callable[..., Any] | None = None
        self._numeric: sp.Expr | None = None

    @property
    def expr(self) -> sp.Expr:
        """The simplified SymPy expression (derived on first access)."""
        if self._expr is None:
            if self._factory is None:  # expr was None: calling it raised TypeError too
                raise TypeError(f"{self.name}: expr is neither a SymPy expression nor a callable deriving one")
            expr = sp.sympify(self._factory())
            missing = expr.free_symbols - set(self.args)
            if missing:
                raise TypeError(f"{self.name}: expression uses symbols not in args: {sorted(s.name for s in missing)}")
            self._expr = expr
        return self._expr

    @property
    def numeric(self) -> sp.Expr:
        """The float64 form both faces evaluate: ``value_form`` of ``numeric`` (or of ``expr``)."""
        if self._numeric is None:
            source = self.expr
            if self._numeric_factory is not None:
                source = sp.sympify(
                    self._numeric_factory() if callable(self._numeric_factory) else self._numeric_factory
                )
            source = stable_for_numbers(source)
            self._numeric = stable_for_numbers(value_form(source))
            self._compile_checks(self.args, source, self.constraints)
        return self._numeric

    # -- argument handling ----------------------------------------------------------
    def _bind(self, values: tuple, kwargs: dict) -> list:
        if len(values) > len(self.args):
            raise TypeError(f"{self.name} takes {len(self.args)} arguments ({', '.join(s.name for s in self.args)})")
        bound = dict(zip((s.name for s in self.args), values))
        for key, val in kwargs.items():
            if key not in {s.name for s in self.args}:
                raise TypeError(f"{self.name} got an unexpected argument {key!r}")
            if key in bound:
                raise TypeError(f"{self.name} got {key!r} twice")
            bound[key] = val
        absent = [s.name for s in self.args if s.name not in bound]
        if absent:
            raise TypeError(f"{self.name} is missing argument(s): {', '.join(absent)}")
        return [bound[s.name] for s in self.args]

    def __call__(self, *values, **kwargs) -> np.ndarray | float:
        """Evaluate with numpy/scipy after validating every argument.

        Raises ValueError (an argument breaks its symbol's assumptions or a stated constraint, or the closed
        form has no real value) and ``Float64RangeError`` (a ValueError: the value is outside float64's range).
        """
        ordered = self._bind(values, kwargs)
        arrays = [validate_argument(s, v) for s, v in zip(self.args, ordered)]
        numeric = self.numeric
        names = [s.name for s in self.args]
        self._check_constraints(names, arrays)
        if self._np is None:
            self._np = compile_numpy(self.args, numeric)
        with np.errstate(all="ignore"):
            out = np.asarray(self._np(*arrays), dtype=float)
        if arrays:
            out = np.broadcast_to(out, np.broadcast_shapes(out.shape, *(a.shape for a in arrays))).copy()
        self._check_range(out, names, arrays)
        return float(out) if out.ndim == 0 else out

    def unchecked(self, *values) -> np.ndarray:
        """The numpy face's float64 form at float arrays (positional, in ``args`` order) WITHOUT validation or range
        checks: for inner loops whose inputs were checked once and which compare values with a level (a bisection),
        where an underflow to 0 or a subnormal value is a meaningful "below the level".  NaN, inf and 0 are returned
        as computed; use the call itself everywhere else."""
        numeric = self.numeric
        if self._np is None:
            self._np = compile_numpy(self.args, numeric)
        with np.errstate(all="ignore"):
            return np.asarray(self._np(*values), dtype=float)

    def torch(self, *values, **kwargs):
        """Evaluate with torch (CPU or CUDA tensors); arguments and the result are checked as in ``__call__``.

        The same float64 form as the numpy face, every function bound to torch (the regularised incomplete
        beta, which torch lacks, is scipy's on the CPU, returned on the arguments' device without gradient)."""
        import torch

        ordered = self._bind(values, kwargs)
        tensors, arrays = [], []
        for s, v in zip(self.args, ordered):
            if isinstance(v, torch.Tensor):
                arrays.append(validate_argument(s, v.detach().cpu().numpy()))
                tensors.append(v)
            else:
                arrays.append(validate_argument(s, v))
                tensors.append(torch.as_tensor(arrays[-1], dtype=torch.float64))
        numeric = self.numeric
        names = [s.name for s in self.args]
        self._check_constraints(names, arrays)
        if self._torch is None:
            self._torch = compile_torch(self.args, numeric)
        out = self._torch(*tensors)
        ref = tensors[0] if tensors else None
        out = torch.as_tensor(
            out,
            dtype=ref.dtype if ref is not None and ref.is_floating_point() else torch.float64,
            device=ref.device if ref is not None else None,
        )
        if tensors:
            out = out.expand(torch.broadcast_shapes(out.shape, *(t.shape for t in tensors)))
        self._check_range(out.detach().cpu().numpy().astype(float), names, arrays)
        return out

    def __repr__(self) -> str:
        return f"Formula({self.name}: {self.expr} in ({', '.join(s.name for s in self.args)}); {self.claim_id})"
