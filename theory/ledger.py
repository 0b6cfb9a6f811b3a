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

from ._ledger import EVIDENCE_FILE, build_ledger


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m theory.ledger", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    ap.add_argument("--id", nargs="+", metavar="ID", help="only these claim ids (default: all)")
    ap.add_argument("--long", action="store_true", help="table format: also print results and evidence")
    ap.add_argument("--no-monte-carlo", action="store_true",
                    help=f"ignore the Monte-Carlo evidence file ({EVIDENCE_FILE.name}) and show symbolic verdicts only")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    claims = build_ledger(None if args.no_monte_carlo else str(EVIDENCE_FILE))
    if args.id:
        known = {c.id for c in claims}
        unknown = [i for i in args.id if i not in known]
        if unknown:
            print(f"theory.ledger: unknown claim id(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                  file=sys.stderr)
            return 2
        claims = tuple(c for c in claims if c.id in set(args.id))
    if args.format == "json":
        json.dump([c.to_json() for c in claims], sys.stdout, indent=2)
        print()
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
    raise SystemExit(main())
