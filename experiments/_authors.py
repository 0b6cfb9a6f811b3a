"""The released code's computations that change a number, reproduced as they execute (``--protocol authors``).

Read from the authors' released code (``groundzero/main.py`` of their supplementary repository; nothing copied):

- kappa_l (Condition C.1 / Lemma C.1 constants): for a layer with fewer outputs than inputs, t solves
  ``1 - m exp(-t^2 d_in) = 0.99`` by ``scipy.optimize.bisect`` on [0, 1] with ``xtol = 0.01`` and
  ``kappa = min(1, t sqrt(outputs))``; other layers have kappa = 1 (:func:`authors_kappa`).
- the pruning strength: ``scipy.optimize.bisect(margin - gamma*(alpha), 0, 10, xtol=1e-3)`` where every
  evaluation of gamma* draws Algorithm 1 afresh (no common random numbers), the diagonal pruned; at alpha = 0
  nothing is pruned (:func:`authors_search`).
- "Ours": one more fresh draw at the chosen alpha gives the needed margin; the bound is the unpruned network's
  training margin loss at that margin (a margin equal to it counts as correct) plus
  sqrt(sum_l d1 d2 chi(alpha) ln^2 max(d1, d2) / m); "True error" is that draw's pruned network's test error
  (margin < 0 is an error) (:func:`authors_final`).

Every formula comes from ``theory`` (lambdified there); only the root-finders, brackets, tolerances and the
order of random draws are the released code's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.optimize
import sympy as sp

import numerics
import theory

#: the released code's bracket and tolerance for the pruning strength
SEARCH_BRACKET = (0.0, 10.0)
SEARCH_XTOL = 1e-3
#: the released code's bracket, tolerance and target for t of Condition C.1
KAPPA_BRACKET = (0.0, 1.0)
KAPPA_XTOL = 0.01
KAPPA_CONFIDENCE = 0.99


@cache
def _raw(formula_name: str):
    """A theory Formula's expression lambdified without argument validation (for a root-finder that probes the
    closed end of its bracket, t = 0, where the expression is finite though the symbol is declared positive)."""
    f = getattr(theory, formula_name)
    return sp.lambdify(f.args, f.expr, modules=["scipy", "numpy"])


def authors_t(m: int, d_in: int) -> float:
    """t solving 1 - m * a exp(-b t^2 d_in) = 0.99 (a = b = 1, ``theory.condition_c_1_tail``) by the released
    code's bisection on [0, 1] with xtol 0.01.  Raises ValueError when [0, 1] holds no sign change (then the
    released code raises too: m exp(-d_in) >= 0.01)."""
    tail = _raw("condition_c_1_tail")

    def f(t: float) -> float:
        return 1.0 - m * float(tail(t, d_in, 1.0, 1.0)) - KAPPA_CONFIDENCE

    try:
        return float(scipy.optimize.bisect(f, *KAPPA_BRACKET, xtol=KAPPA_XTOL))
    except ValueError:
        raise ValueError(
            f"the released code's kappa has no root in [0, 1] for m = {m}, d_in = {d_in} (m exp(-d_in) >= 0.01)"
        ) from None


def authors_kappa(shapes: list[tuple[int, int]], m: int) -> np.ndarray:
    """kappa_l for layers of shape (outputs, inputs): ``theory.condition_c_1_kappa(t, outputs)`` with the
    released code's t (:func:`authors_t`) where outputs < inputs, else 1.  Shape (L,), dimensionless."""
    out = []
    for d_out, d_in in shapes:
        if d_out < d_in:
            out.append(float(theory.condition_c_1_kappa(authors_t(m, d_in), d_out)))
        else:
            out.append(1.0)
    return np.array(out)


def _prune_all(weights: list[np.ndarray], alpha: float, rng: np.random.Generator, prune_diagonal: bool):
    if alpha == 0.0:  # the released code keeps every entry at alpha = 0 (its zeroing probability is exp(-inf) = 0)
        return [w.copy() for w in weights]
    return [numerics.algorithm_1(w, alpha, prune_diagonal=prune_diagonal, generator=rng)[0] for w in weights]


@dataclass
class AuthorsSearch:
    """The released code's search: the strength ``alpha``, gamma* of the draw that ended it, the number of
    gamma* evaluations, and ``status`` ("root" or the reason the released code would have raised)."""

    alpha: float
    gamma_star: float
    evaluations: int
    status: str


def authors_search(
    weights: list[np.ndarray],
    gamma_star_of: Callable[[list[np.ndarray]], float],
    target: float,
    rng: np.random.Generator,
    prune_diagonal: bool = True,
) -> AuthorsSearch:
    """``scipy.optimize.bisect`` of target - gamma*(alpha) on [0, 10] (xtol 1e-3), each evaluation a fresh
    Algorithm 1 draw from ``rng``; ``gamma_star_of(pruned)`` is the needed margin of a pruned network.  With
    ``target <= 0`` the released code skips the search (alpha = 0)."""
    if not target > 0:
        return AuthorsSearch(0.0, 0.0, 0, "margin <= 0: the released code sets alpha = 0")
    calls = [0]
    last = [0.0]

    def f(alpha: float) -> float:
        calls[0] += 1
        last[0] = gamma_star_of(_prune_all(weights, alpha, rng, prune_diagonal))
        return target - last[0]

    try:
        alpha = float(scipy.optimize.bisect(f, *SEARCH_BRACKET, xtol=SEARCH_XTOL))
        ratio = last[0] / target
        status = (
            "root"
            if ratio <= 2
            else f"stopped at the tolerance: gamma* at alpha is {ratio:.3g} x the margin (the root lies below xtol)"
        )
    except ValueError:
        alpha = SEARCH_BRACKET[1]
        status = "no sign change on [0, 10]: the released code raises here; alpha = 10 reported"
    return AuthorsSearch(alpha, last[0], calls[0], status)


def authors_final(
    weights: list[np.ndarray],
    alpha: float,
    rng: np.random.Generator,
    gamma_star_of: Callable[[list[np.ndarray]], float],
    train_margins: np.ndarray,
    m: int,
    prune_diagonal: bool = True,
) -> tuple[dict, list[np.ndarray]]:
    """The released code's final step at ``alpha``: a fresh draw, its needed margin, and "Ours" = the unpruned
    network's training margin loss at that margin (``margin < gamma*`` an error) + sqrt(sum d1 d2 chi(alpha)
    ln^2 p / m) (``theory.paper_ours_gap``; its d -> 0 limit ``theory.paper_ours_gap_ceiling`` at alpha = 0).
    Returns (record, pruned matrices); the record's ``ours_authors`` is a value (not a log)."""
    from ._measures import margin_loss

    pruned = _prune_all(weights, alpha, rng, prune_diagonal)
    g_star = gamma_star_of(pruned)
    d1 = [w.shape[0] for w in weights]
    d2 = [w.shape[1] for w in weights]
    gap = (
        theory.paper_ours_gap(d1_l=d1, d2_l=d2, d=alpha, m=m)
        if alpha > 0
        else theory.paper_ours_gap_ceiling(d1_l=d1, d2_l=d2, m=m)
    )
    rhat = margin_loss(train_margins, g_star, tie_is_error=False)
    return {
        "alpha": alpha,
        "gamma_star": g_star,
        "rhat_at_gamma_star": rhat,
        "gap": gap,
        "ours_authors": rhat + gap,
        "ours_authors_log10": math.log10(rhat + gap),
    }, pruned
