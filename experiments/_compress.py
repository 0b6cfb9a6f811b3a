"""Train -> prune -> quantise: the compressed networks that ``experiments.certify`` codes and bounds.

A plain PyTorch loop of its own (masks re-applied after every step, quantisation-aware fine-tuning with a
straight-through estimator), so that nothing in ``experiments._train`` has to change.  Pruning is either iterative
magnitude pruning or Algorithm 1 (claim ``algorithm-1``, the one implementation ``numerics.algorithm_1``) applied to
the surviving weights at a strength ``d`` chosen per layer and round; both also remove whole hidden units (and,
optionally, whole input features).  The result of every path is a ``numerics.CompressedMLP`` -- the exact hypothesis
that is coded and certified.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import numerics

PRUNE_METHODS = ("magnitude", "algorithm-1")


@dataclass(frozen=True)
class Schedule:
    """Training lengths (epochs over the training set), Adam learning rates and the minibatch size."""

    dense_epochs: int = 10
    rounds: int = 20
    round_epochs: int = 2
    final_epochs: int = 15
    qat_epochs: int = 8
    lr: float = 1e-3
    qat_lr: float = 1e-3
    batch_size: int = 128


@dataclass(frozen=True)
class PruneSpec:
    """One pruning path: ``method`` (magnitude or algorithm-1), hidden ``units`` kept per hidden layer at the end,
    input features kept (``inputs``, None: no explicit input pruning) and the nonzero-weight ``targets`` at which the
    path is snapshotted (descending)."""

    method: str
    units: tuple[int, ...]
    targets: tuple[int, ...]
    inputs: int | None = None
    smooth: float = 0.0  # magnitude pruning of a first layer over an image: weight of the neighbours' magnitudes
    side: int | None = None  # side of the (pooled) input image, for ``smooth``

    def __post_init__(self) -> None:
        if self.method not in PRUNE_METHODS:
            raise ValueError(f"pruning method must be one of {PRUNE_METHODS} (got {self.method!r})")
        if not self.targets or min(self.targets) < 1:
            raise ValueError(f"targets must be >= 1 nonzero weights (got {self.targets})")
        if any(u < 1 for u in self.units):
            raise ValueError(f"units must be >= 1 (got {self.units})")


class SparseMLP(nn.Module):
    """A ReLU MLP with a 0/1 mask per weight matrix and optional straight-through quantisation of weights
    (levels in [-K, K] \\ {0} times a per-layer scale) and biases (levels in [-Kb, Kb] times a scale)."""

    def __init__(self, dims: Sequence[int], seed: int):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.dims = list(dims)
        self.weight = nn.ParameterList()
        self.bias = nn.ParameterList()
        for a, b in zip(dims[:-1], dims[1:]):
            bound = 1.0 / math.sqrt(a)  # nn.Linear's default initialisation range
            self.weight.append(nn.Parameter((torch.rand(b, a, generator=gen) * 2 - 1) * bound))
            self.bias.append(nn.Parameter((torch.rand(b, generator=gen) * 2 - 1) * bound))
        self.masks = [torch.ones(b, a) for a, b in zip(dims[:-1], dims[1:])]
        self.quant: dict | None = None  # {"scales": [...], "K": int, "bias_scales": [...], "Kb": int}

    def effective(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.weight[k] * self.masks[k]
        b = self.bias[k]
        if self.quant is not None:
            s = self.quant["scales"][k]
            q = _levels_torch(w, s, self.quant["K"], self.quant.get("zeros", False), self.quant.get("deadzone", 0.5))
            w = w + (q * s * self.masks[k] - w).detach()
            bs = self.quant["bias_scales"][k]
            if bs is None:
                b = b + (torch.zeros_like(b) - b).detach()
            else:
                qb = torch.clamp(torch.round(b / bs), -self.quant["Kb"], self.quant["Kb"])
                b = b + (qb * bs - b).detach()
        return w, b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for k in range(len(self.weight)):
            w, b = self.effective(k)
            h = h @ w.T + b
            if k < len(self.weight) - 1:
                h = torch.relu(h)
        return h

    @torch.no_grad()
    def apply_masks(self) -> None:
        for w, m in zip(self.weight, self.masks):
            w.mul_(m)

    def nonzeros(self) -> int:
        return int(sum(int(m.sum()) for m in self.masks))

    def units_alive(self) -> list[int]:
        return [
            int(((self.masks[k].sum(1) > 0) & (self.masks[k + 1].sum(0) > 0)).sum()) for k in range(len(self.masks) - 1)
        ]


def _levels_torch(
    w: torch.Tensor, scale: float, k_max: int, zeros: bool = False, deadzone: float = 0.5
) -> torch.Tensor:
    """round(w / scale) clipped to [-K, K]; unless ``zeros``, a nonzero weight never rounds to 0 (it becomes +-1);
    with ``zeros``, |w| / scale < ``deadzone`` gives 0 (0.5: plain rounding)."""
    q = torch.clamp(torch.round(w / scale), -k_max, k_max)
    if zeros:
        return torch.where((w / scale).abs() < deadzone, torch.zeros_like(q), torch.where(q == 0, torch.sign(w), q))
    return torch.where((q == 0) & (w != 0), torch.sign(w), q)


def _levels_numpy(w: np.ndarray, scale: float, k_max: int, zeros: bool = False, deadzone: float = 0.5) -> np.ndarray:
    q = np.clip(np.round(w / scale), -k_max, k_max)
    if zeros:
        return np.where(np.abs(w / scale) < deadzone, 0, np.where(q == 0, np.sign(w), q)).astype(np.int64)
    return np.where((q == 0) & (w != 0), np.sign(w), q).astype(np.int64)


# ------------------------------------------------------------------------------------------------------ training
def train(
    net: SparseMLP,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    cosine: bool = False,
    teacher: torch.Tensor | None = None,
    distill: float = 0.0,
) -> None:
    """Adam on the cross-entropy for ``epochs`` passes (permutation of epoch e drawn from a generator seeded with
    (seed, e)); masks re-applied after every step, so pruned weights stay exactly zero.  With ``teacher`` logits
    (n, classes) and ``distill`` in (0, 1], the loss mixes in distill * T^2 KL(teacher || student) at T = 2."""
    if epochs <= 0:
        return
    opt = torch.optim.Adam(list(net.weight) + list(net.bias), lr=lr)
    n = len(y)
    steps = epochs * math.ceil(n / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if cosine else None
    net.train()
    for e in range(epochs):
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + e))
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            out = net(x[idx])
            loss = F.cross_entropy(out, y[idx])
            if teacher is not None and distill > 0:
                kl = F.kl_div(F.log_softmax(out / 2.0, 1), F.log_softmax(teacher[idx] / 2.0, 1), log_target=True)
                loss = (1 - distill) * loss + distill * 4.0 * kl * out.shape[1]
            opt.zero_grad()
            loss.backward()
            opt.step()
            net.apply_masks()
            if sched is not None:
                sched.step()


@torch.no_grad()
def error_rate(net: SparseMLP, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    wrong = 0
    for start in range(0, len(y), 8192):
        wrong += int((net(x[start : start + 8192]).argmax(1) != y[start : start + 8192]).sum())
    return wrong / max(len(y), 1)


# ------------------------------------------------------------------------------------------------------ pruning
def _kill_units(net: SparseMLP, k: int, keep: int) -> None:
    """Keep the ``keep`` hidden units of layer k (rows of W_k, columns of W_{k+1}) with the largest
    ||w_in|| ||w_out||; dead units (no input or no output weight) go first."""
    w_in = (net.weight[k] * net.masks[k]).detach()
    w_out = (net.weight[k + 1] * net.masks[k + 1]).detach()
    alive = (net.masks[k].sum(1) > 0) & (net.masks[k + 1].sum(0) > 0)
    score = torch.where(alive, w_in.norm(dim=1) * w_out.norm(dim=0), torch.full_like(alive, -1.0, dtype=torch.float32))
    if int(alive.sum()) > keep:
        kept = torch.zeros_like(alive)
        kept[torch.topk(score, keep).indices] = True
        alive = alive & kept
    net.masks[k][~alive] = 0
    net.masks[k + 1][:, ~alive] = 0


def _kill_inputs(net: SparseMLP, keep: int) -> None:
    w = (net.weight[0] * net.masks[0]).detach()
    norms = w.norm(dim=0)
    if int((norms > 0).sum()) > keep:
        dead = torch.ones_like(norms, dtype=torch.bool)
        dead[torch.topk(norms, keep).indices] = False
        net.masks[0][:, dead] = 0


def _layer_targets(net: SparseMLP, total: int) -> list[int]:
    """How many survivors each layer keeps when the ``total`` largest |w| / (mean |w| of the layer) are kept
    (a global magnitude threshold on per-layer normalised weights)."""
    scores, sizes = [], []
    for w, m in zip(net.weight, net.masks):
        alive = m > 0
        v = (w.detach().abs() * m)[alive]
        scale = float(v.mean()) if v.numel() else 1.0
        scores.append(v.flatten() / scale)
        sizes.append(v.numel())
    flat = torch.cat(scores)
    if total >= flat.numel():
        return sizes
    order = torch.argsort(flat, descending=True)[:total]
    counts = torch.bincount(
        torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))[order], minlength=len(sizes)
    )
    return [int(c) for c in counts]


def _smoothed(w: torch.Tensor, side: int, smooth: float) -> torch.Tensor:
    """|w| + smooth * (mean |w| of the 4 neighbouring pixels of the same unit): favours spatially coherent masks,
    which the code's left/up contexts make cheaper (first layer over an image only)."""
    img = w.view(-1, 1, side, side)
    kernel = torch.tensor([[0.0, 0.25, 0.0], [0.25, 0.0, 0.25], [0.0, 0.25, 0.0]]).view(1, 1, 3, 3)
    return (img + smooth * F.conv2d(img, kernel, padding=1)).view_as(w)


def _prune_magnitude(net: SparseMLP, total: int, smooth: float = 0.0, side: int | None = None) -> dict:
    for k, keep in enumerate(_layer_targets(net, total)):
        w = (net.weight[k] * net.masks[k]).detach().abs()
        if k == 0 and smooth and side is not None:
            w = _smoothed(w, side, smooth) * (net.masks[k] > 0)
        alive = net.masks[k] > 0
        if int(alive.sum()) > keep:
            score = torch.where(alive, w, torch.full_like(w, -1.0)).flatten()
            new = torch.zeros_like(score)
            new[torch.topk(score, keep).indices] = 1
            net.masks[k] = new.view_as(w) * net.masks[k]
    net.apply_masks()
    return {}


def _algorithm_1_layer(values: np.ndarray, keep: int, seed: Sequence[int]) -> tuple[np.ndarray, float]:
    """algorithm-1 on a vector of surviving weights at the strength d for which it keeps at most ``keep`` of them
    (bisection on log d with common random numbers, so the count is monotone in d).  Returns (kept mask, d)."""
    if keep >= values.size:
        return np.ones(values.size, dtype=bool), 0.0

    def kept_at(d: float) -> np.ndarray:
        return numerics.algorithm_1(values, d, generator=np.random.default_rng(list(seed)))[1]

    lo, hi = -12.0, 12.0  # log10 d: d = 1e-12 keeps (almost) everything, 1e12 (almost) nothing
    if int(kept_at(10.0**hi).sum()) > keep:
        return kept_at(10.0**hi), 10.0**hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if int(kept_at(10.0**mid).sum()) > keep:
            lo = mid
        else:
            hi = mid
    return kept_at(10.0**hi), 10.0**hi


def _prune_algorithm_1(net: SparseMLP, total: int, seed: int, step: int) -> dict:
    strengths = []
    for k, keep in enumerate(_layer_targets(net, total)):
        alive = (net.masks[k] > 0).flatten()
        values = (net.weight[k].detach().flatten()[alive]).double().numpy()
        if values.size < 2:
            strengths.append(0.0)
            continue
        kept, d = _algorithm_1_layer(values, keep, (seed, step, k))
        new = torch.zeros(alive.numel())
        new[torch.nonzero(alive).flatten()[torch.as_tensor(kept)]] = 1
        net.masks[k] = new.view_as(net.masks[k]) * net.masks[k]
        strengths.append(d)
    net.apply_masks()
    return {"d": strengths}


def _count_schedule(start: int, targets: Sequence[int], rounds: int) -> list[int]:
    """Nonzero counts visited: geometric from ``start`` to min(targets) in ``rounds`` steps, with every target added."""
    end = min(targets)
    geo = [int(round(start * (end / start) ** (r / rounds))) for r in range(1, rounds + 1)]
    return sorted({c for c in geo + list(targets) if c < start}, reverse=True)


def prune_path(
    net: SparseMLP,
    x: torch.Tensor,
    y: torch.Tensor,
    spec: PruneSpec,
    sched: Schedule,
    seed: int,
    progress: Callable[[str], None] | None = None,
    teacher: torch.Tensor | None = None,
    distill: float = 0.0,
) -> list[dict]:
    """Iterative pruning from the trained dense ``net`` through ``spec.targets``; fine-tunes ``sched.round_epochs``
    after every step.  Returns one snapshot per target: {"target", "state" (a SparseMLP copy), "log"}."""
    start = net.nonzeros()
    counts = _count_schedule(start, spec.targets, sched.rounds)
    end = min(spec.targets)
    hidden = net.dims[1:-1]
    if len(spec.units) != len(hidden):
        raise ValueError(f"units needs one entry per hidden layer ({len(hidden)}), got {spec.units}")
    snapshots, log = [], []
    for step, count in enumerate(counts):
        frac = math.log(start / count) / math.log(start / end) if start > end else 1.0
        for k, (h0, h1) in enumerate(zip(hidden, spec.units)):
            _kill_units(net, k, int(round(h0 * (min(h1, h0) / h0) ** frac)))
        if spec.inputs is not None:
            d0 = net.dims[0]
            _kill_inputs(net, int(round(d0 * (min(spec.inputs, d0) / d0) ** frac)))
        if spec.method == "magnitude":
            info = _prune_magnitude(net, count, spec.smooth, spec.side)
        else:
            info = _prune_algorithm_1(net, count, seed, step)
        train(net, x, y, sched.round_epochs, sched.lr, sched.batch_size, seed + 1000 + step, False, teacher, distill)
        entry = {"nonzeros": net.nonzeros(), "units": net.units_alive(), **info}
        log.append(entry)
        if progress is not None:
            progress(f"{spec.method}: {entry['nonzeros']} weights, units {entry['units']}")
        if count in spec.targets:
            snapshots.append({"target": count, "state": copy.deepcopy(net), "log": list(log)})
    return snapshots


# ------------------------------------------------------------------------------------------------------ quantising
def _best_scale(w: np.ndarray, k_max: int) -> float:
    """The stored (minifloat) scale minimising the squared rounding error of the survivors ``w`` at K levels."""
    top = float(np.abs(w).max())
    best, best_err = None, math.inf
    for f in np.linspace(0.2, 1.0, 33):
        s = numerics.scale_value(numerics.quantise_scale(top * f / k_max))
        err = float(((_levels_numpy(w, s, k_max) * s - w) ** 2).sum())
        if err < best_err:
            best, best_err = s, err
    # w is finite (a NaN or inf makes top non-finite, which quantise_scale rejects), so the first error is finite
    assert best is not None
    return best


@dataclass
class Quantised:
    """A quantised network: the hypothesis (``network``) and how it was made."""

    network: numerics.CompressedMLP
    levels: int
    bias_levels: int
    info: dict = field(default_factory=dict)


def quantise(
    net: SparseMLP,
    task: numerics.Task,
    pool: int,
    k_max: int,
    bias_levels: int,
    x: torch.Tensor,
    y: torch.Tensor,
    sched: Schedule,
    seed: int,
    fixed_structure: bool = False,
    zeros: bool = False,
    teacher: torch.Tensor | None = None,
    distill: float = 0.0,
    deadzone: float = 0.5,
) -> Quantised:
    """Quantisation-aware fine-tuning of a copy of ``net`` (per-layer minifloat scales, levels in [-K, K] \\ {0},
    bias levels in [-Kb, Kb]), then the exact ``CompressedMLP`` with dead units removed, in canonical order.  With
    ``zeros`` a survivor may round to level 0 and is then pruned (the mask is that of the final levels); without,
    it becomes +-1.  With ``fixed_structure`` the architecture, unit order and masks are kept exactly
    (data-dependent prior; ``zeros`` is then ignored)."""
    zeros = zeros and not fixed_structure
    q = copy.deepcopy(net)
    scales, bias_scales = [], []
    for k in range(len(q.weight)):
        w = (q.weight[k] * q.masks[k]).detach().double().numpy()
        alive = q.masks[k].numpy() > 0
        scales.append(_best_scale(w[alive], k_max) if alive.any() else 1.0)
        b = q.bias[k].detach().double().numpy()
        top = float(np.abs(b).max())
        bias_scales.append(
            None if bias_levels == 0 or top == 0 else numerics.scale_value(numerics.quantise_scale(top / bias_levels))
        )
    q.quant = {
        "scales": scales,
        "K": k_max,
        "bias_scales": bias_scales,
        "Kb": bias_levels,
        "zeros": zeros,
        "deadzone": deadzone,
    }
    train(q, x, y, sched.qat_epochs, sched.qat_lr, sched.batch_size, seed + 7, True, teacher, distill)
    levels: list[np.ndarray] = []
    biases: list[np.ndarray | None] = []
    bscodes: list[tuple[int, int] | None] = []
    for k in range(len(q.weight)):
        w = (q.weight[k] * q.masks[k]).detach().double().numpy()
        mask = q.masks[k].numpy() > 0
        lv = _levels_numpy(w, scales[k], k_max, zeros, deadzone) * mask
        if not zeros:
            lv[mask & (lv == 0)] = 1  # a survivor whose weight is exactly 0.0 keeps its place in the mask
        levels.append(lv)
        bias_scale = bias_scales[k]
        if bias_scale is None:
            biases.append(None)
            bscodes.append(None)
        else:
            b = q.bias[k].detach().double().numpy()
            biases.append(np.clip(np.round(b / bias_scale), -bias_levels, bias_levels).astype(np.int64))
            bscodes.append(numerics.quantise_scale(bias_scale))
    if not fixed_structure:
        levels, biases = _drop_dead_units(levels, biases)
    net_c = numerics.CompressedMLP(task, pool, levels, [numerics.quantise_scale(s) for s in scales], biases, bscodes)
    return Quantised(
        net_c if fixed_structure else numerics.canonical_form(net_c), k_max, bias_levels, {"scales": scales}
    )


def _drop_dead_units(
    levels: list[np.ndarray], biases: list[np.ndarray | None]
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Remove hidden units that cannot change the output: no outgoing weight, or no incoming weight and bias 0
    (their output is ReLU(0) = 0).  At least one unit is kept per layer."""
    levels = [q.copy() for q in levels]
    biases = [None if b is None else b.copy() for b in biases]
    changed = True
    while changed:
        changed = False
        for k in range(len(levels) - 1):
            out_used = np.any(levels[k + 1] != 0, axis=0)
            in_used = np.any(levels[k] != 0, axis=1) | (biases[k] is not None and np.asarray(biases[k] != 0))
            keep = out_used & in_used
            if not keep.any():
                keep[0] = True
            if not keep.all():
                levels[k] = levels[k][keep]
                levels[k + 1] = levels[k + 1][:, keep]
                bias = biases[k]
                if bias is not None:
                    biases[k] = bias[keep]
                changed = True
    return levels, biases


def features(x: np.ndarray, task: numerics.Task, pool: int) -> torch.Tensor:
    """Pooled inputs as float32 torch (training); the certified network pools the same way in float64."""
    return torch.as_tensor(numerics.pool_inputs(x, task, pool), dtype=torch.float32)
