"""``python -m theory.ledger``: print the claim ledger as a table (default) or JSON.

Examples::

    python -m theory.ledger                       # one line per claim: id, status, verdict, title
    python -m theory.ledger --format json         # every entry with id, title, status, verdict, evidence, results
    python -m theory.ledger --id lemma-4.1 --long # one claim with its derived results and evidence
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections import Counter
from pathlib import Path

from ._cli import OneLineParser, run_cli
from ._ledger import EVIDENCE_FILE, build_ledger


def markdown_table(claims) -> str:
    """The verdict table of the README: one row per claim, and the verdict counts."""
    rows = ["| id | statement | source | verdict |", "|---|---|---|---|"]
    for c in claims:
        rows.append(f"| `{c.id}` | {c.title} | {'+'.join(c.status)} | {c.verdict} |")
    counts = Counter(c.verdict for c in claims)
    rows.append("")
    rows.append("Verdict counts: " + ", ".join(f"{v} {counts[v]}" for v in sorted(counts)) + ".")
    return "\n".join(rows)


_MARKERS = ("<!-- verdict-table:start -->", "<!-- verdict-table:end -->")


def readme_block(table: str) -> str:
    return f"{_MARKERS[0]}\n{table}\n{_MARKERS[1]}"


def _update_readme(path: Path, table: str) -> int:
    text = path.read_text() if path.is_file() else ""
    if _MARKERS[0] not in text or _MARKERS[1] not in text:
        print(f"theory.ledger: {path} has no verdict-table markers {_MARKERS}", file=sys.stderr)
        return 2
    head, rest = text.split(_MARKERS[0], 1)
    tail = rest.split(_MARKERS[1], 1)[1]
    path.write_text(head + readme_block(table) + tail)
    print(f"updated the verdict table in {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    ap = OneLineParser(
        prog="python -m theory.ledger",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="output format (default: table; markdown is the README's verdict table)",
    )
    ap.add_argument("--id", nargs="+", metavar="ID", help="only these claim ids (default: all)")
    ap.add_argument("--long", action="store_true", help="table format: also print results and evidence")
    ap.add_argument(
        "--readme", metavar="PATH", help="rewrite the verdict table between the verdict-table markers of this README"
    )
    ap.add_argument(
        "--no-monte-carlo",
        action="store_true",
        help=f"ignore the Monte-Carlo evidence file ({EVIDENCE_FILE.name}) and show symbolic verdicts only",
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    claims = build_ledger(None if args.no_monte_carlo else str(EVIDENCE_FILE))
    if args.id:
        known = {c.id for c in claims}
        unknown = [i for i in args.id if i not in known]
        if unknown:
            print(
                f"theory.ledger: unknown claim id(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                file=sys.stderr,
            )
            return 2
        claims = tuple(c for c in claims if c.id in set(args.id))
    if args.format == "json":
        json.dump([c.to_json() for c in claims], sys.stdout, indent=2)
        print()
        return 0
    if args.readme:
        return _update_readme(Path(args.readme), markdown_table(claims))
    if args.format == "markdown":
        print(markdown_table(claims))
        return 0
    width = max(len(c.id) for c in claims)
    print(f"{'id':<{width}}  {'status':<20}  {'verdict':<24}  title")
    print("-" * (width + 80))
    for c in claims:
        print(f"{c.id:<{width}}  {'+'.join(c.status):<20}  {c.verdict:<24}  {c.title}")
        if args.long:
            for name, expr in c.results.items():
                print(textwrap.indent(f"{name} = {expr}", " " * (width + 2)))
            print(textwrap.indent(textwrap.fill(c.evidence, 100), " " * (width + 2)))
            print()
    counts = Counter(c.verdict for c in claims)
    print("-" * (width + 80))
    print("verdicts: " + ", ".join(f"{v} {counts[v]}" for v in sorted(counts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
