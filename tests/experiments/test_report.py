"""experiments.report: the units of the paper's table decided from its numbers (checked against a hand computation
here), the paper's table in one unit, the records round trip (--from-records), the LaTeX by pandoc, the README
block, and one-line errors."""

import json
import math

import numpy as np
import pytest

from experiments import _fidelity, report
from experiments._paper import paper_value, printed_value

SHAPES = {w: [{"d1": a, "d2": b} for a, b in zip([w, w, w, w, 10], [784, w, w, w, w])] for w in (500, 784, 1000)}


def _reference_gap(layers, d, m):
    d1 = np.array([lay["d1"] for lay in layers], dtype=float)
    d2 = np.array([lay["d2"] for lay in layers], dtype=float)
    chi = 1 - math.sqrt(d / (d + 2))
    return math.sqrt((d1 * d2 * chi * np.log(np.maximum(d1, d2)) ** 2).sum() / m)


def _record(width, pruned_err, baselines_ln):
    """A record of a network whose code-form baselines are ``baselines_ln`` (natural-log units)."""
    rec = {"width": width, "m": 48000, "layers": SHAPES[width], "pruned_test_error": pruned_err}
    for key, v in zip(_fidelity.BASELINE_ROWS, baselines_ln):
        rec[f"{key}_log10"] = v / math.log(10)
    return rec


def test_ours_range_matches_a_hand_computation():
    rec = {"m": 48000, "layers": SHAPES[784]}
    lo, hi = _fidelity.ours_range(rec)
    assert lo == pytest.approx(_reference_gap(SHAPES[784], 10.0, 48000), rel=1e-10)
    assert hi == pytest.approx(1 + _reference_gap(SHAPES[784], 1e-300, 48000), rel=1e-10)


def test_implied_strength_reproduces_the_value():
    rec = {"m": 48000, "layers": SHAPES[500]}
    value = math.exp(3.36)  # the paper's h = 500 'Ours' read as a natural log
    d = _fidelity.implied_strength(rec, value, 1.0)
    assert d is not None and 1 + _reference_gap(SHAPES[500], d, 48000) == pytest.approx(value, rel=1e-8)
    assert _fidelity.implied_strength(rec, 10**3.36, 0.0) is None  # log10 reading: above the formula's range


def test_units_verdict_on_records_like_the_paper():
    # networks whose measured numbers are close to the paper's natural-log reading: only base e passes all tests
    recs = [
        _record(
            w,
            math.exp(printed_value("mnist", "true_error", w)) * 1.3,
            [printed_value("mnist", k, w) - 0.3 for k in _fidelity.BASELINE_ROWS],
        )
        for w in (500, 784, 1000)
    ]
    ev = _fidelity.units_evidence(recs, "mnist")
    assert ev["verdict"] == "e"
    assert not ev["bases"]["10"]["passes"]["true_error_plausible"]  # 10^-3.8 = 0.016 %: not a test error here
    assert not ev["bases"]["10"]["passes"]["ours_producible"]
    lines = "\n".join(_fidelity.units_markdown(ev))
    assert "log base e" in lines and "rejected" in lines
    # if the measured errors were those of the log10 reading, base e would fail the error test
    recs10 = [dict(r, pruned_test_error=10 ** printed_value("mnist", "true_error", r["width"])) for r in recs]
    assert _fidelity.units_evidence(recs10)["bases"]["e"]["passes"]["true_error_plausible"] is False


def test_paper_values_are_converted_to_one_unit():
    assert paper_value("mnist", "ours_paper_compatible", 784, unit="ln") == pytest.approx(3.77)
    assert paper_value("mnist", "ours_paper_compatible", 784) == pytest.approx(3.77 / math.log(10))
    assert paper_value("mnist", "true_error", 500, unit="value") == pytest.approx(math.exp(-3.76))
    assert paper_value("digits", "true_error", 500) is None
    with pytest.raises(ValueError, match="unit"):
        paper_value("mnist", "true_error", 500, unit="bits")


@pytest.fixture(scope="module")
def records_dir(tmp_path_factory):
    """A records folder written by hand the way experiments.report writes it (a tiny digits sweep)."""
    from experiments.bounds import main as bounds_main

    root = tmp_path_factory.mktemp("rec")
    sweep = root / "sweep"
    assert (
        bounds_main(
            [
                "--widths",
                "32",
                "--depth",
                "3",
                "--epochs",
                "6",
                "--lr",
                "0.01",
                "--every",
                "3",
                "--no-progress",
                "--threads",
                "1",
                "--out",
                str(sweep),
            ]
        )
        == 0
    )
    summary = json.loads((sweep / "summary.json").read_text())
    for r in summary["records"]:
        r["dataset"] = "mnist"  # pretend: the report reads MNIST records
    folder = root / "records"
    report.write_records(folder, summary, None, [], {"hardware": "test", "audit_width": 32, "sweep_dir": str(sweep)})
    return folder


def test_from_records_rebuilds_report_and_readme(records_dir, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("head\n<!-- findings:start -->\nSTALE-BLOCK\n<!-- findings:end -->\ntail\n")
    out = tmp_path / "rep"
    assert (
        report.main(["--from-records", str(records_dir), "--out", str(out), "--tex", "", "--readme", str(readme)]) == 0
    )
    md = (out / "reproduction.md").read_text()
    for part in (
        "## The units of the paper's table",
        "## The paper's table and ours (log10)",
        "## Where the paper, the released code and the toolkit differ",
        "h=32 ours",
    ):
        assert part in md, part
    text = readme.read_text()
    assert (
        text.startswith("head\n")
        and text.endswith("tail\n")
        and "STALE-BLOCK" not in text
        and "Ledger verdicts" in text
    )
    tex = (out / "reproduction.tex").read_text()
    assert r"\begin{document}" in tex and r"\begin{longtable}" in tex


def test_from_records_missing_or_damaged_is_one_line(tmp_path, capsys):
    assert report.main(["--from-records", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "summary.json is missing" in err[0]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "summary.json").write_text("{ not json")
    assert report.main(["--from-records", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "damaged" in capsys.readouterr().err


def test_epoch_rows_drop_damaged_lines(tmp_path):
    p = tmp_path / "epochs.csv"
    p.write_text("width,epoch,gamma\n32,1,0.5\ngarbage,row,x\n32,2,0.6\n")
    rows = report.read_epoch_rows(p)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    lines = report.epochs_markdown(rows, every=1)
    assert len(lines) == 4 and "| 32 | 2 |" in lines[-1]


def test_audit_width_zero_is_refused_not_replaced(tmp_path, capsys):
    # `--audit-width 0 or min(widths)` silently audited the smallest width
    rc = report.main(
        ["--data-dir", str(tmp_path), "--widths", "32", "--audit-width", "0", "--out", str(tmp_path / "r")]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err == "experiments.report: --audit-width 0 is not one of --widths"
