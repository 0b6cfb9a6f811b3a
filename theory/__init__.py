"""theory: SymPy derivations of every closed form of Guha, Dubey & Huo, and the claim ledger.

Each result is a ``Formula``: ``.expr`` is the simplified SymPy expression, calling it evaluates
with numpy/scipy, ``.torch(...)`` with torch; arguments are validated from the symbols' assumptions.
"""
from ._numeric import Formula, validate_argument
from ._pruning import (
    algorithm_1_prune_probability,
    binomial_tail_identity_check,
    binomial_upper_tail,
    lemma_4_1_derivation,
    lemma_4_1_fourth_moment,
    lemma_4_1_keep_probability,
    lemma_4_1_mean,
    lemma_4_1_prune_probability,
    lemma_4_1_second_moment,
    lemma_d_2_derivation,
    lemma_d_2_probability,
    lemma_d_2_threshold,
)
