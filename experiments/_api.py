"""``experiments.evaluate``: every measure and bound of a trained ReLU MLP you already have (the functional core is
:func:`experiments._evaluate.network_bounds`; this is the thin wrapper, in the torchmetrics spirit).

>>> result = evaluate(model, (x_train, y_train), test_data=(x_test, y_test))       # doctest: +SKIP
>>> result.bounds_log10["ours_paper_compatible"], result.to_frame()                 # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._network import MLPSpec, NetworkError, extract_mlp
from ._settings import PROTOCOLS, Protocol, UsageError

__all__ = ["BOUND_NAMES", "BoundsResult", "evaluate"]

#: every bound of a result, by name (the summary key is NAME + "_log10"), with what it is
BOUND_NAMES = {
    "neyshabur_2015_code": "Neyshabur et al. 2015, the authors' computed form (prod ||A||_F^2 / gamma^2)",
    "neyshabur_2017_code": "Neyshabur et al. 2017, the authors' computed form",
    "bartlett_2017_code": "Bartlett et al. 2017, the authors' computed form (their lpq(A,1,2) is Frobenius)",
    "neyshabur_2015_literature": "Neyshabur et al. 2015, literature form, with R-hat",
    "neyshabur_2017_literature": "Neyshabur et al. 2017, literature form, with R-hat",
    "bartlett_2017_literature": "Bartlett et al. 2017, literature form, with R-hat",
    "neyshabur_2015_measures": "Neyshabur et al. 2015, measures convention (5th-pct margin, 1/sqrt(m), no constants)",
    "neyshabur_2018_measures": "Neyshabur et al. 2018 (PAC-Bayes), measures convention, distances from W0",
    "bartlett_2017_measures": "Bartlett et al. 2017, measures convention, distances from W0",
    "ours_paper_compatible": "the paper's 'Ours' (paper-compatible, its search for the pruning strength)",
    "theorem_5_2": "Theorem 5.2, rigorous (explicit constants; vacuous when its margin condition fails)",
    "lemma_d_1": "Lemma D.1, rigorous naive count",
    "theorem_6_2": "Theorem 6.2 for the given mask (lottery ticket), sketch count with 2^16 rounding levels",
    "true_error": "the pruned network's test error (the paper's 'True error')",
}


@dataclass
class BoundsResult:
    """Everything :func:`evaluate` measured.  ``bounds_log10`` maps each name of :data:`BOUND_NAMES` to log10 of
    the bound (None where it cannot be computed, e.g. no positive margin under the authors' protocol);
    errors are fractions in [0, 1]; margins in logit units; ``layers`` one dict per layer (d1, d2, spectral,
    frobenius, norm21T, lpq_1_2, psi, nonzeros, max_row, max_col, delta_spectral, ...); ``raw`` the full record
    of :func:`experiments._bounds.compute_bounds`."""

    protocol: str
    m: int
    delta: float
    gamma: float
    gamma_rule: str
    train_error: float
    test_error: float | None
    pruned_test_error: float | None
    d_star: float | None
    gamma_star: float | None
    bounds_log10: dict[str, float | None]
    layers: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)

    def note(self, name: str) -> str | None:
        """Why the bound ``name`` is missing (None in :attr:`bounds_log10`), or what must be said beside its number
        (a rigorous bound whose margin condition fails is vacuous); None when the number stands as it is."""
        from ._bounds import RIGOROUS, rigorous_note

        value = self.bounds_log10.get(name)
        if name in RIGOROUS and value is not None:
            return rigorous_note(self.raw, name)
        if value is not None:
            return None
        if name.endswith("_measures"):
            return f"not computed: {self.raw.get('measures_status') or 'measures convention unavailable'}"
        if name == "theorem_6_2":
            return "not computed: no lottery-ticket mask given"
        if name == "true_error":
            return "not computed: no test_data given"
        if not self.gamma > 0:
            return f"not computed: no positive margin ({self.gamma_rule})"
        return f"not computed ({self.raw.get('bisection_status') or 'see raw'})"

    def to_frame(self):
        """A pandas DataFrame, one row per bound: ``log10``, ``value`` (10**log10), ``note`` (why a bound is
        missing, or that a rigorous one is vacuous: :meth:`note`; empty otherwise) and ``what``."""
        import pandas as pd

        rows = []
        for name, what in BOUND_NAMES.items():
            v = self.bounds_log10.get(name)
            rows.append(
                {
                    "bound": name,
                    "log10": v,
                    "value": None if v is None else 10.0**v,
                    "note": self.note(name) or "",
                    "what": what,
                }
            )
        return pd.DataFrame(rows).set_index("bound")

    def to_json(self, **kwargs: Any) -> str:
        """The whole result as JSON (``raw`` included; non-finite numbers as null)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            if isinstance(v, np.generic):
                return clean(v.item())
            return v

        return json.dumps(clean(asdict(self)), **kwargs)


def _as_pair(data: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) from a pair of tensors/arrays or a DataLoader yielding (x, y) batches; x flattened to 2-D."""
    if isinstance(data, torch.utils.data.DataLoader):
        xs, ys = [], []
        for batch in data:
            if not isinstance(batch, (list, tuple)) or len(batch) < 2:
                raise UsageError(f"{name}: the DataLoader must yield (inputs, labels) batches")
            xs.append(torch.as_tensor(batch[0]))
            ys.append(torch.as_tensor(batch[1]))
        if not xs:
            raise UsageError(f"{name}: the DataLoader is empty")
        x, y = torch.cat(xs), torch.cat(ys)
    elif isinstance(data, (list, tuple)) and len(data) == 2:
        x, y = torch.as_tensor(data[0]), torch.as_tensor(data[1])
    else:
        raise UsageError(f"{name} must be an (inputs, labels) pair or a DataLoader (got {type(data).__name__})")
    if x.ndim == 0 or y.ndim == 0:
        raise UsageError(f"{name} must hold one row of inputs and one label per point (got a single number)")
    if x.shape[0] == 0 or x.numel() == 0:
        need = "the bounds need the points the network was trained on" if name == "train_data" else "leave it out"
        raise UsageError(f"{name} is empty (no points): {need}")
    x = x.reshape(x.shape[0], -1).float()
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise UsageError(f"{name}: {x.shape[0]} inputs but labels of shape {tuple(y.shape)}")
    if y.dtype.is_floating_point:
        if not torch.equal(y, y.round()):
            raise UsageError(f"{name}: labels must be class indices (integers)")
    y = y.long()
    if not torch.isfinite(x).all():
        raise UsageError(f"{name}: the inputs contain NaN or infinity")
    return x, y


def evaluate(
    model: Any,
    train_data: Any,
    *,
    init_model: Any = None,
    test_data: Any = None,
    delta: float = 0.01,
    protocol: str | Protocol = "toolkit",
    device: str = "cpu",
    seed: int = 0,
    mask: Sequence[Any] | None = None,
    spec: MLPSpec | None = None,
    error_curve: bool = False,
) -> BoundsResult:
    """Every measure and bound of a trained ReLU MLP on its training data (the CLI's numbers on the same weights).

    ``model``: an ``nn.Module`` chain of Linear + ReLU (``nn.Sequential``, or a module whose forward is that
    chain), a list of weight matrices (outputs x inputs), or a state_dict / Lightning checkpoint dict (with
    ``spec``; any floating dtype: the margins are computed in float32, the norms in float64, as for the toolkit's
    own networks); ``train_data``: (x, y) tensors/arrays or a DataLoader of (x, y) batches (x flattened; m = number
    of rows); ``init_model``: the initial weights W0 in any of the model's forms (for the distance-based
    baselines); ``test_data``: for the test errors and the paper's "True error"; ``protocol``: ``"toolkit"`` or
    ``"authors"`` (:mod:`experiments._settings`); ``mask``: 0/1 arrays, one per layer, of a lottery ticket
    (adds Theorem 6.2); ``device``: ``"cpu"``, ``"cuda[:N]"`` or ``"auto"`` (CUDA when present).  Raises
    :class:`NetworkError` (not a Linear + ReLU chain, shapes that do not chain, inputs of the wrong width) or
    :class:`UsageError` (bad data or options: empty data, a CUDA device that is not there), both ValueErrors
    with one line, and :class:`~experiments._bounds.NoMarginError` (a ValueError) when no margin is left to
    bound with (toolkit protocol: more than 10% of the training points misclassified)."""
    from ._evaluate import network_bounds

    proto = PROTOCOLS.get(protocol) if isinstance(protocol, str) else protocol
    if proto is None:
        raise UsageError(f"protocol must be one of {', '.join(PROTOCOLS)} (got {protocol!r})")
    if not 0 < delta < 1:
        raise UsageError(f"delta must lie strictly between 0 and 1 (got {delta})")
    device = _api_device(device)
    ws, bs = extract_mlp(model, spec)
    x, y = _as_pair(train_data, "train_data")
    if x.shape[1] != ws[0].shape[1]:
        raise NetworkError(f"the network takes {ws[0].shape[1]} inputs but train_data has {x.shape[1]} features")
    if int(y.max()) >= ws[-1].shape[0] or int(y.min()) < 0:
        raise UsageError(f"train_data has labels outside 0..{ws[-1].shape[0] - 1} (the network's outputs)")
    init = None
    if init_model is not None:
        init, _ = extract_mlp(init_model, spec)
        if [w.shape for w in init] != [w.shape for w in ws]:
            raise NetworkError("init_model's layer shapes differ from the model's")
    xt = yt = None
    if test_data is not None:
        xt, yt = _as_pair(test_data, "test_data")
        if xt.shape[1] != ws[0].shape[1]:
            raise NetworkError(f"the network takes {ws[0].shape[1]} inputs but test_data has {xt.shape[1]} features")
    raw = network_bounds(
        ws, bs, init, x, y, xt, yt, protocol=proto, delta=delta, seed=seed, error_curve=error_curve, device=device
    )
    if mask is not None:
        raw["imp"] = _ticket_bound(mask, ws, raw, x.shape[0], delta)
    bounds = {name: raw.get(f"{name}_log10") for name in BOUND_NAMES if name != "theorem_6_2"}
    bounds["theorem_6_2"] = raw["imp"]["theorem_6_2_log10"] if "imp" in raw else None
    return BoundsResult(
        protocol=proto.name,
        m=int(raw["m"]),
        delta=delta,
        gamma=float(raw["gamma"]),
        gamma_rule=str(raw["gamma_rule"]),
        train_error=float(raw["train_error"]),
        test_error=raw.get("test_error"),
        pruned_test_error=raw.get("pruned_test_error"),
        d_star=raw.get("d_star"),
        gamma_star=raw.get("gamma_star"),
        bounds_log10=bounds,
        layers=raw["layers"],
        raw=raw,
    )


def _api_device(device: Any) -> str:
    """The device of :func:`evaluate`'s forward passes: ``"auto"`` (CUDA when present), ``"cpu"`` or
    ``"cuda[:N]"`` of a CUDA device that exists; UsageError (one line) otherwise."""
    name = str(device)
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return name
    if not (name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit())):
        raise UsageError(f"device must be 'auto', 'cpu' or 'cuda[:N]' (got {device!r})")
    if not torch.cuda.is_available():
        raise UsageError(f"device {name!r} was asked for but no CUDA device is available (use device='cpu' or 'auto')")
    if name.startswith("cuda:") and int(name[5:]) >= torch.cuda.device_count():
        raise UsageError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return name


def _ticket_bound(mask: Sequence[Any], ws: list[np.ndarray], raw: dict, m: int, delta: float) -> dict:
    """Theorem 6.2 for a lottery ticket: the sketch count of its nonzeros (theory.theorem_6_2_gap_from_nonzeros,
    2^16 rounding levels) plus the margin loss at the margin used."""
    import theory

    from ._bounds import FALLBACK_LEVELS, SKETCH_CONSTANT

    masks = [np.asarray(mk.detach().cpu() if isinstance(mk, torch.Tensor) else mk) for mk in mask]
    if [mk.shape for mk in masks] != [w.shape for w in ws]:
        raise UsageError("mask must hold one array per layer, each of its layer's shape")
    nnz = int(sum(int(np.count_nonzero(mk)) for mk in masks))
    if nnz == 0:
        raise UsageError("mask keeps no weight")
    gap = theory.theorem_6_2_gap_from_nonzeros(
        q_nnz=nnz, p=int(max(max(w.shape) for w in ws)), c_m=SKETCH_CONSTANT, r=FALLBACK_LEVELS, m=m, delta=delta
    )
    bound = raw["rhat_gamma"] + gap
    return {"nonzeros": nnz, "theorem_6_2_gap_log10": math.log10(gap), "theorem_6_2_log10": math.log10(bound)}


def evaluate_checkpoint_cli(args: Any, s: Any, out: Path) -> int:
    """``experiments.bounds --checkpoint FILE``: evaluate a saved network on the dataset's training split (the
    protocol's) instead of training; writes the same outputs (summary.json, table.md, figures).  Exit 2 with one
    line on a bad file, a network that is not a ReLU MLP, or a width mismatch."""
    import sys

    from . import bounds as cli
    from ._data import DataError, load_dataset
    from ._network import read_network, weights_and_biases
    from ._run import task_data

    if len(s.datasets) != 1 or len(s.seeds) != 1:
        print(
            "experiments.bounds: --checkpoint evaluates one network: give one --dataset and one --seed", file=sys.stderr
        )
        return 2
    dataset, seed = s.datasets[0], s.seeds[0]
    try:
        ws, bs, init, training = read_network(args.checkpoint)
        if args.init_checkpoint:
            init, _ = weights_and_biases(args.init_checkpoint)[:2]
        data = load_dataset(dataset, s.data_dir, preprocessing=s.protocol.preprocessing)
        if ws[0].shape[1] != data.input_dim:
            raise NetworkError(
                f"the network in {args.checkpoint} takes {ws[0].shape[1]} inputs but {dataset} has {data.input_dim}"
            )
        if ws[-1].shape[0] != data.n_classes:
            raise NetworkError(
                f"the network in {args.checkpoint} has {ws[-1].shape[0]} outputs but {dataset} has {data.n_classes} "
                "classes"
            )
        if init is not None and [w.shape for w in init] != [w.shape for w in ws]:
            raise NetworkError(f"the initial weights in {args.init_checkpoint} do not have the network's shapes")
        hidden = [int(w.shape[0]) for w in ws[:-1]]
        network = {
            "checkpoint": str(args.checkpoint),
            "init_checkpoint": str(args.init_checkpoint) if args.init_checkpoint else None,
            "depth": len(ws),
            "widths": hidden,
            "training": cli.TRAINED_ELSEWHERE if training is None else _training_said(training),
        }
        print(
            f"experiments.bounds: the network in {args.checkpoint} (depth {len(ws)}, hidden widths "
            f"{' '.join(map(str, hidden)) or 'none'}; {network['training']}) on {dataset}, protocol "
            f"{s.protocol.name}, seed {seed}; results in {out}/",
            flush=True,
        )
        t0 = time.perf_counter()
        td = task_data(data, s.protocol.split, seed)
        from ._bounds import NoMarginError
        from ._evaluate import network_bounds, network_without_bounds

        try:
            res = network_bounds(
                ws,
                bs,
                init,
                td.x_train,
                td.y_train,
                td.x_test,
                td.y_test,
                protocol=s.protocol,
                delta=s.delta,
                seed=seed,
                prune_diagonal=s.prune_diagonal,
                error_curve=True,
            )
        except NoMarginError as exc:  # recorded without bounds, with the reason (no advice to train: not ours)
            res = network_without_bounds(
                ws, bs, td.x_train, td.y_train, td.x_test, td.y_test, str(exc), protocol=s.protocol
            )
    except (NetworkError, DataError, UsageError, ValueError) as exc:
        print(f"experiments.bounds: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    width = max(hidden) if hidden else 0  # a single Linear layer has no hidden width
    record = {
        "task": f"{dataset}/checkpoint-{Path(args.checkpoint).name}/seed-{seed}",
        "identity": {"checkpoint": str(Path(args.checkpoint).resolve()), "dataset": dataset, "seed": seed},
        "width": width,
        "seed": seed,
        "dataset": dataset,
        "protocol": s.protocol.name,
        **network,
        "training_settings": training,  # None: not known (trained elsewhere)
        "epochs_trained": None if training is None else training.get("epochs"),
        "m": td.m,
        **res,
    }
    written = cli.write_outputs(out, [record], s.replace(widths=(max(width, 1),)), network)
    cli._print_record(record, time.perf_counter() - t0)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _training_said(training: dict[str, Any]) -> str:
    """How the toolkit's own checkpoint says its network was trained (the identity of the run that wrote it)."""
    keys = ("optimizer", "lr", "momentum", "weight_decay", "batch_size", "seed")
    said = ", ".join(f"{k.replace('_', ' ')} {training[k]}" for k in keys if k in training)
    return f"trained by this toolkit for {training.get('epochs')} epochs ({said}), as its file records"
