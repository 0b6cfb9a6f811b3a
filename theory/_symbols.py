"""The paper's symbols, with their assumptions attached (as in ``sympy.stats``).

Names follow ``THEORY.md``.  The assumptions are what make simplification sound
(``sqrt(d**2) == d`` only for ``d > 0``) and they double as the validation rules of
every numeric entry point: a symbol declared ``positive`` rejects ``<= 0``, one
declared ``integer`` rejects non-integers, the symbols in ``UNIT_INTERVAL``
must lie strictly inside (0, 1) and those in ``CLOSED_UNIT_INTERVAL`` in [0, 1].
"""

from __future__ import annotations

import sympy as sp

# --- Algorithm 1 / Assumption 3.1 -------------------------------------------------
d = sp.Symbol("d", positive=True)  # pruning strength (larger prunes more)
Psi = sp.Symbol("Psi", positive=True)  # variance of a layer's entries, N(0, Psi)
x = sp.Symbol("x", real=True)  # value of one matrix entry
u = sp.Symbol("u", real=True)  # integration dummy

# --- shapes and counts -------------------------------------------------------------
d1 = sp.Symbol("d1", positive=True, integer=True)  # rows (outputs) of a layer
d2 = sp.Symbol("d2", positive=True, integer=True)  # columns (inputs) of a layer
p = sp.Symbol("p", positive=True, integer=True)  # max(d1, d2); sketched matrix is p x p
j = sp.Symbol("j", positive=True)  # distributed-sparsity level
j_r = sp.Symbol("j_r", positive=True)  # max nonzeros in a row
j_c = sp.Symbol("j_c", positive=True)  # max nonzeros in a column
J = sp.Symbol("J", positive=True, integer=True)  # number of nonzeros of a pruned layer
n = sp.Symbol("n", positive=True, integer=True)  # trials / bins / target width
k = sp.Symbol("k", nonnegative=True, integer=True)  # a count threshold
M = sp.Symbol("M", positive=True, integer=True)  # balls (Lemma E.1)
L = sp.Symbol("L", positive=True, integer=True)  # number of layers
l = sp.Symbol("l", positive=True, integer=True)  # layer index (depth of target in Sec. 6)
i = sp.Symbol("i", nonnegative=True, integer=True)  # summation index
d_in = sp.Symbol("d_in", positive=True, integer=True)  # input dimension of a layer / network
rank = sp.Symbol("r_A", positive=True, integer=True)  # rank of a layer (Condition C.1)

# --- probabilities and confidence ---------------------------------------------------
p_min = sp.Symbol("p_min", positive=True)  # Lemma D.2: pruning probability at least p_min
q = sp.Symbol("q", positive=True)  # a Bernoulli success probability
delta = sp.Symbol("delta", positive=True)  # failure probability of a bound
eps = sp.Symbol("epsilon", positive=True)  # failure probability in Lemma E.1 / Theorem 6.1 accuracy
p_err = sp.Symbol("p_err", positive=True)  # true (population) error of one hypothesis (Occam bounds), 0 < p_err < 1
q_emp = sp.Symbol("q_emp", nonnegative=True)  # empirical error, 0 <= q_emp <= 1 (Catoni's form accepts 0 and 1)

# --- norms, margins and sizes --------------------------------------------------------
m = sp.Symbol("m", positive=True, integer=True)  # training-set size
gamma = sp.Symbol("gamma", positive=True)  # margin
lam = sp.Symbol("lam", positive=True)  # Markov multiplier lambda_l (> 1 to be useful)
rho = sp.Symbol("rho", positive=True)  # rounding grid of Lemma 4.4
r = sp.Symbol("r", positive=True, integer=True)  # number of values a parameter may take
C = sp.Symbol("C", positive=True)  # Latala's universal constant (Lemma B.1)
c_m = sp.Symbol("c_m", positive=True)  # constant in m = c_m sqrt(j p) log p (Thm 5.1)
N = sp.Symbol("N", positive=True)  # number of compressed configurations
tau = sp.Symbol("tau", positive=True)  # deviation in Theorem D.1
t = sp.Symbol("t", positive=True)  # deviation (Condition C.1, Lemma E.1)
a = sp.Symbol("a", positive=True)  # Condition C.1 constant
b = sp.Symbol("b", positive=True)  # Condition C.1 constant
A_norm = sp.Symbol("A_norm", positive=True)  # ||A^l||_2 of one layer
mu = sp.Symbol("mu", positive=True)  # mean load M/n (Lemma E.1)

U = sp.Symbol("U", positive=True)  # an entry's uniform draw in Algorithm 1 (the solution needs 0 < U < 1)

#: symbols that are probabilities: validated to lie strictly inside (0, 1)
UNIT_INTERVAL = frozenset({p_min, q, delta, eps, U, p_err})
#: probabilities that may be 0 or 1 as well (an empirical error rate): validated to lie in [0, 1]
CLOSED_UNIT_INTERVAL = frozenset({q_emp})
