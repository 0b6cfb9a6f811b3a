"""python -m experiments.bench: time and peak memory of the toolkit's heavy steps, printed as a table.

Cases (each runs in its own subprocess, so its peak resident memory is its own):
  spectral      one spectral norm of a width x width matrix (a pruned-minus-dense difference, as in the bisection):
                Lanczos (svds) against full SVD, with their relative disagreement
  bounds-svds   every bound for a 5-layer width-2500 MLP on 48,000 samples, spectral norms by Lanczos (svds)
  bounds-svd    the same with every spectral norm by a full SVD (the reference the Lanczos method is tested against)
  epoch-784     one training epoch of the width-784 MLP on MNIST (real archives when found, else same-size noise)
  suite         the property suite (pytest tests/theory tests/numerics)
The bounds cases use the trained network of that width from the report (--checkpoint; run python -m
experiments.report first) on the MNIST training split when both are found.  Otherwise they fall back to fresh
weights on noise inputs and say so; that is not representative, because on an untrained network the bisection
stops at its first step.  Figures are from one run on this machine; ratios are within that run.
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

#: the report's trained networks (python -m experiments.report), relative to the repository root
DEFAULT_CHECKPOINT = "results/report/mnist/checkpoints/width-{width}.pt"
CASES = ("spectral", "bounds-svds", "bounds-svd", "epoch-784", "suite")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bounds_case(full_svd: bool, width: int, samples: int, checkpoint: str | None = None) -> dict:
    import numpy as np
    import torch

    from . import _bounds, _measures
    from ._measures import margins
    from ._model import make_mlp, set_weight_matrices, weight_matrices
    from ._train import evaluate

    if full_svd:
        exact = lambda a: float(np.linalg.norm(_measures._np(a), 2)) if np.any(_measures._np(a)) else 0.0  # noqa: E731
        _measures.spectral_norm = exact
        _bounds.spectral_norm = exact
    torch.manual_seed(0)
    model = make_mlp(784, width, 5)
    source = "fresh initialisation, uniform noise inputs"
    ckpt = Path(checkpoint.format(width=width)) if checkpoint else None
    data = _mnist() if ckpt is not None and ckpt.is_file() else None
    if data is not None:
        from ._data import train_val_split

        model.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=False)["model"])
        tr, _ = train_val_split(len(data.train_y), 0)
        tr = tr[:samples]
        x, y = torch.as_tensor(data.train_x[tr]), torch.as_tensor(data.train_y[tr])
        source = f"trained weights from {ckpt}, MNIST inputs"
    else:
        g = torch.Generator().manual_seed(0)
        x = torch.rand(samples, 784, generator=g) * 2 - 1
        y = evaluate(model, x, torch.zeros(samples, dtype=torch.long))["logits"].argmax(1)  # labels it gets right
    ws = [w.double().numpy() for w in weight_matrices(model)]

    def margins_of(pw):
        probe = make_mlp(784, width, 5)
        probe.load_state_dict(model.state_dict())
        set_weight_matrices(probe, [torch.as_tensor(w, dtype=torch.float32) for w in pw])
        return margins(evaluate(probe, x, y)["logits"], y)

    t0 = time.perf_counter()
    res = _bounds.compute_bounds(
        ws, None, margins_of(ws), margins_of, float(x.norm(dim=1).max()), float(x.norm()), m=samples, delta=0.01, seed=0
    )
    return {
        "seconds": time.perf_counter() - t0,
        "d_star": res["d_star"],
        "iterations": res["bisection_iterations"],
        "ours_log10": res["ours_paper_compatible_log10"],
        "source": source,
    }


def _mnist():
    from ._data import DataError, load_dataset

    try:
        return load_dataset(
            "mnist",
            os.environ.get("MBP_DATA_DIR") or str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"),
        )
    except DataError:
        return None


def _spectral_case(width: int) -> dict:
    import numpy as np

    import numerics

    from ._measures import spectral_norm

    rng = np.random.default_rng(0)
    w = rng.standard_normal((width, width)) / np.sqrt(width)
    diff = w - numerics.algorithm_1(w, 1.0, generator=rng)[0]
    t0 = time.perf_counter()
    lanczos = spectral_norm(diff)
    t_lanczos = time.perf_counter() - t0
    t0 = time.perf_counter()
    exact = float(np.linalg.norm(diff, 2))
    t_svd = time.perf_counter() - t0
    return {"seconds": t_lanczos, "svd_seconds": t_svd, "rel_diff": abs(lanczos - exact) / exact}


def _epoch_case() -> dict:
    import torch

    from ._model import make_mlp
    from ._train import TrainConfig, train

    source = "MNIST"
    data = _mnist()
    if data is not None:
        x, y = torch.as_tensor(data.train_x[:48000]), torch.as_tensor(data.train_y[:48000])
    else:
        source = "noise of MNIST's size (archives not found)"
        x, y = torch.rand(48000, 784) * 2 - 1, torch.randint(0, 10, (48000,))
    model = make_mlp(784, 784, 5)
    t0 = time.perf_counter()
    train(model, x, y, TrainConfig(epochs=1, batch_size=256, lr=0.02, optimizer="sgd", progress=False))
    return {"seconds": time.perf_counter() - t0, "source": source}


def _suite_case() -> dict:
    root = Path(__file__).resolve().parents[1]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/theory", "tests/numerics"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib_children": child, "result": proc.stdout.strip().splitlines()[-1:]}


def run_case(case: str, width: int, samples: int, checkpoint: str | None = None) -> dict:
    if case == "spectral":
        out = _spectral_case(width)
    elif case == "bounds-svds":
        out = _bounds_case(False, width, samples, checkpoint)
    elif case == "bounds-svd":
        out = _bounds_case(True, width, samples, checkpoint)
    elif case == "epoch-784":
        out = _epoch_case()
    else:
        out = _suite_case()
    out["peak_mib"] = max(_peak_mib(), out.pop("peak_mib_children", 0.0))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m experiments.bench",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("cases", nargs="*", default=list(CASES), help=f"which cases ({', '.join(CASES)}); default all")
    ap.add_argument("--width", type=int, default=2500, help="hidden width of the bounds cases")
    ap.add_argument("--samples", type=int, default=48000, help="training samples of the bounds cases")
    ap.add_argument(
        "--checkpoint",
        default=DEFAULT_CHECKPOINT,
        help="trained weights for the bounds cases ({width} is filled in); fresh weights when absent",
    )
    ap.add_argument("--case-json", metavar="CASE", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    args = ap.parse_args(argv)
    if args.checkpoint != DEFAULT_CHECKPOINT:  # the default is relative to the repository root, the rest to cwd
        args.checkpoint = str(Path(args.checkpoint).resolve())
    if args.case_json:
        print(json.dumps(run_case(args.case_json, args.width, args.samples, args.checkpoint)))
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown or args.width < 1 or args.samples < 1:
        print(
            f"experiments.bench: unknown case(s) {unknown} (choose from {', '.join(CASES)}) or non-positive "
            "--width/--samples",
            file=sys.stderr,
        )
        return 2
    rows = {}
    for case in args.cases:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "experiments.bench",
                "--case-json",
                case,
                "--width",
                str(args.width),
                "--samples",
                str(args.samples),
                "--checkpoint",
                args.checkpoint,
            ],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        if proc.returncode != 0:
            print(f"experiments.bench: case {case} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return 1
        rows[case] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"  {case}: {rows[case]['seconds']:.1f} s, peak {rows[case]['peak_mib']:.0f} MiB", flush=True)
    print("\n| case | wall time (s) | peak memory (MiB) | note |\n|---|---|---|---|")
    for case, r in rows.items():
        if "iterations" in r:
            r["source"] = f"{r['source']}; d* = {r['d_star']:.3g} after {r['iterations']} bisection steps"
        note = (
            (
                f"full SVD {r['svd_seconds']:.2f} s ({r['svd_seconds'] / r['seconds']:.1f}x), relative "
                f"difference {r['rel_diff']:.1e}"
                if "svd_seconds" in r
                else ""
            )
            or r.get("source")
            or ", ".join(r.get("result", []))
            or (f"d* = {r['d_star']:.3g}" if "d_star" in r else "")
        )
        print(f"| {case} | {r['seconds']:.2f} | {r['peak_mib']:.0f} | {note} |")
    if "bounds-svds" in rows and "bounds-svd" in rows:
        print(
            f"\nfull SVD / Lanczos time ratio for the bounds: {rows['bounds-svd']['seconds'] / rows['bounds-svds']['seconds']:.2f}"
            f" (width {args.width}, {args.samples} samples)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
