"""Iterative magnitude pruning: masks shrink by the asked fraction and pruned weights stay zero."""

import pytest
import torch

from experiments._imp import iterative_magnitude_pruning, magnitude_masks
from experiments._model import linear_layers, make_mlp
from experiments._train import TrainConfig


def test_magnitude_masks_remove_the_smallest():
    torch.manual_seed(0)
    m = make_mlp(6, 8, depth=2)
    masks = [torch.ones_like(layer.weight) for layer in linear_layers(m)]
    new = magnitude_masks(m, masks, 0.5)
    for layer, mk in zip(linear_layers(m), new):
        kept = layer.weight.abs()[mk.bool()]
        dropped = layer.weight.abs()[~mk.bool()]
        assert int(mk.sum()) == layer.weight.numel() - layer.weight.numel() // 2
        assert kept.min() >= dropped.max()
    with pytest.raises(ValueError, match="fraction"):
        magnitude_masks(m, masks, 1.0)


def test_imp_rounds_keep_pruned_weights_zero():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(120, 6, generator=g)
    y = (x[:, 0] > 0).long()
    torch.manual_seed(1)
    model = make_mlp(6, 16, depth=3)
    masks, hist = iterative_magnitude_pruning(
        model, x, y, TrainConfig(epochs=3, batch_size=32, lr=1e-2, progress=False), rounds=2, fraction=0.5
    )
    total = sum(mk.numel() for mk in masks)
    assert [h["kept_weights"] for h in hist] == sorted([h["kept_weights"] for h in hist], reverse=True)
    assert sum(int(mk.sum()) for mk in masks) < 0.3 * total
    for layer, mk in zip(linear_layers(model), masks):
        assert torch.all(layer.weight[~mk.bool()] == 0)
