"""python -m experiments.report: the reproduction report and the assumption audit.

Runs the paper's MNIST protocol over the widths (reusing finished widths and checkpoints in OUT/mnist), audits
the paper's assumptions on one trained network, and writes OUT/reproduction.md with the paper's table beside
ours, an explanation (backed by the claim ledger) for every number that differs, the scale it ran at, and a
section per assumption with figures; plus OUT/reproduction.tex (and .pdf where TeX is installed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from pathlib import Path

PAPER_ROWS = (
    ("Neyshabur 2015", "neyshabur_2015_code_log10", "neyshabur_2015_code", "baseline-neyshabur-2015"),
    ("Neyshabur 2017", "neyshabur_2017_code_log10", "neyshabur_2017_code", "baseline-neyshabur-2017"),
    ("Bartlett 2017", "bartlett_2017_code_log10", "bartlett_2017_code", "baseline-bartlett-2017"),
    ("Ours", "ours_paper_compatible_log10", "ours_paper_compatible", "paper-compatible-ours"),
    ("True error", "true_error_log10", "true_error", None),
)
RIGOROUS_ROWS = (
    ("Theorem 5.2 (rigorous)", "theorem_5_2_log10", "theorem-5.2"),
    ("Lemma D.1 (rigorous)", "lemma_d_1_log10", "lemma-d.1"),
    ("Bartlett 2017 (literature)", "bartlett_2017_literature_log10", "baseline-bartlett-2017"),
    ("Neyshabur 2017 (literature)", "neyshabur_2017_literature_log10", "baseline-neyshabur-2017"),
    ("Neyshabur 2015 (literature)", "neyshabur_2015_literature_log10", "baseline-neyshabur-2015"),
)
TOLERANCE = 0.25  # |ours - paper| in log10 below which a number counts as reproduced


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m experiments.report",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--data-dir", default=None, help="MNIST archives (None: $MBP_DATA_DIR)")
    ap.add_argument("--out", default="results/report", help="output folder")
    ap.add_argument(
        "--widths",
        type=int,
        nargs="+",
        default=[500, 784, 1000, 1500, 2000, 2500],
        help="MNIST hidden widths (the paper's six)",
    )
    ap.add_argument("--epochs", type=int, default=2, help="epochs per width (the paper: 300)")
    ap.add_argument(
        "--optimizer",
        choices=["adam", "sgd"],
        default="adam",
        help="the paper's Adam; the released configs' SGD (lr 0.02) needs far more than a few epochs",
    )
    ap.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    ap.add_argument("--audit-width", type=int, default=784, help="the width whose network is audited")
    ap.add_argument(
        "--audit-d",
        type=float,
        default=1.0,
        help="Algorithm 1's strength for the pruning checks of the audit (0 = the bisection's d*, "
        "which on briefly trained networks prunes almost nothing)",
    )
    ap.add_argument(
        "--cifar-dir",
        default=None,
        help="CIFAR-10 files (None: the parent of --data-dir, else $MBP_DATA_DIR); skipped, saying why, when absent",
    )
    ap.add_argument("--cifar-width", type=int, default=2000, help="the CIFAR-10 width (the paper: 2000)")
    ap.add_argument(
        "--long-epochs",
        type=int,
        default=20,
        help="epochs of one longer run at --long-width, to see how each bound moves with training (0: skip)",
    )
    ap.add_argument("--long-width", type=int, default=500, help="the width of the longer run")
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    ap.add_argument(
        "--seed", type=int, default=0, help="seed of the split, the initialisation, the batches and Algorithm 1"
    )
    ap.add_argument(
        "--tex",
        default="docs/reproduction.tex",
        metavar="PATH",
        help="also write the LaTeX report here, its figures referenced in --out ('' to skip)",
    )
    ap.add_argument("--readme", metavar="PATH", help="also rewrite the 'What the toolkit finds' block of this README")
    return ap


def _ledger_evidence(claim_id: str) -> str:
    import theory

    return theory.claim(claim_id).evidence


def _explain(
    label: str, key: str, ledger_id: str | None, rec: dict, paper: float, settings: dict, trend: float | None = None
) -> str:
    """Why our number differs from the paper's, from the measured quantities and the ledger."""
    ours = rec[key]
    parts = [f"ours {ours:.2f} vs paper {paper:.2f} (difference {ours - paper:+.2f} in log10)."]
    epochs = settings["epochs"]
    if key == "true_error_log10":
        parts.append(
            f"The paper trains 300 epochs; this run trained {epochs}, so the pruned network's test error "
            f"({rec['pruned_test_error']:.4f}) is that of a less trained network."
            + (
                f" It moved by {trend:+.2f} (log10) from the first to the last epoch of this run."
                if trend is not None
                else ""
            )
        )
    elif key == "ours_paper_compatible_log10":
        parts.append(_ours_ceiling_explanation(rec, paper, epochs))
        parts.append(
            f"Here the bisection chose d* = {rec['d_star']:.3g} ({rec['bisection_status']}; gamma* = "
            f"e max||x|| prod||A|| sum ||Delta||/||A|| must equal the margin {rec['gamma']:.3g}), so the "
            f"gap sqrt((1/m) sum d1 d2 chi(d*) ln^2 p) is 10^{rec['ours_gap_log10']:.2f}"
            + (", essentially the ceiling: almost nothing is pruned." if rec["d_star"] < 1e-3 else ".")
        )
        parts.append("Ledger (paper-compatible-ours): " + _ledger_evidence("paper-compatible-ours"))
    else:
        norms = sum(math.log10(lay["spectral"]) for lay in rec["layers"])
        frob = sum(math.log10(lay["frobenius"]) for lay in rec["layers"])
        parts.append(
            f"These code forms depend on the trained weights and the margin only: the norm products "
            f"(here log10 prod||A||_2 = {norms:.2f}, log10 prod||A||_F = {frob:.2f}) over gamma^2 (gamma = "
            f"{rec['gamma']:.3g}, {rec['gamma_rule']}). So the difference is one of networks: this run "
            f"trained {epochs} epochs with {settings['optimizer']} (lr {settings['lr']}, batch "
            f"{settings['batch_size']}), the paper 300."
        )
        if trend is not None:
            parts.append(
                f"Along this run the value moved by {trend:+.2f} (log10) from the first to the last epoch; "
                f"whether 300 epochs close the remaining {paper - ours:+.2f} is not measured at this scale."
            )
        if ledger_id:
            parts.append(f"Ledger ({ledger_id}): " + _ledger_evidence(ledger_id))
    return " ".join(parts)


def _trend(rows: list[dict] | None, width: int, key: str) -> float | None:
    """Last minus first per-epoch value of ``key`` for ``width`` (None with fewer than two epochs)."""
    vals = []
    for r in rows or []:
        if str(r.get("width")) == str(width):
            try:
                vals.append((int(r["epoch"]), float(r[key])))
            except (KeyError, TypeError, ValueError):
                continue
    vals.sort()
    return vals[-1][1] - vals[0][1] if len(vals) >= 2 else None


def _ours_ceiling_explanation(rec: dict, paper: float, epochs: int | None = None) -> str:
    """Whether the paper's 'Ours' can come from the formula it states at all: the gap is largest as d -> 0+
    (theory.paper_ours_gap_ceiling) and the margin loss is <= 1, so log10(1 + ceiling) caps the value.  When
    the paper's number is above the cap, find the pruning strength at which the gap *without* the 1/m factor
    equals it."""
    import numpy as np
    from scipy.optimize import brentq

    import theory

    d1 = np.array([lay["d1"] for lay in rec["layers"]])
    d2 = np.array([lay["d2"] for lay in rec["layers"]])
    m = rec["m"]
    cap = ours_ceiling_log10(rec)
    if paper <= cap:
        return (
            f"The paper's value is below the formula's ceiling log10(1 + sup_d gap) = {cap:.2f} for these "
            f"shapes and m = {m}, so it can be reached: it depends on the trained network through the margin "
            f"and the norms that fix d*, and this run trained "
            + (f"{epochs}" if epochs else "fewer")
            + " epochs, not 300."
        )
    text = (
        f"The paper's value is above the largest value the stated formula can take for these shapes and "
        f"m = {m}: log10(1 + sup_d gap) = {cap:.2f} (theory.paper_ours_gap_ceiling; the margin loss is <= 1). "
        "No training or choice of d reproduces it."
    )
    no_m = theory.paper_ours_gap_ceiling.log10(d1_l=d1, d2_l=d2, m=1)
    if paper <= no_m:
        f = lambda t: theory.paper_ours_gap.log10(d1_l=d1, d2_l=d2, d=10.0**t, m=1) - paper  # noqa: E731
        lo, hi = -15.0, 6.0
        if f(lo) >= 0 >= f(hi):
            d_implied = 10 ** brentq(f, lo, hi, xtol=1e-6)
            text += (
                f" Without the 1/m inside the square root the ceiling is {no_m:.2f}, and the gap equals the "
                f"paper's {paper:.2f} at d = {d_implied:.3g}: the reported value is consistent with a gap "
                "computed without dividing by m."
            )
    else:
        text += (
            f" Even without the 1/m inside the square root the ceiling is {no_m:.2f}, below the paper's "
            f"value as well: it is not a value of this formula under either reading."
        )
    return text


def ours_ceiling_log10(rec: dict) -> float:
    """log10(1 + sup_d gap) of the paper-compatible 'Ours' for this record's layer shapes and m."""
    d1 = [lay["d1"] for lay in rec["layers"]]
    d2 = [lay["d2"] for lay in rec["layers"]]
    import theory

    return math.log10(1 + theory.paper_ours_gap_ceiling(d1_l=d1, d2_l=d2, m=rec["m"]))


def epochs_markdown(rows: list[dict]) -> list[str]:
    """The per-epoch curve as a table (log10), from epochs.csv rows."""
    keys = (
        ("ours_paper_compatible_log10", "Ours"),
        ("bartlett_2017_code_log10", "Bartlett (code)"),
        ("theorem_5_2_log10", "Thm 5.2"),
        ("true_error_log10", "true error"),
    )
    lines = ["| h | epoch | " + " | ".join(k[1] for k in keys) + " |", "|---|---|" + "---|" * len(keys)]
    for r in rows:
        vals = []
        for k, _ in keys:
            try:
                vals.append(f"{float(r.get(k)):.2f}")
            except (TypeError, ValueError):
                vals.append("")
        lines.append(f"| {r.get('width')} | {r.get('epoch')} | " + " | ".join(vals) + " |")
    return lines


def paper_table(
    records: list[dict], dataset: str, settings: dict, epoch_rows: list[dict] | None = None
) -> tuple[list[str], list[dict]]:
    """The paper's rows (authors' code forms, 'Ours', true error) with ours beside the paper's values, and one
    explained deviation for every number more than TOLERANCE (log10) away."""
    from ._paper import paper_value

    lines = [
        "| bound (log10) | " + " | ".join(f"h={r['width']} ours | paper" for r in records) + " |",
        "|---|" + "---|---|" * len(records),
    ]
    deviations = []
    for label, key, paper_key, ledger_id in PAPER_ROWS:
        cells = []
        for r in records:
            pv = paper_value(dataset, paper_key, r["width"])
            cells += [f"{r[key]:.2f}", "" if pv is None else f"{pv:.2f}"]
            if pv is not None and abs(r[key] - pv) > TOLERANCE:
                deviations.append(
                    {
                        "row": label,
                        "width": r["width"],
                        "ours": r[key],
                        "paper": pv,
                        "explanation": _explain(
                            label, key, ledger_id, r, pv, settings, _trend(epoch_rows, r["width"], key)
                        ),
                    }
                )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines, deviations


def cifar_markdown(summary: dict | None, reason: str = "") -> tuple[str, list[dict]]:
    """The CIFAR-10 section: the paper's h = 2000 column against ours, or why it was not run."""
    if summary is None:
        return "## CIFAR-10 (h = 2000)\n\nNot run: " + reason.replace("\n", " ") + "\n", []
    s = summary["settings"]
    records = sorted(summary["records"], key=lambda r: r["width"])
    table, deviations = paper_table(records, "cifar10", s)
    lines = (
        [
            "## CIFAR-10 (h = 2000)",
            "",
            f"{s['epochs']} epochs, {s['optimizer']} (lr {s['lr']}, batch {s['batch_size']}), seed {s['seed']}; "
            f"results in `cifar10/`.",
            "",
        ]
        + table
        + ["", "Deviations from the paper:", ""]
    )
    lines += [f"- **{dv['row']}, h = {dv['width']}**: {dv['explanation']}" for dv in deviations] or [
        f"Every number is within {TOLERANCE} (log10) of the paper's."
    ]
    return "\n".join(lines) + "\n", deviations


def reproduction_markdown(
    summary: dict,
    audit_md: str,
    scale: dict,
    figures: list[str],
    epoch_rows: list[dict] | None = None,
    cifar_md: str = "",
) -> tuple[str, list[dict]]:
    settings = summary["settings"]
    records = sorted(summary["records"], key=lambda r: r["width"])
    widths = [r["width"] for r in records]
    lines = [
        "# Reproduction of Guha, Dubey & Huo on MNIST",
        "",
        "Every bound is reported as **log10** of its value (natural logs inside the formulas). "
        "'paper' is the value the paper reports (THEORY.md); 'ours' was measured by this toolkit.",
        "",
        "## Scale of this run",
        "",
        f"- {settings['epochs']} epochs per width (the paper: 300), optimiser {settings['optimizer']} "
        f"(lr {settings['lr']}, batch {settings['batch_size']}), seed {settings['seed']}, delta {settings['delta']}.",
        f"- Hardware: {scale['hardware']}; device {settings['device']}.",
        "- Wall time per width (training, with the bounds after every epoch but the last / final bounds with the pruning-error curve, seconds): "
        + ", ".join(
            f"h={r['width']}: {r['wall_seconds']['train']:.0f} / {r['wall_seconds']['bounds']:.0f}" for r in records
        ),
        f"- Total wall time of the sweep (training + bounds, summed over widths): {scale['total_seconds']:.0f} s. The full scale (300 epochs at each of "
        f"the six widths) needs about {scale['full_scale_hours']:.0f} CPU-hours at this speed (per-epoch time times 300, bounds every epoch included), or a GPU.",
        "",
        "## The paper's table and ours",
        "",
    ]
    table, deviations = paper_table(records, "mnist", settings, epoch_rows)
    lines += table
    lines += [
        "",
        "The rigorous forms (explicit constants; see the ledger entries named):",
        "",
        "| bound (log10) | " + " | ".join(f"h={w}" for w in widths) + " | ledger |",
        "|---|" + "---|" * len(widths) + "---|",
    ]
    for label, key, ledger_id in RIGOROUS_ROWS:
        lines.append(f"| {label} | " + " | ".join(f"{r[key]:.2f}" for r in records) + f" | `{ledger_id}` |")
    if epoch_rows:
        lines += ["", "Bounds along training (log10; the epochs curve):", ""] + epochs_markdown(epoch_rows)
    lines += [""] + pruning_ratio_lines(records)
    lines += [
        "",
        f"Theorem 5.2's margin condition is met in {sum(r['theorem_5_2_margin_condition_met'] for r in records)}"
        f" of {len(records)} networks (required margins "
        + ", ".join(f"{r['theorem_5_2_required_margin']:.3g}" for r in records)
        + " against training margins "
        + ", ".join(f"{r['gamma']:.3g}" for r in records)
        + "); where it is not, the rigorous bound uses R-hat at the required margin and is vacuous (>= 1).",
        "",
        "## Where our numbers differ from the paper's, and why",
        "",
        "Where an explanation points to training length, the section 'How the bounds move with training' "
        "(when the longer run was made) measures how far more epochs go.",
        "",
    ]
    if not deviations:
        lines.append(f"Every number is within {TOLERANCE} (log10) of the paper's.")
    for dv in deviations:
        lines.append(f"- **{dv['row']}, h = {dv['width']}**: {dv['explanation']}")
    lines += ["", "## Figures", ""] + [f"![{Path(f).stem}]({f})" for f in figures] + ["", cifar_md, audit_md]
    return "\n".join(lines) + "\n", deviations


def pruning_ratio_lines(records: list[dict], strengths=(1e-4, 1e-2, 1.0)) -> list[str]:
    """Lemma 4.2 at every width: the measured ||A - Ahat||_2 over Gamma_l (C = 1), smallest and largest over the
    layers, at a few pruning strengths of each record's pruning-error curve."""
    import numpy as np

    recs = [r for r in records if "pruning_error_vs_d" in r]
    if not recs:
        return []
    out = [
        "Lemma 4.2 at every width: measured ||A - Ahat||_2 / Gamma_l (Latala's C = 1), min to max over layers "
        "(one Algorithm 1 draw each; a ratio above 1 means C = 1 is not enough for that layer):",
        "",
        "| d | " + " | ".join(f"h={r['width']}" for r in recs) + " |",
        "|---|" + "---|" * len(recs),
    ]
    for dv in strengths:
        cells = []
        for r in recs:
            cur = r["pruning_error_vs_d"]
            k = int(np.argmin(np.abs(np.log10(cur["d"]) - math.log10(dv))))
            ratio = np.array(cur["delta_spectral"][k]) / np.array(cur["gamma_latala_C1"][k])
            cells.append(f"{ratio.min():.2f} to {ratio.max():.2f}")
        out.append(f"| {dv:g} | " + " | ".join(cells) + " |")
    return out


def audit_headline(audit: dict, width: int) -> list[str]:
    """One line per assumption from the audit's numbers (audit_network's dict)."""
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
        f"lemma's bounds.",
        f"- Lemma 4.2: measured ||A - Ahat||_2 / Gamma_l(C = 1) = {min(ratios):.2f} to {max(ratios):.2f}.",
        f"- Lemma 4.3: output change / bound at most {oc['max_ratio']:.3g}; Lemma B.2's condition holds in "
        f"{sum(map(bool, oc['condition_per_layer']))}/{n} layers.",
        f"- Condition C.1 with the released code's constants: the event fails for some input in "
        f"{sum(not r['code_event_holds'] for r in c1)}/{n} layers.",
    ]


def headline(
    summary: dict, audit: dict | None = None, audit_width: int | None = None, long_rows: list[dict] | None = None
) -> str:
    """The README's 'What the toolkit finds' block, generated from the ledger, the sweep and the audit."""
    from collections import Counter

    import theory

    from ._paper import paper_value

    counts = Counter(c.verdict for c in theory.build_ledger())
    recs = sorted(summary["records"], key=lambda r: r["width"])
    above = [
        r["width"]
        for r in recs
        if (pv := paper_value("mnist", "ours_paper_compatible", r["width"])) is not None and pv > ours_ceiling_log10(r)
    ]
    s = summary["settings"]
    out = [
        "Ledger verdicts: " + ", ".join(f"{v} {counts[v]}" for v in sorted(counts)) + ".",
        "",
        f"MNIST sweep ({s['epochs']} epochs per width, device {s['device']}, log10 of each bound; details in reproduction.md):",
        "",
        "| h | Neyshabur 2015 | Neyshabur 2017 | Bartlett 2017 | Ours | Thm 5.2 (rigorous) | true error |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in recs:
        out.append(
            f"| {r['width']} | {r['neyshabur_2015_code_log10']:.2f} | {r['neyshabur_2017_code_log10']:.2f} | "
            f"{r['bartlett_2017_code_log10']:.2f} | {r['ours_paper_compatible_log10']:.2f} | "
            f"{r['theorem_5_2_log10']:.2f} | {r['true_error_log10']:.2f} |"
        )
    met = sum(r["theorem_5_2_margin_condition_met"] for r in recs)
    req = [r["theorem_5_2_required_margin"] for r in recs]
    out += [
        "",
        f"Theorem 5.2's margin condition holds in {met} of {len(recs)} networks (required margins "
        f"{min(req):.3g} to {max(req):.3g}, training margins {min(r['gamma'] for r in recs):.3g} to "
        f"{max(r['gamma'] for r in recs):.3g})"
        + ("; where it fails the rigorous bound is vacuous." if met < len(recs) else "."),
    ]
    with_paper = [r for r in recs if paper_value("mnist", "ours_paper_compatible", r["width"]) is not None]
    if with_paper:
        out += [
            "",
            f"The paper's 'Ours' lies above the largest value its stated formula can take (log10(1 + sup_d "
            f"gap), m = {recs[0]['m']}) at {len(above)} of {len(with_paper)} widths"
            + (f" ({', '.join(map(str, above))})" if above else "")
            + ".",
        ]
    curves = [r for r in recs if "pruning_error_vs_d" in r]
    if curves:
        import numpy as np

        at_1 = {
            r["width"]: np.array(r["pruning_error_vs_d"]["delta_spectral"][r["pruning_error_vs_d"]["d"].index(1.0)])
            / np.array(r["pruning_error_vs_d"]["gamma_latala_C1"][r["pruning_error_vs_d"]["d"].index(1.0)])
            for r in curves
            if 1.0 in r["pruning_error_vs_d"]["d"]
        }
        if at_1:
            allr = np.concatenate(list(at_1.values()))
            over = [w for w, v in at_1.items() if v.max() > 1]
            out += [
                "",
                f"Lemma 4.2 at d = 1: measured ||A - Ahat||_2 / Gamma_l (C = 1) is {allr.min():.2f} to "
                f"{allr.max():.2f} over all layers and widths"
                + (f"; above 1 (C = 1 not enough) at h = {', '.join(map(str, over))}." if over else "."),
            ]
    if long_rows:
        lr = sorted(long_rows, key=lambda r: int(r["epoch"]))
        first, last = lr[0], lr[-1]
        moved = ", ".join(
            f"{label} {float(first[k]):.2f} -> {float(last[k]):.2f}"
            for k, _, label in LONG_KEYS
            if first.get(k) not in (None, "") and last.get(k) not in (None, "")
        )
        out += ["", f"Longer run (h = {last['width']}, epochs {first['epoch']} -> {last['epoch']}, log10): {moved}."]
    if audit:
        out += [""] + audit_headline(audit, audit_width)
    return "\n".join(out)


def _write(path: Path, text: str) -> None:
    from .bounds import write_atomic

    write_atomic(path, text)


def tex_from_markdown(md: str, graphics_dir: str | None = None) -> str:
    """A plain LaTeX rendering of the report (headings, paragraphs, tables, figures); figures are looked up
    relative to the .tex file, or in ``graphics_dir`` (relative to it) when given."""
    from theory.docs import tex_escape

    out = [
        r"\documentclass[10pt]{article}",
        r"\usepackage[margin=1.8cm,landscape]{geometry}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage{graphicx,longtable}",
        r"\setlength{\tabcolsep}{3pt}",
    ]
    if graphics_dir is not None:
        out.append(r"\graphicspath{{" + graphics_dir.rstrip("/") + "/}}")
    out.append(r"\begin{document}")
    table: list[list[str]] = []

    def flush():
        if table:
            ncol = len(table[0])
            if ncol <= 7:
                out.append(r"{\footnotesize\begin{longtable}{" + "l" * ncol + "}")
            else:  # wide tables wrap inside fixed columns
                col = f"p{{{0.9 / ncol:.3f}\\linewidth}}"
                out.append(r"{\scriptsize\begin{longtable}{" + col * ncol + "}")
            for row in table:
                out.append(" & ".join(tex_escape(c.strip().strip("*`")) for c in row[:ncol]) + r" \\")
            out.append(r"\end{longtable}}")
            table.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            cells = line.strip().strip("|").split("|")
            if all(set(c.strip()) <= {"-"} for c in cells):
                continue
            table.append(cells)
            continue
        flush()
        if line.startswith("# "):
            out.append(r"\section*{" + tex_escape(line[2:]) + "}")
        elif line.startswith("## "):
            out.append(r"\subsection*{" + tex_escape(line[3:]) + "}")
        elif line.startswith("### "):
            out.append(r"\subsubsection*{" + tex_escape(line[4:]) + "}")
        elif line.startswith("!["):
            target = line[line.index("(") + 1 : line.rindex(")")]
            out.append(
                r"\includegraphics[width=0.3\linewidth]{"
                + target.replace(".png", ".pdf")
                + r"}\hspace{0.5em plus 1fill}"
            )  # stretchable: three figures fill a line
        else:
            out.append(tex_escape(line.replace("**", "")))
    flush()
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def _sweep_args(args, dataset: str, widths, data_dir, out: Path) -> list[str]:
    """experiments.bounds arguments of the report's protocol (bounds every epoch, resumable)."""
    return [
        "--preset",
        "paper",
        "--dataset",
        dataset,
        "--widths",
        *map(str, widths),
        "--epochs",
        str(args.epochs),
        "--every",
        "1",
        "--optimizer",
        args.optimizer,
        "--lr",
        str(args.lr),
        "--imp-rounds",
        "0",
        "--device",
        args.device,
        "--seed",
        str(args.seed),
        "--out",
        str(out),
        "--resume",
        "--no-progress",
    ] + (["--data-dir", str(data_dir)] if data_dir else [])


LONG_KEYS = (
    ("neyshabur_2015_code_log10", "neyshabur_2015_code", "Neyshabur 2015 (code)"),
    ("neyshabur_2017_code_log10", "neyshabur_2017_code", "Neyshabur 2017 (code)"),
    ("bartlett_2017_code_log10", "bartlett_2017_code", "Bartlett 2017 (code)"),
    ("ours_paper_compatible_log10", "ours_paper_compatible", "Ours"),
    ("true_error_log10", "true_error", "true error"),
)


def long_run_markdown(rows: list[dict], width: int, target_epochs: int = 300) -> str:
    """How each bound moves over a longer run: first and last value, and a straight-line fit of log10(bound)
    against log10(epoch) over the second half of the run, extended to ``target_epochs`` (an extrapolation)."""
    import numpy as np

    from ._paper import paper_value

    rows = sorted((r for r in rows if str(r.get("width")) == str(width)), key=lambda r: int(r["epoch"]))
    n = len(rows)
    lines = [
        f"## How the bounds move with training (h = {width}, {n} epochs)",
        "",
        "A longer run of one width, bounds after every epoch (log10). The last column extends a straight-line "
        f"fit of log10(bound) against log10(epoch) over the second half of the run to epoch {target_epochs}: "
        "an extrapolation, not a measurement.",
        "",
        f"| bound | epoch 1 | epoch {n} | slope per decade of epochs | extended to {target_epochs} | paper |",
        "|---|---|---|---|---|---|",
    ]
    for key, paper_key, label in LONG_KEYS:
        pts = []
        for r in rows:
            try:
                pts.append((int(r["epoch"]), float(r[key])))
            except (KeyError, TypeError, ValueError):
                continue
        pts = [p for p in pts if math.isfinite(p[1])]
        if len(pts) < 4:
            lines.append(f"| {label} | | | | | |")
            continue
        half = pts[len(pts) // 2 :]
        ex, ey = np.log10([p[0] for p in half]), np.array([p[1] for p in half])
        slope, icpt = np.polyfit(ex, ey, 1)
        pv = paper_value("mnist", paper_key, width)
        lines.append(
            f"| {label} | {pts[0][1]:.2f} | {pts[-1][1]:.2f} | {slope:+.2f} | "
            f"{icpt + slope * math.log10(target_epochs):.2f} | {'' if pv is None else f'{pv:.2f}'} |"
        )
    return "\n".join(lines) + "\n"


def read_epoch_rows(path: Path, width: int | None = None) -> list[dict]:
    """The rows of an epochs.csv (all, or one width's); [] when the file is absent."""
    import csv

    if not path.is_file():
        return []
    with open(path) as fh:
        return [r for r in csv.DictReader(fh) if width is None or str(r.get("width")) == str(width)]


def run_long(args, out: Path) -> tuple[str, list[dict]]:
    """One width trained --long-epochs epochs with bounds after each (resumable, in OUT/mnist-long); returns the
    report section and the per-epoch rows."""
    if args.long_epochs <= 0:
        return "", []
    from . import bounds as bounds_cli

    long_args = argparse.Namespace(**{**vars(args), "epochs": args.long_epochs})
    rc = bounds_cli.main(_sweep_args(long_args, "mnist", [args.long_width], args.data_dir, out / "mnist-long"))
    rows = read_epoch_rows(out / "mnist-long" / "epochs.csv", args.long_width) if rc == 0 else []
    if not rows:
        return f"## How the bounds move with training\n\nThe longer run failed (exit {rc}; its message is above).\n", []
    return long_run_markdown(rows, args.long_width), rows


def run_cifar(args, out: Path) -> tuple[str, list[dict]]:
    """CIFAR-10 at h = --cifar-width where its files are found (--cifar-dir, else the parent of --data-dir, else
    $MBP_DATA_DIR); otherwise the section says where it looked."""
    from . import bounds as bounds_cli
    from ._data import DataError, load_dataset

    cifar_dir = args.cifar_dir or (str(Path(args.data_dir).parent) if args.data_dir else None)
    try:
        load_dataset("cifar10", cifar_dir)
    except DataError as exc:
        print(f"experiments.report: CIFAR-10 skipped ({str(exc).splitlines()[0]})", file=sys.stderr)
        return cifar_markdown(
            None, str(exc).replace("--data-dir DIR (or set MBP_DATA_DIR)", "--cifar-dir DIR (or set MBP_DATA_DIR)")
        )
    rc = bounds_cli.main(_sweep_args(args, "cifar10", [args.cifar_width], cifar_dir, out / "cifar10"))
    if rc != 0:
        return cifar_markdown(None, f"experiments.bounds exited with code {rc} (its message is above)")
    return cifar_markdown(json.loads((out / "cifar10" / "summary.json").read_text()))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not (args.audit_d >= 0 and math.isfinite(args.audit_d)):
        print(f"experiments.report: --audit-d must be >= 0 (got {args.audit_d})", file=sys.stderr)
        return 2
    if args.long_epochs < 0 or args.long_width < 1:
        print("experiments.report: --long-epochs must be >= 0 and --long-width >= 1", file=sys.stderr)
        return 2
    if args.audit_width not in args.widths:
        print(f"experiments.report: --audit-width {args.audit_width} is not one of --widths", file=sys.stderr)
        return 2
    out = Path(args.out)
    from . import bounds as bounds_cli

    rc = bounds_cli.main(_sweep_args(args, "mnist", args.widths, args.data_dir, out / "mnist"))
    if rc != 0:
        return rc
    cifar_md, _ = run_cifar(args, out)
    long_md, long_rows = run_long(args, out)
    summary = json.loads((out / "mnist" / "summary.json").read_text())
    # the recorded time of each width (training + bounds), whether it ran now or was reused from a finished run
    total = sum(sum(r["wall_seconds"].values()) for r in summary["records"])
    audit_md, audit_figs = run_audit(summary, out, args)
    per_epoch = sum(r["wall_seconds"]["train"] for r in summary["records"]) / max(summary["settings"]["epochs"], 1)
    scale = {
        "hardware": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}",
        "total_seconds": total,
        "full_scale_hours": per_epoch * 300 / 3600,
    }
    figures = [
        f"mnist/{name}.png"
        for name in ("bounds_vs_width", "bound_vs_epoch", "sparsity_and_pruning_error", "pruning_error_vs_d")
    ]
    rows = read_epoch_rows(out / "mnist" / "epochs.csv")
    md, deviations = reproduction_markdown(
        summary, audit_md, scale, figures + audit_figs, rows, long_md + "\n" + cifar_md
    )
    _write(out / "reproduction.md", md)
    _write(out / "reproduction.tex", tex_from_markdown(md))
    print(f"wrote {out / 'reproduction.md'} ({len(deviations)} deviations explained) and {out / 'reproduction.tex'}")
    if args.tex:
        tex = Path(args.tex)
        _write(tex, tex_from_markdown(md, os.path.relpath(out.resolve(), tex.resolve().parent)))
        print(f"wrote {tex} (figures from {out}/)")
    from theory.docs import compile_pdf

    try:
        pdf = compile_pdf(out / "reproduction.tex")
        if pdf:
            print(f"wrote {pdf}")
    except RuntimeError as exc:
        print(f"experiments.report: the PDF did not compile ({str(exc).splitlines()[0]})", file=sys.stderr)
    if args.readme:
        audit = json.loads((out / "audit.json").read_text())
        _update_readme(Path(args.readme), headline(summary, audit, args.audit_width, long_rows))
    return 0


def run_audit(summary: dict, out: Path, args) -> tuple[str, list[str]]:
    """Audit the paper's assumptions on the trained network of width ``--audit-width``."""
    import numpy as np
    import torch

    from ._audit import audit_markdown, audit_network
    from ._bounds import prune_network
    from ._data import load_dataset, train_val_split
    from ._model import linear_layers, make_mlp, weight_matrices

    rec = next((r for r in summary["records"] if r["width"] == args.audit_width), summary["records"][0])
    width, s = rec["width"], summary["settings"]
    data = load_dataset("mnist", args.data_dir)
    tr, _ = train_val_split(len(data.train_y), s["seed"])
    model = make_mlp(data.input_dim, width, s["depth"], data.n_classes)
    state = torch.load(out / "mnist" / "checkpoints" / f"width-{width}.pt", map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"])
    ws = [w.double().numpy() for w in weight_matrices(model)]
    biases = [layer.bias.detach().double().numpy() for layer in linear_layers(model)]
    d_audit = args.audit_d if args.audit_d > 0 else rec["d_star"]
    pruned = prune_network(ws, d_audit, s["seed"], s["prune_diagonal"])
    sample = np.asarray(data.train_x[tr[:2000]], dtype=np.float64)

    def forward_with_inputs(weights, x):
        """The trained net (its biases) with ``weights``: outputs and the input each layer sees."""
        inputs, h = [], x
        for k, (w, b) in enumerate(zip(weights, biases)):
            inputs.append(h)
            h = h @ w.T + b
            if k < len(weights) - 1:
                h = np.maximum(h, 0)
        return h, inputs

    forward = lambda weights, x: forward_with_inputs(weights, x)[0]  # noqa: E731
    inputs = forward_with_inputs(ws, sample)[1]
    results = audit_network(ws, pruned, d_audit, forward, sample, inputs, m=rec["m"], out_dir=out)
    _write(out / "audit.json", json.dumps(results, indent=2, default=str))
    head = (
        f"## Assumption audit (network of width {width}, pruned by Algorithm 1 at d = {d_audit:.3g}; "
        f"the bisection's d* was {rec['d_star']:.3g})"
    )
    body = audit_markdown(results).removeprefix("# Assumption audit\n").replace("\n## ", "\n### ")
    return head + "\n" + body, []  # audit_markdown embeds its own figures


_MARK = ("<!-- findings:start -->", "<!-- findings:end -->")


def _update_readme(path: Path, block: str) -> None:
    text = path.read_text()
    if _MARK[0] not in text:
        print(f"experiments.report: {path} has no {_MARK[0]} marker", file=sys.stderr)
        return
    head, rest = text.split(_MARK[0], 1)
    tail = rest.split(_MARK[1], 1)[1]
    path.write_text(f"{head}{_MARK[0]}\n{block}\n{_MARK[1]}{tail}")
    print(f"updated the findings in {path}")


if __name__ == "__main__":
    raise SystemExit(main())
