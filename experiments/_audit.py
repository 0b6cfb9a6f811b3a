"""Assumption audit: do the paper's assumptions hold on a trained (and pruned) network?

One function per assumption, each numpy in and a plain (JSON-serialisable) dict out, each naming the
claim it audits; every closed form comes from ``theory`` (none is re-typed here):

- ``gaussianity`` / ``qq_figure`` -- Assumption 3.1 (entries of A^l i.i.d. N(0, Psi_l));
- ``distributed_sparsity``        -- Lemma 5.1 / Definition 5.1 (j_r, j_c of the pruned matrices);
- ``pruning_error``               -- Lemma 4.2 (||A - Ahat||_2 against Gamma_l, Latala's C = 1);
- ``output_change``               -- Lemma B.2 / Lemma 4.3 (||f_Ahat(x) - f_A(x)|| against e||x|| prod sum);
- ``condition_c_1_on_inputs``     -- Condition C.1 / Lemma C.1 on the real layer inputs, with the constants
                                     of the released code (a = b = 1, t from 1 - m exp(-t^2 d_in) = 0.99);
- ``audit_markdown`` renders a section per assumption with a verdict computed from the numbers, and
  ``audit_network`` runs everything and writes the figures.

Matrices are ``outputs x inputs`` (``d1 x d2``) as everywhere in the toolkit; layer inputs have one
sample per row.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
from scipy.sparse.linalg import ArpackError, svds

import theory

from ._measures import sparsity_counts, spectral_norm

#: significance level at which the audit states that a goodness-of-fit test "rejects"
ALPHA = 0.01
#: Latala's universal constant in Gamma_l (unknown; 1 gives the bracket itself, as in experiments._bounds)
LATALA_CONSTANT = 1.0
#: Condition C.1 constants of the released code
CODE_A = 1.0
CODE_B = 1.0
#: t * sqrt(d_in) at which the empirical tail of Condition C.1 is tabulated (both tails depend on t^2 d_in)
T_SCALED_GRID = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
#: at most this many points per Q-Q panel (quantiles of the sorted entries, extremes included)
QQ_POINTS = 2000


# ----------------------------------------------------------------------------------------------------
# input validation
# ----------------------------------------------------------------------------------------------------
def _matrix(a, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D matrix (got shape {arr.shape})")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (got NaN or infinity)")
    return arr


def _matrices(ws, name: str) -> list[np.ndarray]:
    if ws is None or isinstance(ws, np.ndarray) or len(ws) == 0:
        raise ValueError(f"{name} must be a non-empty list of 2-D matrices")
    return [_matrix(w, f"{name}[{k}]") for k, w in enumerate(ws)]


def _pairs(weights, pruned) -> tuple[list[np.ndarray], list[np.ndarray]]:
    ws, ps = _matrices(weights, "weights"), _matrices(pruned, "pruned")
    if len(ws) != len(ps):
        raise ValueError(f"weights has {len(ws)} layers but pruned has {len(ps)}")
    for k, (w, p) in enumerate(zip(ws, ps)):
        if w.shape != p.shape:
            raise ValueError(f"layer {k}: weights has shape {w.shape} but pruned has shape {p.shape}")
    return ws, ps


def _strength(d) -> float:
    # np.isscalar's TypeGuard admits complex and numpy generics, which float()'s stub refuses (float raises or casts)
    value = float(d) if np.isscalar(d) else math.nan  # type: ignore[arg-type]
    if not math.isfinite(value) or not value > 0:
        raise ValueError(f"d (pruning strength) must be a finite number > 0 (got {d!r})")
    return value


def _population_variance(w: np.ndarray, name: str) -> float:
    psi = float(np.var(w))
    if not psi > 0:
        raise ValueError(f"{name}: all entries are equal, so the variance Psi is 0")
    return psi


# ----------------------------------------------------------------------------------------------------
# Assumption 3.1 -- Gaussian entries
# ----------------------------------------------------------------------------------------------------
def gaussianity(w: np.ndarray) -> dict:
    """Assumption 3.1 (claim ``assumption-3.1``): how Gaussian are one layer's entries against N(0, Psi_l)?

    ``Psi_l`` is the entries' population variance (``np.var``, as Algorithm 1 uses).  Returns the
    Kolmogorov-Smirnov statistic ``ks_statistic`` (sup-distance of the empirical CDF from N(0, Psi_l)'s) and
    its p-value ``ks_pvalue``, ``rejects`` (p < ``ALPHA``), the excess kurtosis (0 for a Gaussian), the
    skewness, ``mean_over_std`` (mean / sqrt(Psi); the assumption says 0), ``psi`` and ``n``.

    The p-value is approximate and conservative: Psi is estimated from the same entries, so under the null
    the statistic is stochastically smaller than Kolmogorov's distribution assumes (Lilliefors' problem) and
    the test rejects less often than its nominal level.  A rejection is therefore trustworthy; a
    non-rejection is weak evidence.  With the 10^5-10^7 entries of a trained layer the test detects very
    small departures, so read ``ks_statistic`` (an effect size) and the kurtosis alongside the p-value.
    The test also treats the entries as i.i.d., which the proofs use and the paper does not state.
    """
    arr = np.asarray(w, dtype=np.float64).ravel()
    if arr.size < 8:
        raise ValueError(f"gaussianity needs at least 8 entries (got {arr.size})")
    if not np.isfinite(arr).all():
        raise ValueError("weights must be finite (got NaN or infinity)")
    psi = _population_variance(arr, "weights")
    sd = math.sqrt(psi)
    ks = stats.kstest(arr, "norm", args=(0.0, sd))
    return {
        "n": int(arr.size),
        "psi": psi,
        "ks_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "rejects": bool(ks.pvalue < ALPHA),
        "alpha": ALPHA,
        "excess_kurtosis": float(stats.kurtosis(arr, fisher=True, bias=True)),
        "skewness": float(stats.skew(arr, bias=True)),
        "mean_over_std": float(arr.mean() / sd),
    }


def _save(fig, path_stem: Path) -> list[Path]:
    path_stem = Path(path_stem)
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        final = path_stem.parent / f"{path_stem.name}.{ext}"
        tmp = path_stem.parent / f".{path_stem.name}.tmp.{ext}"
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, final)
        paths.append(final)
    plt.close(fig)
    return paths


def _qq_points(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardised sorted entries w / sqrt(Psi) against N(0, 1) quantiles at (i + 1/2)/n, thinned."""
    z = np.sort(w.ravel() / math.sqrt(_population_variance(w, "weights")))
    n = z.size
    idx = np.unique(np.round(np.linspace(0, n - 1, min(n, QQ_POINTS))).astype(int))
    return stats.norm.ppf((idx + 0.5) / n), z[idx]


def qq_figure(weights: list[np.ndarray], path_stem: Path) -> list[Path]:
    """Assumption 3.1: one Q-Q panel per layer (entries / sqrt(Psi_l) against N(0, 1) quantiles).

    Written as ``path_stem.png`` and ``path_stem.pdf``, each atomically (temporary file, then
    ``os.replace``); returns the two paths.  Points on the diagonal = Gaussian; an S-shape bending away
    from it at the ends = heavier tails than the assumption allows.
    """
    ws = _matrices(weights, "weights")
    cols = min(len(ws), 3)
    rows = math.ceil(len(ws) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.2 * rows), squeeze=False)
    for k, w in enumerate(ws):
        ax = axes[k // cols][k % cols]
        q, z = _qq_points(w)
        ax.plot(q, z, ".", ms=2)
        lim = float(max(np.abs(q).max(), np.abs(z).max()))
        ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8)
        ax.set_title(f"layer {k + 1} ({w.shape[0]}x{w.shape[1]})", fontsize=9)
        ax.set_xlabel("N(0,1) quantile", fontsize=8)
        ax.set_ylabel("entry / sqrt(Psi)", fontsize=8)
    for k in range(len(ws), rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle("Assumption 3.1: Q-Q plots of the weights against N(0, Psi_l)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path_stem)


# ----------------------------------------------------------------------------------------------------
# Lemma 5.1 -- distributed sparsity
# ----------------------------------------------------------------------------------------------------
def distributed_sparsity(pruned: list[np.ndarray], d: float, epsilon: float = 0.05) -> list[dict]:
    """Lemma 5.1 / Definition 5.1 (claim ``lemma-5.1``): per pruned layer, the measured ``j_r`` (most
    nonzeros in a row), ``j_c`` (in a column) and whether the diagonal is all nonzero, against the
    lemma's expected counts (``theory.lemma_5_1_expected_row_nonzeros`` / ``_col_``) and its
    probability-(1 - epsilon) bounds (``theory.lemma_5_1_row_bound`` / ``_col_bound``), for a layer pruned
    by Algorithm 1 at strength ``d`` with the diagonal kept.  ``distributed_sparse`` = both within the
    bounds and the diagonal all nonzero.
    """
    ps = _matrices(pruned, "pruned")
    d = _strength(d)
    out = []
    for k, p in enumerate(ps):
        d1, d2 = p.shape
        c = sparsity_counts(p)
        er = float(theory.lemma_5_1_expected_row_nonzeros(d1, d2, d))
        ec = float(theory.lemma_5_1_expected_col_nonzeros(d1, d2, d))
        br = float(theory.lemma_5_1_row_bound(d1, d2, d, epsilon))
        bc = float(theory.lemma_5_1_col_bound(d1, d2, d, epsilon))
        row_ok, col_ok = c["max_row"] <= br, c["max_col"] <= bc
        out.append(
            {
                "layer": k + 1,
                "d1": int(d1),
                "d2": int(d2),
                "d": d,
                "epsilon": float(epsilon),
                "nonzeros": c["nonzeros"],
                "j_r": c["max_row"],
                "j_c": c["max_col"],
                "expected_j_r": er,
                "expected_j_c": ec,
                "j_r_bound": br,
                "j_c_bound": bc,
                "j_r_within_bound": bool(row_ok),
                "j_c_within_bound": bool(col_ok),
                "diagonal_nonzero": c["diagonal_nonzero"],
                "distributed_sparse": bool(row_ok and col_ok and c["diagonal_nonzero"]),
            }
        )
    return out


# ----------------------------------------------------------------------------------------------------
# Lemma 4.2 -- pruning error
# ----------------------------------------------------------------------------------------------------
def pruning_error(weights: list[np.ndarray], pruned: list[np.ndarray], d: float) -> list[dict]:
    """Lemma 4.2 (claim ``lemma-4.2``): per layer the measured ``||A - Ahat||_2`` against
    ``Gamma_l = theory.lemma_4_2_gamma(d1, d2, d, Psi_l, C=1)`` (Latala's bracket with C = 1; Psi_l = the
    population variance of A_l) and their ratio.  Lemma 4.2 says ``||A - Ahat|| <= lambda Gamma`` with
    probability >= 1 - 1/lambda for Latala's (unknown) C, so the ratio is the lambda (times C) one draw
    needed; a ratio well below 1 means the bracket is loose, above 1 means C = 1 is too small.
    """
    ws, ps = _pairs(weights, pruned)
    d = _strength(d)
    out = []
    for k, (w, p) in enumerate(zip(ws, ps)):
        d1, d2 = w.shape
        psi = _population_variance(w, f"weights[{k}]")
        err = spectral_norm(w - p)
        gam = float(theory.lemma_4_2_gamma(d1, d2, d, psi, LATALA_CONSTANT))
        s = spectral_norm(w)
        out.append(
            {
                "layer": k + 1,
                "d1": int(d1),
                "d2": int(d2),
                "d": d,
                "psi": psi,
                "spectral": s,
                "delta_spectral": err,
                "gamma_latala_C1": gam,
                "ratio": err / gam,
                "relative_error": err / s if s > 0 else float("nan"),
            }
        )
    return out


# ----------------------------------------------------------------------------------------------------
# Lemma B.2 / 4.3 -- output change
# ----------------------------------------------------------------------------------------------------
def output_change(
    forward: Callable[[list[np.ndarray], np.ndarray], np.ndarray],
    weights: list[np.ndarray],
    pruned: list[np.ndarray],
    x: np.ndarray,
) -> dict:
    """Lemma B.2 / Lemma 4.3 (claims ``lemma-b.2``, ``lemma-4.3``): the measured output change of the pruned
    network against the perturbation bound with ``U_l = Ahat_l - A_l``.

    ``forward(matrices, x)`` returns the network's outputs (one row per row of ``x``) with the given weight
    matrices.  For each sample the left side is ``||f_Ahat(x) - f_A(x)||_2`` and the right side
    ``theory.lemma_b_2_bound(S_l=||A_l||_2, U_l=||U_l||_2, x_norm=||x||)``; reports the max and median of
    lhs / rhs, the largest change, and whether B.2's condition ``theory.lemma_b_2_condition`` holds (where it
    does, the ratio must stay <= 1 for a bias-free ReLU network).  The lemma is for networks without biases:
    with biases (the paper's model) the comparison is indicative only, since a bias is a column of A acting
    on an input coordinate fixed at 1 that ``||x||`` does not count.  Samples with ``x = 0`` have rhs = 0 and
    are left out of the ratios (counted in ``zero_input_samples``).
    """
    ws, ps = _pairs(weights, pruned)
    x = _matrix(x, "x")
    if x.shape[1] != ws[0].shape[1]:
        raise ValueError(f"x has {x.shape[1]} features but the first layer takes {ws[0].shape[1]}")
    for k in range(1, len(ws)):
        if ws[k].shape[1] != ws[k - 1].shape[0]:
            raise ValueError(
                f"layer {k + 1} takes {ws[k].shape[1]} inputs but layer {k} has {ws[k - 1].shape[0]} outputs"
            )
    f_a = np.asarray(forward(ws, x), dtype=np.float64)
    f_p = np.asarray(forward(ps, x), dtype=np.float64)
    if f_a.shape != f_p.shape or f_a.ndim != 2 or f_a.shape[0] != x.shape[0]:
        raise ValueError(
            f"forward must return one output row per sample (got shapes {f_a.shape}, {f_p.shape} "
            f"for {x.shape[0]} samples)"
        )
    lhs = np.linalg.norm(f_p - f_a, axis=1)
    x_norm = np.linalg.norm(x, axis=1)
    S = np.array([spectral_norm(w) for w in ws])
    if not np.all(S > 0):
        raise ValueError("every weight matrix must be nonzero (its spectral norm is 0)")
    U = np.array([spectral_norm(p - w) for w, p in zip(ws, ps)])
    cond = np.asarray(theory.lemma_b_2_condition(S, U), dtype=bool)
    nz = x_norm > 0
    rhs = np.zeros_like(lhs)
    for i in np.flatnonzero(nz):
        rhs[i] = theory.lemma_b_2_bound(S_l=S, U_l=U, x_norm=float(x_norm[i]))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(lhs[nz] == 0, 0.0, lhs[nz] / rhs[nz])
    has = ratio.size > 0
    return {
        "n_samples": int(x.shape[0]),
        "zero_input_samples": int((~nz).sum()),
        "spectral_l": S.tolist(),
        "perturbation_l": U.tolist(),
        "condition_per_layer": cond.tolist(),
        "condition_holds": bool(cond.all()),
        "max_change": float(lhs.max()),
        "median_change": float(np.median(lhs)),
        "max_bound": float(rhs.max()),
        "median_bound": float(np.median(rhs[nz])) if has else float("nan"),
        "max_ratio": float(ratio.max()) if has else float("nan"),
        "median_ratio": float(np.median(ratio)) if has else float("nan"),
        "fraction_within_bound": float(np.mean(ratio <= 1)) if has else float("nan"),
    }


# ----------------------------------------------------------------------------------------------------
# Condition C.1 -- the layer inputs' tail
# ----------------------------------------------------------------------------------------------------
def _top_right_singular_vector(a: np.ndarray) -> np.ndarray:
    if min(a.shape) <= 2 or a.size <= 400:
        return np.linalg.svd(a)[2][0]
    v0 = np.random.default_rng(0).standard_normal(min(a.shape))
    try:
        _, _, vt = svds(a, k=1, tol=1e-10, v0=v0, solver="arpack")
        return vt[0]
    except ArpackError:
        return np.linalg.svd(a)[2][0]


def _sphere_tail(t: float, n: int) -> float:
    # |<v, x>| <= 1 on the unit sphere: for t >= 1 the tail is 0; below float64's range it is reported as 0
    try:
        return float(theory.condition_c_1_sphere_tail(t, n)) if t < 1 else 0.0
    except theory.Float64RangeError:
        return 0.0


def _assumed_tail(t: float, d_in: int) -> float:
    """The assumed tail a exp(-b t^2 d_in) with the released code's constants; 0.0 where it underflows float64."""
    try:
        return float(theory.condition_c_1_tail(t, d_in, CODE_A, CODE_B))
    except theory.Float64RangeError:
        return 0.0


def _tail_row(proj: np.ndarray, t: float, d_in: int) -> dict:
    return {
        "t": float(t),
        "t_sqrt_d_in": float(t * math.sqrt(d_in)),
        "empirical_tail": float(np.mean(proj >= t)),
        "violation_fraction": float(np.mean(proj > t)),
        "violations": int(np.sum(proj > t)),
        "assumed_tail": _assumed_tail(t, d_in),
        "sphere_tail": _sphere_tail(t, d_in),
    }


def condition_c_1_on_inputs(
    weights: list[np.ndarray], layer_inputs: list[np.ndarray], m: int, n_random: int = 3, seed: int = 0
) -> list[dict]:
    """Condition C.1 / Lemma C.1 (claims ``condition-c.1``, ``lemma-c.1``) on the real layer inputs.

    ``layer_inputs[l]`` holds the inputs of layer l, one sample per row (``d_in = weights[l].shape[1]``
    columns); ``m`` is the training-set size the released code plugs into its t.  For the top right singular
    vector of A_l (``vector = "top-singular"``) and ``n_random`` seeded random unit vectors, with
    ``proj = |<v, x/||x||>|`` over the inputs (rows with x = 0 are left out: C.1's conclusion holds there
    trivially):

    - at the code's ``t = theory.condition_c_1_t_code(m, d_in)`` and at ``t = s / sqrt(d_in)`` for s in
      ``T_SCALED_GRID``: the empirical ``P(proj >= t)``, the code's assumed tail
      ``theory.condition_c_1_tail(t, n=d_in, a=1, b=1)`` and the exact tail for inputs uniform on the sphere
      ``theory.condition_c_1_sphere_tail(t, d_in)`` (0 for t >= 1), and the fraction/number of inputs that
      violate ``proj <= t``.  The code's "99%" event needs 0 violations over the whole training set;
    - ``kappa = theory.condition_c_1_kappa(t_code, rank A_l)`` and, as a direct check of Lemma C.1's
      conclusion, ``max_gain = max_x ||A_l x|| / (||A_l|| ||x||)`` (C.1 claims it is <= kappa).
    """
    ws = _matrices(weights, "weights")
    if layer_inputs is None or isinstance(layer_inputs, np.ndarray) or len(layer_inputs) != len(ws):
        raise ValueError(f"layer_inputs must be a list with one input matrix per layer ({len(ws)})")
    if not (isinstance(m, (int, np.integer)) and m >= 1):
        raise ValueError(f"m (training-set size) must be a positive integer (got {m!r})")
    rng = np.random.default_rng(seed)
    out = []
    for k, (w, xin) in enumerate(zip(ws, layer_inputs)):
        xin = _matrix(xin, f"layer_inputs[{k}]")
        d_in = int(w.shape[1])
        if xin.shape[1] != d_in:
            raise ValueError(f"layer_inputs[{k}] has {xin.shape[1]} columns but layer {k + 1} takes {d_in} inputs")
        if d_in < 2:
            raise ValueError(f"layer {k + 1}: Condition C.1 needs an input dimension >= 2 (got {d_in})")
        norms = np.linalg.norm(xin, axis=1)
        keep = norms > 0
        if not keep.any():
            raise ValueError(f"layer_inputs[{k}]: every input is zero")
        xhat = xin[keep] / norms[keep, None]
        rank = int(np.linalg.matrix_rank(w))
        if rank == 0:
            raise ValueError(f"weights[{k}] is zero (rank 0)")
        t_code = float(theory.condition_c_1_t_code(int(m), d_in))
        kappa = float(theory.condition_c_1_kappa(t_code, rank))
        s = spectral_norm(w)
        gain = float((np.linalg.norm(xhat @ w.T, axis=1) / s).max())
        vectors = [("top-singular", _top_right_singular_vector(w))]
        for j in range(n_random):
            v = rng.standard_normal(d_in)
            vectors.append((f"random-{j + 1}", v / np.linalg.norm(v)))
        grid = [g / math.sqrt(d_in) for g in T_SCALED_GRID]
        rows: list[dict[str, Any]] = []
        for name, v in vectors:
            proj = np.abs(xhat @ v)
            rows.append(
                {
                    "vector": name,
                    "max_projection": float(proj.max()),
                    "at_t_code": _tail_row(proj, t_code, d_in),
                    "grid": [_tail_row(proj, t, d_in) for t in grid],
                }
            )
        out.append(
            {
                "layer": k + 1,
                "d_in": int(d_in),
                "m": int(m),
                "n_inputs": int(xin.shape[0]),
                "zero_inputs": int((~keep).sum()),
                "rank": rank,
                "t_code": t_code,
                "assumed_tail_at_t_code": _assumed_tail(t_code, d_in),
                "sphere_tail_at_t_code": _sphere_tail(t_code, d_in),
                "kappa": kappa,
                "max_gain": gain,
                "kappa_holds": bool(gain <= kappa * (1 + 1e-12)),
                "code_event_holds": bool(all(r["at_t_code"]["violations"] == 0 for r in rows)),
                "vectors": rows,
            }
        )
    return out


# ----------------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------------
def _g(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if math.isnan(v):
        return "nan"
    return f"{v:.{digits}g}"


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    # a literal "|" inside a cell must be written "\|" (headers escape their own norm bars)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_g(c) if not isinstance(c, str) else c for c in r) + " |" for r in rows]
    return lines


def _span(values) -> str:
    vals = [float(v) for v in values]
    lo, hi = min(vals), max(vals)
    return _g(lo) if lo == hi else f"{_g(lo)} to {_g(hi)}"


def _section_gaussianity(res: list[dict]) -> list[str]:
    rows = [
        (
            r.get("layer", k + 1),
            r["n"],
            r["psi"],
            r["ks_statistic"],
            r["ks_pvalue"],
            r["excess_kurtosis"],
            r["skewness"],
            r["mean_over_std"],
        )
        for k, r in enumerate(res)
    ]
    n_rej = sum(r["rejects"] for r in res)
    verdict = (
        f"The KS test against N(0, Psi_l) rejects normality in {n_rej}/{len(res)} layers at "
        f"{ALPHA:.0%} (a conservative test, Psi estimated); "
        f"KS distance {_span(r['ks_statistic'] for r in res)}, "
        f"excess kurtosis {_span(r['excess_kurtosis'] for r in res)} (0 for a Gaussian), "
        f"|mean|/std up to {_g(max(abs(r['mean_over_std']) for r in res))}. "
        + (
            "Assumption 3.1 is not supported by these weights."
            if n_rej
            else "These weights are consistent with Assumption 3.1 at this sample size."
        )
    )
    return (
        ["## Assumption 3.1: Gaussian weights", ""]
        + _table(["layer", "n", "Psi", "KS D", "KS p", "excess kurtosis", "skewness", "mean/std"], rows)
        + ["", verdict, ""]
    )


def _section_sparsity(res: list[dict]) -> list[str]:
    rows = [
        (
            r["layer"],
            f"{r['d1']}x{r['d2']}",
            r["nonzeros"],
            r["j_r"],
            r["expected_j_r"],
            r["j_r_bound"],
            r["j_c"],
            r["expected_j_c"],
            r["j_c_bound"],
            r["diagonal_nonzero"],
            r["distributed_sparse"],
        )
        for r in res
    ]
    ok = sum(r["distributed_sparse"] for r in res)
    over_r = [r["j_r"] / r["j_r_bound"] for r in res]
    over_c = [r["j_c"] / r["j_c_bound"] for r in res]
    eps = res[0]["epsilon"] if res else float("nan")
    verdict = (
        f"{ok}/{len(res)} pruned layers are distributed-sparse within Lemma 5.1's probability-"
        f"{1 - eps:.2g} bounds (d = {_g(res[0]['d'])}); measured j_r / bound {_span(over_r)}, "
        f"j_c / bound {_span(over_c)}; diagonal all nonzero in "
        f"{sum(r['diagonal_nonzero'] for r in res)}/{len(res)} layers."
    )
    return (
        ["## Lemma 5.1: distributed sparsity of the pruned matrices", ""]
        + _table(
            [
                "layer",
                "shape",
                "nonzeros",
                "j_r",
                "E j_r",
                "j_r bound",
                "j_c",
                "E j_c",
                "j_c bound",
                "diag nonzero",
                "distributed sparse",
            ],
            rows,
        )
        + ["", verdict, ""]
    )


def _section_pruning(res: list[dict]) -> list[str]:
    rows = [
        (
            r["layer"],
            f"{r['d1']}x{r['d2']}",
            r["psi"],
            r["spectral"],
            r["delta_spectral"],
            r["gamma_latala_C1"],
            r["ratio"],
        )
        for r in res
    ]
    ratios = [r["ratio"] for r in res]
    above = sum(q > 1 for q in ratios)
    verdict = f"Measured ||A - Ahat||_2 / Gamma_l (Latala's C = 1) is {_span(ratios)}: " + (
        f"{above}/{len(res)} layers exceed the C = 1 bracket, so Lemma 4.2 needs C > 1 (or lambda > 1) there."
        if above
        else f"every layer is within the C = 1 bracket; the bracket overestimates the error by a factor "
        f"{_span(1 / q for q in ratios if q > 0) if any(q > 0 for q in ratios) else 'inf'}."
    )
    return (
        ["## Lemma 4.2: pruning error against Gamma_l", ""]
        + _table(["layer", "shape", "Psi", r"\|A\|_2", r"\|A - Ahat\|_2", "Gamma_l (C=1)", "ratio"], rows)
        + ["", verdict, ""]
    )


def _section_output(r: dict) -> list[str]:
    rows = [
        (k + 1, s, u, c)
        for k, (s, u, c) in enumerate(zip(r["spectral_l"], r["perturbation_l"], r["condition_per_layer"]))
    ]
    cond = (
        "holds"
        if r["condition_holds"]
        else (
            f"fails in {sum(not c for c in r['condition_per_layer'])}/{len(rows)} layers "
            "(the bound is then not guaranteed)"
        )
    )
    verdict = (
        f"Over {r['n_samples']} samples the largest output change is {_g(r['max_change'])} against a bound "
        f"of up to {_g(r['max_bound'])}; lhs/rhs has median {_g(r['median_ratio'])} and maximum "
        f"{_g(r['max_ratio'])} ({_g(100 * r['fraction_within_bound'])}% of samples within the bound). "
        f"Lemma B.2's condition ||U_l|| <= ||A_l||/L {cond}."
    )
    return (
        ["## Lemma 4.3: output change of the pruned network", ""]
        + _table(["layer", r"\|A_l\|_2", r"\|U_l\|_2", "B.2 condition"], rows)
        + [
            "",
            "| samples | max change | median change | max bound | median ratio | max ratio |",
            "|---|---|---|---|---|---|",
            (
                f"| {r['n_samples']} | {_g(r['max_change'])} | {_g(r['median_change'])} | {_g(r['max_bound'])} | "
                f"{_g(r['median_ratio'])} | {_g(r['max_ratio'])} |"
            ),
            "",
            verdict,
            "",
        ]
    )


def _section_c1(res: list[dict]) -> list[str]:
    rows = []
    for r in res:
        top = next(v for v in r["vectors"] if v["vector"] == "top-singular")
        rnd = [v["at_t_code"]["violation_fraction"] for v in r["vectors"] if v["vector"] != "top-singular"]
        rows.append(
            (
                r["layer"],
                r["d_in"],
                r["n_inputs"],
                r["rank"],
                r["t_code"],
                r["assumed_tail_at_t_code"],
                r["sphere_tail_at_t_code"],
                top["at_t_code"]["violation_fraction"],
                max(rnd) if rnd else None,
                r["kappa"],
                r["max_gain"],
            )
        )
    broken = [r["layer"] for r in res if not r["code_event_holds"]]
    gain_bad = [r["layer"] for r in res if not r["kappa_holds"]]
    verdict = (
        f"At the released code's t (a = b = 1, m = {res[0]['m']}), the event |<v, x/||x||>| <= t, which the "
        f"code needs for every training input, fails for some input in {len(broken)}/{len(res)} layers"
        + (f" (layers {', '.join(map(str, broken))})" if broken else "")
        + f"; the measured max ||A x|| / (||A|| ||x||) exceeds kappa in {len(gain_bad)}/{len(res)} layers. "
        f"Top-singular-vector violation fractions {_span(row[7] for row in rows)} against the assumed tail "
        f"{_span(row[5] for row in rows)} (the sphere's exact tail: {_span(row[6] for row in rows)})."
    )
    lines = (
        ["## Condition C.1: tail of the normalised layer inputs", ""]
        + _table(
            [
                "layer",
                "d_in",
                "inputs",
                "rank",
                "t (code)",
                "assumed tail",
                "sphere tail",
                "violation fraction (top v)",
                "violation fraction (random v, max)",
                "kappa",
                "max gain",
            ],
            rows,
        )
        + ["", verdict, ""]
    )
    # the tail against t for the top singular vector of each layer
    lines += ["Empirical P(|<v, x/||x||>| >= t) for the top right singular vector, against t sqrt(d_in):", ""]
    grid = res[0]["vectors"][0]["grid"]
    header = ["layer"] + [f"s={_g(g['t_sqrt_d_in'])}" for g in grid]
    trows = []
    for r in res:
        top = next(v for v in r["vectors"] if v["vector"] == "top-singular")
        trows.append(
            [str(r["layer"])]
            + [
                f"{_g(g['empirical_tail'])} (assumed {_g(g['assumed_tail'])}, sphere {_g(g['sphere_tail'])})"
                for g in top["grid"]
            ]
        )
    return lines + _table(header, trows) + [""]


def audit_markdown(results: dict) -> str:
    """The audit as Markdown: a section per assumption (Assumption 3.1, Lemma 5.1, Lemma 4.2, Lemma 4.3,
    Condition C.1), each with a table and a verdict sentence computed from the numbers.  ``results`` is
    ``audit_network``'s dict (any of the keys ``gaussianity``, ``distributed_sparsity``, ``pruning_error``,
    ``output_change``, ``condition_c_1`` and ``figures`` may be present; missing sections say so)."""
    if not isinstance(results, dict):
        raise ValueError("results must be the dict returned by audit_network")
    lines = ["# Assumption audit", ""]
    figs = results.get("figures", {})
    parts: list[tuple[str, str, Callable[[Any], list[str]]]] = [
        ("gaussianity", "## Assumption 3.1: Gaussian weights", _section_gaussianity),
        ("distributed_sparsity", "## Lemma 5.1: distributed sparsity of the pruned matrices", _section_sparsity),
        ("pruning_error", "## Lemma 4.2: pruning error against Gamma_l", _section_pruning),
        ("output_change", "## Lemma 4.3: output change of the pruned network", _section_output),
        ("condition_c_1", "## Condition C.1: tail of the normalised layer inputs", _section_c1),
    ]
    fig_for = {"gaussianity": "qq", "pruning_error": "pruning_error"}
    for key, heading, render in parts:
        value = results.get(key)
        if not value:
            lines += [heading, "", "Not audited (no data).", ""]
            continue
        lines += render(value)
        fk = fig_for.get(key)
        if fk and figs.get(fk):
            png = next((p for p in figs[fk] if str(p).endswith(".png")), figs[fk][0])
            lines += [f"![{fk}]({Path(png).name})", ""]
    return "\n".join(lines)


def _pruning_error_figure(res: list[dict], path_stem: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(4.6, 4))
    g = np.array([r["gamma_latala_C1"] for r in res])
    e = np.array([r["delta_spectral"] for r in res])
    ax.scatter(g, e, zorder=3)
    for r in res:
        ax.annotate(
            f"{r['layer']}",
            (r["gamma_latala_C1"], r["delta_spectral"]),
            fontsize=8,
            xytext=(3, 3),
            textcoords="offset points",
        )
    pos = np.concatenate([g[g > 0], e[e > 0]])
    lo, hi = (pos.min() / 2, pos.max() * 2) if pos.size else (1e-3, 1.0)
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="||A - Ahat|| = Gamma (C = 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Gamma_l (Lemma 4.2, C = 1)")
    ax.set_ylabel("measured ||A - Ahat||_2")
    ax.set_title(f"Lemma 4.2: pruning error per layer (d = {_g(res[0]['d'])})", fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path_stem)


def audit_network(
    weights: list[np.ndarray],
    pruned: list[np.ndarray],
    d: float,
    forward: Callable[[list[np.ndarray], np.ndarray], np.ndarray],
    x_sample: np.ndarray,
    layer_inputs: list[np.ndarray],
    m: int,
    out_dir: Path,
) -> dict:
    """Run the whole audit on one trained network and its Algorithm-1 pruning at strength ``d``.

    ``x_sample``: network inputs (rows) for the output-change check; ``layer_inputs``: per layer, the inputs
    that layer sees (rows), for Condition C.1; ``m``: the training-set size.  Writes ``qq_weights.{png,pdf}``
    and ``pruning_error.{png,pdf}`` into ``out_dir`` and returns a JSON-serialisable dict with the keys
    ``gaussianity``, ``distributed_sparsity``, ``pruning_error``, ``output_change``, ``condition_c_1``,
    ``figures`` (paths as strings), ``d`` and ``m``.
    """
    ws, ps = _pairs(weights, pruned)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {
        "d": _strength(d),
        "m": int(m),
        "gaussianity": [{"layer": k + 1, **gaussianity(w)} for k, w in enumerate(ws)],
        "distributed_sparsity": distributed_sparsity(ps, d),
        "pruning_error": pruning_error(ws, ps, d),
        "output_change": output_change(forward, ws, ps, x_sample),
        "condition_c_1": condition_c_1_on_inputs(ws, layer_inputs, m),
    }
    res["figures"] = {
        "qq": [str(p) for p in qq_figure(ws, out_dir / "qq_weights")],
        "pruning_error": [str(p) for p in _pruning_error_figure(res["pruning_error"], out_dir / "pruning_error")],
    }
    return res
