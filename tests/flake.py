"""Flake check: run the test suite N times with different seeds and Hypothesis' random profile.

    python -m tests.flake                         # 20 runs of the whole suite (tests/)
    python -m tests.flake --runs 3 tests/theory tests/numerics
    bash scripts/flake.sh --runs 5                # the same, from the repository root

Each run sets ``MBP_TEST_SEED`` (the Monte-Carlo master seed; ``--seed-base`` + run index) and
``HYPOTHESIS_PROFILE=random`` (new examples every run instead of the derandomised CI ones) and runs
``python -m pytest -q`` on the given paths.  One line per run: its seed, passed / failed / errors /
skipped counts, wall time and the failing test ids; then a summary with every failing test and the seeds
that reproduce it.  Exit status 0 when every run passed, 1 otherwise.  Not part of CI's default run
(it takes N times the suite's time).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")


def parse_summary(output: str) -> dict:
    """Counts from pytest's final line ('3 failed, 200 passed, 2 skipped in 12.3s') and the failing ids."""
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        if re.search(r"\bin [\d.]+s", line) and _COUNT.search(line):
            for number, kind in _COUNT.findall(line):
                kind = "errors" if kind.startswith("error") else kind
                if kind in counts:
                    counts[kind] = int(number)
            break
    failing = sorted({m.group(2) for m in re.finditer(r"^(FAILED|ERROR) (\S+)", output, flags=re.M)})
    return {**counts, "failing": failing}


def run_once(paths: list[str], seed: int, pytest_args: list[str], profile: str) -> dict:
    env = dict(os.environ, MBP_TEST_SEED=str(seed), HYPOTHESIS_PROFILE=profile)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args, *paths],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    result = parse_summary(proc.stdout + "\n" + proc.stderr)
    result.update(seed=seed, seconds=round(seconds, 1), returncode=proc.returncode)
    if proc.returncode not in (0, 1):  # 1: tests failed; anything else: pytest itself could not run
        result["failing"] = result["failing"] or [f"pytest exit status {proc.returncode}"]
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.flake", description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", default=["tests"], help="test paths (default: tests)")
    ap.add_argument("--runs", type=int, default=20, help="number of runs (default 20)")
    ap.add_argument("--seed-base", type=int, default=1, help="MBP_TEST_SEED of the first run (default 1)")
    ap.add_argument("--profile", default="random", help="HYPOTHESIS_PROFILE (default: random)")
    ap.add_argument("--json", metavar="PATH", help="also write the per-run records as JSON")
    ap.add_argument("--pytest-args", default="", help="extra pytest arguments, one string (e.g. '-x -k sketch')")
    args = ap.parse_args(argv)
    if args.runs < 1:
        print("tests.flake: error: --runs must be >= 1", file=sys.stderr)
        return 2
    records = []
    for index in range(args.runs):
        seed = args.seed_base + index
        rec = run_once(args.paths, seed, args.pytest_args.split(), args.profile)
        records.append(rec)
        status = "ok" if rec["returncode"] == 0 else "FAILED"
        print(
            f"run {index + 1:>2}/{args.runs}  MBP_TEST_SEED={seed:<8} {status:<6}  passed {rec['passed']:>4}  "
            f"failed {rec['failed']:>3}  errors {rec['errors']:>3}  skipped {rec['skipped']:>3}  "
            f"{rec['seconds']:>7.1f} s" + (f"  {', '.join(rec['failing'])}" if rec["failing"] else ""),
            flush=True,
        )
    failed_runs = [r for r in records if r["returncode"] != 0]
    seconds = [r["seconds"] for r in records]
    by_test = defaultdict(list)
    for rec in records:
        for test in rec["failing"]:
            by_test[test].append(rec["seed"])
    print(
        f"summary: {len(records)} runs ({args.profile} Hypothesis profile, seeds {args.seed_base}.."
        f"{args.seed_base + args.runs - 1}), {len(failed_runs)} failing run(s), "
        f"{sum(r['failed'] + r['errors'] for r in records)} test failure(s) in all; "
        f"time per run {min(seconds):.1f} / {sum(seconds) / len(seconds):.1f} / {max(seconds):.1f} s (min / mean / max)"
    )
    for test, seeds in sorted(by_test.items()):
        print(f"  {test}: failed with MBP_TEST_SEED in {seeds}")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2) + "\n")
    return 0 if not failed_runs else 1


if __name__ == "__main__":
    raise SystemExit(main())
