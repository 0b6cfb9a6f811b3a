"""Every bound of the paper evaluated on measured quantities.  The only module of ``experiments`` that
calls ``theory`` for bound formulas; it re-types none of them.

All values are reported as log10 (key suffix ``_log10``); natural logs are used inside the formulas.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

import numerics
import theory

from ._measures import layer_measures, margin_loss, sparsity_counts, spectral_norm
from ._settings import TOOLKIT, Protocol

#: how the toolkit's search prunes: "fast" = numerics.PruningPath (one draw per entry, sparse differences,
#: certified bounds to skip norms that cannot change a decision); "dense" = the reference it is tested
#: against: Algorithm 1 afresh and a dense spectral norm of every layer at every step (same numbers)
SEARCH_PATH = "fast"
#: relative slack on the certified bounds of gamma*(d) (covers the Lanczos tolerance 1e-10 and rounding)
BOUND_SLACK = 1e-8

#: Theorem 5.1's sketch constant used in the rigorous count (stated; numerics measures ~0.7-1.4 at p <= 32)
SKETCH_CONSTANT = 1.0
#: Latala's universal constant C in Gamma_l (unknown; 1 gives the bracket itself)
LATALA_CONSTANT = 1.0
#: levels of the fallback rounding grid when no rho satisfies Lemma B.2's condition (16-bit values)
FALLBACK_LEVELS = 2**16


@dataclass
class BisectionResult:
    d: float
    gamma_star: float
    iterations: int
    status: str  # "root", "below-target-at-max" (prunes as much as allowed), "above-target-at-min"


def bisect_strength(
    gamma_star: Callable[[float], float],
    target: float,
    lo: float = 1e-12,
    hi: float = 10.0,
    rtol: float = 1e-3,
    max_iter: int = 80,
    bounds: Callable[[float], tuple[float, float]] | None = None,
) -> BisectionResult:
    """paper-compatible-ours: the d in [lo, hi] with gamma*(d) = target, for gamma* increasing in d
    (common random numbers make it so).  The authors bisect on [0, 10]; d = 0 prunes nothing, and on trained
    networks the root can sit many decades below 1, so the midpoint is geometric (bisection on log d).
    Returns the end point, with a status, when no root is bracketed.

    ``bounds(d)``, when given, returns certified ``(lower, upper)`` bounds on the value ``gamma_star(d)``
    returns; where they already decide ``gamma_star(d) <= target`` the value is not computed (only the final
    lower end's value is).  Every comparison then comes out as without them, so the result (d, gamma*, the
    iteration count, the status) is the same.  Raises ValueError for a target that is not > 0."""
    if not target > 0:
        raise ValueError(f"target margin must be > 0 (got {target})")

    def at_or_below(dv: float) -> tuple[bool, float | None]:
        if bounds is not None:
            lower, upper = bounds(dv)
            if lower > target:
                return False, None
            if upper <= target:
                return True, None
        g = gamma_star(dv)
        return g <= target, g

    below, g_hi = at_or_below(hi)
    if below:
        return BisectionResult(hi, gamma_star(hi) if g_hi is None else g_hi, 1, "below-target-at-max")
    below, g_lo = at_or_below(lo)
    if not below:
        return BisectionResult(lo, gamma_star(lo) if g_lo is None else g_lo, 2, "above-target-at-min")
    it = 2
    while it < max_iter and (hi - lo) > rtol * hi:
        mid = math.sqrt(lo * hi)
        below, g = at_or_below(mid)
        it += 1
        if below:
            lo, g_lo = mid, g
        else:
            hi = mid
    return BisectionResult(lo, gamma_star(lo) if g_lo is None else g_lo, it, "root")


def _log10(value: float) -> float:
    return math.log10(value) if value > 0 else float("-inf")


def _log10_plus(a: float, log10_b: float) -> float:
    """log10(a + 10**log10_b) for a >= 0 without forming 10**log10_b (which may exceed float64)."""
    if a <= 0:
        return float(log10_b)
    big, small = max(math.log10(a), log10_b), min(math.log10(a), log10_b)
    return big + math.log10(1.0 + 10.0 ** (small - big))


class NoMarginError(ValueError):
    """No positive margin is left to bound with (toolkit protocol: more than 10% of the training points are
    misclassified).  The message says what the network does, not what to do about it: the caller knows whether
    the network was trained here (train longer) or elsewhere."""


def choose_gamma(train_margins: np.ndarray, protocol: Protocol = TOOLKIT) -> tuple[float, str]:
    """The margin gamma the baselines use (same units as the logits), with the rule that chose it.

    Both protocols take the minimum training margin when it is positive (the authors' code).  When it is <= 0
    (the network misclassifies a training point): the toolkit uses the 10th percentile (:class:`NoMarginError`,
    a ValueError, when that is <= 0 too: more than 10% misclassified); the released code sets gamma = 0, so every
    margin bound is infinite and the caller reports them as not computable.  Raises ValueError for NaN margins
    (non-finite outputs)."""
    values = np.asarray(train_margins, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("the training margins are not finite (the network's outputs are NaN or infinite)")
    g = float(np.min(values))
    if g > 0:
        return g, "minimum training margin"
    if not protocol.gamma_fallback:
        return 0.0, "minimum training margin <= 0: the released code sets gamma = 0 (every margin bound infinite)"
    q = float(np.quantile(values, 0.1))
    if q <= 0:
        wrong = float(np.mean(values <= 0))
        raise NoMarginError(
            f"the network misclassifies {wrong:.1%} of its training points (more than 10%), so no positive margin "
            "is left to bound with"
        )
    return q, "10th percentile of training margins (the minimum is <= 0)"


def prune_network(weights: list[np.ndarray], d: float, seed: int, prune_diagonal: bool = False):
    """Algorithm 1 on every layer with one generator per layer seeded from (seed, layer)
    (``numerics.layer_generator``: ``np.random.default_rng([seed, k])`` for numpy arrays)."""
    out = []
    for k, w in enumerate(weights):
        pruned, _ = numerics.algorithm_1(
            w, d, prune_diagonal=prune_diagonal, generator=numerics.layer_generator(w, seed, k)
        )
        out.append(pruned)
    return out


class DenseReferencePath:
    """The reference the fast search is tested against (``SEARCH_PATH = "dense"``): at every query Algorithm 1
    afresh on every layer (:func:`prune_network`) and a dense spectral norm of every ``A - Ahat``; the same
    queries as ``numerics.PruningPath`` without its certified bounds."""

    def __init__(self, weights: list[np.ndarray], seed: int, prune_diagonal: bool = False):
        self.weights, self.seed, self.prune_diagonal = weights, seed, prune_diagonal
        self._last: tuple[float, list[np.ndarray]] | None = None

    def pruned(self, d: float) -> list[np.ndarray]:
        """algorithm-1: Ahat_l(d) per layer, shapes and types of the weights (ValueError for a bad d)."""
        if self._last is None or self._last[0] != d:  # the last strength's matrices are reused, as before
            self._last = (d, prune_network(self.weights, d, self.seed, self.prune_diagonal))
        return self._last[1]

    def difference_norms(self, d: float) -> np.ndarray:
        """||A_l - Ahat_l(d)||_2 per layer (shape (L,), units of the weights), dense Lanczos."""
        return np.array([spectral_norm(w - p) for w, p in zip(self.weights, self.pruned(d))])

    def counts(self, d: float) -> list[dict]:
        """Per layer: nonzeros, fullest row and column, whether the diagonal is nonzero (sparsity_counts)."""
        return [sparsity_counts(p) for p in self.pruned(d)]

    difference_norm_bounds = None


def _pruning_path(weights, seed: int, prune_diagonal: bool):
    """The pruning path ``SEARCH_PATH`` names for (weights, seed, prune_diagonal)."""
    if SEARCH_PATH == "dense":
        return DenseReferencePath(weights, seed, prune_diagonal)
    return numerics.PruningPath(weights, seed, prune_diagonal=prune_diagonal)


def compute_bounds(
    weights: list[np.ndarray],
    init_weights: list[np.ndarray] | None,
    train_margins: np.ndarray,
    margins_of: Callable[[list[np.ndarray]], np.ndarray],
    x_max: float,
    x_norm_total: float,
    m: int,
    delta: float = 0.01,
    seed: int = 0,
    prune_diagonal: bool = False,
    error_curve: bool = False,
    protocol: Protocol = TOOLKIT,
    test_margins_of: Callable[[list[np.ndarray]], np.ndarray] | None = None,
    n_params: int | None = None,
) -> dict:
    """All bounds for one trained network (every ``*_log10`` key is a base-10 logarithm; natural logs inside
    the formulas).

    ``weights``: trained matrices (outputs x inputs, float64); ``init_weights``: W0, the reference of the
    literature's Bartlett bound and of the measures convention (None -> 0, and the measures-convention forms
    are skipped); ``train_margins``: margins of the unpruned net on the m training points (logit units);
    ``margins_of(ws)``: training margins of the network with matrices ``ws`` (biases unchanged);
    ``test_margins_of(ws)``: the same on the test set (gives the pruned network's test error, the paper's "True
    error"); ``x_max`` = max ||x||, ``x_norm_total`` = sqrt(sum ||x_i||^2); ``n_params``: weights and biases
    (default: one bias per output unit).  ``protocol`` fixes the tie rule, kappa_l, the search of the pruning
    strength, the diagonal and the margin rule (:mod:`experiments._settings`); under the authors' protocol the
    headline "Ours" is the released code's search and the toolkit's search is recorded beside it
    (``search_toolkit``).  Returns a flat dict of measures and log10 bounds; with ``error_curve`` also
    ``pruning_error_vs_d`` (see :func:`pruning_error_curve`).  Raises ValueError when no margin is left to bound
    with (toolkit protocol) or the margins are not finite.
    """
    tie = protocol.tie_is_error
    L = len(weights)
    references: Sequence[np.ndarray | None] = init_weights if init_weights else [None] * L
    layers = [layer_measures(w, None if init_weights is None else iw) for w, iw in zip(weights, references)]
    S = np.array([lay["spectral"] for lay in layers])
    F = np.array([lay["frobenius"] for lay in layers])
    d1 = np.array([lay["d1"] for lay in layers])
    d2 = np.array([lay["d2"] for lay in layers])
    gamma, gamma_rule = choose_gamma(train_margins, protocol)
    rhat_gamma = margin_loss(train_margins, gamma, tie)
    if protocol.kappa == "authors":
        from ._authors import authors_kappa

        kappa = authors_kappa([(int(a), int(b)) for a, b in zip(d1, d2)], m)
    else:
        kappa = np.ones(L)
    out: dict = {
        "protocol": protocol.name,
        "gamma": gamma,
        "gamma_rule": gamma_rule,
        "rhat_gamma": rhat_gamma,
        "m": m,
        "delta": delta,
        "x_max": x_max,
        "train_error": margin_loss(train_margins, 0.0, tie),
        "train_margin_min": float(np.min(train_margins)),
        "train_margin_percentiles": {str(q): float(np.quantile(train_margins, q / 100)) for q in (1, 5, 10, 25, 50)},
        "kappa": [float(k) for k in kappa],
        "layers": layers,
    }

    # --- baselines: the authors' computed forms, the literature's, and the measures convention -----------
    if gamma > 0:
        out["neyshabur_2015_code_log10"] = theory.neyshabur_2015_code.log10(F_l=F, gamma=gamma)
        out["bartlett_2017_code_log10"] = theory.bartlett_2017_code.log10(
            S_l=S, lpq_l=[lay["lpq_1_2"] for lay in layers], gamma=gamma
        )
        out["neyshabur_2017_code_log10"] = theory.neyshabur_2017_code.log10(S_l=S, F_l=F, h_l=d2, gamma=gamma)
        lit = {  # log10 faces: the values can exceed float64 (deep or wide networks), their logs cannot
            "neyshabur_2015_literature": theory.neyshabur_2015_literature.log10(F_l=F, x_max=x_max, gamma=gamma, m=m),
            "bartlett_2017_literature": theory.bartlett_2017_literature.log10(
                S_l=S,
                R21_l=[lay["norm21T"] for lay in layers],
                X_norm=x_norm_total,
                W=int(max(d1.max(), d2.max())),
                gamma=gamma,
                m=m,
                delta=delta,
            ),
            "neyshabur_2017_literature": theory.neyshabur_2017_literature.log10(
                S_l=S, F_l=F, x_max=x_max, h=int(max(d1.max(), d2.max())), gamma=gamma, m=m, delta=delta
            ),
        }
        for key, lg in lit.items():
            out[f"{key}_log10"] = _log10_plus(rhat_gamma, lg)
    else:
        for key in BASELINE_KEYS:
            out[key] = None
    out.update(measures_convention(weights, init_weights, train_margins, S, F, m, n_params))

    # --- paper-compatible "Ours": the toolkit's search (bisection on d so that gamma*(d) = gamma) ------------
    path = _pruning_path(weights, seed, prune_diagonal)

    def margin_of(norms) -> float:
        return theory.paper_ours_margin(Delta_l=norms, S_l=S, kappa_l=kappa, x_max=x_max)

    def gamma_star_of(pruned: list[np.ndarray]) -> float:  # any pruned matrices (the released code's draws)
        return margin_of([spectral_norm(w - p) for w, p in zip(weights, pruned)])

    def gamma_star(dv: float) -> float:
        return margin_of(path.difference_norms(dv))

    def gamma_star_bounds(dv: float) -> tuple[float, float]:  # gamma* is increasing in every ||Delta_l||
        lower = margin_of(path.difference_norm_bounds(dv, upper=False)[0]) * (1 - BOUND_SLACK)
        if lower > gamma:  # decided by the lower bounds alone
            return lower, math.inf
        return lower, margin_of(path.difference_norm_bounds(dv)[1]) * (1 + BOUND_SLACK)

    if gamma > 0:
        bis = bisect_strength(gamma_star, gamma, bounds=gamma_star_bounds if path.difference_norm_bounds else None)
        d_star = bis.d
        pruned = path.pruned(d_star)
        ours_gap = theory.paper_ours_gap(d1_l=d1, d2_l=d2, d=d_star, m=m)
        toolkit = {
            "d_star": d_star,
            "bisection_status": bis.status,
            "bisection_iterations": bis.iterations,
            "gamma_star": bis.gamma_star,
            "ours_paper_compatible_log10": _log10(margin_loss(train_margins, bis.gamma_star, tie) + ours_gap),
            "ours_gap_log10": _log10(ours_gap),
        }
    else:
        d_star, pruned, toolkit = None, [w.copy() for w in weights], {"bisection_status": "no positive margin"}
    if protocol.search == "authors":
        from ._authors import authors_final, authors_search

        rng = np.random.default_rng([seed, AUTHORS_STREAM])
        srch = authors_search(weights, gamma_star_of, gamma, rng, prune_diagonal)
        fin, pruned = authors_final(weights, srch.alpha, rng, gamma_star_of, train_margins, m, prune_diagonal)
        out["search_toolkit"] = toolkit
        out.update(
            {
                "d_star": srch.alpha,
                "bisection_status": srch.status,
                "bisection_iterations": srch.evaluations,
                "gamma_star": fin["gamma_star"],
                "ours_paper_compatible_log10": fin["ours_authors_log10"],
                "ours_gap_log10": _log10(fin["gap"]),
                "rhat_at_gamma_star": fin["rhat_at_gamma_star"],
                "search_authors": {"gamma_star_at_end_of_search": srch.gamma_star},
            }
        )
    else:
        out.update(toolkit)
    out["pruned_train_error"] = margin_loss(margins_of(pruned), 0.0, tie)
    if test_margins_of is not None:
        out["pruned_test_error"] = margin_loss(test_margins_of(pruned), 0.0, tie)
        out["true_error_log10"] = _log10(out["pruned_test_error"])

    # --- what the pruned matrices look like, against Lemmas 4.1 / 4.2 / 5.1 --------------------------
    d_used = out["d_star"] if out.get("d_star") else None
    if protocol.search == "toolkit" and d_used:  # the path's own draw: counts and norms without re-pruning
        counts = path.counts(d_used)
        delta_norm = path.difference_norms(d_used)
    else:
        counts = [sparsity_counts(p) for p in pruned]
        delta_norm = np.array([spectral_norm(w - p) for w, p in zip(weights, pruned)])
    for lay, c, dn in zip(layers, counts, delta_norm):
        lay.update(c)
        lay["delta_spectral"] = float(dn)
    if d_used:
        gam = np.array(
            [
                theory.lemma_4_2_gamma(int(a), int(b), d_used, lay["psi"], LATALA_CONSTANT)
                for a, b, lay in zip(d1, d2, layers)
            ]
        )
        expected = np.array([theory.lemma_5_1_expected_survivors(int(a), int(b), d_used) for a, b in zip(d1, d2)])
        for lay, g, e in zip(layers, gam, expected):
            lay.update({"gamma_latala_C1": float(g), "expected_survivors": float(e)})
    else:
        gam = np.full(L, np.nan)
        expected = np.array([float(a * b) for a, b in zip(d1, d2)])

    # --- rigorous: Theorem 5.2 and Lemma D.1 via Theorem D.1 (kappa_l = 1: Condition C.1 with the code's
    # constants fails, see the ledger) ------------------------------------------------------------------
    J = np.array([c["nonzeros"] for c in counts])
    out.update({"survivors": int(J.sum()), "expected_survivors": float(expected.sum())})
    if gamma > 0 and d_used:
        out.update(_rigorous(layers, S, gam, J, counts, d1, d2, L, x_max, train_margins, gamma, m, delta, tie))
    else:
        for key in ("theorem_5_2_log10", "lemma_d_1_log10", "theorem_5_2_gap_log10", "lemma_d_1_gap_log10"):
            out[key] = None
        out["theorem_5_2_margin_condition_met"] = False
        out["lemma_d_1_margin_condition_met"] = False
    if error_curve and d_used:
        out["pruning_error_vs_d"] = pruning_error_curve(
            weights, [lay["psi"] for lay in layers], d_used, seed, prune_diagonal, path=path
        )
    return out


#: the stream of the released code's fresh Algorithm 1 draws (``numpy.random.default_rng([seed, AUTHORS_STREAM])``)
AUTHORS_STREAM = 7919
BASELINE_KEYS = (
    "neyshabur_2015_code_log10",
    "bartlett_2017_code_log10",
    "neyshabur_2017_code_log10",
    "neyshabur_2015_literature_log10",
    "bartlett_2017_literature_log10",
    "neyshabur_2017_literature_log10",
)
MEASURES_KEYS = ("neyshabur_2015_measures_log10", "bartlett_2017_measures_log10", "neyshabur_2018_measures_log10")


def measures_convention(
    weights: list[np.ndarray],
    init_weights: list[np.ndarray] | None,
    train_margins: np.ndarray,
    S: np.ndarray,
    F: np.ndarray,
    m: int,
    n_params: int | None = None,
) -> dict:
    """The three baselines in the measures convention (``theory.*_measures``): 5th-percentile margin, distances
    from W0, no constants, 1/sqrt(m); log10 values.  Keys are None (with ``measures_status`` saying why) when W0
    is unknown, the 5th-percentile margin is <= 0, or a layer did not move from W0."""
    keys = dict.fromkeys(MEASURES_KEYS)
    gamma5 = float(np.quantile(np.asarray(train_margins, dtype=float), 0.05))
    info: dict = {**keys, "gamma_5th_percentile": gamma5}
    if init_weights is None:
        return {**info, "measures_status": "no initial weights W0 (reference matrices) given"}
    if not gamma5 > 0:
        return {**info, "measures_status": "the 5th-percentile training margin is <= 0"}
    diff = [np.asarray(w, dtype=float) - np.asarray(w0, dtype=float) for w, w0 in zip(weights, init_weights)]
    d21 = [float(np.linalg.norm(dm, axis=1).sum()) for dm in diff]
    dfro = [float(np.linalg.norm(dm)) for dm in diff]
    if min(dfro) <= 0:
        return {**info, "measures_status": "a layer equals its initialisation W0"}
    n_out = [int(w.shape[0]) for w in weights]
    if n_params is None:
        n_params = int(sum(w.size + w.shape[0] for w in weights))
    info.update(
        {
            "neyshabur_2015_measures_log10": theory.neyshabur_2015_measures.log10(
                F_l=F, d_input=int(weights[0].shape[1]), gamma=gamma5, m=m
            ),
            "bartlett_2017_measures_log10": theory.bartlett_2017_measures.log10(
                S_l=S, D21_l=d21, P=n_params, gamma=gamma5, m=m
            ),
            "neyshabur_2018_measures_log10": theory.neyshabur_2018_measures.log10(
                S_l=S, DF_l=dfro, n_l=n_out, gamma=gamma5, m=m
            ),
            "measures_status": "ok",
        }
    )
    return info


def _rigorous(layers, S, gam, J, counts, d1, d2, L, x_max, train_margins, gamma, m, delta, tie) -> dict:
    """Theorem 5.2 and Lemma D.1 (via Theorem D.1) with explicit constants: lambda_l = 2L/delta, rounding
    grid from Lemma 4.4 when a valid rho exists (else 2^16 levels), kappa_l = 1."""
    j_l = np.array([max(c["max_row"], c["max_col"]) for c in counts])
    p_l = np.maximum(d1, d2)
    lam = np.full(L, 2.0 * L / delta)  # Markov failures sum to delta / 2
    rho = np.array(
        [
            theory.lemma_4_4_max_rho(float(s), L, float(lv), float(g), int(max(jn, 1)))
            for s, lv, g, jn in zip(S, lam, gam, J)
        ]
    )
    rho_ok = bool(np.all(rho > 0))
    if rho_ok:
        rho_used = rho / 2
        levels = int(max(np.ceil(2 * lay["max_abs"] / rl) + 1 for lay, rl in zip(layers, rho_used)))
    else:
        rho_used = np.zeros(L)
        levels = FALLBACK_LEVELS
    required = theory.theorem_5_2_margin(
        kappa_l=np.ones(L), S_l=S, lam_l=lam, Gamma_l=gam, rho_l=rho_used, J_l=J, x_max=x_max
    )
    rhat_required = margin_loss(train_margins, required, tie)
    gap_52 = theory.theorem_5_2_gap(j_l=j_l, p_l=p_l, c_m=SKETCH_CONSTANT, r=levels, m=m, delta=delta / 2)
    gap_d1 = theory.lemma_d_1_gap(d1_l=d1, d2_l=d2, alpha_l=np.maximum(J, 1), r=levels, m=m, delta=delta / 2)
    return {
        "theorem_5_2_required_margin": required,
        "theorem_5_2_margin_condition_met": bool(required <= gamma),
        "lemma_d_1_margin_condition_met": bool(required <= gamma),  # Theorem D.1 asks for the same margin
        "rounding_rho_valid": rho_ok,
        "rounding_levels": levels,
        "theorem_5_2_gap_log10": _log10(gap_52),
        "theorem_5_2_log10": _log10(rhat_required + gap_52),
        "lemma_d_1_gap_log10": _log10(gap_d1),
        "lemma_d_1_log10": _log10(rhat_required + gap_d1),
    }


#: the rigorous bounds whose margin condition (Theorem 5.2's required margin <= gamma) a record flags
RIGOROUS = ("theorem_5_2", "lemma_d_1")


def rigorous_note(record: dict, name: str) -> str | None:
    """What a reader must be told beside the rigorous bound ``name`` (``"theorem_5_2"`` or ``"lemma_d_1"``) of a
    record of :func:`compute_bounds`, or None when its number stands as it is.

    When the margin the theorem requires exceeds the margin gamma the network has, the bound is evaluated at the
    required margin, where the empirical margin loss is (nearly always) 1: ``vacuous: needs margin R, has G``
    (or, in the rare case that it still comes out below 1, that it was evaluated at the required margin).  A
    value above 1 with the condition met: ``vacuous: above 1``.  Records written before Lemma D.1 had its own
    flag use Theorem 5.2's (the same condition)."""
    value = record.get(f"{name}_log10")
    if value is None:
        return None
    met = record.get(f"{name}_margin_condition_met", record.get("theorem_5_2_margin_condition_met"))
    required, gamma = record.get("theorem_5_2_required_margin"), record.get("gamma")
    if met is False and required is not None and gamma is not None:
        if value >= 0:
            return f"vacuous: needs margin {required:.2g}, has {gamma:.3g}"
        return f"margin condition fails (needs {required:.2g}, has {gamma:.3g}): evaluated at the required margin"
    if value >= 0:
        return "vacuous: above 1"
    return None


#: the pruning strengths of the "pruning error vs d" curve (d* is added)
ERROR_CURVE_D = tuple(10.0**k for k in range(-10, 1))


def pruning_error_curve(
    weights: list[np.ndarray],
    psi: list[float],
    d_star: float,
    seed: int,
    prune_diagonal: bool = False,
    grid=ERROR_CURVE_D,
    path=None,
) -> dict:
    """Lemma 4.2 across pruning strengths: for each d of ``grid`` (and d*), the measured ||A - Ahat||_2 of
    every layer next to Gamma_l(d) with Latala's constant C = 1 (the bracket itself), and the survivors
    against Lemma 5.1's expectation.  Lists are indexed [d][layer].  ``path``: the pruning path of
    ``(weights, seed, prune_diagonal)`` when the caller has one (its draws are reused)."""
    ds = sorted({float(v) for v in grid} | {float(d_star)})
    if path is None:
        path = _pruning_path(weights, seed, prune_diagonal)
    measured, gamma, survivors, expected = [], [], [], []
    for dv in ds:
        measured.append([float(v) for v in path.difference_norms(dv)])
        gamma.append(
            [
                float(theory.lemma_4_2_gamma(w.shape[0], w.shape[1], dv, ps, LATALA_CONSTANT))
                for w, ps in zip(weights, psi)
            ]
        )
        survivors.append([c["nonzeros"] for c in path.counts(dv)])
        expected.append([float(theory.lemma_5_1_expected_survivors(w.shape[0], w.shape[1], dv)) for w in weights])
    return {
        "d": ds,
        "delta_spectral": measured,
        "gamma_latala_C1": gamma,
        "survivors": survivors,
        "expected_survivors": expected,
        "d_star": float(d_star),
    }
