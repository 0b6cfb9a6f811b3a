"""numerics: seeded, vectorised simulators checked against the closed forms of ``theory``.

Every formula compared against comes from ``theory``; tolerances come from ``numerics._tolerance``.
CLIs: ``python -m numerics.check`` (Monte-Carlo evidence per claim id) and ``python -m numerics.bench``.
"""

from ._algorithm1 import algorithm_1
from ._coding import (
    Code,
    CompressedMLP,
    Task,
    canonical_form,
    decode_network,
    encode_network,
    is_canonical,
    pool_inputs,
    quantise_scale,
    read_code,
    scale_value,
)
from ._matrix import (
    balls_into_bins_study,
    lemma_4_3_study,
    lemma_b_2_study,
    lemma_c_1_study,
    rounding_study,
    spectral_norm_study,
    sphere_tail_study,
    survivor_study,
)
from ._montecarlo import (
    Estimate,
    lemma_4_1_moments,
    lemma_d_2_count_tail,
    lemma_d_2_frequency,
    lemma_d_3_frequency,
    prune_frequency,
)
from ._occam import OccamBound, binomial_tail_inverse, kl_inverse, occam_bound
from ._pruning_path import PruningPath, layer_generator
from ._sketching import (
    RecoveryResult,
    adversarial_failure,
    bipartite_ensemble,
    distributed_sparse_matrix,
    l1_recover,
    parameter_counts,
    sketch,
    sketch_recovery_study,
    smallest_sufficient_m,
    time_recovery,
)
from ._spectral import spectral_norm, spectral_norm_bounds
from ._tolerance import Tolerance, bernoulli, bernstein, dkw, hoeffding, median_of_means

__all__ = [
    "algorithm_1",
    "PruningPath",
    "layer_generator",
    "spectral_norm",
    "spectral_norm_bounds",
    "Estimate",
    "prune_frequency",
    "lemma_4_1_moments",
    "lemma_d_2_frequency",
    "lemma_d_2_count_tail",
    "lemma_d_3_frequency",
    "spectral_norm_study",
    "survivor_study",
    "balls_into_bins_study",
    "lemma_b_2_study",
    "lemma_4_3_study",
    "rounding_study",
    "sphere_tail_study",
    "lemma_c_1_study",
    "bipartite_ensemble",
    "distributed_sparse_matrix",
    "sketch",
    "l1_recover",
    "RecoveryResult",
    "sketch_recovery_study",
    "smallest_sufficient_m",
    "parameter_counts",
    "time_recovery",
    "adversarial_failure",
    "Tolerance",
    "hoeffding",
    "bernstein",
    "bernoulli",
    "median_of_means",
    "dkw",
    "kl_inverse",
    "binomial_tail_inverse",
    "occam_bound",
    "OccamBound",
    "Task",
    "CompressedMLP",
    "Code",
    "encode_network",
    "decode_network",
    "read_code",
    "canonical_form",
    "is_canonical",
    "pool_inputs",
    "quantise_scale",
    "scale_value",
]
