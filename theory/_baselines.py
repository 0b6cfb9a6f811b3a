"""The three baseline bounds, each in the literature's form and in the form the authors' code computes.

The literature forms are cited (their O-constants set to 1 where the source hides them); the code
forms drop constants, log factors, the input norm and the 1/m scaling.  What is *derived* here is
what the code's ``lpq(A, 1, 2)`` helper really computes, and how it relates to the literature's
``||A^T||_{2,1}``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from ._claim import Step
from ._layers import LayerFormula, l_idx, layer_product, layer_sum, layer_symbol
from ._norms import S
from ._symbols import L, delta, gamma, m

F = layer_symbol("F_l", positive=True)  # ||A_l||_F
R21 = layer_symbol("R21_l", positive=True)  # ||(A_l - M_l)^T||_{2,1}: sum of the row 2-norms of A_l - M_l
LPQ = layer_symbol("lpq_l", positive=True)  # the code's lpq(A_l, 1, 2)
H = layer_symbol("h_l", positive=True, integer=True)  # fan-in of layer l
x_max = sp.Symbol("x_max", positive=True)  # B = max ||x||
X_norm = sp.Symbol("X_norm", positive=True)  # ||X||_2 = sqrt(sum_i ||x_i||^2)
W = sp.Symbol("W", positive=True, integer=True)  # max width
h = sp.Symbol("h", positive=True, integer=True)  # max width (Neyshabur 2017)


def lpq(matrix: sp.Matrix, p_: int, q_: int) -> sp.Expr:
    """The authors' helper, transcribed from its description: (sum_j ||column j of |A|^p||_2^(q/p))^(1/q)."""
    cols = []
    for jj in range(matrix.cols):
        col = matrix[:, jj].applyfunc(lambda e: sp.Abs(e) ** p_)
        cols.append(sp.sqrt(sum(v**2 for v in col)) ** sp.Rational(q_, p_))
    return sum(cols) ** sp.Rational(1, q_)


@cache
def lpq_derivation(rows: int = 3, cols: int = 2) -> dict:
    """What lpq(A, 1, 2) is: for a symbolic real rows x cols matrix, lpq(A,1,2)^2 - ||A||_F^2 simplifies
    to 0, i.e. the code's "l_{1,2}" norm is the Frobenius norm; the literature's ||A^T||_{2,1} is the sum
    of the row 2-norms, which is >= ||A||_F (a sum of nonnegative terms vs the root of their squares)."""
    entries = sp.Matrix(rows, cols, lambda a_, b_: sp.Symbol(f"a_{a_}{b_}", real=True))
    code_value = lpq(entries, 1, 2)
    frobenius = sp.sqrt(sum(e**2 for e in entries))
    difference = sp.simplify(code_value**2 - frobenius**2)
    row_norms = [sp.sqrt(sum(entries[i_, jj] ** 2 for jj in range(cols))) for i_ in range(rows)]
    literature = sum(row_norms)
    # literature^2 - frobenius^2 = 2 sum_{i<k} ||row_i|| ||row_k|| >= 0
    gap_sq = sp.simplify(sp.expand(literature**2 - frobenius**2))
    steps = [
        Step(f"lpq(A, 1, 2) for a symbolic {rows}x{cols} A:", code_value),
        Step("lpq(A,1,2)^2 - ||A||_F^2 simplifies to", difference),
        Step("||A^T||_{2,1} (sum of row 2-norms):", literature),
        Step("||A^T||_{2,1}^2 - ||A||_F^2 (a sum of products of norms, >= 0):", gap_sq),
    ]
    return {
        "lpq_1_2": code_value,
        "lpq_minus_frobenius_sq": difference,
        "literature_21": literature,
        "literature_minus_frobenius_sq": gap_sq,
        "steps": steps,
    }


@cache
def baselines_derivation() -> dict:
    prod_s = layer_product(S[l_idx])
    forms = {
        # Neyshabur, Tomioka, Srebro 2015 (group norm p = q = 2): 2^L prod ||A||_F B / (gamma sqrt(m))
        "neyshabur_2015_literature": 2**L * layer_product(F[l_idx]) * x_max / (gamma * sp.sqrt(m)),
        "neyshabur_2015_code": layer_product(F[l_idx] ** 2) / gamma**2,
        # Bartlett, Foster, Telgarsky 2017
        "bartlett_2017_literature": (
            X_norm
            * prod_s
            * layer_sum((R21[l_idx] / S[l_idx]) ** sp.Rational(2, 3)) ** sp.Rational(3, 2)
            * sp.log(W)
            / (gamma * m)
            + sp.sqrt(sp.log(1 / delta) / m)
        ),
        "bartlett_2017_code": layer_product(S[l_idx] ** 2) * layer_sum(LPQ[l_idx] ** 2 / S[l_idx] ** 2) / gamma**2,
        # Neyshabur, Bhojanapalli, McAllester, Srebro 2017 (PAC-Bayes)
        "neyshabur_2017_literature": sp.sqrt(
            (
                x_max**2
                * L**2
                * h
                * sp.log(L * h)
                * layer_product(S[l_idx] ** 2)
                * layer_sum(F[l_idx] ** 2 / S[l_idx] ** 2)
                + sp.log(L * m / delta)
            )
            / (gamma**2 * m)
        ),
        "neyshabur_2017_code": layer_product(S[l_idx] ** 2)
        * layer_sum(H[l_idx] * F[l_idx] ** 2 / S[l_idx] ** 2)
        / gamma**2,
    }
    return forms


def _baseline(key: str, claim: str, layer_args, scalar_args, doc: str) -> LayerFormula:
    return LayerFormula(key, claim, lambda: baselines_derivation()[key], layer_args, scalar_args, doc)


neyshabur_2015_literature = _baseline(
    "neyshabur_2015_literature",
    "baseline-neyshabur-2015",
    (F,),
    (x_max, gamma, m),
    "baseline-neyshabur-2015: 2^L prod ||A_l||_F max||x|| / (gamma sqrt(m)) (constants of the source set to 1).",
)
neyshabur_2015_code = _baseline(
    "neyshabur_2015_code",
    "baseline-neyshabur-2015",
    (F,),
    (gamma,),
    "baseline-neyshabur-2015 [code]: prod ||A_l||_F^2 / gamma^2.",
)
bartlett_2017_literature = _baseline(
    "bartlett_2017_literature",
    "baseline-bartlett-2017",
    (S, R21),
    (X_norm, W, gamma, m, delta),
    "baseline-bartlett-2017: ||X||_2 R_A ln(W)/(gamma m) + sqrt(ln(1/delta)/m), R_A with reference matrices M_l.",
)
bartlett_2017_code = _baseline(
    "bartlett_2017_code",
    "baseline-bartlett-2017",
    (S, LPQ),
    (gamma,),
    "baseline-bartlett-2017 [code]: prod ||A_l||_2^2 sum lpq(A_l,1,2)^2/||A_l||_2^2 / gamma^2.",
)
neyshabur_2017_literature = _baseline(
    "neyshabur_2017_literature",
    "baseline-neyshabur-2017",
    (S, F),
    (x_max, h, gamma, m, delta),
    "baseline-neyshabur-2017: PAC-Bayes spectral bound (constant of the O set to 1).",
)
neyshabur_2017_code = _baseline(
    "neyshabur_2017_code",
    "baseline-neyshabur-2017",
    (S, F, H),
    (gamma,),
    "baseline-neyshabur-2017 [code]: prod ||A_l||_2^2 sum h_l ||A_l||_F^2/||A_l||_2^2 / gamma^2.",
)
