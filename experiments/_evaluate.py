"""The functional core shared by ``python -m experiments.bounds`` and :func:`experiments.evaluate`: every measure
and bound of one trained ReLU MLP given as weight matrices and biases.

:func:`network_bounds` takes plain arrays (weights as outputs x inputs, biases per layer or None), computes the
margins of the training and test points with one batched float32 forward pass each, and calls
:func:`experiments._bounds.compute_bounds` with the protocol's choices.  The forward pass is
:func:`mlp_forward`, the same function for the toolkit's own networks and for a user's, so both give the same
numbers on the same weights.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ._bounds import BASELINE_KEYS, MEASURES_KEYS, compute_bounds
from ._measures import layer_measures, margin_loss, margins
from ._settings import TOOLKIT, Protocol


@torch.no_grad()
def mlp_forward(
    weights: list[torch.Tensor],
    biases: list[torch.Tensor | None],
    x: torch.Tensor,
    batch: int = 8192,
) -> torch.Tensor:
    """Outputs of the ReLU MLP x -> A_L relu(... relu(A_1 x + b_1) ...) + b_L over the rows of ``x`` (N x d_in),
    in batches, in the dtype and on the device of ``weights``; returns (N, n_classes) on the CPU."""
    device, dtype = weights[0].device, weights[0].dtype
    outs = []
    for s in range(0, x.shape[0], batch):
        h = x[s : s + batch].to(device=device, dtype=dtype)
        for k, (w, b) in enumerate(zip(weights, biases)):
            h = torch.nn.functional.linear(h, w, b)
            if k < len(weights) - 1:
                h = torch.relu(h)
        outs.append(h.cpu())
    if not outs:
        return torch.empty(0, weights[-1].shape[0])
    return torch.cat(outs)


def network_bounds(
    weights: list[np.ndarray],
    biases: list[np.ndarray | None],
    init_weights: list[np.ndarray] | None,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    *,
    protocol: Protocol = TOOLKIT,
    delta: float = 0.01,
    seed: int = 0,
    prune_diagonal: bool | None = None,
    error_curve: bool = False,
    device: str = "cpu",
) -> dict[str, Any]:
    """Every measure and bound of the network (``weights[l]``: outputs x inputs; ``biases[l]``: outputs or None)
    on the training points (``x_train`` N x d_in float, ``y_train`` N int64; m = N) and, when given, the test
    points.  ``prune_diagonal`` defaults to the protocol's.  Returns the dict of
    :func:`~experiments._bounds.compute_bounds` (log10 bounds under ``*_log10``) plus ``test_error`` (the
    unpruned network's, margin rule of the protocol), ``pruned_test_error`` and ``true_error_log10`` (log10 of
    the pruned network's test error, the paper's "True error").  Raises ValueError (one line) when no margin is
    left to bound with or the outputs are not finite."""
    tie = protocol.tie_is_error
    dev = torch.device(device)
    ws32 = [torch.as_tensor(np.asarray(w), dtype=torch.float32, device=dev) for w in weights]
    bs32 = [None if b is None else torch.as_tensor(np.asarray(b), dtype=torch.float32, device=dev) for b in biases]
    w64 = [np.asarray(w, dtype=np.float64) for w in weights]

    def margins_with(ws: list[np.ndarray], x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
        wt = [torch.as_tensor(w, dtype=torch.float32, device=dev) for w in ws]
        return margins(mlp_forward(wt, bs32, x), y)

    train_margins = margins(mlp_forward(ws32, bs32, x_train), y_train)
    if not np.all(np.isfinite(train_margins)):
        raise ValueError("the network's outputs on the training points are not finite (NaN or infinite weights?)")
    x64 = x_train.double()
    x_max = float(x64.norm(dim=1).max()) if len(x64) else 0.0
    x_total = float(x64.norm())
    test = (x_test, y_test) if x_test is not None and y_test is not None and len(y_test) > 0 else None
    res = compute_bounds(
        w64,
        init_weights,
        train_margins,
        lambda ws: margins_with(ws, x_train, y_train),
        x_max,
        x_total,
        m=int(len(y_train)),
        delta=delta,
        seed=seed,
        prune_diagonal=protocol.prune_diagonal if prune_diagonal is None else prune_diagonal,
        error_curve=error_curve,
        protocol=protocol,
        test_margins_of=(lambda ws: margins_with(ws, *test)) if test is not None else None,
        n_params=int(
            sum(np.asarray(w).size for w in weights) + sum(0 if b is None else np.asarray(b).size for b in biases)
        ),
    )
    if test is not None:
        test_m = margins(mlp_forward(ws32, bs32, test[0]), test[1])
        res["test_error"] = margin_loss(test_m, 0.0, tie)
        res["test_error_log10"] = math.log10(res["test_error"]) if res["test_error"] > 0 else float("-inf")
    return res


#: the keys of :func:`network_bounds` that are bounds or come from pruning: all None in a record without bounds
UNBOUNDED_KEYS = (
    *BASELINE_KEYS,
    *MEASURES_KEYS,
    "ours_paper_compatible_log10",
    "ours_gap_log10",
    "theorem_5_2_log10",
    "theorem_5_2_gap_log10",
    "lemma_d_1_log10",
    "lemma_d_1_gap_log10",
    "true_error_log10",
    "theorem_5_2_required_margin",
    "theorem_5_2_margin_condition_met",
    "lemma_d_1_margin_condition_met",
    "gamma",
    "gamma_star",
    "d_star",
    "pruned_test_error",
    "pruned_train_error",
)


def network_without_bounds(
    weights: list[np.ndarray],
    biases: list[np.ndarray | None],
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor | None,
    y_test: torch.Tensor | None,
    reason: str,
    *,
    protocol: Protocol = TOOLKIT,
) -> dict[str, Any]:
    """What can still be said of a network whose bounds cannot be computed (``reason``, one line): its errors,
    margins and per-layer norms, with every bound key of :func:`network_bounds` None and ``bounds_not_computed``
    set to ``reason`` (the record of a sweep's task that is kept instead of stopping the sweep)."""
    tie = protocol.tie_is_error
    ws32 = [torch.as_tensor(np.asarray(w), dtype=torch.float32) for w in weights]
    bs32 = [None if b is None else torch.as_tensor(np.asarray(b), dtype=torch.float32) for b in biases]
    train_m = margins(mlp_forward(ws32, bs32, x_train), y_train)
    x64 = x_train.double()
    out: dict[str, Any] = {key: None for key in UNBOUNDED_KEYS}
    out.update(
        {
            "protocol": protocol.name,
            "bounds_not_computed": reason,
            "gamma_rule": "none (bounds not computed)",
            "bisection_status": "not run (no bounds)",
            "m": int(len(y_train)),
            "x_max": float(x64.norm(dim=1).max()) if len(x64) else 0.0,
            "train_error": margin_loss(train_m, 0.0, tie),
            "train_margin_min": float(np.min(train_m)),
            "train_margin_percentiles": {str(q): float(np.quantile(train_m, q / 100)) for q in (1, 5, 10, 25, 50)},
            "layers": [layer_measures(np.asarray(w, dtype=np.float64)) for w in weights],
        }
    )
    if x_test is not None and y_test is not None and len(y_test) > 0:
        test_m = margins(mlp_forward(ws32, bs32, x_test), y_test)
        out["test_error"] = margin_loss(test_m, 0.0, tie)
        out["test_error_log10"] = math.log10(out["test_error"]) if out["test_error"] > 0 else float("-inf")
    return out
