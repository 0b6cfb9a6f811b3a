"""Formulas over a network's layers: sums and products over l = 0 .. L-1.

A ``LayerFormula`` is written once with SymPy ``Sum``/``Product`` over indexed per-layer
symbols and a symbolic depth ``L`` (that form goes in the ledger and the docs).  For numbers
it substitutes the actual depth, expands the sums and products, and lambdifies once per depth;
``log10(...)`` evaluates the base-10 logarithm from the expanded logarithm (sums of logs), so
products of many norms never overflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ._numeric import stable_for_numbers, validate_argument
from ._symbols import L

l_idx = sp.Idx(sp.Symbol("ell", integer=True, nonnegative=True))  # layer index (l is Sec. 6 depth)


def layer_symbol(name: str, **assumptions) -> sp.IndexedBase:
    """A per-layer quantity ``name[l]``; the assumptions ride on its label (used for validation)."""
    return sp.IndexedBase(sp.Symbol(name, **assumptions))


def layer_sum(term: sp.Expr) -> sp.Sum:
    return sp.Sum(term, (l_idx, 0, L - 1))


def layer_product(term: sp.Expr) -> sp.Product:
    return sp.Product(term, (l_idx, 0, L - 1))


class LayerFormula:
    """A closed form over per-layer arrays (length L) and scalars.

    ``layer_args`` are IndexedBase objects (one value per layer), ``scalar_args`` plain symbols.
    Call with keyword arguments named as the symbols; per-layer values are 1-D sequences of equal
    length L >= 1.  Validation follows the symbols' assumptions (see ``theory._numeric``).
    """

    def __init__(
        self,
        name: str,
        claim_id: str,
        expr,
        layer_args: Sequence[sp.IndexedBase],
        scalar_args: Sequence[sp.Symbol] = (),
        doc: str = "",
    ):
        self.name = name
        self.claim_id = claim_id
        self._expr = expr if isinstance(expr, sp.Basic) else None
        self._factory = None if isinstance(expr, sp.Basic) else expr
        self.layer_args = tuple(layer_args)
        self.scalar_args = tuple(scalar_args)
        self.__doc__ = doc or f"{claim_id}: {name}"
        self._cache: dict[tuple[int, bool], Any] = {}

    @property
    def expr(self) -> sp.Expr:
        if self._expr is None:
            self._expr = self._factory()
        return self._expr

    def expanded(self, depth: int) -> sp.Expr:
        """The formula for a network of ``depth`` layers, sums and products written out."""
        return self.expr.subs(L, depth).doit()

    def _compiled(self, depth: int, log: bool):
        key = (depth, log)
        if key not in self._cache:
            expr = self.expanded(depth)
            if log:
                expr = sp.expand_log(sp.log(expr), force=True) / sp.log(10)
            args = list(self.layer_args) + list(self.scalar_args)
            self._cache[key] = sp.lambdify(args, stable_for_numbers(expr), modules=["scipy", "numpy"])
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

    def __call__(self, **kwargs) -> float:
        depth, values = self._prepare(kwargs)
        return float(self._compiled(depth, False)(*values))

    def log10(self, **kwargs) -> float:
        """log10 of the formula, evaluated as a sum of logarithms (no overflow)."""
        depth, values = self._prepare(kwargs)
        return float(self._compiled(depth, True)(*values))

    def __repr__(self) -> str:
        return f"LayerFormula({self.name}: {self.expr}; {self.claim_id})"
