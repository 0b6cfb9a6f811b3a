"""Iterative magnitude pruning with rewinding (lottery tickets, Section 6).

Each round trains the masked network, removes the ``fraction`` smallest-magnitude surviving weights of
every layer, and rewinds the survivors to their initial values; masks are re-applied after every
optimiser step, so pruned weights stay exactly zero.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch
from torch import nn

from ._model import linear_layers
from ._train import TrainConfig, train


def magnitude_masks(model: nn.Module, masks: list[torch.Tensor], fraction: float) -> list[torch.Tensor]:
    """New masks removing ``fraction`` of each layer's surviving weights, smallest |w| first."""
    if not 0 < fraction < 1:
        raise ValueError(f"pruning fraction must lie strictly between 0 and 1 (got {fraction})")
    out = []
    for layer, mask in zip(linear_layers(model), masks):
        w = layer.weight.detach().abs()
        alive = mask.bool()
        k = int(fraction * int(alive.sum()))
        new = mask.clone()
        if k > 0:
            scores = torch.where(alive, w, torch.full_like(w, float("inf")))
            cut = torch.topk(scores.flatten(), k, largest=False).indices
            new.view(-1)[cut] = 0
        out.append(new)
    return out


@torch.no_grad()
def apply_masks(model: nn.Module, masks: list[torch.Tensor]) -> None:
    for layer, mask in zip(linear_layers(model), masks):
        layer.weight.mul_(mask.to(layer.weight.device))


def iterative_magnitude_pruning(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: TrainConfig,
    rounds: int,
    fraction: float = 0.5,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    identity: dict | None = None,
) -> tuple[list[torch.Tensor], list[dict]]:
    """Run ``rounds`` rounds of train -> prune -> rewind, then train the final ticket; returns (masks, history).

    The model ends trained with its final masks applied.  Each round's training checkpoints to
    ``checkpoint_dir/imp-round-K.pt`` so an interrupted run resumes round by round; ``identity`` (with the
    round number and ``fraction`` added by the caller) must match for a round checkpoint to be continued.
    """
    if rounds < 0:
        raise ValueError(f"IMP rounds must be >= 0 (got {rounds})")
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    masks = [torch.ones_like(layer.weight) for layer in linear_layers(model)]
    history: list[dict] = []
    for rnd in range(rounds + 1):
        ckpt = None if checkpoint_dir is None else checkpoint_dir / f"imp-round-{rnd}.pt"
        apply_masks(model, masks)
        hist = train(
            model,
            x,
            y,
            cfg,
            checkpoint=ckpt,
            resume=resume,
            after_step=partial(apply_masks, masks=masks),  # this round's masks
            identity={**(identity or {}), "imp_round": rnd},
        )
        kept = sum(int(mk.sum()) for mk in masks)
        history.append(
            {"round": rnd, "kept_weights": kept, "final_train_loss": hist[-1]["train_loss"] if hist else None}
        )
        if rnd == rounds:
            break
        masks = magnitude_masks(model, masks, fraction)
        model.load_state_dict(init)  # rewind to initialisation
    apply_masks(model, masks)
    return masks, history
