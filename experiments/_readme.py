"""Generated blocks of the README: text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers is
replaced by what a command computed from its records (the README's numbers are never typed by hand)."""

from __future__ import annotations

from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of the README block ``name`` (e.g. ``findings``, ``certify``)."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def read_block(text: str, name: str) -> str | None:
    """The text between the markers of block ``name`` (stripped), or None when the markers are absent."""
    start, end = markers(name)
    if start not in text or end not in text.split(start, 1)[1]:
        return None
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def update_block(path: Path, name: str, block: str) -> bool:
    """Replace block ``name`` of the file at ``path`` by ``block``; False (file untouched) when it has no such
    markers.  Raises OSError when the file cannot be read or written."""
    from .bounds import write_atomic

    text = path.read_text()
    start, end = markers(name)
    if read_block(text, name) is None:
        return False
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    write_atomic(path, f"{head}{start}\n{block.strip()}\n{end}{tail}")
    return True


def write_block(path: Path, name: str, block: str, prog: str, what: str) -> int:
    """Replace block ``name`` of the README at ``path`` and say so; returns 0, or 2 after one line on stderr (no
    markers, or the file cannot be written).  ``prog`` prefixes the error, ``what`` names the block in the message."""
    import sys

    try:
        done = update_block(path, name, block)
    except OSError as exc:
        print(f"{prog}: cannot update {path}: {exc}", file=sys.stderr)
        return 2
    if not done:
        print(f"{prog}: {path} has no {markers(name)[0]} marker", file=sys.stderr)
        return 2
    print(f"updated {what} in {path}")
    return 0
