"""What the command lines of ``theory``, ``numerics`` and ``experiments`` share (this module imports nothing of
the packages, so every package may import it: data flows theory -> numerics -> experiments).

A reader that stops early is not an error.

``python -m theory.ledger --format json | head`` closes the pipe after ten lines; the next write raises
``BrokenPipeError``.  ``run_cli`` ends the program quietly then, as Unix tools do, with exit status 0 and
no traceback (stdout is pointed at /dev/null so that the interpreter's final flush cannot fail again).

A bad argument is one line.  :class:`OneLineParser` prints ``PROG: MESSAGE`` on stderr and exits with status 2
(argparse's default repeats the whole usage block first); :class:`DefaultsHelpFormatter` states each option's
default once: an option whose help already says what its default is, or whose default is None or False (a
"not given" marker, not a value), is left as written.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn

__all__ = ["DefaultsHelpFormatter", "OneLineParser", "run_cli"]


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr, ``PROG: MESSAGE`` (``PROG`` without a leading
    ``python -m``), and exit status 2; ``--help`` is unchanged."""

    def error(self, message: str) -> NoReturn:
        name = self.prog.removeprefix("python -m ").strip()
        self.exit(2, f"{name}: {' '.join(message.split())}\n")


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``(default: X)`` after an option's help, unless the help already states the default or X is None or
    False (then there is nothing true to add)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower() or action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


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
