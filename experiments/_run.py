"""One task of a run: (dataset, width, seed) -> the data of its protocol, the trained network and its files.

Files of a task live in ``OUT/checkpoints/DATASET-width-W-seed-S/``: ``train.pt`` (the latest training
checkpoint with W0, see :mod:`experiments._train`), ``epochs/epoch-NNNN.pt`` (every epoch's weights, when kept:
the per-epoch bounds can then be computed, or recomputed, after training) and ``imp-round-K.pt`` (lottery-ticket
rounds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ._data import Dataset, split_for
from ._model import make_mlp
from ._settings import RunSettings
from ._train import TrainConfig, train


@dataclass(eq=False)
class TaskData:
    """The tensors of one task under its protocol: training part (m rows), validation part, test set.
    Inputs float32 (N, input_dim), labels int64 (N,)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    name: str
    input_dim: int
    n_classes: int
    train_indices: np.ndarray | None = None

    @property
    def m(self) -> int:
        return int(self.y_train.shape[0])


def task_data(data: Dataset, split: str, seed: int) -> TaskData:
    """Split ``data``'s official training set by the protocol's rule (``split``: toolkit or authors)."""
    tr, val = split_for(split, len(data.train_y), seed)
    x_all, y_all = torch.as_tensor(data.train_x), torch.as_tensor(data.train_y)
    return TaskData(
        x_train=x_all[torch.as_tensor(tr)].contiguous(),
        y_train=y_all[torch.as_tensor(tr)].contiguous(),
        x_val=x_all[torch.as_tensor(val)].contiguous(),
        y_val=y_all[torch.as_tensor(val)].contiguous(),
        x_test=torch.as_tensor(data.test_x),
        y_test=torch.as_tensor(data.test_y),
        name=data.name,
        input_dim=data.input_dim,
        n_classes=data.n_classes,
        train_indices=tr,
    )


def task_dir(out: Path, dataset: str, width: int, seed: int) -> Path:
    """The folder of one task's checkpoints."""
    return Path(out) / "checkpoints" / f"{dataset}-width-{width}-seed-{seed}"


def train_config(s: RunSettings, dataset: str, seed: int, progress: bool) -> TrainConfig:
    """The training settings of one task (CIFAR-10 under the authors' protocol trains with their crop+flip)."""
    return TrainConfig(
        epochs=s.epochs,
        batch_size=s.batch_size,
        lr=s.lr,
        optimizer=s.optimizer,
        momentum=s.momentum,
        weight_decay=s.weight_decay,
        seed=seed,
        device=s.device,
        until_positive_margin=s.until_positive_margin,
        tie_is_error=s.protocol.tie_is_error,
        augment=(dataset == "cifar10" and s.protocol.name == "authors"),
        progress=progress,
    )


def train_task(
    s: RunSettings,
    td: TaskData,
    width: int,
    seed: int,
    out: Path,
    resume: bool,
    progress: bool,
    on_epoch=None,
    keep_epoch_weights: bool = False,
) -> tuple[nn.Module, list[dict], list[np.ndarray]]:
    """Initialise (``torch.manual_seed(seed)``, then the layers in order: the released code's initialisation
    under its seed) and train one network; returns (model, per-epoch history, W0 as float64 arrays).  Raises
    CheckpointError / TrainingDiverged (ValueError subclasses) with one-line messages."""
    torch.manual_seed(seed)
    model = make_mlp(td.input_dim, width, s.depth, td.n_classes)
    folder = task_dir(out, td.name, width, seed)
    cfg = train_config(s, td.name, seed, progress)
    history = train(
        model,
        td.x_train,
        td.y_train,
        cfg,
        checkpoint=folder / "train.pt",
        resume=resume,
        on_epoch=on_epoch,
        identity=s.train_identity(td.name, width, seed),
        snapshot_dir=(folder / "epochs") if keep_epoch_weights else None,
    )
    from ._train import load_checkpoint

    state = load_checkpoint(folder / "train.pt")
    init = [state["init"][k].double().numpy() for k in state["init"] if k.endswith("weight")]
    return model, history, init
