"""Run a ``python -m`` command line whose stdout reader has gone away (``... | head`` after head exited)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_into_closed_pipe(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python args`` (e.g. ``-m theory.ledger``) from the checkout with stdout a pipe whose read end is
    already closed, so that the first write fails (EPIPE) however little is written.  Returns the finished
    process (stderr captured)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            timeout=timeout,
        )
    finally:
        os.close(write_end)


def assert_quiet_exit(proc: subprocess.CompletedProcess) -> None:
    """Exit status 0 and nothing on stderr about the broken pipe (no traceback)."""
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
