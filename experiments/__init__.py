"""experiments: data, the paper's MLP, training, pruning (Algorithm 1 from ``numerics``; IMP), measurements,
and every bound of ``theory`` evaluated on real networks -- the toolkit's own or yours.

CLI: ``python -m experiments.bounds`` (train, prune, bound), ``.report`` (the reproduction report), ``.bench``.
Python: :func:`evaluate` (every bound of a trained ReLU MLP you already have).
"""

from ._api import BOUND_NAMES, BoundsResult, evaluate
from ._bounds import bisect_strength, choose_gamma, compute_bounds, prune_network
from ._data import DataError, Dataset, authors_split, load_dataset, resolve_data_dir, train_val_split
from ._evaluate import mlp_forward, network_bounds
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
from ._network import MLPSpec, NetworkError, extract_mlp, load_network_file
from ._settings import AUTHORS, PROTOCOLS, TOOLKIT, Protocol, RunSettings, UsageError
from ._train import CheckpointError, TrainConfig, TrainingDiverged, resolve_device, train
from ._train import evaluate as evaluate_logits
