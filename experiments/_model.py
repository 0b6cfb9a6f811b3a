"""The paper's model: a ReLU MLP with bias, ``depth`` linear layers (input -> h, (depth - 2) x h -> h, h -> 10)."""

from __future__ import annotations

import torch
from torch import nn


def make_mlp(input_dim: int, width: int, depth: int = 5, n_classes: int = 10) -> nn.Sequential:
    """THEORY.md's model: ``depth`` linear layers with ReLU between them (the last layer linear)."""
    if depth < 2:
        raise ValueError(f"depth must be >= 2 (got {depth})")
    if width < 1 or input_dim < 1:
        raise ValueError(f"width and input_dim must be >= 1 (got {width}, {input_dim})")
    dims = [input_dim] + [width] * (depth - 1) + [n_classes]
    layers: list[nn.Module] = []
    for k in range(depth):
        layers.append(nn.Linear(dims[k], dims[k + 1]))
        if k < depth - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def weight_matrices(model: nn.Module) -> list[torch.Tensor]:
    """The weight matrices A^l (outputs x inputs), detached copies."""
    return [layer.weight.detach().clone() for layer in linear_layers(model)]


@torch.no_grad()
def set_weight_matrices(model: nn.Module, weights: list[torch.Tensor]) -> None:
    layers = linear_layers(model)
    if len(layers) != len(weights):
        raise ValueError(f"model has {len(layers)} linear layers, got {len(weights)} matrices")
    for layer, w in zip(layers, weights):
        layer.weight.copy_(w)
