"""The record of one paper statement in the claim ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ._numeric import stable_for_numbers

VERDICTS = ("verified", "verified-with-correction", "refuted", "not-checkable", "pending")
STATUSES = ("code", "cited", "reconstructed", "derive")


@dataclass
class Step:
    """One step of a derivation: a sentence and the SymPy object it produces."""

    text: str
    expr: Any = None


@dataclass
class Claim:
    """One numbered statement of the paper (or a baseline bound) and what the toolkit found.

    ``results`` maps the name of each derived quantity to its simplified SymPy expression;
    ``paper_form`` holds what the paper, its code or THEORY.md writes, where known;
    ``verdict`` is one of ``VERDICTS`` and ``evidence`` says why, in words a reader can follow;
    ``formulas`` maps the text of each SymPy expression written into ``evidence`` (``str(expr)``) to the
    expression, so that a document can typeset it.
    """

    id: str
    title: str
    statement: str  # LaTeX
    status: tuple[str, ...]  # subset of STATUSES
    assumptions: list[str] = field(default_factory=list)
    results: dict[str, sp.Basic] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    paper_form: dict[str, str] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    verdict: str = "pending"
    evidence: str = ""
    formulas: dict[str, sp.Basic] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"{self.id}: verdict must be one of {VERDICTS}, got {self.verdict!r}")
        bad = [s for s in self.status if s not in STATUSES]
        if bad:
            raise ValueError(f"{self.id}: unknown status {bad}")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": "+".join(self.status),
            "verdict": self.verdict,
            "evidence": self.evidence,
            "statement": self.statement,
            "assumptions": list(self.assumptions),
            # log-gamma kept unevaluated so that the string never calls gamma(), which would clash with
            # the margin symbol gamma when parsed back (theory.parse_result)
            "results": {name: str(stable_for_numbers(expr)) for name, expr in self.results.items()},
            "paper_form": dict(self.paper_form),
            "checks": list(self.checks),
        }
