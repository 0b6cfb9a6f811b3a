"""python -m experiments.bounds: train the paper's MLPs (or read a trained one), prune them with Algorithm 1, and
evaluate every bound of the paper and the three baselines on the measured quantities.  Bounds are log10.

With no arguments: a quick demonstration on scikit-learn's embedded digits (about 30 s on 2 CPU cores).  The
paper's setting: ``--preset paper --data-dir DIR`` (MNIST, widths 500..2500, 300 epochs, the released code's
protocol).  A network you trained yourself: ``--checkpoint FILE`` (see experiments.evaluate).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theory._cli import DefaultsHelpFormatter, OneLineParser

from ._settings import PROTOCOLS, SEED_MAX, RunSettings, UsageError, differing

PRESETS: dict[str, dict[str, Any]] = {
    "quick": dict(datasets=["digits"], widths=[64, 128], depth=5, epochs=40, every=10, imp_rounds=0),
    "paper": dict(
        datasets=["mnist"],
        widths=[500, 784, 1000, 1500, 2000, 2500],
        depth=5,
        epochs=300,
        every=1,
        imp_rounds=0,
        protocol="authors",
    ),
}
#: training defaults of each protocol (the authors': the released code as it executes; the configured
#: momentum 0.9 never reaches the optimiser, see experiments._authors and the report)
PROTOCOL_TRAINING: dict[str, dict[str, Any]] = {
    "toolkit": dict(optimizer="adam", lr=1e-3, momentum=None, weight_decay=0.0, batch_size=64, seed=0),
    "authors": dict(optimizer="sgd", lr=0.02, momentum=0.0, weight_decay=1e-4, batch_size=256, seed=1),
}
DEFAULT_OUT = "results/bounds"


def _per_preset(key: str) -> str:
    """``(default: quick X, paper Y)`` for a preset setting (one value when the presets agree)."""

    def show(v: Any) -> str:
        return " ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)

    values = {name: show(p.get(key, "toolkit" if key == "protocol" else None)) for name, p in PRESETS.items()}
    if len(set(values.values())) == 1:
        return f"(default: {next(iter(values.values()))}, in every preset)"
    return "(default: " + ", ".join(f"{name} {v}" for name, v in values.items()) + ")"


def _per_protocol(key: str) -> str:
    """``(default: toolkit X, authors Y)`` for a training setting of the protocols."""
    return "(default: " + ", ".join(f"{name} {t[key]}" for name, t in PROTOCOL_TRAINING.items()) + ")"


def build_parser() -> argparse.ArgumentParser:
    ap = OneLineParser(
        prog="python -m experiments.bounds",
        description=__doc__.split("\n\n")[0],
        epilog=(
            "Presets: quick = digits, widths 64 128, depth 5, 40 epochs, bounds every 10, toolkit protocol (adam, "
            "lr 1e-3, batch 64), no lottery tickets; paper = mnist, widths 500 784 1000 1500 2000 2500, 300 epochs, "
            "bounds every epoch, authors protocol (sgd lr 0.02 without momentum, weight decay 1e-4, batch 256, seed "
            "1, diagonal pruned).  Every value given on the command line overrides the preset's.  Results: "
            "OUT/summary.json, epochs.csv, table.md, figures (PNG and PDF); checkpoints in OUT/checkpoints/."
        ),
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument("--preset", choices=sorted(PRESETS), default="quick", help="base settings")
    ap.add_argument(
        "--protocol",
        choices=sorted(PROTOCOLS),
        default=None,
        help="measurement protocol: toolkit (the paper's text) or authors (the released code as it "
        "executes: split, preprocessing, optimiser, diagonal, kappa, tie rule, search) " + _per_preset("protocol"),
    )
    ap.add_argument(
        "--dataset",
        nargs="+",
        choices=("digits", "mnist", "fashion-mnist", "cifar10"),
        default=None,
        help="dataset(s) " + _per_preset("datasets"),
    )
    ap.add_argument("--data-dir", default=None, help="folder with the standard files (default: $MBP_DATA_DIR)")
    ap.add_argument(
        "--widths", type=int, nargs="+", default=None, metavar="W", help="hidden widths " + _per_preset("widths")
    )
    ap.add_argument(
        "--seeds",
        "--seed",
        type=int,
        nargs="+",
        default=None,
        metavar="S",
        dest="seeds",
        help=f"seeds (0..{SEED_MAX}) of the initialisation, data order, split and pruning; one task per "
        "(dataset, width, seed) (default: the protocol's, toolkit 0, authors 1)",
    )
    ap.add_argument("--depth", type=int, default=None, help="number of linear layers " + _per_preset("depth"))
    ap.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="training epochs, the most with --until positive-margin " + _per_preset("epochs"),
    )
    ap.add_argument(
        "--until",
        choices=("epochs", "positive-margin"),
        default=None,
        help="stop after --epochs, or as soon as every training point has a positive margin (default: epochs)",
    )
    ap.add_argument(
        "--every",
        type=int,
        default=None,
        help="evaluate the bounds every N epochs, 0 = only at the end " + _per_preset("every"),
    )
    ap.add_argument(
        "--optimizer", choices=("adam", "sgd"), default=None, help="optimiser " + _per_protocol("optimizer")
    )
    ap.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning rate (default: toolkit 0.001, authors 0.02; with an --optimizer other than the protocol's: "
        "adam 0.001, sgd 0.02)",
    )
    ap.add_argument(
        "--momentum",
        type=float,
        default=None,
        help="SGD momentum (default: toolkit 0.9, authors 0 as their code executes)",
    )
    ap.add_argument(
        "--weight-decay", type=float, default=None, help="(default: toolkit 0 (adam) / 1e-4 (sgd), authors 1e-4)"
    )
    ap.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="batch size (default: toolkit 64, authors 256, authors on cifar10 64)",
    )
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda[:N]")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads; the last digits of the numbers depend on it (summation order), so the default of 1 "
        "makes them the same on every machine; more threads speed up wide networks on an idle many-core machine "
        "(recorded in summary.json)",
    )
    ap.add_argument("--delta", type=float, default=0.01, help="failure probability of the rigorous bounds")
    ap.add_argument(
        "--imp-rounds",
        type=int,
        default=None,
        help="rounds of iterative magnitude pruning with rewinding for Theorem 6.2, 0 = skip; each round "
        "trains the network once more, so k rounds cost k + 1 trainings " + _per_preset("imp_rounds"),
    )
    ap.add_argument("--imp-fraction", type=float, default=0.5, help="fraction of surviving weights removed per round")
    ap.add_argument(
        "--prune-diagonal",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="prune the diagonal too (default: toolkit keeps it, as the paper; authors prune it)",
    )
    ap.add_argument(
        "--keep-epoch-weights",
        action="store_true",
        help="keep every epoch's weights in OUT/checkpoints (per-epoch bounds can then be computed after "
        "training, with --resume)",
    )
    ap.add_argument(
        "--checkpoint",
        default=None,
        metavar="FILE",
        help="evaluate this trained network instead of training one (the toolkit's checkpoint, a "
        "state_dict .pt, a whole nn.Sequential, or a PyTorch Lightning .ckpt)",
    )
    ap.add_argument(
        "--init-checkpoint",
        default=None,
        metavar="FILE",
        help="the network's initial weights W0 (with --checkpoint; for the distance-based baselines)",
    )
    ap.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the tasks on this Dask distributed scheduler (e.g. tcp://host:8786)",
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run the tasks on an embedded Dask LocalCluster with N worker processes (0: in this process)",
    )
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder")
    ap.add_argument("--resume", action="store_true", help="continue from the checkpoints and results in --out")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    return ap


#: options that say how to train or sweep, so that cannot apply to a network read with --checkpoint (trained
#: elsewhere): (attribute, option); each is refused when given
TRAINING_OPTIONS = (
    ("widths", "--widths"),
    ("depth", "--depth"),
    ("epochs", "--epochs"),
    ("until", "--until"),
    ("every", "--every"),
    ("optimizer", "--optimizer"),
    ("lr", "--lr"),
    ("momentum", "--momentum"),
    ("weight_decay", "--weight-decay"),
    ("batch_size", "--batch-size"),
    ("imp_rounds", "--imp-rounds"),
)


def check_checkpoint_options(args: argparse.Namespace) -> None:
    """With ``--checkpoint``, refuse (UsageError, one line) every option that cannot apply to a network trained
    elsewhere; without it, refuse ``--init-checkpoint``."""
    if not args.checkpoint:
        if args.init_checkpoint:
            raise UsageError("--init-checkpoint gives the initial weights of a --checkpoint network: give --checkpoint")
        return
    given = [opt for attr, opt in TRAINING_OPTIONS if getattr(args, attr) is not None]
    if args.seeds is not None and len(args.seeds) > 1:
        given.append("--seeds with more than one seed")
    for flag, opt in (
        (args.keep_epoch_weights, "--keep-epoch-weights"),
        (args.resume, "--resume"),
        (args.workers, "--workers"),
        (args.scheduler, "--scheduler"),
    ):
        if flag:
            given.append(opt)
    if given:
        raise UsageError(
            f"--checkpoint evaluates one network trained elsewhere: {', '.join(given)} cannot apply to it (its "
            "depth and widths come from the file; --dataset, --seed, --protocol, --delta and --prune-diagonal apply)"
        )


def settings_from(args: argparse.Namespace) -> RunSettings:
    """The typed settings of a command line: preset, then protocol defaults, then explicit options.  Raises
    UsageError (one line) naming the option."""
    base = dict(PRESETS[args.preset])
    proto_name = args.protocol or base.pop("protocol", "toolkit")
    base.pop("protocol", None)
    protocol = PROTOCOLS[proto_name]
    train = dict(PROTOCOL_TRAINING[proto_name])
    datasets = args.dataset if args.dataset is not None else base["datasets"]
    optimizer = args.optimizer or train["optimizer"]
    if args.optimizer and args.optimizer != train["optimizer"]:  # another optimiser than the protocol's
        train.update(lr=1e-3 if args.optimizer == "adam" else 0.02, momentum=None, weight_decay=None)
    momentum = args.momentum if args.momentum is not None else train["momentum"]
    if momentum is None:
        momentum = 0.9 if optimizer == "sgd" else 0.0
    weight_decay = args.weight_decay if args.weight_decay is not None else train["weight_decay"]
    if weight_decay is None:
        weight_decay = 1e-4 if optimizer == "sgd" else 0.0
    if optimizer == "adam" and momentum:
        raise UsageError("--momentum applies to --optimizer sgd only")
    if args.batch_size is not None:  # not `or`: 0 is a value (refused below), not "not given"
        batch = args.batch_size
    else:
        batch = 64 if "cifar10" in datasets and proto_name == "authors" else train["batch_size"]
    seeds = args.seeds if args.seeds is not None else [train["seed"]]
    if args.workers < 0:
        raise UsageError(f"--workers must be >= 0 (0: the tasks run in this process) (got {args.workers})")
    if args.scheduler and args.workers:
        raise UsageError("--scheduler and --workers exclude each other (the scheduler's cluster has its workers)")
    for sd in seeds:
        if not 0 <= sd <= SEED_MAX:
            raise UsageError(f"--seed must be an integer from 0 to {SEED_MAX} (got {sd})")
    return RunSettings(
        datasets=tuple(datasets),
        data_dir=args.data_dir,
        widths=tuple(args.widths if args.widths is not None else base["widths"]),
        seeds=tuple(seeds),
        depth=args.depth if args.depth is not None else base["depth"],
        epochs=args.epochs if args.epochs is not None else base["epochs"],
        until_positive_margin=args.until == "positive-margin",
        every=args.every if args.every is not None else base["every"],
        optimizer=optimizer,
        lr=args.lr if args.lr is not None else train["lr"],
        momentum=float(momentum),
        weight_decay=float(weight_decay),
        batch_size=batch,
        device=_device(args.device),
        threads=args.threads,
        delta=args.delta,
        imp_rounds=args.imp_rounds if args.imp_rounds is not None else base["imp_rounds"],
        imp_fraction=args.imp_fraction,
        protocol=protocol,
        prune_diagonal=protocol.prune_diagonal if args.prune_diagonal is None else args.prune_diagonal,
        preset=args.preset,
    )


def _device(name: str) -> str:
    from ._train import resolve_device

    try:
        return resolve_device(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# ---------------------------------------------------------------------------------------------------
def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path`` (umask permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as fh:
        fh.write(data)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; results are for sharing
    os.replace(tmp, path)


#: the figures of a run (experiments._figures; each written as PNG and PDF)
FIGURE_STEMS = ("bounds_vs_width", "bound_vs_epoch", "sparsity_and_pruning_error", "pruning_error_vs_d")
#: the files a run writes in --out (each replaced atomically, so none may be a folder)
OUTPUT_FILES = (
    "summary.json",
    "epochs.csv",
    "table.md",
    *(f"{stem}.{ext}" for stem in FIGURE_STEMS for ext in ("png", "pdf")),
)


def check_out_dir(out: Path) -> None:
    """Fail early, in one line, when ``out`` cannot hold the results (a file, read-only, no permission, a folder
    where a result file goes)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is an existing file, not a folder: choose another --out")
    for name in OUTPUT_FILES:
        if (out / name).is_dir():
            raise UsageError(
                f"{out / name} is a folder, where the run writes a file: move it away or choose another --out"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {out} is not writable ({exc.strerror or exc}): choose another --out") from None


def versions() -> dict:
    import numpy
    import scipy
    import sympy
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
        "torch_threads": torch.get_num_threads(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
    }


def read_summary(path: Path) -> dict:
    """The summary.json of an earlier run; a damaged file gives a UsageError naming it."""
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("records", []), list):
            raise ValueError("not a summary (no 'records' list)")
        return data
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{path} is damaged ({str(exc).splitlines()[0][:120]}): move it away, or rerun without --resume"
        ) from None


# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    dataset: str
    width: int
    seed: int

    @property
    def key(self) -> str:
        return f"{self.dataset}/width-{self.width}/seed-{self.seed}"


EPOCH_KEYS = (
    "neyshabur_2015_code_log10",
    "neyshabur_2017_code_log10",
    "bartlett_2017_code_log10",
    "ours_paper_compatible_log10",
    "theorem_5_2_log10",
    "theorem_5_2_margin_condition_met",
    "lemma_d_1_log10",
    "lemma_d_1_margin_condition_met",
    "theorem_5_2_required_margin",
    "neyshabur_2015_measures_log10",
    "bartlett_2017_measures_log10",
    "neyshabur_2018_measures_log10",
    "true_error_log10",
    "test_error",
    "pruned_test_error",
    "train_error",
    "gamma",
    "d_star",
)


def run_task(
    task: Task, s: RunSettings, out: Path, resume: bool, progress: bool, keep_epoch_weights: bool = False
) -> dict:
    """Train, prune and bound one (dataset, width, seed); returns its summary record (with its per-epoch rows
    under ``epochs``).  Raises UsageError, DataError, CheckpointError or TrainingDiverged with one-line
    messages."""
    import torch

    from ._bounds import NoMarginError
    from ._data import load_dataset
    from ._evaluate import network_bounds, network_without_bounds
    from ._model import linear_layers
    from ._run import task_data, task_dir, train_task

    if s.threads:
        torch.set_num_threads(s.threads)
    data = load_dataset(task.dataset, s.data_dir, preprocessing=s.protocol.preprocessing)
    td = task_data(data, s.protocol.split, task.seed)

    def arrays(net) -> tuple[list, list]:
        lays = linear_layers(net)
        return (
            [lay.weight.detach().cpu().double().numpy() for lay in lays],
            [None if lay.bias is None else lay.bias.detach().cpu().double().numpy() for lay in lays],
        )

    init_holder: dict[str, Any] = {}

    def bounds_of(ws, bs, curve: bool = False, final: bool = False) -> dict:
        try:
            res = network_bounds(
                ws,
                bs,
                init_holder.get("init"),
                td.x_train,
                td.y_train,
                td.x_test,
                td.y_test,
                protocol=s.protocol,
                delta=s.delta,
                seed=task.seed,
                prune_diagonal=s.prune_diagonal,
                error_curve=curve,
                device="cpu",
            )
        except NoMarginError as exc:
            if not final:
                raise
            # the trained network is recorded without bounds, with the reason; the sweep goes on
            res = network_without_bounds(
                ws,
                bs,
                td.x_train,
                td.y_train,
                td.x_test,
                td.y_test,
                f"{exc}: train longer (--epochs) or with another --lr",
                protocol=s.protocol,
            )
        if len(td.y_val):
            from ._measures import margin_loss, margins

            val_m = margins(torch.as_tensor(_forward(ws, bs, td.x_val)), td.y_val)
            res["val_error"] = margin_loss(val_m, 0.0, s.protocol.tie_is_error)
        return res

    def epoch_bounds(epoch: int, ws, bs) -> dict:
        try:
            b = bounds_of(ws, bs)
        except ValueError as exc:  # e.g. no positive margin yet early in training: skip this epoch's bounds
            print(f"  {task.key}, epoch {epoch}: bounds skipped ({exc})", file=sys.stderr)
            return {"bounds_skipped": str(exc)}
        return {k: b.get(k) for k in EPOCH_KEYS}

    def on_epoch(epoch: int, net) -> dict:
        if s.every and epoch % s.every == 0 and epoch != s.epochs and "init" in init_holder:
            return epoch_bounds(epoch, *arrays(net))
        return {}

    # W0 first (the initialisation is a pure function of the seed), so per-epoch bounds can use it
    torch.manual_seed(task.seed)
    from ._model import make_mlp

    init_holder["init"] = arrays(make_mlp(td.input_dim, task.width, s.depth, td.n_classes))[0]
    t0 = time.perf_counter()
    model, history, init = train_task(s, td, task.width, task.seed, out, resume, progress, on_epoch, keep_epoch_weights)
    init_holder["init"] = init
    t_train = time.perf_counter() - t0
    # per-epoch bounds that are missing (trained earlier without them) come from the kept epoch weights
    snaps = task_dir(out, task.dataset, task.width, task.seed) / "epochs"
    last = history[-1]["epoch"] if history else 0
    if s.every and snaps.is_dir():
        from ._train import load_checkpoint

        for row in history:
            e = row["epoch"]
            if e % s.every == 0 and e != last and "gamma" not in row and "bounds_skipped" not in row:
                f = snaps / f"epoch-{e:04d}.pt"
                if f.is_file():
                    st = load_checkpoint(f)
                    ws = [st[k].double().numpy() for k in st if k.endswith("weight")]
                    bs = [st[k].double().numpy() for k in st if k.endswith("bias")]
                    row.update(epoch_bounds(e, ws, bs))
    t0 = time.perf_counter()
    ws, bs = arrays(model.cpu())
    final = bounds_of(ws, bs, curve=True, final=True)
    t_bounds = time.perf_counter() - t0
    if history:
        history[-1].update({k: final.get(k) for k in EPOCH_KEYS})
    stop = {"epochs_trained": last, "stopped_by": "epochs"}
    if s.until_positive_margin:
        met = bool(history and history[-1].get("min_margin", -1) > 0)
        stop["stopped_by"] = "positive margin" if met else f"--epochs {s.epochs} (no positive margin yet)"
    record = {
        "identity": s.record_identity(task.dataset, task.width, task.seed),
        "task": task.key,
        "width": task.width,
        "seed": task.seed,
        "dataset": task.dataset,
        "protocol": s.protocol.name,
        "m": td.m,
        **stop,
        **final,
        "wall_seconds": {"train": t_train, "bounds": t_bounds},
        "torch_threads": torch.get_num_threads(),
        "epochs": [{"width": task.width, "seed": task.seed, "dataset": task.dataset, **h} for h in history],
    }
    if s.imp_rounds > 0:
        t0 = time.perf_counter()
        record["imp"] = run_imp(task, s, td, out, resume, progress)
        record["wall_seconds"]["imp"] = time.perf_counter() - t0
    return record


def _forward(ws, bs, x):
    import torch

    from ._evaluate import mlp_forward

    return mlp_forward(
        [torch.as_tensor(w, dtype=torch.float32) for w in ws],
        [None if b is None else torch.as_tensor(b, dtype=torch.float32) for b in bs],
        x,
    )


def run_imp(task: Task, s: RunSettings, td, out: Path, resume: bool, progress: bool) -> dict:
    """Section 6: a lottery ticket by iterative magnitude pruning with rewinding, and its Theorem 6.2 bound."""
    import torch

    import theory

    from ._bounds import FALLBACK_LEVELS, SKETCH_CONSTANT, NoMarginError, choose_gamma
    from ._imp import iterative_magnitude_pruning
    from ._measures import margin_loss, margins
    from ._model import make_mlp
    from ._run import task_dir, train_config
    from ._train import evaluate

    torch.manual_seed(task.seed)
    model = make_mlp(td.input_dim, task.width, s.depth, td.n_classes)
    cfg = train_config(s, td.name, task.seed, progress)
    masks, hist = iterative_magnitude_pruning(
        model,
        td.x_train,
        td.y_train,
        cfg,
        s.imp_rounds,
        s.imp_fraction,
        checkpoint_dir=task_dir(out, td.name, task.width, task.seed),
        resume=resume,
        identity={**s.train_identity(td.name, task.width, task.seed), "imp_fraction": float(s.imp_fraction)},
    )
    model = model.cpu()
    tie = s.protocol.tie_is_error
    tr_margins = margins(evaluate(model, td.x_train, td.y_train)["logits"], td.y_train)
    nonzeros = int(sum(int(mk.sum()) for mk in masks))
    test_err = evaluate(model, td.x_test, td.y_test, tie_is_error=tie)["error"]
    try:
        gamma, rule = choose_gamma(tr_margins, s.protocol)
    except NoMarginError as exc:  # the ticket is recorded without its bound, with the reason
        return {
            "rounds": s.imp_rounds,
            "fraction": s.imp_fraction,
            "nonzeros": nonzeros,
            "dense_weights": int(sum(mk.numel() for mk in masks)),
            "test_error": test_err,
            "theorem_6_2_log10": None,
            "not_computed": f"{exc} (the lottery ticket)",
            "history": hist,
        }
    gap = theory.theorem_6_2_gap_from_nonzeros(
        q_nnz=nonzeros, p=max(td.input_dim, task.width), c_m=SKETCH_CONSTANT, r=FALLBACK_LEVELS, m=td.m, delta=s.delta
    )
    bound = margin_loss(tr_margins, gamma, tie) + gap
    return {
        "rounds": s.imp_rounds,
        "fraction": s.imp_fraction,
        "nonzeros": nonzeros,
        "dense_weights": int(sum(mk.numel() for mk in masks)),
        "gamma": gamma,
        "gamma_rule": rule,
        "test_error": test_err,
        "theorem_6_2_gap_log10": math.log10(gap),
        "theorem_6_2_log10": math.log10(bound),
        "rounding_levels": FALLBACK_LEVELS,
        "history": hist,
    }


TABLE_ROWS = (
    ("Neyshabur 2015 (code form)", "neyshabur_2015_code_log10", "neyshabur_2015_code"),
    ("Neyshabur 2017 (code form)", "neyshabur_2017_code_log10", "neyshabur_2017_code"),
    ("Bartlett 2017 (code form)", "bartlett_2017_code_log10", "bartlett_2017_code"),
    ("Ours (paper-compatible)", "ours_paper_compatible_log10", "ours_paper_compatible"),
    ("True error (pruned test error)", "true_error_log10", "true_error"),
    ("Neyshabur 2015 (literature, with R-hat)", "neyshabur_2015_literature_log10", None),
    ("Neyshabur 2017 (literature, with R-hat)", "neyshabur_2017_literature_log10", None),
    ("Bartlett 2017 (literature, with R-hat)", "bartlett_2017_literature_log10", None),
    ("Neyshabur 2015 (measures convention)", "neyshabur_2015_measures_log10", None),
    ("Neyshabur 2018 (measures convention)", "neyshabur_2018_measures_log10", None),
    ("Bartlett 2017 (measures convention)", "bartlett_2017_measures_log10", None),
    ("Theorem 5.2 (rigorous, c_m = 1, C = 1)", "theorem_5_2_log10", None),
    ("Lemma D.1 (rigorous, naive count)", "lemma_d_1_log10", None),
)


def _fmt(v: Any, spec: str = ".2f") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    return format(v, spec)


def _bound_cell(rec: dict, key: str) -> str:
    """A log10 bound as printed for people: the number, and beside a rigorous bound why it is vacuous."""
    from ._bounds import RIGOROUS, rigorous_note

    text = _fmt(rec.get(key))
    name = key.removesuffix("_log10")
    note = rigorous_note(rec, name) if name in RIGOROUS else None
    return f"{text} ({note})" if note else text


def _epochs_cell(rec: dict) -> str:
    if rec.get("checkpoint"):  # read with --checkpoint: trained elsewhere, or by the toolkit as its file says
        if rec.get("epochs_trained") is None:
            return "n/a (trained elsewhere)"
        return f"{rec['epochs_trained']} (as its file records)"
    return f"{rec.get('epochs_trained')} ({rec.get('stopped_by')})"


def _condition_cell(rec: dict) -> str:
    """Theorem 5.2's margin condition for people: yes / no, with the margin needed and the margin there."""
    required, gamma = rec.get("theorem_5_2_required_margin"), rec.get("gamma")
    if required is None or gamma is None:
        return "n/a (no rigorous bound)"
    met = rec.get("theorem_5_2_margin_condition_met")
    return f"{'yes' if met else 'no'} (needs {required:.3g}, has {gamma:.3g})"


def settings_json(s: RunSettings, network: dict | None = None) -> dict:
    """summary.json's ``settings``: the run's, or for a network read with --checkpoint (``network``: its file,
    depth and widths) only what applies to it; its training settings are not claimed (trained elsewhere)."""
    if network is None:
        return s.to_json()
    return {
        "source": "checkpoint",
        "training": TRAINED_ELSEWHERE,
        **network,
        "datasets": list(s.datasets),
        "data_dir": s.data_dir,
        "seeds": list(s.seeds),
        "protocol": s.protocol.name,
        "delta": s.delta,
        "prune_diagonal": s.prune_diagonal,
        "threads": s.threads,
        "preset": s.preset,
    }


#: what is said of the training of a network read with --checkpoint
TRAINED_ELSEWHERE = "trained elsewhere: its training settings are not known here"


def _settings_line(s: RunSettings, network: dict | None) -> str:
    diagonal = f"delta {s.delta}, diagonal {'pruned' if s.prune_diagonal else 'kept'}"
    if network is not None:
        init = f", initial weights from {network['init_checkpoint']}" if network.get("init_checkpoint") else ""
        return (
            f"Network: read from {network['checkpoint']}{init} (depth {network['depth']}, hidden widths "
            f"{' '.join(map(str, network['widths'])) or 'none'}; {network.get('training', TRAINED_ELSEWHERE)}).  "
            "Settings: protocol "
            f"{s.protocol.name}, seed {s.seeds[0]}, {diagonal}."
        )
    return (
        f"Settings: protocol {s.protocol.name}, {s.optimizer} (lr {s.lr}, momentum {s.momentum}, weight decay "
        f"{s.weight_decay}), {'until a positive margin, at most ' if s.until_positive_margin else ''}{s.epochs} "
        f"epochs, batch {s.batch_size}, depth {s.depth}, {diagonal}."
    )


def table_markdown(records: list[dict], s: RunSettings, network: dict | None = None) -> str:
    """table.md: per dataset, the paper's rows with the paper's value beside ours (both log10; the paper prints
    natural logs, converted here, see experiments._paper) and the measures behind them.  ``network``: the file,
    depth and widths of a network read with --checkpoint (then no training settings are claimed)."""
    import pandas as pd

    from ._paper import PAPER_UNIT_NOTE, paper_value

    parts = [
        "# Bounds (log10 of each bound; natural logs inside the formulas)",
        "",
        _settings_line(s, network),
        f"'paper' is the paper's reported value where it exists, in log10: {PAPER_UNIT_NOTE}",
    ]
    for dataset in sorted({r["dataset"] for r in records}):
        recs = sorted((r for r in records if r["dataset"] == dataset), key=lambda r: (r["width"], r["seed"]))
        cols: dict[str, list[str]] = {}
        for r in recs:
            name = f"h={r['width']}" + (f" s={r['seed']}" if len(s.seeds) > 1 else "")
            cols[f"{name} ours"] = [_bound_cell(r, key) for _, key, _ in TABLE_ROWS]
            cols[f"{name} paper"] = [
                _fmt(paper_value(dataset, pk, r["width"]))
                if pk and paper_value(dataset, pk, r["width"]) is not None
                else ""
                for _, _, pk in TABLE_ROWS
            ]
        frame = pd.DataFrame(cols, index=[label for label, _, _ in TABLE_ROWS])
        frame.index.name = "bound (log10)"
        measures = {
            "margin gamma used": [_fmt(r.get("gamma"), ".4g") for r in recs],
            "gamma rule": [r.get("gamma_rule") for r in recs],
            "epochs trained": [_epochs_cell(r) for r in recs],
            "d* (pruning strength)": [_fmt(r.get("d_star"), ".4g") for r in recs],
            "search status": [r.get("bisection_status") for r in recs],
            "test error, unpruned / pruned (fraction)": [
                f"{_fmt(r.get('test_error'), '.4f')} / {_fmt(r.get('pruned_test_error'), '.4f')}" for r in recs
            ],
            "survivors / expected": [
                f"{_fmt(r.get('survivors'), 'd')} / {_fmt(r.get('expected_survivors'), '.0f')}" for r in recs
            ],
            "Thm 5.2 / Lemma D.1 margin condition met": [_condition_cell(r) for r in recs],
            "IMP ticket: Theorem 6.2 (log10)": [
                _fmt(r["imp"].get("theorem_6_2_log10")) if "imp" in r else "n/a" for r in recs
            ],
        }
        if any(r.get("bounds_not_computed") for r in recs):
            measures["bounds not computed because"] = [r.get("bounds_not_computed") or "" for r in recs]
        mframe = pd.DataFrame(measures, index=[f"h={r['width']} s={r['seed']}" for r in recs]).T
        mframe.index.name = "measure"
        parts += ["", f"## {dataset}", "", frame.to_markdown(), "", mframe.to_markdown()]
    return "\n".join(parts) + "\n"


def epoch_rows(records: list[dict]) -> list[dict]:
    """The per-epoch rows of all records (epochs.csv), flattened."""
    rows = []
    for r in records:
        for h in r.get("epochs", []):
            rows.append({k: v for k, v in h.items() if not isinstance(v, (dict, list))})
    return rows


def write_outputs(out: Path, records: list[dict], s: RunSettings, network: dict | None = None) -> list[Path]:
    """summary.json, epochs.csv, table.md and the figures, each written atomically (``network``: see
    :func:`settings_json`)."""
    written = []
    summary = {
        "settings": settings_json(s, network),
        "protocol": s.protocol.describe(),
        "versions": versions(),
        "units": "log10 for every *_log10 key; errors are fractions; margins in logit units",
        "records": records,
    }
    write_atomic(out / "summary.json", json.dumps(summary, indent=2, default=str, allow_nan=True))
    written.append(out / "summary.json")
    rows = epoch_rows(records)
    if rows:
        keys = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("dataset", "width", "seed", "epoch"), k))
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
        write_atomic(out / "epochs.csv", buf.getvalue())
        written.append(out / "epochs.csv")
    write_atomic(out / "table.md", table_markdown(records, s, network))
    written.append(out / "table.md")
    from ._figures import write_figures

    written += write_figures(out, records, rows)
    return written


def _print_record(rec: dict, seconds: float) -> None:
    if rec.get("bounds_not_computed"):
        print(
            f"  {rec['task']}: test error {_fmt(rec.get('test_error'), '.4f')}, training error "
            f"{_fmt(rec.get('train_error'), '.4f')}; bounds n/a: {rec['bounds_not_computed']} [{seconds:.0f} s]",
            flush=True,
        )
        return
    print(
        f"  {rec['task']}: test error {_fmt(rec.get('test_error'), '.4f')} (pruned "
        f"{_fmt(rec.get('pruned_test_error'), '.4f')}), log10 bounds: ours {_fmt(rec.get('ours_paper_compatible_log10'))}, "
        f"Bartlett(code) {_fmt(rec.get('bartlett_2017_code_log10'))}, Thm 5.2 {_bound_cell(rec, 'theorem_5_2_log10')} "
        f"[{seconds:.0f} s]",
        flush=True,
    )


def main(
    argv: list[str] | None = None,
    *,
    prog: str = "experiments.bounds",
    resume_hint: str = "rerun with --resume to continue",
) -> int:
    """The command line; ``prog`` prefixes its one-line messages and ``resume_hint`` ends the Ctrl-C message (a
    caller such as experiments.report, which resumes by itself, passes its own)."""
    args = build_parser().parse_args(argv)
    try:
        return _main(args, prog)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted: finished tasks are in {args.out}/; {resume_hint}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_broken_pipe()
        return 0
    except OSError as exc:  # a result that cannot be written (disk full, permissions changed during the run)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"experiments.bounds: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


def _silence_broken_pipe() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _main(args: argparse.Namespace, prog: str = "experiments.bounds") -> int:
    from ._data import DataError
    from ._train import CheckpointError

    try:
        check_checkpoint_options(args)
        s = settings_from(args)
        out = Path(args.out)
        check_out_dir(out)
    except (UsageError, ValueError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if s.threads:
        import torch

        torch.set_num_threads(s.threads)
    if args.checkpoint:
        from ._api import evaluate_checkpoint_cli

        return evaluate_checkpoint_cli(args, s, out)
    previous: dict[str, dict] = {}
    try:
        if args.resume and (out / "summary.json").is_file():
            for rec in read_summary(out / "summary.json").get("records", []):
                if isinstance(rec, dict) and "task" in rec and "identity" in rec:
                    previous[rec["task"]] = rec
    except UsageError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    tasks = [Task(ds, w, sd) for ds in s.datasets for w in s.widths for sd in s.seeds]
    print(
        f"{prog}: {', '.join(s.datasets)}, widths {' '.join(map(str, s.widths))}, seeds "
        f"{' '.join(map(str, s.seeds))}, protocol {s.protocol.name}, "
        f"{'until a positive margin, at most ' if s.until_positive_margin else ''}{s.epochs} epochs, device "
        f"{s.device}; results in {out}/",
        flush=True,
    )
    records: dict[str, dict] = {}
    todo = []
    for t in tasks:
        old = previous.get(t.key)
        if old is not None and old.get("identity") == s.record_identity(t.dataset, t.width, t.seed):
            print(f"  {t.key}: already done in {out}/summary.json (resume)")
            records[t.key] = old
        else:
            if old is not None:
                changed = "; ".join(differing(old.get("identity") or {}, s.record_identity(t.dataset, t.width, t.seed)))
                print(
                    f"  {t.key}: the record in {out}/summary.json was written with other settings ({changed}); "
                    "recomputed (checkpoints are reused where they fit)"
                )
            todo.append(t)
    # keep records of tasks not asked for this time (another sweep into the same folder)
    kept = {k: v for k, v in previous.items() if k not in {t.key for t in tasks}}

    def failed(exc: Exception, key: str | None = None) -> int:
        msg = " ".join(str(exc).split())
        where = f"{key}: " if key and not msg.startswith(key) else ""
        print(f"{prog}: {where}{msg}", file=sys.stderr)
        if records:
            write_outputs(out, list({**kept, **records}.values()), s)
        return 2

    try:
        if args.scheduler or args.workers:
            from ._sweep import run_distributed

            for rec, seconds in run_distributed(
                todo, s, out, args.resume, args.keep_epoch_weights, scheduler=args.scheduler, workers=args.workers
            ):
                records[rec["task"]] = rec
                write_outputs(out, list({**kept, **records}.values()), s)
                _print_record(rec, seconds)
        else:
            for t in todo:
                t0 = time.perf_counter()
                try:
                    rec = run_task(t, s, out, args.resume, not args.no_progress, args.keep_epoch_weights)
                except (UsageError, DataError, CheckpointError, ValueError) as exc:
                    return failed(exc, t.key)  # the line names the task that failed
                records[t.key] = rec
                write_outputs(out, list({**kept, **records}.values()), s)  # after every task: nothing finished is lost
                _print_record(rec, time.perf_counter() - t0)
    except (UsageError, DataError, CheckpointError, ValueError) as exc:
        return failed(exc)
    ordered = [records[t.key] for t in tasks if t.key in records] + list(kept.values())
    written = write_outputs(out, ordered, s)
    print("wrote " + ", ".join(str(p) for p in written))
    unbounded = [r["task"] for r in ordered if r.get("bounds_not_computed")]
    if unbounded:
        print(
            f"{len(unbounded)} of {len(ordered)} task(s) without bounds (reason on their line above and in "
            f"summary.json, 'bounds_not_computed'): {', '.join(unbounded)}"
        )
    if args.preset == "quick" and s.datasets == ("digits",):
        print(
            "The paper's setting: python -m experiments.bounds --preset paper --data-dir DIR "
            "(MNIST archives; add --device cuda on a GPU)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
