#!/usr/bin/env bash
# One command that sets everything up on a fresh machine: `bash setup.sh`.
# - Python packages: the CPU wheel of torch 2.13.0 first (on this machine's disk, so no
#   multi-GB CUDA download), then this project in editable mode with its test extras.
# - TeX (optional, for the PDF of the derivations): Debian's minimal LaTeX + latexmk when
#   apt-get is usable and MBP_NO_TEX is unset.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install --quiet "torch==2.13.0"
python3 -m pip install --quiet -e ".[dev]"
if [ -z "${MBP_NO_TEX:-}" ] && ! command -v latexmk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup.sh: installing a minimal TeX (texlive-latex-base, texlive-latex-recommended, lmodern, latexmk)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      texlive-latex-base texlive-latex-recommended lmodern latexmk >/dev/null \
      || echo "setup.sh: TeX could not be installed; the PDF of the derivations will be skipped"
  else
    echo "setup.sh: no root apt-get; install latexmk + texlive-latex-recommended yourself for the PDF"
  fi
fi
echo "setup.sh: done. Run the tests with: python3 -m pytest -q"
