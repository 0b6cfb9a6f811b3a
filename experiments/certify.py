"""python -m experiments.certify: a rigorous, non-vacuous generalisation certificate for magnitude-pruned networks.

Trains, prunes (iterative magnitude pruning, or Algorithm 1 at a strength d chosen per round; whole hidden units
removed), quantises (per-layer minifloat scale, integer levels, fine-tuned) and codes each network with a real
prefix-free code (numerics.encode_network), then bounds its error by the Occam bound in Langford-Seeger form
(claims occam-kl, occam-binomial): err <= kl^-1(err_S, (|code| ln 2 + ln G + ln(1/delta)) / m), G the number of
networks tried.  Beside it: the compressed network's training and test error, the code length by part (bits) and
the paper-style bounds of the dense network (10**log10 of experiments._bounds.compute_bounds), all as probabilities
of error.  Default: scikit-learn's digits (seconds); MNIST with --dataset mnist --data-dir DIR (minutes).
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
from pathlib import Path

from theory._cli import DefaultsHelpFormatter, OneLineParser

DEFAULT_OUT = "results/certify"
PROG = "experiments.certify"


class UsageError(Exception):
    """Bad input: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    ap = OneLineParser(
        prog="python -m experiments.certify",
        description=__doc__.split("\n\n")[0],
        epilog=(
            "Certificates are probabilities of error (not log10), valid with probability >= 1 - delta over the "
            "draw of the m training examples; the data-dependent-prior line is labelled and uses its own m."
        ),
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument("--dataset", default="digits", help="digits, mnist or fashion-mnist")
    ap.add_argument("--data-dir", default=None, help="folder of the IDX archives (or $MBP_DATA_DIR)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (table.md, certify.csv, certify.json)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the split, the initialisation and every draw")
    ap.add_argument("--delta", type=float, default=0.05, help="failure probability of the certificate")
    from ._certify import preset

    dig, mni = preset("digits"), preset("mnist")

    def per_dataset(text: str, get) -> str:
        show = lambda v: " ".join(map(str, v)) if isinstance(v, tuple) else str(v)
        return f"{text} (default: the dataset's preset: digits {show(get(dig))}, mnist {show(get(mni))})"

    ap.add_argument(
        "--targets",
        type=int,
        nargs="+",
        default=None,
        help=per_dataset("nonzero weights kept (grid)", lambda p: p.targets),
    )
    ap.add_argument(
        "--levels",
        type=int,
        nargs="+",
        default=None,
        help=per_dataset("largest |integer level| K per weight (grid)", lambda p: p.levels),
    )
    ap.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help=per_dataset("magnitude and/or algorithm-1 (grid)", lambda p: p.methods),
    )
    ap.add_argument(
        "--pool",
        type=int,
        default=None,
        help=per_dataset("average-pooling factor of the input image (1-4)", lambda p: p.archs[0].pool),
    )
    ap.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=None,
        help=per_dataset("hidden widths before pruning", lambda p: p.archs[0].hidden),
    )
    ap.add_argument(
        "--units",
        type=int,
        nargs="+",
        default=None,
        help=per_dataset(
            "hidden units kept per hidden layer at the smallest target (more survive at larger ones)",
            lambda p: p.archs[0].units,
        ),
    )
    ap.add_argument(
        "--seeds",
        type=int,
        default=None,
        help=per_dataset("seeds per network family (each one charged in G)", lambda p: len(p.archs[0].seeds)),
    )
    ap.add_argument(
        "--full-train",
        action="store_true",
        help="fit and bound on the whole training set (MNIST: m = 60,000) instead of the 80%% split; no "
        "data-dependent variant then (there is no held-out part)",
    )
    ap.add_argument("--no-paper-mlp", action="store_true", help="skip the paper's 5-layer MLP line (MNIST)")
    ap.add_argument("--no-data-dependent", action="store_true", help="skip the data-dependent-prior variant")
    ap.add_argument("--no-paper-bounds", action="store_true", help="skip compute_bounds on the dense networks")
    ap.add_argument("--quick", action="store_true", help="a few epochs only (a smoke test, not a result)")
    ap.add_argument("--simulate", type=int, default=0, metavar="RUNS", help="also check the bound by simulation")
    ap.add_argument("--simulate-m", type=int, default=2000, help="training examples per simulated run")
    ap.add_argument("--simulate-fresh", type=int, default=10**6, help="fresh examples for the population error")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--no-progress", action="store_true", help="no progress messages")
    ap.add_argument(
        "--from-records",
        default=None,
        metavar="DIR",
        help="rebuild table.md, certify.csv and the README block from DIR/certify.json of an earlier run (no training)",
    )
    ap.add_argument("--readme", default=None, metavar="PATH", help="also rewrite the 'certify' block of this README")
    return ap


def settings_from(args: argparse.Namespace):
    """The plan of the run, with every option checked (UsageError, one line, on bad input)."""
    from dataclasses import replace

    from ._certify import preset
    from ._compress import PRUNE_METHODS

    if args.dataset not in ("digits", "mnist", "fashion-mnist"):
        raise UsageError(f"--dataset must be digits, mnist or fashion-mnist (got {args.dataset!r})")
    if not 0 < args.delta < 1:
        raise UsageError(f"--delta must lie strictly between 0 and 1 (got {args.delta})")
    if not 0 <= args.seed < 2**31:
        raise UsageError(f"--seed must lie in 0..2^31-1 (got {args.seed})")
    if args.threads < 1:
        raise UsageError(f"--threads must be >= 1 (got {args.threads})")
    if args.simulate < 0:
        raise UsageError(f"--simulate must be >= 0 runs (got {args.simulate})")
    if args.simulate_m < 10 or args.simulate_fresh < 1000:
        raise UsageError(
            f"--simulate-m must be >= 10 and --simulate-fresh >= 1000 (got {args.simulate_m}, {args.simulate_fresh})"
        )
    plan = preset("digits" if args.dataset == "digits" else "mnist", quick=args.quick)
    if args.targets is not None:
        if min(args.targets) < 1:
            raise UsageError(f"--targets must be >= 1 (got {args.targets})")
        plan = replace(plan, targets=tuple(args.targets))
    if args.levels is not None:
        if min(args.levels) < 1 or max(args.levels) > 127:
            raise UsageError(f"--levels must lie in 1..127 (got {args.levels})")
        plan = replace(plan, levels=tuple(args.levels))
    if args.methods is not None:
        bad = [m for m in args.methods if m not in PRUNE_METHODS]
        if bad:
            raise UsageError(f"--methods must be among {', '.join(PRUNE_METHODS)} (got {' '.join(bad)})")
        # one family, the first preset's, pruned by the methods asked for
        plan = replace(plan, methods=tuple(args.methods), archs=(replace(plan.archs[0], methods=None),))
    arch = plan.archs[0]
    if args.pool is not None:
        if args.pool not in (1, 2, 3, 4) or (args.dataset == "digits" and args.pool > 2):
            raise UsageError(f"--pool must be 1, 2, 3 or 4 (1 or 2 on digits) (got {args.pool})")
        arch = replace(arch, pool=args.pool)
    if args.hidden is not None:
        if min(args.hidden) < 1:
            raise UsageError(f"--hidden widths must be >= 1 (got {args.hidden})")
        arch = replace(arch, hidden=tuple(args.hidden))
    if args.units is not None:
        arch = replace(arch, units=tuple(args.units))
    if len(arch.units) != len(arch.hidden):
        raise UsageError(f"--units needs one entry per hidden layer ({len(arch.hidden)}), got {len(arch.units)}")
    if min(arch.units) < 1:
        raise UsageError(f"--units must be >= 1 (got {list(arch.units)})")
    if any(u > h for u, h in zip(arch.units, arch.hidden)):
        raise UsageError(
            f"--units {list(arch.units)} keeps more hidden units than --hidden {list(arch.hidden)} has: at most as many"
        )
    if arch != plan.archs[0]:
        side = {"digits": 8}.get(args.dataset, 28) // arch.pool
        name = f"{arch.pool}x{arch.pool}-pooled MLP " if arch.pool > 1 else "MLP "
        arch = replace(arch, name=name + "-".join(str(v) for v in (side * side, *arch.hidden, 10)))
        plan = replace(plan, archs=(replace(arch, methods=None),))
    side = {"digits": 8}.get(args.dataset, 28) // arch.pool
    dims = (arch.inputs or side * side, *arch.units, 10)
    most = sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    if max(plan.targets) > most:
        raise UsageError(
            f"--targets {list(plan.targets)}: the network {'-'.join(map(str, dims))} (after removing hidden units) "
            f"has only {most} weights; choose targets <= {most}"
        )
    if args.seeds is not None:
        if not 1 <= args.seeds <= 20:
            raise UsageError(f"--seeds must lie in 1..20 (got {args.seeds})")
        plan = replace(plan, archs=tuple(replace(a, seeds=tuple(range(args.seeds))) for a in plan.archs))
    if args.no_paper_mlp:
        plan = replace(plan, paper_arch=None, paper_targets=())
    if args.no_data_dependent or args.full_train:
        plan = replace(plan, dd_arch=None, dd_targets=())
    return plan


def versions() -> dict:
    from importlib.metadata import version

    import constriction  # noqa: F401
    import numpy
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "constriction": version("constriction"),
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        plan = settings_from(args)
    except UsageError as exc:
        print(f"experiments.certify: {exc}", file=sys.stderr)
        return 2
    from .bounds import UsageError as OutError
    from .bounds import check_out_dir

    try:
        check_out_dir(Path(args.out))
    except OutError as exc:
        print(f"experiments.certify: {exc}", file=sys.stderr)
        return 2
    if args.readme and not Path(args.readme).is_file():
        print(f"experiments.certify: --readme {args.readme} is not a file", file=sys.stderr)
        return 2
    if args.from_records:
        return _from_records(args)
    import torch

    from ._data import DataError, load_dataset

    torch.set_num_threads(args.threads)
    try:
        data = load_dataset(args.dataset, args.data_dir)
    except (DataError, ValueError) as exc:
        print(f"experiments.certify: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    from ._certify import run

    out = Path(args.out)
    progress = not args.no_progress
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn

        limits = threadpool_limits(args.threads)  # skinny float64 products are slower with contended BLAS threads
    except ImportError:  # pragma: no cover
        limits = None
    try:
        result = run(data, plan, args, progress)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing is written for an unfinished run", file=sys.stderr)
        return 130
    finally:
        if limits is not None:
            limits.restore_original_limits()
    result["settings"]["versions"] = versions()
    return _write(result, out, args.readme)


def _from_records(args: argparse.Namespace) -> int:
    """--from-records: the outputs and the README block again from an earlier run's certify.json."""
    src = Path(args.from_records) / "certify.json"
    from ._certify import check_result

    defaults = build_parser().parse_args([])
    kept = {"from_records", "out", "readme", "no_progress", "threads"}
    ignored = sorted(k for k, v in vars(args).items() if k not in kept and v != getattr(defaults, k))
    if ignored:
        names = ", ".join("--" + k.replace("_", "-") for k in ignored)
        print(f"experiments.certify: {names} cannot apply with --from-records (the records fix them)", file=sys.stderr)
        return 2
    try:
        result = json.loads(src.read_text())
        if not isinstance(result, dict) or "lines" not in result or "records" not in result:
            raise ValueError("not a certify.json (no 'lines' or 'records')")
        check_result(result)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        text = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"experiments.certify: cannot use {src}: {text}", file=sys.stderr)
        return 2
    return _write(result, Path(args.out), args.readme, source=args.from_records)


def _write(result: dict, out: Path, readme: str | None, source: str | None = None) -> int:
    from ._certify import markdown, readme_block, table
    from ._readme import write_block
    from .bounds import write_atomic

    frame = table(result)
    md = markdown(result, frame)
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    write_atomic(out / "certify.csv", buf.getvalue())
    write_atomic(out / "certify.json", json.dumps(result, indent=1, default=float) + "\n")
    write_atomic(out / "table.md", md)
    print(md)
    took = "" if source else f" [{result['wall_seconds']['total']:.0f} s]"
    print(f"wrote {out / 'table.md'}, {out / 'certify.csv'}, {out / 'certify.json'}{took}")
    if readme:
        return write_block(
            Path(readme), "certify", readme_block(result, source or str(out)), PROG, "the certificate block"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
