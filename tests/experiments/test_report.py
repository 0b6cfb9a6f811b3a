"""experiments.report: the units of the paper's table decided from its numbers (checked against a hand computation
here), the paper's table in one unit, the records round trip (--from-records), the LaTeX by pandoc, the README
block, and one-line errors."""

import json
import math
import re
import shutil
from pathlib import Path

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
    report.write_records(
        folder, summary, _small_audit(root), [], {"hardware": "test", "audit_width": 32, "sweep_dir": str(sweep)}
    )
    return folder


def _small_audit(out_dir):
    """The assumption audit of a small random network (the records of a report always hold one)."""
    from networks import relu_forward, relu_layer_inputs

    import numerics
    from experiments._audit import audit_network

    rng = np.random.default_rng(3)
    ws = [rng.standard_normal((b, a)) / math.sqrt(a) for a, b in ((12, 16), (16, 16), (16, 4))]
    pruned = [numerics.algorithm_1(w, 0.5, generator=np.random.default_rng(k))[0] for k, w in enumerate(ws)]
    x = rng.standard_normal((200, 12))
    return json.loads(
        json.dumps(audit_network(ws, pruned, 0.5, relu_forward, x, relu_layer_inputs(ws, x), 200, out_dir))
    )


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


def test_from_records_missing_or_damaged_is_one_line(records_dir, tmp_path, capsys):
    assert report.main(["--from-records", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "is not a folder" in _one_stderr_line(capsys)
    bad = tmp_path / "bad"
    shutil.copytree(records_dir, bad)
    (bad / "summary.json").write_text("{ not json")
    assert report.main(["--from-records", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "summary.json is damaged" in _one_stderr_line(capsys)
    (bad / "summary.json").write_text((records_dir / "summary.json").read_text())
    (bad / "audit.json").write_text('{"d": 1.0}')
    assert report.main(["--from-records", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "audit.json lacks gaussianity" in _one_stderr_line(capsys)
    assert not (tmp_path / "o").exists()  # refused before anything is written


def test_from_records_refuses_what_is_not_a_reports_mnist_records(records_dir, tmp_path, capsys):
    # a plain experiments.bounds output folder (here of the digits dataset) is not a report's records
    sweep = records_dir.parent / "sweep"
    assert report.main(["--from-records", str(sweep), "--out", str(tmp_path / "o")]) == 2
    line = _one_stderr_line(capsys)
    assert "not a report's records folder (missing meta.json, audit.json, differences.json)" in line
    # a report's records whose networks are not MNIST's
    digits = tmp_path / "digits"
    shutil.copytree(records_dir, digits)
    summary = json.loads((sweep / "summary.json").read_text())
    (digits / "summary.json").write_text(json.dumps(summary))
    assert report.main(["--from-records", str(digits), "--out", str(tmp_path / "o")]) == 2
    assert "holds records of digits, not of mnist" in _one_stderr_line(capsys)
    # --compare folders are checked the same way, before any training or writing
    argv = ["--from-records", str(records_dir), "--compare", str(sweep), "--out", str(tmp_path / "o")]
    assert report.main(argv) == 2
    assert "missing meta.json" in _one_stderr_line(capsys) and not (tmp_path / "o").exists()


def test_help_cites_only_paths_that_exist():
    root = Path(report.__file__).resolve().parents[1]
    ap = report._parser()
    text = " ".join([ap.epilog or "", *(a.help or "" for a in ap._actions)])  # unwrapped: no path split at a '-'
    cited = re.findall(r"(?:docs|results|theory)/[\w./-]*\w", text)
    assert "results/report/records" in cited
    missing = [c for c in cited if c.startswith("docs/") and not (root / c).exists()]
    assert not missing, missing


def test_epoch_rows_drop_damaged_lines(tmp_path):
    p = tmp_path / "epochs.csv"
    p.write_text("width,epoch,gamma\n32,1,0.5\ngarbage,row,x\n32,2,0.6\n")
    rows = report.read_epoch_rows(p)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    lines = report.epochs_markdown(rows, every=1)
    assert len(lines) == 4 and "| 32 | 2 |" in lines[-1]


def _one_stderr_line(capsys) -> str:
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--epochs", "0"], "experiments.report: --epochs must be >= 1"),
        (["--device", "tpu"], "experiments.report: --device must be"),
        (["--data-dir", "MISSING"], "experiments.report: mnist/width-8/seed-1: MNIST: missing"),  # names the task
    ],
)
def test_errors_of_the_training_step_name_the_report(tmp_path, capsys, extra, message):
    # the checks live in experiments.bounds (shared); the report's user must see the report's name
    extra = [str(tmp_path / "nowhere") if a == "MISSING" else a for a in extra]
    argv = ["--data-dir", str(tmp_path), "--widths", "8", "--out", str(tmp_path / "o"), *extra]
    assert report.main(argv) == 2
    line = _one_stderr_line(capsys)
    assert line.startswith(message) and "experiments.bounds" not in line


def test_ctrl_c_message_fits_the_caller(tmp_path, capsys, monkeypatch):
    from experiments import bounds

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(bounds, "_main", interrupted)
    # inside the report: the report has no --resume, it resumes by itself
    assert report.main(["--data-dir", str(tmp_path), "--widths", "8", "--out", str(tmp_path / "o")]) == 130
    line = _one_stderr_line(capsys)
    assert line.startswith("experiments.report: interrupted") and "--resume to continue" not in line
    assert "rerun the same experiments.report command" in line
    # experiments.bounds itself does have --resume
    assert bounds.main(["--out", str(tmp_path / "b")]) == 130
    line = _one_stderr_line(capsys)
    assert line.startswith("experiments.bounds: interrupted") and "rerun with --resume to continue" in line
    # an interrupt in the report's own steps (after training) is one line too, never a traceback
    monkeypatch.setattr(report, "_main", interrupted)
    assert report.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "o")]) == 130
    assert "rerun the same experiments.report command" in _one_stderr_line(capsys)


NOTHING = "no width of this run is in the paper's table (500, 784, 1000, 1500, 2000, 2500): nothing to compare"


def test_units_are_not_testable_on_widths_the_paper_does_not_report():
    ev = _fidelity.units_evidence([_record(500, 0.02, [20, 15, 10]) | {"width": 50}], "mnist")
    assert ev["testable"] is False and ev["verdict"] is None and ev["bases"] == {}
    text = "\n".join(_fidelity.units_markdown(ev))
    assert "Not testable on these widths" in text and NOTHING in text
    assert "rejected" not in text and "Verdict" not in text and "(widths ;" not in text
    assert report._units_sentence(ev).startswith("Not testable on these widths")


def test_comparison_says_whether_anything_was_compared():
    from experiments._paper import paper_value

    keys = [(key, paper_key) for _, key, paper_key, _ in report.PAPER_ROWS]
    at_paper = {"width": 500} | {key: paper_value("mnist", pk, 500) for key, pk in keys}
    _, deviations, compared = report.paper_table([at_paper], "mnist")
    assert (deviations, compared) == ([], 5)
    assert (
        report.comparison_sentence([500], compared, 0)
        == "All 5 numbers compared are within 0.25 (log10) of the paper's"
    )
    lines, deviations, compared = report.paper_table([at_paper | {"width": 50}], "mnist")
    assert (deviations, compared) == ([], 0)
    assert "h=50 paper" not in "\n".join(lines) and "h = 50: not in the paper's table" in "\n".join(lines)
    assert report.comparison_sentence([50], 0, 0) == NOTHING[0].upper() + NOTHING[1:]
    assert "n/a" in report.comparison_sentence([500], 0, 0)  # the paper's width, but no number of ours


def test_report_on_widths_outside_the_paper_claims_no_agreement(records_dir, tmp_path, capsys):
    # records_dir holds h = 32 only: nothing can be compared, no units verdict, no ledger evidence
    readme = tmp_path / "README.md"
    readme.write_text("<!-- findings:start -->\n<!-- findings:end -->\n")
    out, evidence = tmp_path / "rep", tmp_path / "evidence.json"
    argv = ["--from-records", str(records_dir), "--out", str(out), "--tex", "", "--readme", str(readme)]
    assert report.main([*argv, "--ledger-evidence", str(evidence)]) == 0
    std = capsys.readouterr()
    md = (out / "reproduction.md").read_text()
    assert "within 0.25" not in md and "rejected" not in md and "decided below" not in md
    assert NOTHING[0].upper() + NOTHING[1:] + "." in md and "Not testable on these widths" in md
    assert NOTHING in std.out and "not testable on these widths" in std.out
    assert not evidence.exists() and "--ledger-evidence not written" in std.err
    block = readme.read_text()
    assert "Not testable on these widths" in block and NOTHING[0].upper() + NOTHING[1:] in block
    assert "converted from its natural logs" not in block


def test_tex_goes_to_out_unless_a_path_is_asked_for(records_dir, tmp_path, monkeypatch):
    # a report into any --out must never overwrite the tracked docs/reproduction.tex of the working folder
    monkeypatch.chdir(tmp_path)
    assert report.main(["--from-records", str(records_dir), "--out", "rep"]) == 0
    assert (tmp_path / "rep" / "reproduction.tex").is_file() and not (tmp_path / "docs").exists()
    # asked for: written there, its figures taken from OUT
    assert report.main(["--from-records", str(records_dir), "--out", "rep", "--tex", "docs/reproduction.tex"]) == 0
    assert r"\graphicspath{{../rep/}}" in (tmp_path / "docs" / "reproduction.tex").read_text()


def test_schedule_and_seconds_read_as_words():
    base = {"epochs": 1, "until_positive_margin": False}
    assert report.schedule_text(base | {"every": 0}) == "1 epoch, bounds of the final network only"
    assert "every 0" not in report.schedule_text(base | {"every": 0})
    assert report.schedule_text(base | {"epochs": 30, "every": 10}) == (
        "30 epochs, bounds every 10 epochs and of the final network"
    )
    assert report.sweep_label({"settings": base | {"protocol": "authors"}}) == "protocol authors, 1 epoch"
    margin = report.schedule_text({"epochs": 300, "until_positive_margin": True, "every": 1})
    assert margin.startswith("until every training point has a positive margin, at most 300 epochs")
    # a ~3 s epoch is not '0' seconds; long times stay whole seconds
    rec = {"epochs": [{"seconds": 2.8}], "wall_seconds": {"train": 2.9, "bounds": 3.04}}
    table = "\n".join(report.runs_table([rec | {"width": 50}]))
    assert "| training (s, summed over epochs) | 2.8 " in table and "| final bounds (s)                 | 3.0 " in table
    assert report._train_seconds({"epochs": [{"seconds": 7.5}, {"seconds": 5.1}]}) == "13"
    assert report._train_seconds({"epochs": [], "wall_seconds": {"train": 0.42}}).startswith(
        "n/a (not in the checkpoint; 0.4 "
    )


def test_readme_findings_and_units_evidence_are_generated_from_the_committed_records():
    """The README's findings block and theory/evidence/experiments.json are what ``--from-records
    docs/results/authors-mnist-300 --compare docs/results/authors-mnist-margin`` writes (never typed)."""
    from experiments._fidelity import units_evidence
    from experiments._readme import read_block
    from experiments.report import _units_sentence, headline, read_records

    root = Path(__file__).resolve().parents[2]
    main_dir, other = root / "docs/results/authors-mnist-300", root / "docs/results/authors-mnist-margin"
    if not (main_dir / "summary.json").is_file() or not (other / "summary.json").is_file():
        pytest.skip("no committed report records in docs/results")
    summary, audit, differences, meta, _ = read_records(main_dir)
    compare = [("docs/results/authors-mnist-margin", read_records(other)[0])]
    units = units_evidence(summary["records"], "mnist")
    assert units["verdict"] == "e"
    block = headline(summary, units, differences, audit, meta["audit_width"], compare)
    assert read_block((root / "README.md").read_text(), "findings") == block.strip()
    evidence = json.loads((root / "theory/evidence/experiments.json").read_text())
    assert evidence[0]["evidence"] == "Units: " + _units_sentence(units)


def test_audit_width_zero_is_refused_not_replaced(tmp_path, capsys):
    # `--audit-width 0 or min(widths)` silently audited the smallest width
    rc = report.main(
        ["--data-dir", str(tmp_path), "--widths", "32", "--audit-width", "0", "--out", str(tmp_path / "r")]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err == "experiments.report: --audit-width 0 is not one of --widths"


def test_a_missing_readme_is_refused_before_anything_runs(tmp_path, capsys):
    argv = ["--data-dir", str(tmp_path), "--widths", "8", "--out", str(tmp_path / "o"), "--readme", str(tmp_path / "R")]
    assert report.main(argv) == 2
    assert _one_stderr_line(capsys) == f"experiments.report: --readme {tmp_path / 'R'} is not a file"
    assert not (tmp_path / "o").exists()
