"""python -m experiments.report: the reproduction report of the paper's MNIST experiments and the assumption audit.

Trains (resumably, through experiments.bounds) the paper's MLP at each width under the chosen protocol (default:
the released code as it executes, until every training point has a positive margin), then writes
OUT/reproduction.md (and .tex / .pdf): the units of the paper's table decided from its numbers, the paper's
table beside ours in one unit, the protocol differences measured on one trained network, an explanation of every
number that differs, the audit of the paper's assumptions.  The small records behind it (JSON/CSV, no weights)
go to OUT/records/; ``--from-records DIR`` rebuilds the report and the README block from such a folder without
training.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from pathlib import Path
from typing import Any

from theory._cli import DefaultsHelpFormatter, OneLineParser

PAPER_ROWS = (
    ("Neyshabur 2015 (code form)", "neyshabur_2015_code_log10", "neyshabur_2015_code", "baseline-neyshabur-2015"),
    ("Neyshabur 2017 (code form)", "neyshabur_2017_code_log10", "neyshabur_2017_code", "baseline-neyshabur-2017"),
    ("Bartlett 2017 (code form)", "bartlett_2017_code_log10", "bartlett_2017_code", "baseline-bartlett-2017"),
    ("Ours", "ours_paper_compatible_log10", "ours_paper_compatible", "paper-compatible-ours"),
    ("True error", "true_error_log10", "true_error", None),
)
OTHER_ROWS = (
    ("Ours, the toolkit's search (common random numbers)", "search_toolkit.ours_paper_compatible_log10"),
    ("Theorem 5.2 (rigorous)", "theorem_5_2_log10"),
    ("Lemma D.1 (rigorous)", "lemma_d_1_log10"),
    ("Bartlett 2017 (literature)", "bartlett_2017_literature_log10"),
    ("Neyshabur 2017 (literature)", "neyshabur_2017_literature_log10"),
    ("Neyshabur 2015 (literature)", "neyshabur_2015_literature_log10"),
    ("Bartlett 2017 (measures convention)", "bartlett_2017_measures_log10"),
    ("Neyshabur 2018 (measures convention)", "neyshabur_2018_measures_log10"),
    ("Neyshabur 2015 (measures convention)", "neyshabur_2015_measures_log10"),
)
#: |ours - paper| in log10 below which a number counts as reproduced (0.25 log10 = a factor 1.8)
TOLERANCE = 0.25
PROG = "experiments.report"
LOG_NAMES = {"e": "natural logarithms", "10": "base-10 logarithms", "2": "base-2 logarithms"}
#: the report resumes by itself (finished widths, checkpoints): the end of its Ctrl-C message
RESUME_HINT = "rerun the same experiments.report command to continue (it resumes by itself; it has no --resume)"
DEFAULT_WIDTHS = (500, 784, 1000, 1500, 2000, 2500)


def _parser() -> argparse.ArgumentParser:
    ap = OneLineParser(
        prog="python -m experiments.report",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python -m experiments.report --data-dir DIR --widths 500 784 --out results/report; "
        "rebuild it from its records without training: python -m experiments.report --from-records "
        "results/report/records --out results/rebuilt",
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument(
        "--protocol",
        choices=("authors", "toolkit"),
        default="authors",
        help="how the networks are trained and measured (authors: the released code as it executes)",
    )
    ap.add_argument("--data-dir", default=None, help="MNIST archives (default: $MBP_DATA_DIR)")
    ap.add_argument("--out", default="results/report", help="output folder")
    ap.add_argument("--widths", type=int, nargs="+", default=list(DEFAULT_WIDTHS), help="MNIST hidden widths")
    ap.add_argument("--epochs", type=int, default=300, help="the most epochs per width (the paper: 300)")
    ap.add_argument(
        "--until",
        choices=("epochs", "positive-margin"),
        default="positive-margin",
        help="stop each width after --epochs, or once every training point has a positive margin",
    )
    ap.add_argument("--every", type=int, default=1, help="bounds every N epochs (0: only the final network)")
    ap.add_argument(
        "--audit-width",
        type=int,
        default=None,
        help="the width whose network is audited and measured for the protocol differences "
        "(default: the smallest of --widths)",
    )
    ap.add_argument(
        "--audit-d",
        type=float,
        default=1.0,
        help="Algorithm 1's strength for the audit's pruning checks (0 = the search's d)",
    )
    ap.add_argument("--cifar-dir", default=None, help="CIFAR-10 files (skipped, saying where it looked, when absent)")
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    ap.add_argument(
        "--from-records",
        default=None,
        metavar="DIR",
        help="rebuild the report without training from DIR, the records folder (OUT/records: summary.json, "
        "meta.json, audit.json, differences.json) that an earlier experiments.report run wrote",
    )
    ap.add_argument(
        "--compare",
        nargs="+",
        default=[],
        metavar="DIR",
        help="records folders of other report runs (as for --from-records) whose tables the report and README add",
    )
    ap.add_argument(
        "--tex",
        default=None,
        metavar="PATH",
        help="also write the LaTeX report to PATH, its figures taken from OUT (without it: OUT/reproduction.tex "
        "only; the committed document is regenerated with --tex docs/reproduction.tex)",
    )
    ap.add_argument("--readme", metavar="PATH", help="also rewrite the 'What the toolkit finds' block of this README")
    ap.add_argument(
        "--ledger-evidence",
        metavar="PATH",
        default=None,
        help="write the units verdict as ledger evidence (theory/evidence/experiments.json)",
    )
    return ap


def _get(rec: dict, key: str) -> Any:
    cur: Any = rec
    for part in key.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _f(v: Any, spec: str = ".2f") -> str:
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def _ledger_evidence(claim_id: str) -> str:
    import theory

    return theory.claim(claim_id).evidence


# ------------------------------------------------------------------------------------------------ tables
def paper_table(records: list[dict], dataset: str) -> tuple[list[str], list[dict], int]:
    """The paper's rows beside ours, both in log10 (the paper's printed natural logs converted), one explained
    deviation for every number more than TOLERANCE away, and how many numbers were compared (0 when no width of
    ``records`` is in the paper's table: its columns are then left out and a note says so)."""
    import pandas as pd

    from ._paper import paper_value, paper_widths, printed_value

    cols: dict[str, list[str]] = {}
    deviations = []
    compared = 0
    absent = []
    for r in records:
        ours_col, paper_col = [], []
        for label, key, paper_key, ledger_id in PAPER_ROWS:
            pv = paper_value(dataset, paper_key, r["width"])
            ov = r.get(key)
            ours_col.append(_f(ov))
            pp = printed_value(dataset, paper_key, r["width"])
            paper_col.append("n/a" if pv is None or pp is None else f"{pv:.2f} ({pp:.2f})")
            if pv is None or ov is None or not math.isfinite(ov):
                continue
            compared += 1
            if abs(ov - pv) > TOLERANCE:
                deviations.append(
                    {
                        "row": label,
                        "width": r["width"],
                        "ours": ov,
                        "paper": pv,
                        "explanation": explain(label, key, ledger_id, r, pv),
                    }
                )
        cols[f"h={r['width']} ours"] = ours_col
        if r["width"] in paper_widths(dataset):
            cols[f"h={r['width']} paper (printed ln)"] = paper_col
        else:
            absent.append(str(r["width"]))
    frame = pd.DataFrame(cols, index=[row[0] for row in PAPER_ROWS])
    frame.index.name = "log10 of each bound"
    lines = frame.to_markdown().splitlines()
    if absent:
        lines += [
            "",
            f"(h = {', '.join(absent)}: not in the paper's table, which has h = "
            f"{', '.join(map(str, paper_widths(dataset)))}; nothing to compare there.)",
        ]
    return lines, deviations, compared


def explain(label: str, key: str, ledger_id: str | None, rec: dict, paper: float) -> str:
    """Why our number differs from the paper's, from the measured quantities and the ledger (log10 units)."""
    ours = rec[key]
    parts = [f"ours {ours:.2f} vs paper {paper:.2f} (difference {ours - paper:+.2f} in log10)."]
    trained = f"{rec.get('epochs_trained')} epochs ({rec.get('stopped_by')})"
    if key == "true_error_log10":
        parts.append(
            f"The pruned network's test error here is {rec.get('pruned_test_error', float('nan')):.4f} after "
            f"{trained}; the paper's is {10**paper:.4f}: different networks (the paper: 300 epochs, unseeded "
            "data order)."
        )
    elif key == "ours_paper_compatible_log10":
        from ._fidelity import ours_range

        lo, hi = ours_range(rec)
        parts.append(
            f"'Ours' = R-hat at gamma* + sqrt(sum d1 d2 chi(d) ln^2 p / m) lies in [{lo:.3g}, {hi:.3g}] for "
            f"these shapes and m = {rec['m']} (log10 {math.log10(lo):.2f} to {math.log10(hi):.2f}); the "
            f"search ended at d = {_f(rec.get('d_star'), '.3g')} ({rec.get('bisection_status')}), R-hat at "
            f"gamma* = {_f(rec.get('rhat_at_gamma_star', rec.get('rhat_gamma')), '.3g')}."
        )
        parts.append("Ledger (paper-compatible-ours): " + _ledger_evidence("paper-compatible-ours"))
    else:
        norms = sum(math.log10(lay["spectral"]) for lay in rec["layers"])
        frob = sum(math.log10(lay["frobenius"]) for lay in rec["layers"])
        parts.append(
            f"These code forms depend on the trained weights and the margin only: log10 prod||A||_2 = "
            f"{norms:.2f}, log10 prod||A||_F = {frob:.2f}, over gamma^2 (gamma = {rec['gamma']:.3g}, "
            f"{rec['gamma_rule']}); this network trained {trained}. The minimum margin is an extreme value "
            "of one run: 2 log10 of its ratio between two runs moves these rows by as much."
        )
        if ledger_id:
            parts.append(f"Ledger ({ledger_id}): " + _ledger_evidence(ledger_id))
    return " ".join(parts)


#: rigorous bounds and the record flag saying whether their margin condition holds
RIGOROUS_FLAGS = {
    "theorem_5_2_log10": "theorem_5_2_margin_condition_met",
    "lemma_d_1_log10": "lemma_d_1_margin_condition_met",
}


def _bound_cell(rec: dict, key: str) -> str:
    """A bound's log10 for a table; a rigorous bound whose margin condition fails is marked vacuous beside it."""
    text = _f(_get(rec, key))
    flag = RIGOROUS_FLAGS.get(key)
    if flag and rec.get(flag) is False and text != "n/a":
        text += " (vacuous)"
    return text


def other_table(records: list[dict]) -> list[str]:
    import pandas as pd

    frame = pd.DataFrame(
        {f"h={r['width']}": [_bound_cell(r, key) for _, key in OTHER_ROWS] for r in records},
        index=[label for label, _ in OTHER_ROWS],
    )
    frame.index.name = "log10 of each bound"
    return frame.to_markdown().splitlines()


def runs_table(records: list[dict]) -> list[str]:
    import pandas as pd

    rows = {
        f"h={r['width']}": {
            "epochs": r.get("epochs_trained"),
            "stopped by": r.get("stopped_by"),
            "min training margin": _f(r.get("train_margin_min"), ".4g"),
            "test error (fraction)": _f(r.get("test_error"), ".4f"),
            "pruned test error": _f(r.get("pruned_test_error"), ".4f"),
            "d (search)": _f(r.get("d_star"), ".4g"),
            "training (s, summed over epochs)": _train_seconds(r),
            "final bounds (s)": seconds_text(r["wall_seconds"]["bounds"]),
        }
        for r in records
    }
    return pd.DataFrame(rows).to_markdown().splitlines()


def _train_seconds(rec: dict) -> str:
    """Training time from the per-epoch records (it survives a resume), else the record's wall time."""
    secs = [h.get("seconds") for h in rec.get("epochs", [])]
    if secs and all(isinstance(x, (int, float)) for x in secs):
        return seconds_text(sum(secs))
    return (
        f"n/a (not in the checkpoint; {seconds_text(rec['wall_seconds']['train'])} in the run that wrote this record)"
    )


def seconds_text(seconds: float) -> str:
    """A duration in seconds: one decimal below 10 s (a 3 s epoch is not '0'), whole seconds above."""
    return f"{seconds:.1f}" if abs(seconds) < 10 else f"{seconds:.0f}"


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


def schedule_text(settings: dict) -> str:
    """How long the networks trained and when their bounds were computed, in words."""
    length, every = _epochs(settings["epochs"]), settings["every"]
    if settings["until_positive_margin"]:
        length = f"until every training point has a positive margin, at most {length}"
    if every == 0:
        when = "bounds of the final network only"
    elif every == 1:
        when = "bounds after every epoch and of the final network"
    else:
        when = f"bounds every {every} epochs and of the final network"
    return f"{length}, {when}"


def epochs_markdown(rows: list[dict], every: int = 10) -> list[str]:
    """The per-epoch curve (log10), every ``every``-th epoch and the last of each width."""
    keys = (
        ("ours_paper_compatible_log10", "Ours"),
        ("bartlett_2017_code_log10", "Bartlett (code)"),
        ("neyshabur_2015_code_log10", "Neyshabur 2015 (code)"),
        ("true_error_log10", "true error"),
        ("gamma", "margin"),
    )
    lines = ["| h | epoch | " + " | ".join(k[1] for k in keys) + " |", "|---|---|" + "---|" * len(keys)]
    by_width: dict[str, list[dict]] = {}
    for r in rows:
        by_width.setdefault(str(r.get("width")), []).append(r)
    for w, rs in by_width.items():
        rs = sorted(rs, key=lambda r: int(r["epoch"]))
        last = int(rs[-1]["epoch"])
        for r in rs:
            e = int(r["epoch"])
            if e % every and e != last:
                continue
            vals = []
            for k, _ in keys:
                try:
                    vals.append(f"{float(r[k]):.3g}" if k == "gamma" else f"{float(r[k]):.2f}")
                except (KeyError, TypeError, ValueError):
                    vals.append("")
            lines.append(f"| {w} | {e} | " + " | ".join(vals) + " |")
    return lines


# ------------------------------------------------------------------------------------------------ records
def write_records(folder: Path, summary: dict, audit: dict, differences: list[dict], meta: dict) -> None:
    """The small records a report is built from (no weights): summary.json and epochs.csv of the sweep, audit.json,
    differences.json, meta.json."""
    import shutil

    from .bounds import write_atomic

    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "summary.json", json.dumps(summary, indent=1, default=str))
    src = Path(meta["sweep_dir"]) / "epochs.csv"
    if src.is_file():
        shutil.copyfile(src, folder / "epochs.csv")
    write_atomic(folder / "audit.json", json.dumps(audit, indent=1, default=str))
    write_atomic(folder / "differences.json", json.dumps(differences, indent=1, default=str))
    write_atomic(folder / "meta.json", json.dumps(meta, indent=1, default=str))


RECORD_FILES = ("summary.json", "meta.json", "audit.json", "differences.json")
META_KEYS = ("hardware", "audit_width")
AUDIT_KEYS = ("d", "gaussianity", "distributed_sparsity", "pruning_error", "output_change", "condition_c_1")


def read_records(folder: Path) -> tuple[dict, dict, list[dict], dict, list[dict]]:
    """(summary, audit, differences, meta, epoch rows) of a records folder written by experiments.report
    (OUT/records).  A folder that is not one (missing files, another dataset's records, a damaged file) gives a
    one-line ValueError naming what is wrong."""
    what = "it needs the records folder (OUT/records) of an experiments.report run"
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder: {what}")
    missing = [name for name in RECORD_FILES if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{folder} is not a report's records folder (missing {', '.join(missing)}): {what}")

    def load(name: str, kind: type) -> Any:
        p = folder / name
        try:
            data = json.loads(p.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{p} is damaged ({str(exc).splitlines()[0][:100]})") from None
        if not isinstance(data, kind):
            raise ValueError(f"{p} is damaged (not a JSON {kind.__name__})")
        return data

    summary, meta = load("summary.json", dict), load("meta.json", dict)
    audit, differences = load("audit.json", dict), load("differences.json", list)
    records = summary.get("records")
    if not isinstance(records, list) or not isinstance(summary.get("settings"), dict):
        raise ValueError(f"{folder / 'summary.json'} is damaged (no 'settings' or no 'records' list)")
    datasets = sorted({str(r.get("dataset")) for r in records if isinstance(r, dict)})
    if datasets != ["mnist"]:
        found = f"records of {', '.join(datasets)}" if datasets else "no records"
        raise ValueError(f"{folder / 'summary.json'} holds {found}, not of mnist: {what}")
    for name, data, keys in (("meta.json", meta, META_KEYS), ("audit.json", audit, AUDIT_KEYS)):
        absent = [key for key in keys if key not in data]
        if absent:
            raise ValueError(f"{folder / name} lacks {', '.join(absent)}: {what}")
    return summary, audit, differences, meta, read_epoch_rows(folder / "epochs.csv")


def read_epoch_rows(path: Path) -> list[dict]:
    """The rows of an epochs.csv; [] when the file is absent.  Rows whose width or epoch is not an integer are
    dropped (a damaged line never reaches a table)."""
    import csv

    if not path.is_file():
        return []
    out = []
    with open(path) as fh:
        for r in csv.DictReader(fh):
            try:
                int(r.get("width", "")), int(r.get("epoch", ""))
            except (TypeError, ValueError):
                continue
            out.append(r)
    return out


# ------------------------------------------------------------------------------------------------ document
def reproduction_markdown(
    summary: dict,
    units: dict,
    differences: list[dict],
    audit_md: str,
    meta: dict,
    rows: list[dict],
    figures: list[str],
    cifar_md: str,
    compare: list[tuple[str, dict]] | None = None,
) -> tuple[str, list[dict], int]:
    """The report's Markdown, the explained deviations from the paper's table, and how many numbers were
    compared with it."""
    from ._fidelity import differences_markdown, units_markdown

    settings = summary["settings"]
    records = sorted((r for r in summary["records"] if r.get("dataset") == "mnist"), key=lambda r: r["width"])
    table, deviations, compared = paper_table(records, "mnist")
    lines = (
        [
            "# Reproduction of Guha, Dubey & Huo on MNIST",
            "",
            "Every bound is reported as **log10** of its value (natural logs inside the formulas); errors are "
            f"fractions. {_reading_sentence(units)}; the printed value is in parentheses.",
            "",
            "## Scale of this run",
            "",
            f"- Protocol **{settings['protocol']}**: {settings['optimizer']} (lr {settings['lr']}, momentum "
            f"{settings['momentum']}, weight decay {settings['weight_decay']}), batch {settings['batch_size']}, seed "
            f"{settings['seeds'][0]}, {schedule_text(settings)}, delta {settings['delta']}.",
            f"- Hardware: {meta.get('hardware', 'n/a')}; device {settings['device']}; torch threads "
            f"{', '.join(sorted({str(r.get('torch_threads', 'n/a')) for r in records}))}.",
            "",
        ]
        + runs_table(records)
        + [
            "",
            "## The units of the paper's table",
            "",
            "The paper says only 'a logarithmic scale'. Each candidate base is tested against every row, on those "
            "networks above whose width the paper reports: the 'True error' row read in that base must be a test error within a factor of "
            "the measured one; the three baselines, computed exactly as the released code computes them, must land near "
            "the printed values; 'Ours' must be a value its formula can take (some d in (0, 10], margin loss in [0, 1]).",
            "",
        ]
        + units_markdown(units)
        + _implied_lines(units)
        + [
            "",
            "## The paper's table and ours (log10)",
            "",
        ]
        + table
        + [
            "",
            "Other forms of the same bounds (log10):",
            "",
        ]
        + other_table(records)
        + compare_markdown(compare or [])
        + [
            "",
            "## Where the paper, the released code and the toolkit differ",
            "",
            f"Each effect is measured on the h = {meta.get('audit_width', 'n/a')} network trained by the released code's "
            "protocol.",
            "",
        ]
        + differences_markdown(differences)
        + [
            "",
            "## Where our numbers differ from the paper's, and why",
            "",
        ]
    )
    lines.append(comparison_sentence([r["width"] for r in records], compared, len(deviations)) + ".")
    lines += [f"- **{dv['row']}, h = {dv['width']}**: {dv['explanation']}" for dv in deviations]
    if rows:
        lines += ["", "## Bounds along training (log10; every 10th epoch and the last)", ""] + epochs_markdown(rows)
    lines += ["", "## Figures", ""] + [f"![{Path(f).stem}]({f})" for f in figures] + ["", cifar_md, audit_md]
    return "\n".join(lines) + "\n", deviations, compared


def _reading_sentence(units: dict) -> str:
    """How the paper's printed numbers are read, and whether this run decided it."""
    from ._fidelity import testable

    if units.get("verdict") == "e":
        return "The paper's numbers are printed as natural logarithms (decided below) and converted"
    if not testable(units):
        why = "not testable on the widths of this run"
    elif units.get("verdict"):
        why = f"its evidence points to base {units['verdict']} instead (see below)"
    else:
        why = "undecided on these networks (see below)"
    return (
        "The paper's numbers are read as natural logarithms (the toolkit's reading, recorded in experiments._paper; "
        f"this run does not confirm it: {why}) and converted"
    )


def comparison_sentence(widths: list[int], compared: int, deviating: int) -> str:
    """What the comparison of the runs of ``widths`` with the paper's table found: nothing compared (and why),
    all within TOLERANCE, or how many differ (each explained)."""
    from ._paper import no_width_sentence, paper_widths

    if compared == 0:
        if not set(widths) & set(paper_widths("mnist")):
            return _cap(no_width_sentence("mnist"))
        return "Nothing compared: every number of this run at the paper's widths is n/a"
    if deviating == 0:
        return f"All {compared} numbers compared are within {TOLERANCE} (log10) of the paper's"
    return f"{deviating} of the {compared} numbers compared differ from the paper's by more than {TOLERANCE} (log10), each explained below"


def sweep_label(summary: dict) -> str:
    """How a sweep trained, in words (for section titles and the README)."""
    st = summary["settings"]
    length = (
        f"until every training point has a positive margin (at most {_epochs(st['epochs'])})"
        if st["until_positive_margin"]
        else _epochs(st["epochs"])
    )
    return f"protocol {st['protocol']}, {length}"


def compare_markdown(compare: list[tuple[str, dict]]) -> list[str]:
    """The paper's table for each other sweep (records folders given with --compare)."""
    out: list[str] = []
    for folder, summ in compare:
        recs = sorted((r for r in summ["records"] if r.get("dataset") == "mnist"), key=lambda r: r["width"])
        if not recs:
            continue
        table, _, _ = paper_table(recs, "mnist")
        out += (
            ["", f"## The same table, {sweep_label(summ)} (records: `{folder}`)", ""] + runs_table(recs) + [""] + table
        )
    return out


def _implied_lines(units: dict) -> list[str]:
    """Where the verdict base reads 'Ours', the pruning strengths that produce it (margin loss 0 or 1)."""
    name = units.get("verdict")
    if not name:
        return []
    out = [
        "",
        f"Read in base {name}, the pruning strength d at which the formula gives the paper's 'Ours' "
        "(margin loss 0 / 1): "
        + "; ".join(
            f"h={x['width']}: {_f(x['implied_d_rhat_0'], '.3g')} / {_f(x['implied_d_rhat_1'], '.3g')}"
            for x in units["bases"][name]["ours"]
        )
        + ". The released code's bisection on [0, 10] with xtol 1e-3 ends at d = 10/2^14 = 6.1e-4 whenever the "
        "root lies below that (see the search row of the differences table).",
    ]
    return out


def cifar_markdown(summary: dict | None, reason: str = "") -> str:
    if summary is None:
        return "## CIFAR-10 (h = 2000)\n\nNot run: " + reason.replace("\n", " ") + "\n"
    records = sorted((r for r in summary["records"] if r.get("dataset") == "cifar10"), key=lambda r: r["width"])
    table, deviations, _ = paper_table(records, "cifar10")
    lines = ["## CIFAR-10 (h = 2000)", ""] + table + [""]
    lines += [f"- **{dv['row']}, h = {dv['width']}**: {dv['explanation']}" for dv in deviations]
    return "\n".join(lines) + "\n"


def headline(
    summary: dict,
    units: dict,
    differences: list[dict],
    audit: dict | None,
    audit_width: int | None,
    compare: list[tuple[str, dict]] | None = None,
) -> str:
    """The README's 'What the toolkit finds' block, generated from the ledger and the records."""
    from collections import Counter

    import theory

    from ._paper import no_width_sentence, paper_value, paper_widths

    counts = Counter(c.verdict for c in theory.build_ledger())
    recs = sorted((r for r in summary["records"] if r.get("dataset") == "mnist"), key=lambda r: r["width"])
    s = summary["settings"]
    out = [
        "Ledger verdicts: " + ", ".join(f"{v} {counts[v]}" for v in sorted(counts)) + ".",
        "",
        f"**Units.** {_units_sentence(units)}",
        "",
        f"MNIST, protocol {s['protocol']} ({s['optimizer']}, lr {s['lr']}, momentum {s['momentum']}, trained "
        + ("until every training point has a positive margin" if s["until_positive_margin"] else _epochs(s["epochs"]))
        + "); log10 of each bound, ours / the paper's ("
        + (
            "converted from its natural logs"
            if units.get("verdict") == "e"
            else "its printed logs read as natural logs, which this run does not confirm"
        )
        + "):",
        "",
        "| h | epochs | Neyshabur 2015 | Neyshabur 2017 | Bartlett 2017 | Ours | true error | Thm 5.2 (rigorous) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in recs:
        cells = []
        for key, pk in (
            ("neyshabur_2015_code_log10", "neyshabur_2015_code"),
            ("neyshabur_2017_code_log10", "neyshabur_2017_code"),
            ("bartlett_2017_code_log10", "bartlett_2017_code"),
            ("ours_paper_compatible_log10", "ours_paper_compatible"),
            ("true_error_log10", "true_error"),
        ):
            pv = paper_value("mnist", pk, r["width"])
            cells.append(f"{_f(r.get(key))} / {_f(pv)}")
        out.append(
            f"| {r['width']} | {r.get('epochs_trained')} | "
            + " | ".join(cells)
            + f" | {_bound_cell(r, 'theorem_5_2_log10')} |"
        )
    if not set(r["width"] for r in recs) & set(paper_widths("mnist")):
        out += ["", _cap(no_width_sentence("mnist")) + "."]
    for folder, summ in compare or []:
        crecs = sorted((r for r in summ["records"] if r.get("dataset") == "mnist"), key=lambda r: r["width"])
        runs = "; ".join(
            f"h = {r['width']}: {r.get('epochs_trained')} epochs, margin {_f(r.get('gamma'), '.3g')}, Bartlett (code) "
            f"{_f(r.get('bartlett_2017_code_log10'))}, Ours {_f(r.get('ours_paper_compatible_log10'))}, true error "
            f"{_f(r.get('true_error_log10'))}"
            for r in crecs
        )
        out += ["", f"Also {sweep_label(summ)} (`{folder}`): {runs}."]
    met = sum(bool(r.get("theorem_5_2_margin_condition_met")) for r in recs)
    req = [r["theorem_5_2_required_margin"] for r in recs if r.get("theorem_5_2_required_margin")]
    gammas = [r["gamma"] for r in recs if r.get("gamma") is not None]  # a network without bounds has none
    if req and gammas:
        out += [
            "",
            f"Theorem 5.2's margin condition holds in {met} of {len(recs)} networks (required margins "
            f"{min(req):.3g} to {max(req):.3g}, training margins {min(gammas):.3g} to {max(gammas):.3g})"
            + ("; where it fails the rigorous bound is vacuous." if met < len(recs) else "."),
        ]
    search = next((d for d in differences if d["place"] == "search for the pruning strength"), None)
    if search:
        out += ["", f"Search for the pruning strength (h = {audit_width}): {search['effect']}."]
    if audit:
        out += [""] + audit_headline(audit, audit_width)
    return "\n".join(out)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _units_sentence(units: dict) -> str:
    from ._fidelity import testable
    from ._paper import no_width_sentence

    v = units.get("verdict")
    if not testable(units):
        return f"Not testable on these widths: {no_width_sentence(units.get('dataset', 'mnist'))}."
    if not v:
        return f"Undecided: bases passing every test: {', '.join(units.get('passing', [])) or 'none'}."
    b = units["bases"][v]
    errs = [x["paper_error"] for x in b["true_error"]]
    others = [n for n in units["bases"] if n != v]
    failed = {
        "true_error_plausible": "its true error is not a plausible test error",
        "baselines_agree": "the baselines do not agree",
        "ours_producible": "'Ours' is outside its formula's range",
    }
    why = "; ".join(
        f"in base {n} "
        + ", ".join(
            failed.get(k, k.replace("_", " ") + " fails") for k, ok in units["bases"][n]["passes"].items() if not ok
        )
        for n in others
    )
    return (
        f"The paper's table is in {LOG_NAMES.get(v, 'logarithms')} (base {v}): its 'True error' row is then a test error of "
        f"{min(errs):.3f} to {max(errs):.3f}, the baselines land within "
        f"{max(x['mean_abs_diff_ln'] for x in b['baselines']):.2f} (ln units) of the released code's forms on our "
        f"networks, and 'Ours' is a value of its formula at every width ({why})."
    )


def audit_headline(audit: dict, width: int | None) -> list[str]:
    g, ds, pe = audit["gaussianity"], audit["distributed_sparsity"], audit["pruning_error"]
    oc, c1 = audit["output_change"], audit["condition_c_1"]
    ratios = [r["ratio"] for r in pe]
    n = len(g)
    return [
        f"Assumption audit of the h = {width} network (Algorithm 1 at d = {audit['d']:.3g}):",
        "",
        f"- Assumption 3.1 (Gaussian weights): rejected (KS, 1%) in {sum(r['rejects'] for r in g)}/{n} layers; "
        f"excess kurtosis {min(r['excess_kurtosis'] for r in g):.2f} to {max(r['excess_kurtosis'] for r in g):.2f}.",
        f"- Lemma 5.1 (distributed sparsity): {sum(r['distributed_sparse'] for r in ds)}/{n} layers within the "
        "lemma's bounds.",
        f"- Lemma 4.2: measured ||A - Ahat||_2 / Gamma_l(C = 1) = {min(ratios):.2f} to {max(ratios):.2f}.",
        f"- Lemma 4.3: output change / bound at most {oc['max_ratio']:.3g}; Lemma B.2's condition holds in "
        f"{sum(map(bool, oc['condition_per_layer']))}/{n} layers.",
        f"- Condition C.1 with the released code's constants: the event fails for some input in "
        f"{sum(not r['code_event_holds'] for r in c1)}/{n} layers.",
    ]


def tex_from_markdown(md: str, graphics_dir: str | None = None) -> str:
    """A standalone LaTeX document from the report's Markdown, converted by pandoc (the pypandoc_binary wheel);
    figures are looked up relative to the .tex file, or in ``graphics_dir`` (relative to it) when given, with the
    PDF versions of the PNG figures."""
    import pypandoc

    text = md.replace(".png)", ".pdf)")
    extra = [
        "--standalone",
        "-V",
        "geometry:margin=1.8cm",
        "-V",
        "geometry:landscape",
        "-V",
        "fontsize=10pt",
        "-V",
        "documentclass=article",
    ]
    # pandoc's Markdown (not gfm) wraps wide pipe tables to the page, columns in proportion to the dashes of the
    # separator line; no TeX math or raw TeX is read from the report's text
    tex = pypandoc.convert_text(text, "latex", format="markdown-tex_math_dollars-raw_tex", extra_args=extra)
    if graphics_dir is not None:
        tex = tex.replace(r"\begin{document}", r"\graphicspath{{" + graphics_dir.rstrip("/") + "/}}\n\\begin{document}")
    return tex


def _write(path: Path, text: str) -> None:
    from .bounds import write_atomic

    write_atomic(path, text)


def _sweep_args(args, widths, out: Path) -> list[str]:
    return [
        "--preset",
        "paper",
        "--protocol",
        args.protocol,
        "--dataset",
        "mnist",
        "--widths",
        *map(str, widths),
        "--epochs",
        str(args.epochs),
        "--until",
        args.until,
        "--every",
        str(args.every),
        "--device",
        args.device,
        "--keep-epoch-weights",
        "--out",
        str(out),
        "--resume",
        "--no-progress",
    ] + (["--data-dir", str(args.data_dir)] if args.data_dir else [])


def run_cifar(args, out: Path) -> str:
    """CIFAR-10 at h = 2000 where its files are found; otherwise the section says where it looked."""
    from ._data import DataError, load_dataset

    cifar_dir = args.cifar_dir or (str(Path(args.data_dir).parent) if args.data_dir else None)
    try:
        load_dataset("cifar10", cifar_dir)
    except DataError as exc:
        print(f"experiments.report: CIFAR-10 skipped ({str(exc).splitlines()[0]})", file=sys.stderr)
        return cifar_markdown(
            None, str(exc).replace("--data-dir DIR (or set MBP_DATA_DIR)", "--cifar-dir DIR (or set MBP_DATA_DIR)")
        )
    from . import bounds as bounds_cli

    a = [
        "--preset",
        "paper",
        "--protocol",
        args.protocol,
        "--dataset",
        "cifar10",
        "--widths",
        "2000",
        "--epochs",
        str(args.epochs),
        "--until",
        args.until,
        "--every",
        str(args.every),
        "--device",
        args.device,
        "--out",
        str(out / "cifar10"),
        "--resume",
        "--no-progress",
        "--data-dir",
        str(cifar_dir),
    ]
    rc = bounds_cli.main(a, prog=PROG, resume_hint=RESUME_HINT)
    if rc == 130:
        raise _Stopped(rc)  # Ctrl-C during the CIFAR-10 run: its message is printed; the report stops
    if rc != 0:
        return cifar_markdown(None, "its training failed (the message is above)")
    return cifar_markdown(json.loads((out / "cifar10" / "summary.json").read_text()))


def measure_network(summary: dict, sweep: Path, args, width: int) -> tuple[list[dict], dict, list[str]]:
    """The protocol differences and the audit on the trained network of ``width`` (its checkpoint in the sweep)."""
    import numpy as np
    import torch

    from ._audit import audit_markdown, audit_network
    from ._bounds import prune_network
    from ._data import load_dataset
    from ._fidelity import protocol_differences
    from ._model import make_mlp
    from ._network import weights_and_biases
    from ._run import task_data, task_dir
    from ._settings import PROTOCOLS

    s = summary["settings"]
    seed = s["seeds"][0]
    rec = next(r for r in summary["records"] if r["width"] == width and r["dataset"] == "mnist")
    ws, bs, init = weights_and_biases(task_dir(sweep, "mnist", width, seed) / "train.pt")
    ta = task_data(load_dataset("mnist", args.data_dir, preprocessing="authors"), "authors", seed)
    tt = task_data(load_dataset("mnist", args.data_dir, preprocessing="toolkit"), "toolkit", seed)

    def factory():
        torch.manual_seed(seed)
        return make_mlp(784, width, s["depth"], 10)

    cfg = {
        "batch_size": s["batch_size"],
        "lr": s["lr"],
        "optimizer": "sgd",
        "weight_decay": s["weight_decay"],
        "seed": seed,
        "tie_is_error": False,
    }
    diffs = protocol_differences(ws, bs, init, ta, tt, seed, s["delta"], (factory, ta.x_train, ta.y_train, cfg))
    d_audit = args.audit_d if args.audit_d > 0 else rec["d_star"]
    proto = PROTOCOLS[s["protocol"]]
    pruned = prune_network(ws, d_audit, seed, proto.prune_diagonal)
    sample = ta.x_train[:2000].double().numpy()

    def forward_with_inputs(weights, x):
        inputs, h = [], x
        for k, (w, b) in enumerate(zip(weights, bs)):
            inputs.append(h)
            h = h @ w.T + (0 if b is None else b)
            if k < len(weights) - 1:
                h = np.maximum(h, 0)
        return h, inputs

    def forward(weights, x):
        return forward_with_inputs(weights, x)[0]

    results = audit_network(
        ws, pruned, d_audit, forward, sample, forward_with_inputs(ws, sample)[1], m=rec["m"], out_dir=Path(args.out)
    )
    head = (
        f"## Assumption audit (network of width {width}, pruned by Algorithm 1 at d = {d_audit:.3g}; the "
        f"search's d was {_f(rec.get('d_star'), '.3g')})"
    )
    body = audit_markdown(results).removeprefix("# Assumption audit\n").replace("\n## ", "\n### ")
    return diffs, results, [head + "\n" + body]


def _update_readme(path: Path, block: str) -> None:
    from ._readme import markers, update_block

    if update_block(path, "findings", block):
        print(f"updated the findings in {path}")
    else:
        print(f"experiments.report: {path} has no {markers('findings')[0]} marker", file=sys.stderr)


def write_ledger_evidence(path: Path, units: dict) -> None:
    """The units verdict as a ledger evidence record for ``paper-compatible-ours`` (merged by theory)."""
    from .bounds import write_atomic

    record = {
        "id": "paper-compatible-ours",
        "source": "experiments.report",
        "verdict": "verified-with-correction",
        "evidence": "Units: " + _units_sentence(units),
    }
    write_atomic(path, json.dumps([record], indent=1))


class _Stopped(Exception):
    """The training run inside the report stopped with this exit code (its one-line message already printed)."""

    def __init__(self, rc: int) -> None:
        super().__init__(rc)
        self.rc = rc


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _main(args)
    except _Stopped as stop:
        return stop.rc
    except KeyboardInterrupt:
        if args.from_records:
            print(f"\n{PROG}: interrupted (nothing was trained; rerun the same command)", file=sys.stderr)
        else:
            print(
                f"\n{PROG}: interrupted: trained widths are kept in {Path(args.out) / 'mnist'}/; {RESUME_HINT}",
                file=sys.stderr,
            )
        return 130
    except (ValueError, OSError) as exc:
        print(f"{PROG}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, AttributeError) as exc:
        if not (args.from_records or args.compare):
            raise  # not from a user's file: a bug, shown in full
        where = " ".join(filter(None, [args.from_records, *args.compare]))
        print(
            f"{PROG}: the records in {where} are incomplete or damaged ({type(exc).__name__}: {exc})", file=sys.stderr
        )
        return 2


def _main(args: argparse.Namespace) -> int:
    from ._fidelity import testable, units_evidence

    if not (args.audit_d >= 0 and math.isfinite(args.audit_d)):
        raise ValueError(f"--audit-d must be >= 0 (got {args.audit_d})")
    out = Path(args.out)
    from .bounds import check_out_dir

    if args.readme and not Path(args.readme).is_file():
        raise ValueError(f"--readme {args.readme} is not a file")
    # every records folder is checked before anything is written or trained
    given = read_records(Path(args.from_records)) if args.from_records else None
    compare = [(c, read_records(Path(c))[0]) for c in args.compare]
    check_out_dir(out)
    if given is not None:
        summary, audit, differences, meta, rows = given
        width = meta["audit_width"]
        from ._audit import audit_markdown

        audit_md = (
            f"## Assumption audit (network of width {width}; from the records: figures need the network)\n"
            + audit_markdown({k: v for k, v in audit.items() if k != "figures"})
            .removeprefix("# Assumption audit\n")
            .replace("\n## ", "\n### ")
        )
        cifar_md = cifar_markdown(None, "rebuilt from records, which hold no CIFAR-10 run")
    else:
        if args.data_dir is None and not os.environ.get("MBP_DATA_DIR"):
            raise ValueError("--data-dir (or MBP_DATA_DIR) must name the MNIST archives")
        width = args.audit_width if args.audit_width is not None else min(args.widths)
        if width not in args.widths:
            raise ValueError(f"--audit-width {width} is not one of --widths")
        from . import bounds as bounds_cli

        sweep = out / "mnist"
        rc = bounds_cli.main(_sweep_args(args, args.widths, sweep), prog=PROG, resume_hint=RESUME_HINT)
        if rc != 0:
            return rc  # its one-line message (prefixed experiments.report) is printed
        summary = json.loads((sweep / "summary.json").read_text())
        differences, audit, parts = measure_network(summary, sweep, args, width)
        audit_md = parts[0]
        rows = read_epoch_rows(sweep / "epochs.csv")
        meta = {
            "hardware": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}",
            "audit_width": width,
            "sweep_dir": str(sweep),
        }
        write_records(out / "records", summary, audit, differences, meta)
        cifar_md = run_cifar(args, out)
    units = units_evidence(summary["records"], "mnist")
    from ._figures import write_figures

    figs = [
        f"figures/{p.name}"
        for p in write_figures(out / "figures", [r for r in summary["records"] if r.get("dataset") == "mnist"], rows)
        if p.suffix == ".png"
    ]
    md, deviations, compared = reproduction_markdown(
        summary, units, differences, audit_md, meta, rows, figs, cifar_md, compare
    )
    _write(out / "reproduction.md", md)
    _write(out / "units.json", json.dumps(units, indent=1, default=str))
    widths = [r["width"] for r in summary["records"] if r.get("dataset") == "mnist"]
    found = comparison_sentence(widths, compared, len(deviations)).replace(" below", "")
    verdict = units["verdict"] or ("undecided" if testable(units) else "not testable on these widths")
    print(f"wrote {out / 'reproduction.md'} ({found[0].lower()}{found[1:]}); units verdict: {verdict}")
    try:
        _write(out / "reproduction.tex", tex_from_markdown(md))
        print(f"wrote {out / 'reproduction.tex'}")
        if args.tex and Path(args.tex).resolve() != (out / "reproduction.tex").resolve():
            tex = Path(args.tex)
            _write(tex, tex_from_markdown(md, os.path.relpath(out.resolve(), tex.resolve().parent)))
            print(f"wrote {tex} (figures from {out}/)")
        from theory.docs import compile_pdf

        pdf = compile_pdf(out / "reproduction.tex")
        if pdf:
            print(f"wrote {pdf}")
    except (RuntimeError, OSError) as exc:
        print(f"experiments.report: the LaTeX/PDF step failed ({str(exc).splitlines()[0][:160]})", file=sys.stderr)
    if args.ledger_evidence and not testable(units):
        print(f"{PROG}: --ledger-evidence not written: the units are not testable on these widths", file=sys.stderr)
    elif args.ledger_evidence:
        write_ledger_evidence(Path(args.ledger_evidence), units)
        print(f"wrote {args.ledger_evidence}")
    if args.readme:
        _update_readme(Path(args.readme), headline(summary, units, differences, audit, width, compare))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
