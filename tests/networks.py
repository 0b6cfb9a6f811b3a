"""Shared test helpers: a reference numpy ReLU MLP (bias-free, last layer linear; the setting of Lemma B.2)."""

from __future__ import annotations

import numpy as np


def relu_forward(mats, x):
    """Outputs of the bias-free ReLU MLP with matrices ``mats`` (outputs x inputs) on the rows of ``x``."""
    h = x
    for k, w in enumerate(mats):
        h = h @ w.T
        if k < len(mats) - 1:
            h = np.maximum(h, 0.0)
    return h


def relu_layer_inputs(mats, x):
    """The inputs each layer of that MLP sees (the first is ``x`` itself)."""
    out, h = [x], x
    for w in mats[:-1]:
        h = np.maximum(h @ w.T, 0.0)
        out.append(h)
    return out
