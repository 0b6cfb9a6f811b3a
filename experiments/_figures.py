"""Figures of an experiments.bounds run, written as PNG and PDF (atomically: temp file, then rename)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BOUND_KEYS = (
    ("neyshabur_2015_code_log10", "Neyshabur 2015 (code)"),
    ("neyshabur_2017_code_log10", "Neyshabur 2017 (code)"),
    ("bartlett_2017_code_log10", "Bartlett 2017 (code)"),
    ("ours_paper_compatible_log10", "Ours (paper-compatible)"),
    ("theorem_5_2_log10", "Theorem 5.2 (rigorous)"),
    ("lemma_d_1_log10", "Lemma D.1 (rigorous)"),
    ("true_error_log10", "True error (pruned)"),
)


def _save(fig, out: Path, stem: str) -> list[Path]:
    paths = []
    for ext in ("png", "pdf"):
        final = out / f"{stem}.{ext}"
        tmp = out / f".{stem}.tmp.{ext}"
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, final)
        paths.append(final)
    plt.close(fig)
    return paths


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _fails_margin(record: dict, name: str) -> bool:
    """True for a rigorous bound (Theorem 5.2, Lemma D.1) whose margin condition fails in ``record``."""
    from ._bounds import RIGOROUS, rigorous_note

    return name in RIGOROUS and (rigorous_note(record, name) or "").startswith(("vacuous: needs", "margin condition"))


def write_figures(out: Path, records: list[dict], rows: list[dict]) -> list[Path]:
    """bounds_vs_width, bound_vs_epoch, sparsity_and_pruning_error and pruning_error_vs_d (PNG and PDF) for the
    records of a run (log10 axes as labelled; values that could not be computed are left out, and a figure with
    nothing to show is not written)."""
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    if not records:
        return paths
    fig, ax = plt.subplots(figsize=(6, 4))
    for ds in sorted({r["dataset"] for r in records}):
        recs = sorted((r for r in records if r["dataset"] == ds), key=lambda r: (r["width"], r.get("seed", 0)))
        for key, label in BOUND_KEYS:
            name = key.removesuffix("_log10")
            pts = [(r["width"], _num(r.get(key)), _fails_margin(r, name)) for r in recs if _num(r.get(key)) is not None]
            ok = [p for p in pts if not p[2]]
            if ok:
                ax.plot([p[0] for p in ok], [p[1] for p in ok], marker="o", ls="", label=f"{label} ({ds})")
            vacuous = [p for p in pts if p[2]]
            if vacuous:  # hollow: the theorem's margin condition fails, the bound is vacuous
                ax.plot(
                    [p[0] for p in vacuous],
                    [p[1] for p in vacuous],
                    marker="o",
                    mfc="none",
                    ls="",
                    label=f"{label} ({ds}; vacuous: margin condition fails)",
                )
    ax.set_xlabel("hidden width h")
    ax.set_ylabel("log10 bound")
    ax.set_title("Bounds vs width")
    if ax.lines:  # no figure of nothing (every task without bounds)
        ax.legend(fontsize=6)
        paths += _save(fig, out, "bounds_vs_width")
    else:
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    series = sorted({(str(r.get("dataset")), str(r.get("width")), str(r.get("seed"))) for r in rows})
    for ds, w, sd in series:
        pts = [
            (int(r["epoch"]), _num(r.get("ours_paper_compatible_log10")), _num(r.get("true_error_log10")))
            for r in rows
            if (str(r.get("dataset")), str(r.get("width")), str(r.get("seed"))) == (ds, w, sd)
            and _num(r.get("ours_paper_compatible_log10")) is not None
        ]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, label=f"Ours, {ds} h={w} s={sd}")
            ax.plot([p[0] for p in pts], [p[2] for p in pts], marker="x", ms=3, ls="--", label=f"true error, h={w}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("log10")
    ax.set_title("Bound and true error vs epoch")
    if ax.lines:  # no empty figure (a network read with --checkpoint has no epochs here)
        ax.legend(fontsize=6)
        paths += _save(fig, out, "bound_vs_epoch")
    else:
        plt.close(fig)

    with_layers = [r for r in records if any("expected_survivors" in lay for lay in r.get("layers", []))]
    if not with_layers:  # nothing was pruned (every task without bounds)
        return paths
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for r in with_layers:
        lays = [lay for lay in r["layers"] if "expected_survivors" in lay and "gamma_latala_C1" in lay]
        if not lays:
            continue
        axes[0].scatter(
            [lay["expected_survivors"] for lay in lays],
            [lay["nonzeros"] for lay in lays],
            label=f"h={r['width']}, d*={_num(r.get('d_star')) or 0:.3g}",
        )
        axes[1].scatter(
            [lay["gamma_latala_C1"] for lay in lays], [lay["delta_spectral"] for lay in lays], label=f"h={r['width']}"
        )
    for ax, (xl, yl, title) in zip(
        axes,
        (
            ("expected survivors (Lemma 5.1)", "measured nonzeros", "Predicted vs measured sparsity"),
            ("Gamma_l with C = 1 (Lemma 4.2)", "measured ||A - Ahat||_2", "Pruning error vs Latala bracket at d*"),
        ),
    ):
        lo, hi = ax.get_xlim()
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, label="y = x")
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_title(title)
        ax.legend(fontsize=7)
    paths += _save(fig, out, "sparsity_and_pruning_error")
    curves = [r for r in records if "pruning_error_vs_d" in r]
    if curves:
        paths += _pruning_error_vs_d(out, max(curves, key=lambda r: r["width"]))
    return paths


def _pruning_error_vs_d(out: Path, record: dict) -> list[Path]:
    """Measured ||A - Ahat||_2 per layer (solid) against Lemma 4.2's Gamma_l with C = 1 (dashed), over d."""
    import numpy as np

    cur = record["pruning_error_vs_d"]
    d = np.array(cur["d"])
    meas, gam = np.array(cur["delta_spectral"]), np.array(cur["gamma_latala_C1"])
    fig, ax = plt.subplots(figsize=(6, 4))
    for k in range(meas.shape[1]):
        (line,) = ax.plot(
            d, np.where(meas[:, k] > 0, meas[:, k], np.nan), marker="o", ms=3, label=f"layer {k + 1} measured"
        )
        ax.plot(
            d,
            np.where(gam[:, k] > 0, gam[:, k], np.nan),
            ls="--",
            color=line.get_color(),
            lw=1,
            label=f"layer {k + 1} Gamma_l (C = 1)",
        )
    ax.axvline(cur["d_star"], color="grey", lw=0.8, ls=":", label=f"d* = {cur['d_star']:.2g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("pruning strength d (Algorithm 1)")
    ax.set_ylabel("||A - Ahat||_2")
    ax.set_title(f"Pruning error vs d (h = {record['width']}, {record['dataset']})")
    ax.legend(fontsize=6, ncol=2)
    return _save(fig, out, "pruning_error_vs_d")
