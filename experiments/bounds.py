"""python -m experiments.bounds: train the paper's MLPs, prune them with Algorithm 1, and evaluate every
bound of the paper (and the three baselines) on the measured quantities.  All bounds are reported as log10.

With no arguments: a quick demonstration on scikit-learn's embedded digits (a couple of minutes on 2 CPU
cores).  The paper's setting: ``--preset paper --data-dir DIR`` (MNIST, widths 500..2500, 300 epochs).
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
from pathlib import Path

PRESETS = {
    "quick": dict(
        dataset="digits",
        widths=[64, 128],
        depth=5,
        epochs=40,
        every=10,
        optimizer="adam",
        lr=1e-3,
        batch_size=64,
        imp_rounds=2,
    ),
    "paper": dict(
        dataset="mnist",
        widths=[500, 784, 1000, 1500, 2000, 2500],
        depth=5,
        epochs=300,
        every=1,
        optimizer="sgd",
        lr=0.02,
        batch_size=256,
        imp_rounds=0,
    ),
}
DEFAULT_OUT = "results/bounds"


class UsageError(Exception):
    """Bad input: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m experiments.bounds",
        description=__doc__.split("\n\n")[0],
        epilog="Values not given come from the preset (quick: digits, widths 64 128, depth 5, 40 epochs, every 10, "
        "adam, lr 1e-3, batch 64; paper: mnist, widths 500 784 1000 1500 2000 2500, depth 5, 300 epochs, "
        "every 1, sgd, lr 0.02, batch 256).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--preset", choices=sorted(PRESETS), default="quick", help="base settings")
    ap.add_argument(
        "--dataset",
        choices=("digits", "mnist", "fashion-mnist", "cifar10"),
        default=None,
        help="dataset (default: the preset's)",
    )
    ap.add_argument("--data-dir", default=None, help="folder with the standard files (default: $MBP_DATA_DIR)")
    ap.add_argument("--widths", type=int, nargs="+", default=None, metavar="W", help="hidden widths (default: preset)")
    ap.add_argument("--depth", type=int, default=None, help="number of linear layers (default: preset, 5)")
    ap.add_argument("--epochs", type=int, default=None, help="training epochs (default: preset)")
    ap.add_argument("--every", type=int, default=None, help="evaluate the bounds every N epochs, 0 = only at the end")
    ap.add_argument("--optimizer", choices=("adam", "sgd"), default=None, help="adam (paper) or sgd (released configs)")
    ap.add_argument("--lr", type=float, default=None, help="learning rate (default: preset)")
    ap.add_argument("--batch-size", type=int, default=None, help="batch size (default: preset)")
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda[:N]")
    ap.add_argument("--seed", type=int, default=0, help="seed of the split, initialisation, data order and pruning")
    ap.add_argument("--delta", type=float, default=0.01, help="failure probability of the rigorous bounds")
    ap.add_argument(
        "--imp-rounds",
        type=int,
        default=None,
        help="rounds of iterative magnitude pruning with rewinding for the Theorem 6.2 bound, 0 = skip "
        "(default: preset, quick 2, paper 0)",
    )
    ap.add_argument(
        "--imp-fraction", type=float, default=0.5, help="fraction of surviving weights removed per IMP round"
    )
    ap.add_argument(
        "--prune-diagonal",
        action="store_true",
        help="prune the diagonal too (the released code's behaviour; the paper keeps it)",
    )
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder")
    ap.add_argument("--resume", action="store_true", help="continue from the checkpoints and results in --out")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    return ap


def settings_from(args: argparse.Namespace) -> dict:
    s = dict(PRESETS[args.preset])
    for key in ("dataset", "widths", "depth", "epochs", "every", "optimizer", "lr", "batch_size", "imp_rounds"):
        val = getattr(args, key)
        if val is not None:
            s[key] = val
    s.update(
        data_dir=args.data_dir,
        device=args.device,
        seed=args.seed,
        delta=args.delta,
        prune_diagonal=args.prune_diagonal,
        preset=args.preset,
        imp_fraction=args.imp_fraction,
    )
    if s["imp_rounds"] < 0:
        raise UsageError(f"--imp-rounds must be >= 0 (got {s['imp_rounds']})")
    if not 0 < s["imp_fraction"] < 1:
        raise UsageError(f"--imp-fraction must lie strictly between 0 and 1 (got {s['imp_fraction']})")
    if any(w < 1 for w in s["widths"]):
        raise UsageError(f"--widths must all be >= 1 (got {' '.join(map(str, s['widths']))})")
    if s["depth"] < 2:
        raise UsageError(f"--depth must be >= 2 (got {s['depth']})")
    if s["epochs"] < 1:
        raise UsageError(f"--epochs must be >= 1 (got {s['epochs']})")
    if s["every"] < 0:
        raise UsageError(f"--every must be >= 0 (got {s['every']})")
    if not (s["lr"] > 0 and math.isfinite(s["lr"])):
        raise UsageError(f"--lr must be a positive finite number (got {s['lr']})")
    if s["batch_size"] < 1:
        raise UsageError(f"--batch-size must be >= 1 (got {s['batch_size']})")
    if not 0 < s["delta"] < 1:
        raise UsageError(f"--delta must lie strictly between 0 and 1 (got {s['delta']})")
    return s


# ---------------------------------------------------------------------------------------------------
def write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as fh:
        fh.write(data)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; results are for sharing
    os.replace(tmp, path)


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
    }


def run_width(width: int, s: dict, data, out: Path, resume: bool, progress: bool) -> tuple[dict, list[dict]]:
    """Train, prune and bound one width; returns (summary record, per-epoch rows)."""
    import numpy as np
    import torch

    from ._bounds import compute_bounds
    from ._data import train_val_split
    from ._measures import margins
    from ._model import make_mlp, set_weight_matrices, weight_matrices
    from ._train import TrainConfig, evaluate, train

    tr_idx, val_idx = train_val_split(len(data.train_y), s["seed"])
    x_all = torch.as_tensor(data.train_x)
    y_all = torch.as_tensor(data.train_y)
    x_tr, y_tr = x_all[tr_idx], y_all[tr_idx]
    x_te, y_te = torch.as_tensor(data.test_x), torch.as_tensor(data.test_y)
    torch.manual_seed(s["seed"])
    model = make_mlp(data.input_dim, width, s["depth"], data.n_classes)
    init = [w.numpy().astype(np.float64) for w in weight_matrices(model)]
    x_np = x_tr.double().numpy()
    x_max = float(np.linalg.norm(x_np, axis=1).max())
    x_total = float(np.linalg.norm(x_np))

    def margins_with(ws, net) -> np.ndarray:
        probe = make_mlp(data.input_dim, width, s["depth"], data.n_classes)
        probe.load_state_dict(net.state_dict())
        set_weight_matrices(probe, [torch.as_tensor(w, dtype=torch.float32) for w in ws])
        return margins(evaluate(probe, x_tr, y_tr)["logits"], y_tr)

    def bounds_of(net, curve: bool = False) -> dict:
        net_cpu = make_mlp(data.input_dim, width, s["depth"], data.n_classes)
        net_cpu.load_state_dict({k: v.cpu() for k, v in net.state_dict().items()})
        ws = [w.numpy().astype(np.float64) for w in weight_matrices(net_cpu)]
        tr = evaluate(net_cpu, x_tr, y_tr)
        res = compute_bounds(
            ws,
            init,
            margins(tr["logits"], y_tr),
            lambda p: margins_with(p, net_cpu),
            x_max,
            x_total,
            m=len(y_tr),
            delta=s["delta"],
            seed=s["seed"],
            prune_diagonal=s["prune_diagonal"],
            error_curve=curve,
        )
        from ._bounds import prune_network

        pruned = prune_network(ws, res["d_star"], s["seed"], s["prune_diagonal"])
        probe = make_mlp(data.input_dim, width, s["depth"], data.n_classes)
        probe.load_state_dict(net_cpu.state_dict())
        set_weight_matrices(probe, [torch.as_tensor(w, dtype=torch.float32) for w in pruned])
        res["test_error"] = evaluate(net_cpu, x_te, y_te)["error"]
        res["pruned_test_error"] = evaluate(probe, x_te, y_te)["error"]
        res["true_error_log10"] = (
            math.log10(res["pruned_test_error"]) if res["pruned_test_error"] > 0 else float("-inf")
        )
        res["val_error"] = evaluate(net_cpu, x_all[val_idx], y_all[val_idx])["error"] if len(val_idx) else float("nan")
        return res

    def on_epoch(epoch: int, net) -> dict:
        if s["every"] and epoch % s["every"] == 0 and epoch != s["epochs"]:
            try:
                b = bounds_of(net)
            except ValueError as exc:  # e.g. no positive margin yet early in training: skip this epoch's bounds
                print(f"  width {width}, epoch {epoch}: bounds skipped ({exc})", file=sys.stderr)
                return {}
            return {k: b[k] for k in EPOCH_KEYS if k in b}
        return {}

    cfg = TrainConfig(
        epochs=s["epochs"],
        batch_size=s["batch_size"],
        lr=s["lr"],
        optimizer=s["optimizer"],
        seed=s["seed"],
        device=s["device"],
        progress=progress,
    )
    ckpt = out / "checkpoints" / f"width-{width}.pt"
    t0 = time.perf_counter()
    history = train(model, x_tr, y_tr, cfg, checkpoint=ckpt, resume=resume, on_epoch=on_epoch)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    final = bounds_of(model, curve=True)
    t_bounds = time.perf_counter() - t0
    if history:
        history[-1].update({k: final[k] for k in EPOCH_KEYS if k in final})
    record = {
        "width": width,
        "dataset": data.name,
        "m": len(y_tr),
        **final,
        "wall_seconds": {"train": t_train, "bounds": t_bounds},
    }
    if s["imp_rounds"] > 0:
        t0 = time.perf_counter()
        record["imp"] = run_imp(width, s, data, x_tr, y_tr, x_te, y_te, out, resume, progress)
        record["wall_seconds"]["imp"] = time.perf_counter() - t0
    rows = [{"width": width, **h} for h in history]
    return record, rows


def run_imp(width, s, data, x_tr, y_tr, x_te, y_te, out: Path, resume: bool, progress: bool) -> dict:
    """Section 6: a lottery ticket by iterative magnitude pruning with rewinding, and its Theorem 6.2 bound."""
    import torch

    import theory

    from ._bounds import FALLBACK_LEVELS, SKETCH_CONSTANT, choose_gamma
    from ._imp import iterative_magnitude_pruning
    from ._measures import margin_loss, margins
    from ._model import make_mlp
    from ._train import TrainConfig, evaluate

    torch.manual_seed(s["seed"])
    model = make_mlp(data.input_dim, width, s["depth"], data.n_classes)
    cfg = TrainConfig(
        epochs=s["epochs"],
        batch_size=s["batch_size"],
        lr=s["lr"],
        optimizer=s["optimizer"],
        seed=s["seed"],
        device=s["device"],
        progress=progress,
    )
    masks, hist = iterative_magnitude_pruning(
        model,
        x_tr,
        y_tr,
        cfg,
        s["imp_rounds"],
        s["imp_fraction"],
        checkpoint_dir=out / "checkpoints" / f"imp-width-{width}",
        resume=resume,
    )
    model = model.cpu()
    tr_margins = margins(evaluate(model, x_tr, y_tr)["logits"], y_tr)
    gamma, rule = choose_gamma(tr_margins)
    nonzeros = int(sum(int(mk.sum()) for mk in masks))
    p_max = max(data.input_dim, width)
    gap = theory.theorem_6_2_gap_from_nonzeros(
        q_nnz=nonzeros, p=p_max, c_m=SKETCH_CONSTANT, r=FALLBACK_LEVELS, m=len(y_tr), delta=s["delta"]
    )
    bound = margin_loss(tr_margins, gamma) + gap
    test_err = evaluate(model, x_te, y_te)["error"]
    return {
        "rounds": s["imp_rounds"],
        "fraction": s["imp_fraction"],
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


EPOCH_KEYS = (
    "neyshabur_2015_code_log10",
    "neyshabur_2017_code_log10",
    "bartlett_2017_code_log10",
    "ours_paper_compatible_log10",
    "theorem_5_2_log10",
    "lemma_d_1_log10",
    "true_error_log10",
    "test_error",
    "pruned_test_error",
    "train_error",
    "gamma",
    "d_star",
)

TABLE_ROWS = (
    ("Neyshabur 2015 (code form)", "neyshabur_2015_code_log10", "neyshabur_2015_code"),
    ("Neyshabur 2017 (code form)", "neyshabur_2017_code_log10", "neyshabur_2017_code"),
    ("Bartlett 2017 (code form)", "bartlett_2017_code_log10", "bartlett_2017_code"),
    ("Ours (paper-compatible)", "ours_paper_compatible_log10", "ours_paper_compatible"),
    ("True error (pruned test error)", "true_error_log10", "true_error"),
    ("Neyshabur 2015 (literature, with R-hat)", "neyshabur_2015_literature_log10", None),
    ("Neyshabur 2017 (literature, with R-hat)", "neyshabur_2017_literature_log10", None),
    ("Bartlett 2017 (literature, with R-hat)", "bartlett_2017_literature_log10", None),
    ("Theorem 5.2 (rigorous, c_m = 1, C = 1)", "theorem_5_2_log10", None),
    ("Lemma D.1 (rigorous, naive count)", "lemma_d_1_log10", None),
)


def table_markdown(records: list[dict], s: dict) -> str:
    from ._paper import paper_value

    widths = [r["width"] for r in records]
    head = "| bound (log10) | " + " | ".join(f"h={w} ours | h={w} paper" for w in widths) + " |"
    sep = "|---|" + "---|---|" * len(widths)
    lines = [
        f"# Bounds on {records[0]['dataset']} (log10 of each bound; natural logs inside the formulas)",
        "",
        f"Settings: {s['optimizer']}, lr {s['lr']}, {s['epochs']} epochs, batch {s['batch_size']}, depth "
        f"{s['depth']}, seed {s['seed']}, delta {s['delta']}, diagonal {'pruned' if s['prune_diagonal'] else 'kept'}.",
        "'paper' is the paper's reported value where it exists (MNIST scaling study, CIFAR-10 h = 2000).",
        "",
        head,
        sep,
    ]
    for label, key, paper_key in TABLE_ROWS:
        cells = []
        for r in records:
            v = r.get(key)
            pv = paper_value(r["dataset"], paper_key, r["width"]) if paper_key else None
            cells.append("n/a" if v is None else f"{v:.2f}")
            cells.append("" if pv is None else f"{pv:.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "| measure | " + " | ".join(f"h={w}" for w in widths) + " |", "|---|" + "---|" * len(widths)]
    for label, key in (
        ("margin gamma used", "gamma"),
        ("gamma rule", "gamma_rule"),
        ("d* (bisection)", "d_star"),
        ("bisection status", "bisection_status"),
        ("test error (unpruned)", "test_error"),
        ("test error (pruned)", "pruned_test_error"),
        ("survivors / expected", None),
        ("Thm 5.2 margin condition met", "theorem_5_2_margin_condition_met"),
        ("IMP ticket: Theorem 6.2 (log10)", "imp.theorem_6_2_log10"),
        ("IMP ticket: nonzeros / dense", "imp.nonzeros"),
        ("IMP ticket: test error", "imp.test_error"),
    ):
        if key is None:
            vals = [f"{r['survivors']} / {r['expected_survivors']:.0f}" for r in records]
        elif key.startswith("imp."):
            sub = key[4:]
            vals = [
                "n/a"
                if "imp" not in r
                else (
                    f"{r['imp']['nonzeros']} / {r['imp']['dense_weights']}"
                    if sub == "nonzeros"
                    else f"{r['imp'][sub]:.4g}"
                )
                for r in records
            ]
        else:
            vals = [f"{r[key]:.4g}" if isinstance(r[key], float) else str(r[key]) for r in records]
        lines.append(f"| {label} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def write_outputs(out: Path, records: list[dict], rows: list[dict], s: dict) -> list[Path]:
    written = []
    summary = {"settings": s, "versions": versions(), "units": "log10 for every *_log10 key", "records": records}
    write_atomic(out / "summary.json", json.dumps(summary, indent=2, default=str))
    written.append(out / "summary.json")
    if rows:
        keys = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("width", "epoch"), k))
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
        write_atomic(out / "epochs.csv", buf.getvalue())
        written.append(out / "epochs.csv")
    write_atomic(out / "table.md", table_markdown(records, s))
    written.append(out / "table.md")
    from ._figures import write_figures

    written += write_figures(out, records, rows)
    return written


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        s = settings_from(args)
        from ._data import DataError, load_dataset
        from ._train import resolve_device

        s["device"] = resolve_device(s["device"])
    except (UsageError, ValueError) as exc:
        print(f"experiments.bounds: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        data = load_dataset(s["dataset"], s["data_dir"])
    except DataError as exc:
        print(f"experiments.bounds: {exc}".replace("\n", " "), file=sys.stderr)  # one line
        return 2
    previous = {}
    if args.resume and (out / "summary.json").is_file():
        old = json.loads((out / "summary.json").read_text())
        free = ("widths", "device", "data_dir", "preset")  # may change without changing any number
        same = {k: v for k, v in old.get("settings", {}).items() if k not in free} == {
            k: v for k, v in s.items() if k not in free
        }
        if same:
            previous = {r["width"]: r for r in old.get("records", [])}
        else:
            print(
                f"  {out}/summary.json was written with other settings: its widths are recomputed "
                "(checkpoints are reused where they fit)"
            )
    print(
        f"experiments.bounds: {s['dataset']} ({len(data.train_y)} training images), widths "
        f"{' '.join(map(str, s['widths']))}, {s['epochs']} epochs, device {s['device']}; results in {out}/"
    )
    records, rows = [], []
    old_rows = []
    if args.resume and (out / "epochs.csv").is_file():
        with open(out / "epochs.csv") as fh:
            old_rows = list(csv.DictReader(fh))
    try:
        for width in s["widths"]:
            if width in previous:
                print(f"  width {width}: already done in {out}/summary.json (resume)")
                records.append(previous[width])
                rows += [r for r in old_rows if str(r.get("width")) == str(width)]
                continue
            t0 = time.perf_counter()
            try:
                rec, r = run_width(width, s, data, out, args.resume, not args.no_progress)
            except ValueError as exc:
                print(f"experiments.bounds: width {width}: {exc}", file=sys.stderr)
                return 2
            records.append(rec)
            rows += r
            write_outputs(out, records, rows, s)  # after every width: an interruption loses nothing finished
            print(
                f"  width {width}: test error {rec['test_error']:.4f} (pruned {rec['pruned_test_error']:.4f}), "
                f"log10 bounds: ours {rec['ours_paper_compatible_log10']:.2f}, Bartlett(code) "
                f"{rec['bartlett_2017_code_log10']:.2f}, Thm 5.2 {rec['theorem_5_2_log10']:.2f} "
                f"[{time.perf_counter() - t0:.0f} s]"
            )
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished widths are in {out}/; rerun with --resume to continue", file=sys.stderr)
        return 130
    written = write_outputs(out, records, rows, s)
    print("wrote " + ", ".join(str(p) for p in written))
    if args.preset == "quick" and s["dataset"] == "digits":
        print(
            "The paper's setting: python -m experiments.bounds --preset paper --data-dir DIR "
            "(MNIST archives; add --device cuda on a GPU)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
