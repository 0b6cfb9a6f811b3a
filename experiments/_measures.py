"""Measurements on a trained (and pruned) network: margins, norms, counts.  No bound formulas here.

``spectral_norm`` is ``numerics.spectral_norm`` (the toolkit's one implementation): ARPACK's Lanczos
(``scipy.sparse.linalg.svds``, k = 1, relative tolerance 1e-10, deterministic start vector) on dense
matrices, exact block SVDs / Lanczos per connected component on scipy.sparse ones; on a 2500 x 2500 matrix
it is ~an order of magnitude faster than a full SVD and agrees with it to ~1e-10 relative (tested).

Scale: every routine here gives the mathematically scaled answer for inputs at any scale float64 represents
(``f(c A) = c f(A)``; ``c^2`` for the variance): inputs are scaled internally by a power of two, which is
exact in binary floating point, and an answer outside the float64 range raises ``ValueError``, as do NaN
and infinite inputs.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sps
import torch

import numerics

SPECTRAL_RTOL = numerics._spectral.SPECTRAL_RTOL


def _np(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().double().numpy()
    if sps.issparse(a):
        return a.toarray().astype(float)
    return np.asarray(a, dtype=float)


def _exponent(*arrays: np.ndarray, name: str = "matrix") -> int:
    """The power of two e with max |entry| / 2**e in [0.5, 1) over ``arrays`` (0 when all are zero or empty);
    ValueError naming ``name`` for NaN or infinite entries."""
    top = 0.0
    for arr in arrays:
        if arr.size:
            here = float(np.max(np.abs(arr)))
            if not math.isfinite(here):
                raise ValueError(f"{name} entries must be finite (got NaN or infinity)")
            top = max(top, here)
    return math.frexp(top)[1] if top > 0 else 0


def _back(value: float, exponent: int, what: str) -> float:
    """value * 2**exponent, or ValueError when the answer leaves the float64 range."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        raise ValueError(f"the {what} exceeds the float64 range (about 1.8e308)") from None


def spectral_norm(a) -> float:
    """||A||_2 (largest singular value) of a 2-D numpy array, scipy.sparse matrix or torch tensor.

    Source: ``numerics.spectral_norm`` (Lanczos to relative tolerance 1e-10; exact SVD for small blocks);
    units of the entries.  Raises ValueError for non-2-D input, NaN/inf entries or a norm above float64's range.
    """
    if sps.issparse(a) or isinstance(a, torch.Tensor):
        return numerics.spectral_norm(a)
    return numerics.spectral_norm(np.asarray(a, dtype=float))


def frobenius_norm(a) -> float:
    """||A||_F of any numpy/torch/scipy.sparse array (units of the entries); ValueError for NaN/inf or overflow."""
    if sps.issparse(a):
        a = sps.csr_matrix(a, dtype=float).data
    m = _np(a)
    e = _exponent(m)
    return _back(float(np.linalg.norm(np.ldexp(m, -e))), e, "Frobenius norm")


def norm_21_transpose(a, reference=None) -> float:
    """Bartlett et al.'s ||(A - M)^T||_{2,1} (baseline-bartlett-2017): the sum of the 2-norms of the rows of
    A - M, A (d1 x d2) and M (default 0) of the same shape; ValueError for NaN/inf, shapes or overflow."""
    m = _np(a)
    ref = None if reference is None else _np(reference)
    if ref is not None and ref.shape != m.shape:
        raise ValueError(f"reference shape {ref.shape} differs from the matrix shape {m.shape}")
    e = _exponent(m, *(() if ref is None else (ref,)))
    diff = np.ldexp(m, -e) - (0.0 if ref is None else np.ldexp(ref, -e))
    return _back(float(np.linalg.norm(diff, axis=1).sum()), e, "(2,1) norm")


def lpq(a, p: float, q: float) -> float:
    """The authors' helper (baseline-bartlett-2017 code form): (sum_j ||column j of |A|^p||_2^(q/p))^(1/q), A of
    shape (d1, d2), p, q > 0; homogeneous of degree 1.  ValueError for NaN/inf, p or q <= 0, or overflow."""
    if not (p > 0 and q > 0):
        raise ValueError(f"p and q must be > 0 (got {p}, {q})")
    m = _np(a)
    e = _exponent(m)
    cols = np.linalg.norm(np.abs(np.ldexp(m, -e)) ** p, axis=0)
    return _back(float((cols ** (q / p)).sum() ** (1 / q)), e, "lpq norm")


def margins(logits: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """f(x)[y] - max_{j != y} f(x)[j] for each sample: logits (n, classes), labels (n,) -> float64 (n,), units
    of the logits.  ValueError for NaN/inf logits or a margin beyond float64's range."""
    lg = logits.detach().double()
    e = _exponent(lg.cpu().numpy(), name="logits")
    lg = torch.ldexp(lg, torch.tensor(-e, dtype=torch.float64, device=lg.device))
    true = lg.gather(1, labels.view(-1, 1)).squeeze(1)
    other = lg.clone()
    other.scatter_(1, labels.view(-1, 1), float("-inf"))
    unit = (true - other.max(1).values).cpu().numpy()
    out = np.ldexp(unit, e)
    if not np.all(np.isfinite(out)):
        raise ValueError("a margin exceeds the float64 range (about 1.8e308)")
    return out


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
    """Everything the bounds need from one weight matrix (outputs x inputs): shape, spectral and Frobenius
    norms, ||(A - M)^T||_{2,1}, the authors' l_{1,2}, the population variance psi (units squared) and the
    largest |entry|.  Scale-exact (see the module doc); ValueError for NaN/inf or results beyond float64."""
    m = _np(a)
    e = _exponent(m)
    return {
        "d1": int(m.shape[0]),
        "d2": int(m.shape[1]),
        "spectral": spectral_norm(m),
        "frobenius": frobenius_norm(m),
        "norm21T": norm_21_transpose(m, reference),
        "lpq_1_2": lpq(m, 1, 2),
        "psi": _back(float(np.ldexp(m, -e).var()), 2 * e, "variance psi"),
        "max_abs": float(np.abs(m).max()),
    }
