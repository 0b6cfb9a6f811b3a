"""Formulas over a network's layers: sums and products over l = 0 .. L-1.

A ``LayerFormula`` is written once with SymPy ``Sum``/``Product`` over indexed per-layer
symbols and a symbolic depth ``L`` (that form goes in the ledger and the docs).  For numbers
it substitutes the actual depth, expands the sums and products, and lambdifies once per depth
the float64 forms of ``theory._stable``: the value as ``value_form`` (products as exponentials of
sums of logs), ``log10(...)`` as ``log_form`` / ln 10 (sums of logs, and log-sum-exp for sums of
positive terms), so that products of many norms never overflow, not even inside a sum.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ._numeric import _Checked, stable_for_numbers, validate_argument
from ._stable import NotPositive, compile_numpy, log_form, value_form
from ._symbols import L

l_idx = sp.Idx(sp.Symbol("ell", integer=True, nonnegative=True))  # layer index (l is Sec. 6 depth)


def layer_symbol(name: str, **assumptions) -> sp.IndexedBase:
    """A per-layer quantity ``name[l]``; the assumptions ride on its label (used for validation)."""
    return sp.IndexedBase(sp.Symbol(name, **assumptions))


def layer_sum(term: sp.Expr) -> sp.Sum:
    return sp.Sum(term, (l_idx, 0, L - 1))


def layer_product(term: sp.Expr) -> sp.Product:
    return sp.Product(term, (l_idx, 0, L - 1))


def expand_layers(expr: sp.Expr, depth: int) -> sp.Expr:
    """``expr`` with L = depth and every Sum/Product over the layer index written out term by term (what
    ``.subs(L, depth).doit()`` gives, without SymPy's general summation machinery)."""
    expr = expr.xreplace({L: sp.Integer(depth)})

    def has_values(node) -> bool:
        (_, low, high) = node.limits[0]
        return low.is_number and high.is_number  # numbers, perhaps unevaluated (-1 + 2)

    def write_out(node):
        (index, low, high), body = node.limits[0], node.function
        low, high = low.doit(), high.doit()  # limits substituted unevaluated (-1 + 2)
        # unevaluated: rebuilding each layer's Piecewise with its conditions re-simplified costs seconds
        with sp.evaluate(False):
            terms = [body.xreplace({index: sp.Integer(i)}) for i in range(int(low), int(high) + 1)]
        return sp.Add(*terms) if isinstance(node, sp.Sum) else sp.Mul(*terms)

    # a sum whose limits depend on an outer layer index (a prefix sum over the layers before l) is written out
    # once the outer one has given the index a value
    while True:
        expanded = expr.replace(lambda node: isinstance(node, (sp.Sum, sp.Product)) and has_values(node), write_out)
        if expanded == expr:
            return expanded
        expr = expanded


class LayerFormula(_Checked):
    """A closed form over per-layer arrays (length L) and scalars.

    ``layer_args`` are IndexedBase objects (one value per layer), ``scalar_args`` plain symbols.
    Call with keyword arguments named as the symbols; per-layer values are 1-D sequences of equal
    length L >= 1.  Validation follows the symbols' assumptions (see ``theory._numeric``).  ``numeric``
    (optional) is an expression equal to ``expr`` written for float64, derived where the result is.
    A value outside float64's range raises ``Float64RangeError`` (a ValueError) pointing to ``.log10``.
    """

    _log10_hint = "; use .log10 for its base-10 logarithm"

    def __init__(
        self,
        name: str,
        claim_id: str,
        expr,
        layer_args: Sequence[sp.IndexedBase],
        scalar_args: Sequence[sp.Symbol] = (),
        doc: str = "",
        *,
        numeric=None,
        constraints: Sequence[tuple[Any, str]] = (),
    ):
        """``constraints``: ``(relation, message)`` pairs in the per-layer symbols at the layer index ``l_idx``
        (e.g. ``alpha[l_idx] <= d1[l_idx] * d2[l_idx]``), required for every layer."""
        self.name = name
        self.claim_id = claim_id
        self._expr: sp.Expr | None = expr if isinstance(expr, sp.Basic) else None
        self._factory: Callable[[], Any] | None = None if isinstance(expr, sp.Basic) else expr
        self.layer_args = tuple(layer_args)
        self.scalar_args = tuple(scalar_args)
        self.__doc__ = doc or f"{claim_id}: {name}"
        self._numeric_factory = numeric
        self.constraints = tuple(constraints)
        self._cache: dict[tuple[int, bool], Any] = {}
        self._expanded_numeric: dict[int, sp.Expr] = {}
        self._checks: dict[int, _Checked] = {}  # per depth: constraints, zero condition, log10 for messages

    @property
    def expr(self) -> sp.Expr:
        if self._expr is None:
            if self._factory is None:  # expr was None: calling it raised TypeError too
                raise TypeError(f"{self.name}: expr is neither a SymPy expression nor a callable deriving one")
            self._expr = self._factory()
        return self._expr

    def expanded(self, depth: int) -> sp.Expr:
        """The formula for a network of ``depth`` layers, sums and products written out."""
        return expand_layers(self.expr, depth)

    def _numeric_expanded(self, depth: int) -> sp.Expr:
        if depth not in self._expanded_numeric:
            source = self.expr
            if self._numeric_factory is not None:
                source = self._numeric_factory() if callable(self._numeric_factory) else self._numeric_factory
            self._expanded_numeric[depth] = stable_for_numbers(expand_layers(source, depth))
        return self._expanded_numeric[depth]

    def constraints_for(self, depth: int) -> list[tuple[Any, str]]:
        """The constraints for a network of ``depth`` layers: each relation required for every layer."""
        return [(sp.And(*[rel.subs(l_idx, i) for i in range(depth)]), msg) for rel, msg in self.constraints]

    def _checker(self, depth: int) -> _Checked:
        if depth not in self._checks:
            checks = _Checked()
            checks.name, checks._log10_hint = f"{self.name} ({self.claim_id})", self._log10_hint
            args = list(self.layer_args) + list(self.scalar_args)
            checks._compile_checks(args, self._numeric_expanded(depth), self.constraints_for(depth))
            self._checks[depth] = checks
        return self._checks[depth]

    def _compiled(self, depth: int, log: bool):
        key = (depth, log)
        if key not in self._cache:
            expr = self._numeric_expanded(depth)
            args = list(self.layer_args) + list(self.scalar_args)
            if log:
                try:
                    form = log_form(expr)
                except NotPositive:
                    form = sp.log(value_form(expr))
                form = form / sp.log(10)
            else:
                form = value_form(expr)
            self._cache[key] = compile_numpy(args, stable_for_numbers(form))
        return self._cache[key]

    def _prepare(self, kwargs: Mapping[str, Any]) -> tuple[int, list]:
        names = [b.label.name for b in self.layer_args] + [s.name for s in self.scalar_args]
        unknown = set(kwargs) - set(names)
        if unknown:
            raise TypeError(f"{self.name} got unexpected argument(s) {sorted(unknown)}; takes {names}")
        missing = [nm for nm in names if nm not in kwargs]
        if missing:
            raise TypeError(f"{self.name} is missing argument(s): {', '.join(missing)}")
        values, depth = [], None
        for base in self.layer_args:
            arr = np.atleast_1d(validate_argument(base.label, kwargs[base.label.name]))
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"{base.label.name} must be a non-empty 1-D sequence with one value per layer")
            if depth is None:
                depth = arr.size
            elif arr.size != depth:
                raise ValueError(f"{base.label.name} has {arr.size} layers but earlier arguments have {depth}")
            values.append(arr)
        for sym in self.scalar_args:
            values.append(validate_argument(sym, kwargs[sym.name]))
        return depth or 1, values

    def _names(self) -> list[str]:
        return [b.label.name for b in self.layer_args] + [s.name for s in self.scalar_args]

    def __call__(self, **kwargs) -> float:
        """The value; raises ValueError for arguments outside the symbols' assumptions and
        ``Float64RangeError`` (a ValueError) when the value is outside float64's range (use ``.log10``)."""
        depth, values = self._prepare(kwargs)
        checker = self._checker(depth)
        checker._check_constraints(self._names(), values)
        fn = self._compiled(depth, False)
        with np.errstate(all="ignore"):
            out = np.asarray(fn(*values), dtype=float)
        checker._check_range(out, self._names(), values)
        return float(out)

    def log10(self, **kwargs) -> float:
        """log10 of the formula (base 10; the formulas use natural logs inside), evaluated in log-space:
        sums of logarithms and log-sum-exp, so no product, power or sum overflows.  -inf where the value
        is exactly 0; ValueError for arguments outside the symbols' assumptions."""
        depth, values = self._prepare(kwargs)
        self._checker(depth)._check_constraints(self._names(), values)
        with np.errstate(all="ignore"):
            out = float(self._compiled(depth, True)(*values))
        if np.isnan(out) or out == np.inf:
            raise ValueError(
                f"{self._label()}.log10: no real value at {self._describe(self._names(), values, True, True)}"
            )
        return out

    def __repr__(self) -> str:
        return f"LayerFormula({self.name}: {self.expr}; {self.claim_id})"
