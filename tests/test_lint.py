"""Code habits kept true by CI: ruff (lint and format) and mypy over the packages (pyproject.toml's settings)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.skipif(
    shutil.which("ruff") is None and _run("ruff", "--version").returncode != 0,
    reason="ruff not installed (bash setup.sh installs it)",
)
def test_ruff_lint_and_format():
    lint = _run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.skipif(_run("mypy", "--version").returncode != 0, reason="mypy not installed (bash setup.sh installs it)")
def test_mypy_type_checks_the_packages():
    res = _run("mypy")
    assert res.returncode == 0, res.stdout[-4000:]
