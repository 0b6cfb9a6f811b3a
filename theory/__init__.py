"""theory: SymPy derivations of every closed form of Guha, Dubey & Huo, and the claim ledger.

Each result is a ``Formula`` (scalar arguments) or ``LayerFormula`` (per-layer arrays):
``.expr`` is the simplified SymPy expression; calling it evaluates with numpy/scipy;
``Formula.torch(...)`` evaluates with torch; ``LayerFormula.log10(...)`` gives log10 in log-space.
Arguments are validated from the symbols' assumptions (ValueError naming the rule); every face is
evaluated in a float64-stable form (``theory._stable``) and returns the value of ``.expr`` to ~1e-13
or raises: a ValueError naming the argument, or ``Float64RangeError`` (a ValueError) when the value
is outside float64's range -- never NaN, inf or an underflowed 0.
"""

from ._baselines import (
    bartlett_2017_code,
    bartlett_2017_literature,
    lpq_derivation,
    neyshabur_2015_code,
    neyshabur_2015_literature,
    neyshabur_2017_code,
    neyshabur_2017_literature,
)
from ._bounds import (
    lemma_d_1_gap,
    paper_ours_gap,
    paper_ours_gap_ceiling,
    paper_ours_margin,
    theorem_5_2_gap,
    theorem_5_2_margin,
    theorem_6_2_gap,
    theorem_6_2_gap_from_nonzeros,
    theorem_d_1_gap,
)
from ._claim import VERDICTS, Claim, Step
from ._layers import LayerFormula
from ._ledger import EVIDENCE_FILE, REQUIRED_IDS, build_ledger, claim, parse_result
from ._measures_convention import (
    bartlett_2017_measures,
    measures_convention_derivation,
    neyshabur_2015_measures,
    neyshabur_2018_measures,
)
from ._norms import (
    condition_c_1_kappa,
    condition_c_1_sphere_tail,
    condition_c_1_t,
    condition_c_1_t_code,
    condition_c_1_tail,
    lemma_4_2_gamma,
    lemma_4_2_markov_failure,
    lemma_4_3_bound,
    lemma_4_4_max_rho,
    lemma_4_4_rounding_error,
    lemma_b_2_bound,
    lemma_b_2_condition,
)
from ._numeric import Formula, validate_argument
from ._occam import (
    binary_kl,
    binary_kl_at_zero,
    binomial_log_pmf,
    catoni_bound,
    codebook_bits,
    dirichlet_multinomial_bits,
    dirichlet_predictive,
    kl_inverse_at_zero,
    log2_binomial,
    occam_complexity,
    permutation_bits,
)
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
from ._sparsity import (
    dense_parameter_count,
    lemma_5_1_col_bound,
    lemma_5_1_expected_col_nonzeros,
    lemma_5_1_expected_row_nonzeros,
    lemma_5_1_expected_survivors,
    lemma_5_1_row_bound,
    lemma_e_1_max_load_bound,
    naive_sparse_log_count,
    sketch_over_naive_lower,
    sketch_parameter_count,
    theorem_5_1_sketch_size,
)
from ._stable import Float64RangeError
from ._strength import algorithm_1_critical_strength, critical_strength_derivation
