"""``python -m numerics.check [ID ...] [--samples N] [--seed S] [--format table|json] [--write-evidence PATH]``

Runs the heavier Monte-Carlo checks (``numerics._claims``) and prints, per claim, the estimate against the
closed form with its (1 - 1e-6) interval and a verdict.  ``--write-evidence`` writes the records as a JSON
list atomically (temporary file + ``os.replace``), e.g. to ``theory/evidence/monte_carlo.json``.
Exit status: 0 when every check ran, 2 for bad arguments (unknown id, samples <= 0).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from theory._cli import OneLineParser


def _parser() -> argparse.ArgumentParser:
    from ._claims import CHECKS

    p = OneLineParser(prog="python -m numerics.check", description=__doc__.splitlines()[2])
    p.add_argument("ids", nargs="*", metavar="ID", help=f"claim ids (default: all): {', '.join(CHECKS)}")
    p.add_argument(
        "--samples",
        type=int,
        default=None,
        help="draws per check (entries, matrices, networks or training sets; default: per check)",
    )
    p.add_argument("--seed", type=int, default=20240601, help="master seed (default 20240601)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--write-evidence", metavar="PATH", default=None, help="write the records as a JSON list")
    return p


def write_evidence(records: list[dict], path: str | os.PathLike) -> Path:
    """Write ``records`` to ``path`` as JSON, atomically (temporary file in the same folder + os.replace)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(records, fh, indent=2, default=float)
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def _table(records: list[dict]) -> str:
    lines = []
    for r in records:
        lo, hi = r["interval"]
        lines.append(
            f"{r['id']:<15} {r['verdict']:<25} estimate {r['estimate']:.6g}  interval [{lo:.6g}, {hi:.6g}]  "
            f"samples {r['samples']}  seed {r['seed']}"
        )
        lines.append(f"    closed form: {r['closed_form']}")
        lines.append(f"    {r['evidence']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from ._claims import CHECKS

    unknown = [i for i in args.ids if i not in CHECKS]
    if unknown:
        print(
            f"numerics.check: error: unknown claim id(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}",
            file=sys.stderr,
        )
        return 2
    if args.samples is not None and args.samples <= 0:
        print(f"numerics.check: error: --samples must be a positive integer (got {args.samples})", file=sys.stderr)
        return 2
    ids = args.ids or list(CHECKS)
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover

        def tqdm(it, **_):
            return it

    records = []
    for claim_id in tqdm(ids, desc="numerics.check", unit="claim", file=sys.stderr, disable=None):
        check, default = CHECKS[claim_id]
        records.append(check(args.samples or default, args.seed))
    if args.write_evidence:
        write_evidence(records, args.write_evidence)
    if args.format == "json":
        print(json.dumps(records, indent=2, default=float))
    else:
        print(_table(records))
    return 0


if __name__ == "__main__":
    from theory._cli import run_cli

    sys.exit(run_cli(main))
