"""What the command lines of ``theory`` and ``numerics`` share: a reader that stops early is not an error.

``python -m theory.ledger --format json | head`` closes the pipe after ten lines; the next write raises
``BrokenPipeError``.  ``run_cli`` ends the program quietly then, as Unix tools do, with exit status 0 and
no traceback (stdout is pointed at /dev/null so that the interpreter's final flush cannot fail again).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run ``main(argv)`` and return its exit status; 0, quietly, when stdout's reader went away."""
    try:
        status = main(argv)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except OSError:  # pragma: no cover - nothing more to do
            pass
        return 0
