"""experiments: data, the paper's MLP, training, pruning (Algorithm 1 from ``numerics``; IMP), measurements,
and every bound of ``theory`` evaluated on real networks.  CLI: ``python -m experiments.bounds``."""

from ._bounds import bisect_strength, choose_gamma, compute_bounds, prune_network
from ._data import DataError, Dataset, load_dataset, resolve_data_dir, train_val_split
from ._imp import iterative_magnitude_pruning, magnitude_masks
from ._measures import (
    frobenius_norm,
    layer_measures,
    lpq,
    margin_loss,
    margins,
    norm_21_transpose,
    sparsity_counts,
    spectral_norm,
)
from ._model import make_mlp, set_weight_matrices, weight_matrices
from ._train import TrainConfig, evaluate, resolve_device, train
