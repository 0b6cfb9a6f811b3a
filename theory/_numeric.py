"""The numeric face of a derived SymPy result: one ``Formula`` per closed form.

A ``Formula`` holds the simplified SymPy expression and the ordered symbols it is a
function of, and evaluates it with numpy/scipy (``formula(...)``) or torch
(``formula.torch(...)``), both generated once by ``lambdify``.  Every call validates
its arguments from the symbols' assumptions (see ``theory._symbols``): positive,
nonnegative, integer, inside (0, 1), finite.  A violation raises ``ValueError``
naming the argument and the rule, so no NaN leaks out of a bad input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from ._symbols import UNIT_INTERVAL

_NUMPY_MODULES = ["scipy", "numpy"]


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


class Formula:
    """A derived closed form with validated numpy and torch evaluators.

    ``claim_id`` names the paper statement it belongs to; ``args`` fixes the order of
    positional arguments (keyword arguments use the symbol names).
    """

    def __init__(self, name: str, claim_id: str, expr, args: Sequence[sp.Symbol], doc: str = ""):
        """``expr`` is a SymPy expression or a zero-argument callable that derives it
        (called once, on first use, so that importing ``theory`` stays cheap)."""
        self.name = name
        self.claim_id = claim_id
        self._expr = expr if isinstance(expr, sp.Basic) else None
        self._factory = None if isinstance(expr, sp.Basic) else expr
        self.args = tuple(args)
        self.__doc__ = doc or f"{claim_id}: {name}"
        self._np = None
        self._torch = None

    @property
    def expr(self) -> sp.Expr:
        """The simplified SymPy expression (derived on first access)."""
        if self._expr is None:
            expr = sp.sympify(self._factory())
            missing = expr.free_symbols - set(self.args)
            if missing:
                raise TypeError(f"{self.name}: expression uses symbols not in args: {sorted(s.name for s in missing)}")
            self._expr = expr
        return self._expr

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
        """Evaluate with numpy/scipy after validating every argument."""
        ordered = self._bind(values, kwargs)
        arrays = [validate_argument(s, v) for s, v in zip(self.args, ordered)]
        if self._np is None:
            self._np = sp.lambdify(self.args, stable_for_numbers(self.expr), modules=_NUMPY_MODULES)
        out = np.asarray(self._np(*arrays), dtype=float)
        if arrays:
            out = np.broadcast_to(out, np.broadcast_shapes(*(a.shape for a in arrays))).copy()
        return float(out) if out.ndim == 0 else out

    def torch(self, *values, **kwargs):
        """Evaluate with torch (CPU or CUDA tensors); arguments are validated the same way."""
        import torch

        ordered = self._bind(values, kwargs)
        tensors = []
        for s, v in zip(self.args, ordered):
            if isinstance(v, torch.Tensor):
                validate_argument(s, v.detach().cpu().numpy())
                tensors.append(v)
            else:
                tensors.append(torch.as_tensor(validate_argument(s, v), dtype=torch.float64))
        if self._torch is None:
            self._torch = sp.lambdify(self.args, self.expr, modules="torch")
        out = self._torch(*tensors)
        if not isinstance(out, torch.Tensor):
            ref = tensors[0] if tensors else None
            out = torch.as_tensor(
                out,
                dtype=ref.dtype if ref is not None else torch.float64,
                device=ref.device if ref is not None else None,
            )
        return out

    def __repr__(self) -> str:
        return f"Formula({self.name}: {self.expr} in ({', '.join(s.name for s in self.args)}); {self.claim_id})"
