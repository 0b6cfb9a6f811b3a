"""Check the certificate by simulation (claims occam-kl, occam-binomial): a task whose population error is measurable.

The distribution: x ~ N(0, I_20); a sparse teacher (6 ReLU units, each reading 3 inputs with +-1 weights, and a
+-1 readout to 2 classes) labels x, and the label is flipped with probability eta = 0.1.  For a binary task,
err(h) = eta + (1 - 2 eta) P(h(x) != teacher(x)), and the disagreement is estimated on ``fresh`` new points with a
Hoeffding band of false-failure probability 1e-6 (numerics.hoeffding).  Each run draws m training points, runs the
whole pipeline (train, prune by magnitude with unit removal, quantise, code with numerics.encode_network, bound),
and counts a failure when the estimated population error minus the band exceeds the certificate.  Under the theorem a
run fails with probability <= delta + 1e-6, so the number of failures in R runs is dominated by Bin(R, delta + 1e-6);
the study allows the largest count whose upper tail under that binomial is still above ``alpha`` (the stated false-
failure rate of the check; theory.binomial_upper_tail).  Two controls show that the check can fail: the training
error itself, and the kl bound with the code length left out.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

import numerics
import theory

from ._compress import PruneSpec, Schedule, SparseMLP, prune_path, quantise, train

ETA = 0.1
D_IN = 20
TASK = numerics.Task(D_IN, 2, None)
SCHEDULE = Schedule(
    dense_epochs=150, rounds=4, round_epochs=15, final_epochs=60, qat_epochs=30, lr=1e-2, qat_lr=3e-3, batch_size=2000
)


def teacher(seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's first layer (6 x 20, three +-1 entries per row) and readout (2 x 6, +-1), from ``seed``."""
    rng = np.random.default_rng(seed)
    w1 = np.zeros((6, D_IN))
    for i in range(6):
        w1[i, rng.choice(D_IN, 3, replace=False)] = rng.choice([-1.0, 1.0], 3)
    w2 = rng.choice([-1.0, 1.0], (2, 6))
    return w1, w2


def teacher_labels(x: np.ndarray, w: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return np.argmax(np.maximum(x @ w[0].T, 0.0) @ w[1].T, axis=1)


def sample(n: int, rng: np.random.Generator, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points: inputs (float64), noisy labels, clean teacher labels."""
    x = rng.standard_normal((n, D_IN))
    clean = teacher_labels(x, w)
    flip = rng.random(n) < ETA
    return x, np.where(flip, 1 - clean, clean), clean


def one_run(m: int, delta: float, seed: int, w, x_fresh: np.ndarray, clean_fresh: np.ndarray, band: float) -> dict:
    """The whole pipeline on one training sample; returns the certificate, the population error and the controls."""
    rng = np.random.default_rng([seed, 1])
    x, y, _ = sample(m, rng, w)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
    sched = replace(SCHEDULE, batch_size=m)
    net = SparseMLP([D_IN, 16, 2], seed)
    train(net, xt, yt, sched.dense_epochs, sched.lr, sched.batch_size, seed, cosine=True)
    snap = prune_path(net, xt, yt, PruneSpec("magnitude", (8,), (40,)), sched, seed)[0]["state"]
    train(snap, xt, yt, sched.final_epochs, sched.lr, sched.batch_size, seed + 1, cosine=True)
    h = quantise(snap, TASK, 1, 2, 3, xt, yt, sched, seed).network
    code = numerics.encode_network(h)
    errors = h.errors(x, y)
    bound = numerics.occam_bound(errors, m, code.n_bits, delta)
    disagreement = float(np.mean(h.predict(x_fresh) != clean_fresh))
    population = ETA + (1 - 2 * ETA) * disagreement
    no_code = numerics.kl_inverse(errors / m, float(theory.occam_complexity(0, 1, delta, m)))
    low = population - (1 - 2 * ETA) * band  # the population error is above this with probability >= 1 - 1e-6
    return {
        "seed": seed,
        "train_error": errors / m,
        "population_error": population,
        "certificate_kl": bound.kl,
        "certificate_binomial": bound.binomial,
        "bits": code.n_bits,
        "failed": bool(low > bound.kl),
        "failed_binomial": bool(low > bound.binomial),
        "control_train_error_failed": bool(low > errors / m),
        "control_no_code_failed": bool(low > no_code),
    }


def allowed_failures(runs: int, delta: float, alpha: float) -> int:
    """occam-kl (simulation check): the number of failures allowed in ``runs`` runs, the smallest f with
    P(Bin(runs, delta') >= f + 1) <= alpha, delta' = delta + 1e-6 (theory.binomial_upper_tail).  If the theorem
    holds, more than f failures happen with probability <= alpha (the check's false-failure rate)."""
    q = min(delta + 1e-6, 1 - 1e-12)
    for f in range(runs + 1):
        if f + 1 > runs or float(theory.binomial_upper_tail(runs, f + 1, q)) <= alpha:
            return f
    return runs


def coverage_study(
    runs: int, m: int = 2000, delta: float = 0.05, seed: int = 0, fresh: int = 10**6, alpha: float = 1e-6
) -> dict:
    """occam-kl (simulation check): ``runs`` independent repetitions of the pipeline on m examples each; asserts
    nothing, returns counts, the allowed number of failures at false-failure rate ``alpha``, the power against a
    failure rate of 0.5, the controls, per-run records (probabilities of error, bits) and a one-line summary.
    Raises ValueError for runs < 1, m < 10 or fresh < 1000."""
    if runs < 1 or m < 10 or fresh < 1000:
        raise ValueError(f"need runs >= 1, m >= 10, fresh >= 1000 (got {runs}, {m}, {fresh})")
    w = teacher()
    x_fresh, _, clean_fresh = sample(fresh, np.random.default_rng([seed, 999]), w)
    band = numerics.hoeffding(fresh, 1e-6).halfwidth
    results = [one_run(m, delta, seed * 10_000 + r, w, x_fresh, clean_fresh, band) for r in range(runs)]
    failures = sum(r["failed"] for r in results)
    allowed = allowed_failures(runs, delta, alpha)
    # probability that a pipeline failing half the time would still pass the check
    miss = 1.0 - float(theory.binomial_upper_tail(runs, allowed + 1, 0.5)) if allowed + 1 <= runs else 1.0
    out = {
        "runs": runs,
        "m": m,
        "delta": delta,
        "alpha": alpha,
        "fresh": fresh,
        "band": band,
        "failures": failures,
        "failures_binomial": sum(r["failed_binomial"] for r in results),
        "allowed_failures": allowed,
        "passed": failures <= allowed,
        "power_at_failure_rate_0.5": 1.0 - miss,
        "control_train_error_failures": sum(r["control_train_error_failed"] for r in results),
        "control_no_code_failures": sum(r["control_no_code_failed"] for r in results),
        "min_slack": min(r["certificate_kl"] - r["population_error"] for r in results),
        "mean_certificate": float(np.mean([r["certificate_kl"] for r in results])),
        "mean_population_error": float(np.mean([r["population_error"] for r in results])),
        "mean_bits": float(np.mean([r["bits"] for r in results])),
        "records": results,
    }
    out["summary"] = (
        f"{runs} runs (m = {m}, delta = {delta}, population error from {fresh} fresh points): the certificate failed "
        f"{failures} times, allowed {allowed} (false-failure rate {alpha:g}; a failure rate of 0.5 would be caught with "
        f"probability {out['power_at_failure_rate_0.5']:.3f}); mean certificate {out['mean_certificate']:.3f} vs mean "
        f"population error {out['mean_population_error']:.3f} ({out['mean_bits']:.0f} bits). Controls: the training "
        f"error failed {out['control_train_error_failures']} times, the kl bound without the code length "
        f"{out['control_no_code_failures']} times."
    )
    return out
