"""The three baselines in the convention most readers compare with: Neyshabur's ``generalization-bounds``
measures (Jiang et al. 2019 / Neyshabur et al. 2017 'Exploring generalization in deep learning' use the same).

Conventions of that code (read there, written here from its description): the margin is the 5th percentile
of the training margins, the reference matrix of the distance terms is the initialisation W0, constants and
additive log terms are dropped, and each bound is divided by sqrt(m).  With L linear layers, input dimension
d_in, P parameters (weights and biases) and m training points:

- Frobenius (Neyshabur, Tomioka, Srebro 2015): sqrt(L + ln d_in) prod_l ||A_l||_F / (gamma sqrt(m)),
  the depth factor being Golowich et al.'s improved one;
- spectral-L_{2,1} (Bartlett, Foster, Telgarsky 2017): ln(m) ln(P) prod_l ||A_l||_2 (sum_l (||(A_l - W0_l)^T||_{2,1}
  / ||A_l||_2)^{2/3})^{3/2} / (gamma sqrt(m)), the (2,1) norm summing the 2-norms of the rows (output units);
- spectral-Frobenius (Neyshabur et al. 2018, the PAC-Bayes bound): L prod_l ||A_l||_2 sqrt(sum_l n_l
  ||A_l - W0_l||_F^2 / ||A_l||_2^2) / (gamma sqrt(m)), n_l the number of output units of layer l.

Each is a ``LayerFormula`` (per-layer arrays as keyword arguments; ``.log10`` for base-10 logs).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from ._layers import LayerFormula, l_idx, layer_product, layer_sum, layer_symbol
from ._norms import S
from ._symbols import L, gamma, m

F = layer_symbol("F_l", positive=True)  # ||A_l||_F
D21 = layer_symbol("D21_l", positive=True)  # ||(A_l - W0_l)^T||_{2,1}: sum of the row 2-norms of A_l - W0_l
DF = layer_symbol("DF_l", positive=True)  # ||A_l - W0_l||_F
N_OUT = layer_symbol("n_l", positive=True, integer=True)  # output units of layer l
d_input = sp.Symbol("d_input", positive=True, integer=True)  # input dimension of the network
P = sp.Symbol("P", positive=True, integer=True)  # number of parameters (weights and biases)


@cache
def measures_convention_derivation() -> dict:
    """The three forms as SymPy expressions over L layers (keys as the formula names)."""
    prod_s = layer_product(S[l_idx])
    return {
        "neyshabur_2015_measures": sp.sqrt(L + sp.log(d_input)) * layer_product(F[l_idx]) / (gamma * sp.sqrt(m)),
        "bartlett_2017_measures": sp.log(m)
        * sp.log(P)
        * prod_s
        * layer_sum((D21[l_idx] / S[l_idx]) ** sp.Rational(2, 3)) ** sp.Rational(3, 2)
        / (gamma * sp.sqrt(m)),
        "neyshabur_2018_measures": L
        * prod_s
        * sp.sqrt(layer_sum(N_OUT[l_idx] * DF[l_idx] ** 2 / S[l_idx] ** 2))
        / (gamma * sp.sqrt(m)),
    }


def _form(key: str, claim: str, layer_args, scalar_args, doc: str) -> LayerFormula:
    return LayerFormula(key, claim, lambda: measures_convention_derivation()[key], layer_args, scalar_args, doc)


neyshabur_2015_measures = _form(
    "neyshabur_2015_measures",
    "baseline-neyshabur-2015",
    (F,),
    (d_input, gamma, m),
    "baseline-neyshabur-2015 [measures convention]: sqrt(L + ln d_input) prod ||A_l||_F / (gamma sqrt(m)); "
    "F_l Frobenius norms (length L), gamma the 5th-percentile training margin, m training points. A "
    "probability-of-error scale (no R-hat added); .log10 gives log10. ValueError for non-positive arguments.",
)
bartlett_2017_measures = _form(
    "bartlett_2017_measures",
    "baseline-bartlett-2017",
    (S, D21),
    (P, gamma, m),
    "baseline-bartlett-2017 [measures convention]: ln(m) ln(P) prod ||A_l||_2 (sum (D21_l/||A_l||_2)^(2/3))^(3/2) "
    "/ (gamma sqrt(m)); S_l spectral norms, D21_l the row-2-norm sums of A_l - W0_l (length L), P parameters. "
    "ValueError for non-positive arguments (an untrained layer has D21_l = 0).",
)
neyshabur_2018_measures = _form(
    "neyshabur_2018_measures",
    "baseline-neyshabur-2017",
    (S, DF, N_OUT),
    (gamma, m),
    "baseline-neyshabur-2017 [measures convention]: L prod ||A_l||_2 sqrt(sum n_l ||A_l - W0_l||_F^2/||A_l||_2^2) "
    "/ (gamma sqrt(m)); S_l spectral norms, DF_l = ||A_l - W0_l||_F, n_l output units (length L). ValueError for "
    "non-positive arguments.",
)
