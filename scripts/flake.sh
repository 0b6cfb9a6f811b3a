#!/usr/bin/env bash
# Flake check (not part of CI's default run): the test suite N times (default 20) with different
# MBP_TEST_SEED values and HYPOTHESIS_PROFILE=random; per-run counts and times, then a summary.
#   bash scripts/flake.sh                       # 20 runs of tests/
#   bash scripts/flake.sh --runs 3 tests/theory tests/numerics
# Options: see python -m tests.flake --help.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 -m tests.flake "$@"
