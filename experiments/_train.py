"""A plain, seeded torch training loop with one atomic checkpoint per epoch (an interruption loses nothing).

The data order of epoch e is a permutation drawn from a generator seeded with (seed, e), so a run resumed from
its last checkpoint produces the same numbers as an uninterrupted one (on the same device and thread count:
summation order, hence the last digits, depends on both).  Every checkpoint holds the initial weights W0 next
to the current ones, the identity of the run that wrote it (a resume by another run is refused, naming what
differs) and the per-epoch history.  Checkpoints are read with ``torch.load(weights_only=True)``: a damaged
file gives a :class:`CheckpointError` naming it, never a traceback of the unpickler.

What counts as an error is the margin rule of :mod:`experiments._measures` (a point is misclassified when its
margin is <= 0, or < 0 under the released code's tie rule), the same for the running training error, the
stopping rule and :func:`evaluate`.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from ._measures import margin_loss, margins

#: the format tag of the toolkit's checkpoints
CHECKPOINT_FORMAT = "mbp-bounds/checkpoint-v2"


class CheckpointError(ValueError):
    """A checkpoint is damaged, of another format, or was written by another run (one line, exit 2)."""


class TrainingDiverged(ValueError):
    """The loss or the weights became non-finite; the last finite checkpoint is kept (one line, exit 2)."""


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (``torch.optim`` receives exactly ``lr``, ``momentum`` and ``weight_decay``).

    ``epochs``: the number of epochs, or the most when ``until_positive_margin`` (stop after the first epoch
    at which every training point has a margin > 0); ``tie_is_error``: the tie rule of the margin-based error
    (True: margin <= 0 is an error; False, the released code: margin < 0); ``augment``: random 4-pixel-padded
    32x32 crops and horizontal flips of 3x32x32 inputs (the released CIFAR-10 training transform).
    ``validate()`` raises ValueError naming the command-line option."""

    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.0
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "cpu"
    until_positive_margin: bool = False
    tie_is_error: bool = True
    augment: bool = False
    progress: bool = True

    def validate(self) -> None:
        if self.epochs < 0:
            raise ValueError(f"--epochs must be >= 0 (got {self.epochs})")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1 (got {self.batch_size})")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"--lr must be a positive finite number (got {self.lr})")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"--optimizer must be adam or sgd (got {self.optimizer})")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"--momentum must lie in [0, 1) (got {self.momentum})")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(f"--weight-decay must be >= 0 (got {self.weight_decay})")


def resolve_device(name: str) -> str:
    """``auto`` picks CUDA when present; an explicit ``cuda`` without a GPU is an error (ValueError)."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA device is available (use --device auto or cpu)")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise ValueError(f"--device must be auto, cpu or cuda[:N] (got {name})")
    return name


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam or SGD with exactly the configured lr, momentum and weight decay (multi-tensor kernels)."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
    return torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, foreach=True
    )


@torch.no_grad()
def logits_of(model: nn.Module, x: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    """The model's outputs over ``x`` (N x input_dim) in evaluation mode, in batches; float32 on CPU."""
    model.eval()
    device = next(model.parameters()).device
    outs = [model(x[s : s + batch].to(device)).float().cpu() for s in range(0, x.shape[0], batch)]
    if not outs:
        return torch.empty(0, 0)
    return torch.cat(outs)


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 4096, tie_is_error: bool = True
) -> dict[str, Any]:
    """Loss (cross-entropy, nats), the margin-based error (a point is an error when its margin is <= 0, or
    < 0 when ``tie_is_error`` is False), the margins (float64 numpy, shape (N,)) and the logits (CPU)."""
    logits = logits_of(model, x, batch)
    if len(y) == 0:
        return {"loss": float("nan"), "error": float("nan"), "logits": logits, "margins": margins(logits, y)}
    mg = margins(logits, y)
    loss = nn.functional.cross_entropy(logits, y).item()
    return {"loss": loss, "error": margin_loss(mg, 0.0, tie_is_error), "logits": logits, "margins": mg}


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, device: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (no code is executed).  A missing, truncated, empty or
    random-bytes file raises :class:`CheckpointError` naming the file and what to do."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    if not raw:
        raise CheckpointError(f"checkpoint {path} is empty: delete it, or rerun without --resume")
    try:
        state = torch.load(io.BytesIO(raw), map_location=device, weights_only=True)
    except (
        RuntimeError,
        EOFError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        ValueError,
        KeyError,
        AttributeError,
        TypeError,
        IndexError,
        OSError,
    ) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"checkpoint {path} is damaged or not a PyTorch checkpoint ({first[:160]}): delete it, or rerun "
            "without --resume"
        ) from None
    return state


def _check_resumable(state: dict, cfg: TrainConfig, identity: dict | None, checkpoint: Path) -> None:
    """A checkpoint continues only the run that wrote it (same identity, no more epochs than asked)."""
    from ._settings import differing

    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"checkpoint {checkpoint} is not a {CHECKPOINT_FORMAT} training checkpoint: choose another --out, or "
            "rerun without --resume"
        )
    old = dict(state.get("identity", {}))
    new = dict(identity or {})
    new.update({k: v for k, v in _train_identity(cfg).items()})
    differ = differing(old, new)
    if differ:
        raise CheckpointError(
            f"checkpoint {checkpoint} was written by another run: "
            + ", ".join(differ)
            + "; choose another --out, or rerun without --resume to start afresh"
        )
    if state["epoch"] > cfg.epochs:
        raise CheckpointError(
            f"checkpoint {checkpoint} has {state['epoch']} epochs done, more than --epochs {cfg.epochs}: choose "
            "another --out or raise --epochs"
        )


def _train_identity(cfg: TrainConfig) -> dict[str, Any]:
    return {
        "optimizer": cfg.optimizer,
        "lr": float(cfg.lr),
        "momentum": float(cfg.momentum),
        "weight_decay": float(cfg.weight_decay),
        "batch_size": cfg.batch_size,
        "seed": cfg.seed,
        "augment": cfg.augment,
        "until_positive_margin": cfg.until_positive_margin,
        "tie_is_error": cfg.tie_is_error,
    }


def _augment(xb: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random 4-pixel zero-padded 32x32 crops and horizontal flips of a batch of flattened 3x32x32 images."""
    n = xb.shape[0]
    img = nn.functional.pad(xb.view(n, 3, 32, 32), (4, 4, 4, 4))
    dx = torch.randint(0, 9, (n,), generator=gen)
    dy = torch.randint(0, 9, (n,), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    out = torch.empty(n, 3, 32, 32, dtype=xb.dtype, device=xb.device)
    for i in range(n):
        crop = img[i, :, dy[i] : dy[i] + 32, dx[i] : dx[i] + 32]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out.view(n, -1)


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def train(
    model: nn.Module,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    cfg: TrainConfig,
    checkpoint: Path | None = None,
    resume: bool = False,
    on_epoch: Callable[[int, nn.Module], dict] | None = None,
    after_step: Callable[[nn.Module], None] | None = None,
    identity: dict[str, Any] | None = None,
    snapshot_dir: Path | None = None,
) -> list[dict]:
    """Train ``model`` on ``train_x`` (N x input_dim float32) and ``train_y`` (N, int64); returns the per-epoch
    history (one dict per epoch: ``epoch``, ``train_loss`` (nats), ``train_error_running`` (margin rule, during
    the epoch), ``min_margin`` (after the epoch, with ``until_positive_margin``) and whatever ``on_epoch``
    returned).

    With ``checkpoint`` the model, W0 (the weights before the first step), the optimiser, the epoch count, the
    history and ``identity`` (plus the training settings) are saved atomically after every epoch; with
    ``resume`` a checkpoint written by the same run is continued (:class:`CheckpointError` otherwise).
    ``after_step(model)`` runs after every optimiser step (iterative pruning re-applies its masks there);
    ``snapshot_dir`` keeps every epoch's weights as ``epoch-NNNN.pt``.  Raises :class:`TrainingDiverged` at the
    first epoch whose loss or weights are not finite, before writing that epoch's checkpoint.
    """
    cfg.validate()
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    model.to(device)
    opt = make_optimizer(model, cfg)
    history: list[dict] = []
    start = 0
    init_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if resume and checkpoint is not None and checkpoint.is_file():
        state = load_checkpoint(checkpoint, device)
        _check_resumable(state, cfg, identity, checkpoint)
        try:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
        except (RuntimeError, KeyError, ValueError) as exc:
            raise CheckpointError(
                f"checkpoint {checkpoint} does not fit this network ({str(exc).splitlines()[0][:160]}): choose "
                "another --out, or rerun without --resume"
            ) from None
        init_state = state["init"]
        history = list(state["history"])
        start = int(state["epoch"])
        if cfg.until_positive_margin and history and history[-1].get("min_margin", -1.0) > 0:
            return history  # the stopping rule was met before the interruption
    x_dev = train_x.to(device)
    y_dev = train_y.to(device)
    n = train_x.shape[0]
    show = cfg.progress and sys.stderr.isatty()
    bar = tqdm(total=cfg.epochs, initial=start, desc="epochs", leave=False, disable=not show)
    for epoch in range(start, cfg.epochs):
        t_epoch = time.perf_counter()
        model.train()
        gen = _epoch_generator(cfg.seed, epoch)
        order = torch.randperm(n, generator=gen).to(device)
        total = torch.zeros((), dtype=torch.float64, device=device)
        wrong = torch.zeros((), dtype=torch.int64, device=device)
        for s in range(0, n, cfg.batch_size):
            idx = order[s : s + cfg.batch_size]
            xb, yb = x_dev.index_select(0, idx), y_dev.index_select(0, idx)
            if cfg.augment:
                xb = _augment(xb, gen)
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = nn.functional.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            if after_step is not None:
                after_step(model)
            with torch.no_grad():
                total += loss.detach().double() * len(idx)
                true = out.gather(1, yb.view(-1, 1)).squeeze(1)
                other = out.scatter(1, yb.view(-1, 1), float("-inf")).max(1).values
                wrong += (true <= other).sum() if cfg.tie_is_error else (true < other).sum()
        train_loss = float(total) / max(n, 1)
        if not math.isfinite(train_loss) or not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
            bar.close()
            kept = (
                f"; the last finite checkpoint (epoch {epoch}) is kept in {checkpoint}"
                if checkpoint is not None and epoch > 0
                else ""
            )
            raise TrainingDiverged(
                f"training diverged at epoch {epoch + 1} (loss {train_loss:.3g}, non-finite loss or weights); "
                f"lower --lr{kept}"
            )
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "train_error_running": int(wrong) / max(n, 1),
            "seconds": time.perf_counter() - t_epoch,
        }
        if cfg.until_positive_margin:
            record["min_margin"] = float(margins(logits_of(model, train_x), train_y).min()) if n else 0.0
        if on_epoch is not None:
            record.update(on_epoch(epoch + 1, model))
        history.append(record)
        if snapshot_dir is not None:
            atomic_torch_save(
                {k: v.detach().cpu() for k, v in model.state_dict().items()}, snapshot_dir / f"epoch-{epoch + 1:04d}.pt"
            )
        if checkpoint is not None:
            atomic_torch_save(
                {
                    "format": CHECKPOINT_FORMAT,
                    "identity": {**(identity or {}), **_train_identity(cfg)},
                    "model": model.state_dict(),
                    "init": init_state,
                    "optimizer": opt.state_dict(),
                    "epoch": epoch + 1,
                    "history": history,
                    "config": asdict(cfg),
                },
                checkpoint,
            )
        bar.update(1)
        if cfg.until_positive_margin and record["min_margin"] > 0:
            break
    bar.close()
    return history
