"""A plain, seeded torch training loop with one atomic checkpoint per epoch (resume loses nothing).

The data order of epoch e is a permutation drawn from a generator seeded with (seed, e), so an
interrupted run resumed from its last checkpoint produces the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    optimizer: str = "adam"  # "adam" (the paper) or "sgd" (released configs: momentum 0.9, wd 1e-4)
    seed: int = 0
    device: str = "cpu"
    progress: bool = True

    def validate(self) -> None:
        if self.epochs < 0:
            raise ValueError(f"--epochs must be >= 0 (got {self.epochs})")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1 (got {self.batch_size})")
        if not (self.lr > 0 and self.lr < float("inf")):
            raise ValueError(f"--lr must be a positive finite number (got {self.lr})")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"--optimizer must be adam or sgd (got {self.optimizer})")


def resolve_device(name: str) -> str:
    """``auto`` picks CUDA when present; an explicit ``cuda`` without a GPU is an error."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA device is available (use --device auto or cpu)")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise ValueError(f"--device must be auto, cpu or cuda[:N] (got {name})")
    return name


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr)
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=1e-4)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 4096) -> dict:
    """Logits over a dataset in batches; returns loss, error and the logits (on CPU)."""
    model.eval()
    outs = []
    device = next(model.parameters()).device
    for start in range(0, x.shape[0], batch):
        outs.append(model(x[start : start + batch].to(device)).cpu())
    logits = torch.cat(outs) if outs else torch.empty(0, 10)
    loss = nn.functional.cross_entropy(logits, y).item() if len(y) else float("nan")
    err = (logits.argmax(1) != y).float().mean().item() if len(y) else float("nan")
    return {"loss": loss, "error": err, "logits": logits}


def atomic_torch_save(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


RESUME_KEYS = ("optimizer", "lr", "batch_size", "seed")


def _check_resumable(state: dict, cfg: TrainConfig, checkpoint: Path) -> None:
    """A checkpoint continues only the run that wrote it: same optimiser, lr, batch size and seed, and no more
    epochs done than now asked for (the device may differ)."""
    old = state.get("config", {})
    differ = [f"{k} {old[k]} (now {getattr(cfg, k)})" for k in RESUME_KEYS if k in old and old[k] != getattr(cfg, k)]
    if differ:
        raise ValueError(
            f"checkpoint {checkpoint} was written with "
            + ", ".join(differ)
            + ": choose another --out, or rerun without --resume to start afresh"
        )
    if state["epoch"] + 1 > cfg.epochs:
        raise ValueError(
            f"checkpoint {checkpoint} has {state['epoch'] + 1} epochs done, more than --epochs "
            f"{cfg.epochs}: choose another --out or raise --epochs"
        )


def train(
    model: nn.Module,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    cfg: TrainConfig,
    checkpoint: Path | None = None,
    resume: bool = False,
    on_epoch: Callable[[int, nn.Module], dict] | None = None,
    after_step: Callable[[nn.Module], None] | None = None,
) -> list[dict]:
    """Train ``model`` for ``cfg.epochs``; returns the per-epoch history.

    With ``checkpoint``, the model, optimiser, epoch and history are saved atomically after every epoch;
    with ``resume`` an existing checkpoint is loaded and training continues from the next epoch.
    ``on_epoch(epoch, model)`` may return extra measures stored in that epoch's history record;
    ``after_step(model)`` runs after every optimiser step (iterative pruning uses it to re-apply masks).
    """
    cfg.validate()
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    model.to(device)
    opt = make_optimizer(model, cfg)
    history: list[dict] = []
    start = 0
    if resume and checkpoint is not None and checkpoint.is_file():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        _check_resumable(state, cfg, checkpoint)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        history = state["history"]
        start = state["epoch"] + 1
    n = train_x.shape[0]
    show = cfg.progress and sys.stderr.isatty()
    for epoch in range(start, cfg.epochs):
        model.train()
        order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed * 100_003 + epoch))
        total, correct, seen = 0.0, 0, 0
        batches = range(0, n, cfg.batch_size)
        for s in tqdm(batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False, disable=not show):
            idx = order[s : s + cfg.batch_size]
            xb, yb = train_x[idx].to(device), train_y[idx].to(device)
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = nn.functional.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            if after_step is not None:
                after_step(model)
            total += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            seen += len(idx)
        record = {
            "epoch": epoch + 1,
            "train_loss": total / max(seen, 1),
            "train_error_running": 1 - correct / max(seen, 1),
        }
        if on_epoch is not None:
            record.update(on_epoch(epoch + 1, model))
        history.append(record)
        if checkpoint is not None:
            atomic_torch_save(
                {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "epoch": epoch,
                    "history": history,
                    "config": asdict(cfg),
                },
                checkpoint,
            )
    return history
