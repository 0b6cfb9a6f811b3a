"""Tests of numerics._claims: every check returns a well-formed record; verdict logic responds to evidence."""

from __future__ import annotations

import pytest

from numerics import _claims

VERDICTS = {"verified", "verified-with-correction", "refuted", "not-checkable"}
SMALL = {
    "algorithm-1": 2000,
    "lemma-4.1": 20000,
    "lemma-4.2": 30,
    "lemma-b.2": 10,
    "lemma-4.3": 10,
    "lemma-4.4": 10,
    "lemma-5.1": 10,
    "lemma-e.1": 100,
    "lemma-d.2": 20000,
    "lemma-d.3": 50000,
    "condition-c.1": 5000,
    "lemma-c.1": 3,
    "definition-e.1": 5,
}


def test_every_claim_of_the_brief_has_a_check():
    assert set(SMALL) | {"theorem-5.1"} == set(_claims.CHECKS)


@pytest.mark.parametrize("claim_id", sorted(SMALL))
def test_records_are_well_formed(claim_id):
    check, _ = _claims.CHECKS[claim_id]
    rec = check(SMALL[claim_id], 11)
    assert rec["id"] == claim_id and rec["verdict"] in VERDICTS
    assert rec["seed"] == 11 and rec["samples"] >= 1 and isinstance(rec["evidence"], str) and rec["evidence"]
    lo, hi = rec["interval"]
    assert lo <= hi


def test_same_seed_same_record():
    a = _claims.check_lemma_d_2(20000, 3)
    b = _claims.check_lemma_d_2(20000, 3)
    assert a == b
