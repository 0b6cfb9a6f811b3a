"""Measurements on a trained (and pruned) network: margins, norms, counts.  No bound formulas here.

``spectral_norm`` uses ARPACK's Lanczos (``scipy.sparse.linalg.svds``, k = 1) with a relative tolerance
of 1e-10 and a deterministic start vector; on a 2500 x 2500 matrix it is ~an order of magnitude faster
than a full SVD and agrees with it to ~1e-10 relative (tested).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.sparse.linalg import ArpackError, svds

SPECTRAL_RTOL = 1e-10


def _np(a) -> np.ndarray:
    return a.detach().cpu().double().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=float)


def spectral_norm(a) -> float:
    """||A||_2 (largest singular value) by Lanczos to relative tolerance 1e-10; exact SVD for tiny matrices."""
    m = _np(a)
    if not np.any(m):
        return 0.0
    if min(m.shape) <= 2 or m.size <= 400:
        return float(np.linalg.norm(m, 2))
    v0 = np.random.default_rng(0).standard_normal(min(m.shape))  # deterministic, almost surely not in a null space
    try:
        s = svds(m, k=1, tol=SPECTRAL_RTOL, v0=v0, return_singular_vectors=False, solver="arpack")
    except ArpackError:  # no convergence: fall back to the exact SVD
        return float(np.linalg.norm(m, 2))
    return float(s[0])


def frobenius_norm(a) -> float:
    return float(np.linalg.norm(_np(a)))


def norm_21_transpose(a, reference=None) -> float:
    """Bartlett et al.'s ||(A - M)^T||_{2,1}: the sum of the 2-norms of the rows of A - M."""
    m = _np(a) - (0.0 if reference is None else _np(reference))
    return float(np.linalg.norm(m, axis=1).sum())


def lpq(a, p: float, q: float) -> float:
    """The authors' helper: (sum_j ||column j of |A|^p||_2^(q/p))^(1/q)."""
    cols = np.linalg.norm(np.abs(_np(a)) ** p, axis=0)
    return float((cols ** (q / p)).sum() ** (1 / q))


def margins(logits: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """f(x)[y] - max_{j != y} f(x)[j] for each sample."""
    lg = logits.detach().double()
    true = lg.gather(1, labels.view(-1, 1)).squeeze(1)
    other = lg.clone()
    other.scatter_(1, labels.view(-1, 1), float("-inf"))
    return (true - other.max(1).values).cpu().numpy()


def margin_loss(margin_values: np.ndarray, gamma: float, tie_is_error: bool = True) -> float:
    """Empirical margin loss Rhat_gamma (a fraction in [0, 1]): the share of samples with margin <= gamma, or
    < gamma when ``tie_is_error`` is False (the released code's rule, under which a margin equal to gamma counts
    as correct).  R_0 (``gamma = 0``) is the classification error, with a tied top logit an error unless
    ``tie_is_error`` is False.  Raises ValueError for NaN margins or a NaN gamma."""
    values = np.asarray(margin_values, dtype=float)
    if np.isnan(gamma) or np.isnan(values).any():
        raise ValueError("margins and gamma must not be NaN (the network's outputs are not finite)")
    if values.size == 0:
        return float("nan")
    return float(np.mean(values <= gamma if tie_is_error else values < gamma))


def sparsity_counts(a) -> dict:
    """Nonzeros, the fullest row (j_r) and column (j_c), and whether the diagonal is all nonzero."""
    m = _np(a) != 0
    k = min(m.shape)
    return {
        "nonzeros": int(m.sum()),
        "max_row": int(m.sum(axis=1).max()),
        "max_col": int(m.sum(axis=0).max()),
        "diagonal_nonzero": bool(m[np.arange(k), np.arange(k)].all()),
    }


def layer_measures(a, reference=None) -> dict:
    """Everything the bounds need from one weight matrix (outputs x inputs)."""
    m = _np(a)
    return {
        "d1": int(m.shape[0]),
        "d2": int(m.shape[1]),
        "spectral": spectral_norm(m),
        "frobenius": frobenius_norm(m),
        "norm21T": norm_21_transpose(m, reference),
        "lpq_1_2": lpq(m, 1, 2),
        "psi": float(m.var()),
        "max_abs": float(np.abs(m).max()),
    }
