"""python -m experiments.bench: the toolkit's heavy steps, each timed against its reference in the same run.

Cases (each runs in its own subprocess, so its peak resident memory is its own; default: all but ``suite``):
  bounds        every bound of a 5-layer width-2500 MLP on 48,000 MNIST samples (``compute_bounds`` with the
                pruning-error curve): the fast path (numerics.PruningPath, sparse differences, certified bounds)
                against the dense reference (Algorithm 1 afresh and dense Lanczos norms at every step), on the
                same network in the same process.  The margin forward passes are timed apart (the unpruned
                network's, and the pruned one's at d*); the ratio is of what the bounds add beyond them.  The
                SymPy derivations a fresh process does once are timed apart too (warm-up).
  sparse-norms  ||A - Ahat(d)||_2 of one 2500 x 2500 layer at d = 1e-7 ... 1: sparse (connected blocks, exact or
                Lanczos) against dense Lanczos, and which one ``numerics.PruningPath`` picks (measured crossover)
  spectral      one spectral norm of a 2500 x 2500 Gaussian difference A - Ahat(1): Lanczos against a full SVD
  epoch         one epoch of ``experiments._train.train`` against a bare forward/backward/step loop over the same
                data, model, initialisation and optimiser, in the same process (width 500 on 6,000 samples;
                five interleaved pairs: the median ratio and the fastest time of each)
  suite         the property suite (pytest tests/theory tests/numerics), timed alone

The network: the report's trained checkpoint (``--checkpoint``) when it exists; else the bench's own quick
network, trained once (1 epoch of Adam, lr 1e-3, batch 256, seed 0, on the first ``--train-samples`` of the
MNIST training split: the report's recipe for one epoch) and cached in ``--cache-dir`` -- its margins and norms
are those of the report's briefly trained networks, so the search ends at a d* of the same kind (measured
8.8e-8 here, the report's 2-epoch network 8.4e-8: a few thousand pruned entries per layer); else, without
the MNIST archives, fresh weights on noise inputs, labelled as not representative (the search then stops
within its first steps).  Numbers are from one run on this machine;
ratios are within that run.  BLAS runs single-threaded inside the spectral norms (see numerics._spectral).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from theory._cli import DefaultsHelpFormatter, OneLineParser

#: the report's trained networks (python -m experiments.report), relative to the repository root
DEFAULT_CHECKPOINT = "results/report/mnist/checkpoints/mnist-width-{width}-seed-1/train.pt"  # experiments.report's
DEFAULT_CACHE = "results/bench"
CASES = ("bounds", "sparse-norms", "spectral", "epoch", "suite")
DEFAULT_CASES = ("bounds", "sparse-norms", "spectral", "epoch")
ROOT = Path(__file__).resolve().parents[1]
#: interleaved (train, bare loop) pairs of the epoch case
EPOCH_PAIRS = 5
#: strengths of the sparse-norms case
SPARSE_NORM_D = (1e-7, 1e-5, 1e-3, 1e-2, 0.1, 0.3, 1.0)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mnist():
    from ._data import DataError, load_dataset

    try:
        return load_dataset("mnist", os.environ.get("MBP_DATA_DIR") or str(ROOT.parent / "shared" / "data" / "mnist"))
    except DataError:
        return None


def _network(width: int, samples: int, opts: dict):
    """(model, x, y, source, train_seconds): the network of the bench and its MNIST training inputs."""
    import torch

    from ._data import train_val_split
    from ._model import make_mlp
    from ._train import TrainConfig, evaluate, train

    torch.manual_seed(0)
    model = make_mlp(784, width, 5)
    data = _mnist()
    if data is None:
        g = torch.Generator().manual_seed(0)
        x = torch.rand(samples, 784, generator=g) * 2 - 1
        y = evaluate(model, x, torch.zeros(samples, dtype=torch.long))["logits"].argmax(1)  # labels it gets right
        return model, x, y, "FALLBACK (not representative): fresh weights, noise inputs (MNIST not found)", 0.0
    tr, _ = train_val_split(len(data.train_y), 0)
    x, y = torch.as_tensor(data.train_x[tr]), torch.as_tensor(data.train_y[tr])
    report = Path(opts["checkpoint"].format(width=width))
    if not report.is_absolute():
        report = ROOT / report
    n_train = min(opts["train_samples"], len(y))
    cached = Path(opts["cache_dir"]) / f"mnist-width-{width}-adam-1epoch-{n_train}.pt"
    if not cached.is_absolute():
        cached = ROOT / cached
    seconds = 0.0
    if report.is_file():
        model.load_state_dict(torch.load(report, map_location="cpu", weights_only=True)["model"])
        source = f"trained weights from {report}"
    else:
        if cached.is_file():
            model.load_state_dict(torch.load(cached, map_location="cpu", weights_only=True)["model"])
        else:
            t0 = time.perf_counter()
            train(model, x[:n_train], y[:n_train], TrainConfig(epochs=1, batch_size=256, lr=1e-3, progress=False))
            seconds = time.perf_counter() - t0
            cached.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"model": model.state_dict()}, cached)
        now = ", trained now" if seconds else ""
        source = f"bench network: 1 epoch Adam on {n_train} MNIST samples ({cached.name}{now})"
    return model, x[:samples], y[:samples], source, seconds


def _bounds_case(width: int, samples: int, opts: dict) -> dict:
    import numpy as np
    import torch

    from . import _bounds
    from ._measures import margins
    from ._model import make_mlp, set_weight_matrices, weight_matrices
    from ._train import evaluate

    model, x, y, source, train_s = _network(width, samples, opts)
    ws = [w.double().numpy() for w in weight_matrices(model)]
    forward = {"seconds": 0.0, "calls": 0}

    def margins_of(pw):
        t0 = time.perf_counter()
        probe = make_mlp(784, width, 5)
        probe.load_state_dict(model.state_dict())
        set_weight_matrices(probe, [torch.as_tensor(w, dtype=torch.float32) for w in pw])
        out = margins(evaluate(probe, x, y)["logits"], y)
        forward["seconds"] += time.perf_counter() - t0
        forward["calls"] += 1
        return out

    t0 = time.perf_counter()  # what a fresh process derives and compiles once (SymPy), not part of either path
    _warm_up(len(ws))
    theory_s = time.perf_counter() - t0
    train_margins = margins_of(ws)
    forward_unpruned = forward["seconds"]
    xd = x.double()
    args = (ws, None, train_margins)
    kwargs: dict[str, Any] = dict(
        x_max=float(xd.norm(dim=1).max()), x_norm_total=float(xd.norm()), m=len(y), seed=0, error_curve=True
    )

    def timed(mode: str, margins_fn):
        phases = {"search": 0.0, "curve": 0.0}
        bisect, curve = _bounds.bisect_strength, _bounds.pruning_error_curve

        def bisect_timed(*a, **k):
            s = time.perf_counter()
            try:
                return bisect(*a, **k)
            finally:
                phases["search"] += time.perf_counter() - s

        def curve_timed(*a, **k):
            s = time.perf_counter()
            try:
                return curve(*a, **k)
            finally:
                phases["curve"] += time.perf_counter() - s

        _bounds.SEARCH_PATH, _bounds.bisect_strength, _bounds.pruning_error_curve = mode, bisect_timed, curve_timed
        before = forward["seconds"]
        try:
            s = time.perf_counter()
            res = _bounds.compute_bounds(*args, margins_fn, **kwargs)
            total = time.perf_counter() - s
        finally:
            _bounds.SEARCH_PATH, _bounds.bisect_strength, _bounds.pruning_error_curve = "fast", bisect, curve
        fwd = forward["seconds"] - before
        return res, {"total": total - fwd, "forward": fwd, **phases, "rest": total - fwd - sum(phases.values())}

    seen = {}

    def margins_remembered(pw):
        seen["weights"], seen["margins"] = [w.copy() for w in pw], margins_of(pw)
        return seen["margins"]

    fast, t_fast = timed("fast", margins_remembered)

    def margins_reused(pw):  # the dense path prunes the same network at the same d*: reuse, after checking
        if len(pw) == len(seen["weights"]) and all(np.array_equal(a, b) for a, b in zip(pw, seen["weights"])):
            return seen["margins"]
        return margins_of(pw)

    dense, t_dense = timed("dense", margins_reused)
    worst = _max_rel_diff(fast, dense)
    nnz = [lay["nonzeros"] for lay in fast["layers"]]
    pruned_entries = int(sum(w.size for w in ws) - sum(nnz))
    return {
        "source": source,
        "train_seconds": train_s,
        "theory_seconds": theory_s,
        "forward_unpruned": forward_unpruned,
        "fast": t_fast,
        "dense": t_dense,
        "d_star": fast["d_star"],
        "iterations": fast["bisection_iterations"],
        "status": fast["bisection_status"],
        "pruned_entries": pruned_entries,
        "same_d_star": fast["d_star"] == dense["d_star"],
        "max_rel_diff": worst,
    }


def _warm_up(depth: int) -> None:
    """Both paths of ``compute_bounds`` once on a tiny network of ``depth`` layers: every formula the bounds use
    is derived and compiled for that depth (a fresh process's one-time SymPy cost) before anything is timed."""
    import numpy as np

    from . import _bounds

    rng = np.random.default_rng(0)
    widths = [6] + [8] * (depth - 1) + [3]
    ws = [rng.normal(size=(widths[k + 1], widths[k])) for k in range(depth)]
    x = rng.normal(size=(40, widths[0]))

    def margins_of(weights):
        h = x
        for k, w in enumerate(weights):
            h = h @ w.T
            if k < len(weights) - 1:
                h = np.maximum(h, 0.0)
        return np.sort(h, axis=1)[:, -1] - np.sort(h, axis=1)[:, -2] + 1e-3  # positive "margins"

    for mode in ("fast", "dense"):
        _bounds.SEARCH_PATH = mode
        try:
            _bounds.compute_bounds(ws, None, margins_of(ws), margins_of, 1.0, 1.0, m=40, error_curve=True)
        finally:
            _bounds.SEARCH_PATH = "fast"


def _max_rel_diff(a, b) -> float:
    """Largest relative difference between two nested results (inf when keys or non-float values differ)."""
    import math

    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return math.inf
        return max([_max_rel_diff(a[k], b[k]) for k in a] or [0.0])
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return math.inf
        return max([_max_rel_diff(u, v) for u, v in zip(a, b)] or [0.0])
    if isinstance(a, float) and isinstance(b, float):
        if a == b or (math.isnan(a) and math.isnan(b)):
            return 0.0
        return abs(a - b) / max(abs(a), abs(b))
    return 0.0 if a == b else math.inf


def _one_layer(width: int, opts: dict):
    """A width x width layer: the bench network's second layer when it is cached or checkpointed, else Gaussian."""
    import numpy as np
    import torch

    for candidate in (
        Path(opts["checkpoint"].format(width=width)),
        Path(opts["cache_dir"]) / f"mnist-width-{width}-adam-1epoch-{opts['train_samples']}.pt",
    ):
        path = candidate if candidate.is_absolute() else ROOT / candidate
        if path.is_file():
            state = torch.load(path, map_location="cpu", weights_only=True)["model"]
            key = sorted(k for k in state if k.endswith("weight"))[1]
            return state[key].double().numpy(), f"layer {key} of {path.name}"
    rng = np.random.default_rng(0)
    return rng.standard_normal((width, width)) / np.sqrt(width), "Gaussian layer (no trained network cached)"


def _sparse_norms_case(width: int, opts: dict) -> dict:

    import numerics
    from numerics import _spectral

    w, source = _one_layer(width, opts)
    path = numerics.PruningPath([w], 0)
    warm = path.difference(SPARSE_NORM_D[0])[0].tocoo()  # first calls (imports, allocations) are not timed
    _spectral.coo_spectral_norm(warm.row, warm.col, warm.data, warm.shape)
    numerics.spectral_norm(warm.toarray())
    rows = []
    for d in SPARSE_NORM_D:
        diff = path.difference(d)[0]
        coo = diff.tocoo()
        dense = diff.toarray()
        crossover = _spectral.DENSE_CROSSOVER
        try:
            _spectral.DENSE_CROSSOVER = 2.0  # force the sparse method whatever the density
            t0 = time.perf_counter()
            sparse_value = _spectral.coo_spectral_norm(coo.row, coo.col, coo.data, diff.shape)
            t_sparse = time.perf_counter() - t0
        finally:
            _spectral.DENSE_CROSSOVER = crossover
        t0 = time.perf_counter()
        dense_value = numerics.spectral_norm(dense)
        t_dense = time.perf_counter() - t0
        density = diff.nnz / w.size
        rows.append(
            {
                "d": d,
                "density": density,
                "sparse": t_sparse,
                "dense": t_dense,
                "rel_diff": abs(sparse_value - dense_value) / max(dense_value, 1e-300),
                "path_uses": "dense" if density > crossover else "sparse",
            }
        )
    return {"source": source, "rows": rows, "crossover": _spectral.DENSE_CROSSOVER}


def _spectral_case(width: int) -> dict:
    import numpy as np

    import numerics
    from numerics._spectral import _single_thread_blas

    rng = np.random.default_rng(0)
    w = rng.standard_normal((width, width)) / np.sqrt(width)
    diff = w - numerics.algorithm_1(w, 1.0, generator=rng)[0]
    t0 = time.perf_counter()
    lanczos = numerics.spectral_norm(diff)
    t_lanczos = time.perf_counter() - t0
    with _single_thread_blas():
        t0 = time.perf_counter()
        exact = float(np.linalg.svd(diff, compute_uv=False)[0])
        t_svd = time.perf_counter() - t0
    return {"seconds": t_lanczos, "svd_seconds": t_svd, "rel_diff": abs(lanczos - exact) / exact}


def _epoch_case(width: int, samples: int) -> dict:
    import copy

    import torch
    from torch import nn

    from ._model import make_mlp
    from ._train import TrainConfig, train

    data = _mnist()
    if data is not None:
        x, y = torch.as_tensor(data.train_x[:samples]), torch.as_tensor(data.train_y[:samples])
        source = f"MNIST, {len(y)} samples"
    else:
        x, y = torch.rand(samples, 784) * 2 - 1, torch.randint(0, 10, (samples,))
        source = f"noise of MNIST's size, {samples} samples (archives not found)"
    cfg = TrainConfig(epochs=1, batch_size=256, lr=1e-3, optimizer="adam", progress=False)
    torch.manual_seed(0)
    init = make_mlp(784, width, 5)

    def bare() -> float:
        model = copy.deepcopy(init)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
        t0 = time.perf_counter()
        model.train()
        for s in range(0, len(y), cfg.batch_size):
            idx = order[s : s + cfg.batch_size]
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        return time.perf_counter() - t0

    def ours() -> float:
        model = copy.deepcopy(init)
        t0 = time.perf_counter()
        train(model, x, y, cfg)
        return time.perf_counter() - t0

    bare()  # warm-up (allocator, kernels)
    pairs = []
    for k in range(EPOCH_PAIRS):  # interleaved, the order alternating, so that a load spike hits both alike
        if k % 2:
            o = ours()
            pairs.append((bare(), o))
        else:
            b = bare()
            pairs.append((b, ours()))
    ratios = sorted(o / b for b, o in pairs)
    return {
        "seconds": min(o for _, o in pairs),
        "bare_seconds": min(b for b, _ in pairs),
        "median_ratio": ratios[len(ratios) // 2],
        "ratios": ratios,
        "source": f"{source}, width {width}, Adam, batch {cfg.batch_size}",
    }


def _suite_case() -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/theory", "tests/numerics"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib_children": child, "result": proc.stdout.strip().splitlines()[-1:]}


def run_case(case: str, width: int, samples: int, **opts) -> dict:
    """Run one case in this process; returns its measurements (seconds, ratios, notes) and peak memory (MiB).
    ``opts``: checkpoint, cache_dir, train_samples, epoch_width, epoch_samples (defaults as on the command
    line).  Raises ValueError for an unknown case."""
    opts = {
        "checkpoint": DEFAULT_CHECKPOINT,
        "cache_dir": DEFAULT_CACHE,
        "train_samples": 48000,
        "epoch_width": 500,
        "epoch_samples": 6000,
        **opts,
    }
    if case == "bounds":
        out = _bounds_case(width, samples, opts)
    elif case == "sparse-norms":
        out = _sparse_norms_case(width, opts)
    elif case == "spectral":
        out = _spectral_case(width)
    elif case == "epoch":
        out = _epoch_case(opts["epoch_width"], opts["epoch_samples"])
    elif case == "suite":
        out = _suite_case()
    else:
        raise ValueError(f"unknown case {case!r} (choose from {', '.join(CASES)})")
    out["peak_mib"] = max(_peak_mib(), out.pop("peak_mib_children", 0.0))
    return out


def table_rows(case: str, r: dict, width: int, samples: int) -> list[tuple[str, str, float, str, float, str]]:
    """The printed rows of one case: (case, what, seconds, reference, reference seconds, note)."""
    if case == "bounds":
        f, d = r["fast"], r["dense"]
        same = "same d*" if r["same_d_star"] else "DIFFERENT d*"
        head = (
            f"5 x {width}, {samples} samples; d* = {r['d_star']:.3g} ({r['status']}, {r['iterations']} steps, "
            f"{r['pruned_entries']} entries pruned); {same}, largest relative difference of any output "
            f"{r['max_rel_diff']:.1e}; {r['source']}"
        )
        rows = [
            ("bounds", "all bounds + error curve, beyond forward passes", f["total"], "dense path", d["total"], head),
            (
                "bounds",
                "compute_bounds incl. its forward pass",
                f["total"] + f["forward"],
                "dense path",
                d["total"] + f["forward"],
                "the dense path's own forward pass would take the same time; counted once for both",
            ),
            ("bounds", "  search on d", f["search"], "dense path", d["search"], ""),
            ("bounds", "  pruning-error curve (12 d)", f["curve"], "dense path", d["curve"], ""),
            ("bounds", "  measures, baselines, rigorous", f["rest"], "dense path", d["rest"], ""),
            (
                "bounds",
                "forward pass, unpruned (margins)",
                r["forward_unpruned"],
                "",
                float("nan"),
                "not part of either path: the caller's",
            ),
            (
                "bounds",
                "forward pass, pruned at d*",
                f["forward"],
                "",
                float("nan"),
                "inside compute_bounds; the dense path reuses it (same pruned weights, checked)",
            ),
            ("bounds", "SymPy derivations (once per process)", r["theory_seconds"], "", float("nan"), ""),
        ]
        if r["train_seconds"]:
            rows.append(
                ("bounds", "training the bench network (once, cached)", r["train_seconds"], "", float("nan"), "")
            )
        return rows
    if case == "sparse-norms":
        rows = []
        for row in r["rows"]:
            rows.append(
                (
                    "sparse-norms",
                    f"d = {row['d']:g}, density {row['density']:.2e}: sparse",
                    row["sparse"],
                    "dense Lanczos",
                    row["dense"],
                    f"rel. diff. {row['rel_diff']:.1e}; PruningPath uses {row['path_uses']}",
                )
            )
        rows[0] = rows[0][:5] + (f"{rows[0][5]}; {r['source']}; crossover density {r['crossover']}",)
        return rows
    if case == "spectral":
        return [
            (
                "spectral",
                f"Lanczos, {width} x {width}",
                r["seconds"],
                "full SVD",
                r["svd_seconds"],
                f"relative difference {r['rel_diff']:.1e}; one BLAS thread for both",
            )
        ]
    if case == "epoch":
        spread = ", ".join(f"{x:.2f}" for x in r["ratios"])
        note = (
            f"train / bare loop: median {r['median_ratio']:.2f} over {len(r['ratios'])} interleaved pairs "
            f"({spread}; issue 11: <= 2); times are the fastest of each; {r['source']}"
        )
        return [("epoch", "experiments._train.train, 1 epoch", r["seconds"], "bare loop", r["bare_seconds"], note)]
    return [("suite", "tests/theory + tests/numerics", r["seconds"], "", float("nan"), ", ".join(r.get("result", [])))]


def _fmt(seconds: float) -> str:
    return "" if seconds != seconds else f"{seconds:.2f}"


def main(argv: list[str] | None = None) -> int:
    """The command line: run the cases (each in a subprocess) and print one table; returns the exit status (0;
    2, with one line on stderr, for unknown cases, non-positive sizes, a missing --checkpoint or a failing case)."""
    t_start = time.perf_counter()
    ap = OneLineParser(
        prog="python -m experiments.bench",
        description=__doc__.split("\n\n")[0],
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument("cases", nargs="*", default=list(DEFAULT_CASES), help=f"which cases ({', '.join(CASES)})")
    ap.add_argument("--width", type=int, default=2500, help="hidden width of the bounds case and matrix side")
    ap.add_argument("--samples", type=int, default=48000, help="samples the bounds case evaluates margins on")
    ap.add_argument("--train-samples", type=int, default=48000, help="samples the bench network is trained on")
    ap.add_argument("--epoch-width", type=int, default=500, help="width of the epoch case's MLP")
    ap.add_argument("--epoch-samples", type=int, default=6000, help="samples of the epoch case")
    ap.add_argument(
        "--checkpoint",
        default=DEFAULT_CHECKPOINT,
        help="trained weights for the bounds case ({width} is filled in); the bench network when absent",
    )
    ap.add_argument("--cache-dir", default=DEFAULT_CACHE, help="where the bench network is cached")
    ap.add_argument("--out", default="results/bench", help="folder for bench.md (the table) and bench.json")
    ap.add_argument("--readme", default=None, metavar="PATH", help="also put the table in this README's 'bench' block")
    ap.add_argument("--case-json", metavar="CASE", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    args = ap.parse_args(argv)
    for name in ("checkpoint", "cache_dir"):  # defaults are relative to the repository root, the rest to cwd
        value = getattr(args, name)
        if value not in (DEFAULT_CHECKPOINT, DEFAULT_CACHE):
            setattr(args, name, str(Path(value).resolve()))
    opts = {
        "checkpoint": args.checkpoint,
        "cache_dir": args.cache_dir,
        "train_samples": args.train_samples,
        "epoch_width": args.epoch_width,
        "epoch_samples": args.epoch_samples,
    }
    if args.case_json:
        print(json.dumps(run_case(args.case_json, args.width, args.samples, **opts)))
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        print(
            f"experiments.bench: unknown case(s) {' '.join(unknown)} (choose from {', '.join(CASES)})", file=sys.stderr
        )
        return 2
    for name in ("width", "samples", "train_samples", "epoch_width", "epoch_samples"):
        if getattr(args, name) < 1:
            option = "--" + name.replace("_", "-")
            print(f"experiments.bench: {option} must be >= 1 (got {getattr(args, name)})", file=sys.stderr)
            return 2
    if args.checkpoint != DEFAULT_CHECKPOINT and not Path(args.checkpoint.format(width=args.width)).is_file():
        print(f"experiments.bench: --checkpoint {args.checkpoint} is not a file", file=sys.stderr)
        return 2
    from .bounds import UsageError, check_out_dir, write_atomic

    try:
        if args.readme and not Path(args.readme).is_file():
            raise UsageError(f"--readme {args.readme} is not a file")
        check_out_dir(Path(args.out))
    except UsageError as exc:
        print(f"experiments.bench: {exc}", file=sys.stderr)
        return 2
    results = {}
    for case in args.cases:
        cmd = [sys.executable, "-m", "experiments.bench", "--case-json", case, "--width", str(args.width)]
        cmd += ["--samples", str(args.samples), "--train-samples", str(args.train_samples)]
        cmd += ["--epoch-width", str(args.epoch_width), "--epoch-samples", str(args.epoch_samples)]
        cmd += ["--checkpoint", args.checkpoint, "--cache-dir", args.cache_dir]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            last = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()] or [f"exit code {proc.returncode}"]
            print(f"experiments.bench: case {case} failed: {last[-1][:300]}", file=sys.stderr)
            return 2
        results[case] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"  {case}: {time.perf_counter() - t0:.1f} s, peak {results[case]['peak_mib']:.0f} MiB", flush=True)
    lines = [
        "| case | what | time (s) | reference | reference time (s) | speed-up (reference / time) | peak MiB | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case, r in results.items():
        for k, (name, what, sec, ref, ref_sec, note) in enumerate(table_rows(case, r, args.width, args.samples)):
            ratio = "" if ref_sec != ref_sec else f"{ref_sec / sec:.1f}x" if sec > 0 else ""
            peak = f"{r['peak_mib']:.0f}" if k == 0 else ""
            lines.append(f"| {name} | {what} | {_fmt(sec)} | {ref} | {_fmt(ref_sec)} | {ratio} | {peak} | {note} |")
    footer = (
        f"whole bench: {time.perf_counter() - t_start:.0f} s; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end (timings on a shared machine are noisy; ratios are within one run)"
    )
    table = "\n".join(lines) + "\n\n" + footer + "\n"
    print("\n" + table, end="")
    out = Path(args.out)
    meta = {"argv": sys.argv[1:], "cpus": os.cpu_count(), "load_average_end": os.getloadavg()[0]}
    write_atomic(out / "bench.md", table)
    write_atomic(out / "bench.json", json.dumps({"meta": meta, "cases": results}, indent=1, default=float) + "\n")
    print(f"wrote {out / 'bench.md'}, {out / 'bench.json'}")
    if args.readme:
        from ._readme import write_block

        return write_block(Path(args.readme), "bench", table, "experiments.bench", "the benchmark table")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
