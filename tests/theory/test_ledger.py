"""The claim ledger: every required id, valid verdicts, results that parse, evidence merging, CLI."""

import json
import subprocess
import sys

import pytest
import sympy as sp

import theory
from theory import REQUIRED_IDS, VERDICTS, build_ledger
from theory._ledger import _merge_evidence

# every [derive] quantity of THEORY.md (and of the issue) must have a SymPy result
DERIVED = {
    "lemma-4.1": {"E_Delta", "E_Delta2", "E_Delta4", "P_pruned", "chi"},
    "lemma-4.2": {"Gamma"},
    "lemma-5.1": {"expected_survivors"},
    "lemma-d.2": {"P_below_threshold", "tail_beta", "tail_sum", "threshold"},
    "theorem-d.1": {"tau"},
    "lemma-4.4": {"rounding_error", "rho_max"},
    "theorem-5.2": {"gap", "sketch_entries", "naive_log_count"},
    "lemma-d.1": {"gap", "naive_log_count"},
    "theorem-6.2": {"gap"},
}


def test_every_required_id_once_with_a_valid_verdict():
    claims = build_ledger(None)
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids))
    assert set(REQUIRED_IDS) <= set(ids)
    for c in claims:
        assert c.verdict in VERDICTS
        assert c.evidence, c.id
        if c.verdict == "not-checkable":
            assert len(c.evidence) > 20  # says why


def test_derived_quantities_present_and_parsable():
    by_id = {c.id: c for c in build_ledger(None)}
    for cid, names in DERIVED.items():
        results = by_id[cid].to_json()["results"]
        assert names <= set(results), (cid, names - set(results))


def test_every_result_string_round_trips_to_the_same_expression():
    for c in build_ledger(None):
        for name, text in c.to_json()["results"].items():
            back = theory.parse_result(text)
            assert sp.srepr(back) == sp.srepr(c.results[name]) or sp.simplify(back - c.results[name]) == 0, (c.id, name)


def test_known_findings_are_reported():
    by_id = {c.id: c for c in build_ledger(None)}
    assert by_id["condition-c.1"].verdict == "verified-with-correction"
    assert "FAILS" in by_id["condition-c.1"].evidence
    assert by_id["lemma-4.1"].verdict == "verified"
    assert "Frobenius" in by_id["baseline-bartlett-2017"].evidence


def test_monte_carlo_evidence_merges(tmp_path):
    path = tmp_path / "mc.json"
    path.write_text(
        json.dumps(
            [
                {"id": "lemma-5.1", "verdict": "verified", "evidence": "survivors inside the interval"},
                {"id": "lemma-e.1", "verdict": "refuted", "evidence": "bound exceeded"},
            ]
        )
    )
    claims = {c.id: c for c in build_ledger(None)}
    import copy

    claims = {k: copy.deepcopy(v) for k, v in claims.items()}
    _merge_evidence(claims, path)
    assert claims["lemma-5.1"].verdict == "verified"
    assert "survivors inside" in claims["lemma-5.1"].evidence
    assert claims["lemma-e.1"].verdict == "refuted"


def test_cli_json_and_table():
    out = subprocess.run(
        [sys.executable, "-m", "theory.ledger", "--format", "json"], capture_output=True, text=True, check=True
    ).stdout
    entries = json.loads(out)
    assert {"id", "title", "status", "verdict", "evidence", "results"} <= set(entries[0])
    assert set(REQUIRED_IDS) <= {e["id"] for e in entries}
    table = subprocess.run([sys.executable, "-m", "theory.ledger"], capture_output=True, text=True, check=True).stdout
    assert "verdicts:" in table and "lemma-4.1" in table
    bad = subprocess.run([sys.executable, "-m", "theory.ledger", "--id", "lemma-9.9"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown claim id" in bad.stderr


def test_claim_lookup():
    assert theory.claim("lemma-4.1").title
    with pytest.raises(KeyError):
        theory.claim("nope")


def test_readme_verdict_table_is_current():
    """README's table is generated (python -m theory.ledger --readme README.md), never typed."""
    from pathlib import Path

    from theory.ledger import markdown_table, readme_block

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert readme_block(markdown_table(build_ledger())) in readme, (
        "README verdict table is stale: run python -m theory.ledger --readme README.md"
    )


MALICIOUS_RESULTS = [
    '__import__("pathlib").Path("pwned").write_text("x")',  # the example: an import and attributes
    'open("pwned", "w")',  # a builtin call
    "exec(\"open(chr(112) + 'wned', 'w')\")",  # a string executed
    "(lambda: open('pwned', 'w'))()",  # a lambda
    "[open('pwned', 'w') for _ in (1,)]",  # a comprehension
    "{open('pwned', 'w') for q in (1,)}",
    "().__class__.__bases__[0].__subclasses__()",  # attribute access to object internals
    "sqrt.__globals__",
    "__builtins__",  # a dunder name
    "x if open('pwned', 'w') else y",  # a conditional
    "sqrt(x, evaluate=open('pwned', 'w'))",  # a keyword argument
    "S_l[open('pwned', 'w')]",  # a call hidden in a subscript
    "sympify('open(1)')",  # a SymPy function that parses strings itself
    "import os",  # a statement
    "'pwned'",  # a string
    "sqrt(*[open('pwned', 'w')])",  # starred arguments
]


@pytest.mark.parametrize("text", MALICIOUS_RESULTS)
def test_parse_result_never_executes_untrusted_text(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as info:
        theory.parse_result(text)
    assert "\n" not in str(info.value) and str(info.value).startswith("parse_result:")
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_parse_result_still_reads_the_ledgers_forms():
    # indexed per-layer symbols, Sum/Product, Piecewise with comparisons, constants, floats and rationals
    for text in ("Sum(S_l[ell]**2, (ell, 0, L - 1))", "Piecewise((d2, d1 > d2), (d2 - 1, True))", "E*pi/2 + 0.5"):
        assert isinstance(theory.parse_result(text), sp.Basic)
    assert theory.parse_result("3/2") == sp.Rational(3, 2)


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_cli_exits_quietly_when_the_reader_closes_the_pipe(fmt):
    # python -m theory.ledger --format json | head: no BrokenPipeError traceback, exit 0
    from pipes import assert_quiet_exit, run_into_closed_pipe

    assert_quiet_exit(run_into_closed_pipe("-m", "theory.ledger", "--format", fmt))


def test_the_closed_pipe_check_can_fail():
    # a program that lets BrokenPipeError escape (what theory.ledger did) fails the check
    from pipes import assert_quiet_exit, run_into_closed_pipe

    proc = run_into_closed_pipe("-c", "import json, sys; json.dump(list(range(10000)), sys.stdout)")
    with pytest.raises(AssertionError):
        assert_quiet_exit(proc)


class _Planted:
    """A pickle payload that would run a command when unpickled by a plain pickle.load."""

    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_the_ledger_cache_cannot_run_code(tmp_path, monkeypatch):
    import pickle

    from theory._ledger import _load_cache

    monkeypatch.chdir(tmp_path)
    planted = tmp_path / "ledger.pickle"
    planted.write_bytes(pickle.dumps([_Planted()]))
    assert _load_cache(planted) is None  # rejected: the ledger is derived again
    assert not (tmp_path / "pwned").exists()
    planted.write_bytes(pickle.dumps(list(build_ledger(None))[:3]))  # real claims still load
    assert [c.id for c in _load_cache(planted)] == [c.id for c in build_ledger(None)[:3]]


def test_experiment_evidence_is_merged_and_damage_is_harmless(tmp_path):
    import json

    from theory._ledger import _derived_claims, _merge_experiment_evidence

    claims = {c.id: c for c in _derived_claims()}
    before = claims["paper-compatible-ours"].evidence
    path = tmp_path / "experiments.json"
    path.write_text(
        json.dumps(
            [
                {"id": "paper-compatible-ours", "source": "test", "evidence": "Units: base e."},
                {"id": "no-such-claim", "evidence": "ignored"},
            ]
        )
    )
    _merge_experiment_evidence(claims, path)
    assert claims["paper-compatible-ours"].evidence == before + " Units: base e."
    assert claims["paper-compatible-ours"].verdict == "verified-with-correction"
    path.write_text("{ damaged")
    _merge_experiment_evidence(claims, path)  # no exception, nothing added
    assert claims["paper-compatible-ours"].evidence.count("Units: base e.") == 1
