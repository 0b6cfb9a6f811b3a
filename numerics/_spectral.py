"""Spectral norms of dense, sparse and torch matrices at any float64 scale, with cheap certified bounds.

``spectral_norm(A) = ||A||_2``, the largest singular value (claims ``lemma-4.2`` / ``paper-compatible-ours``
measure it on ``A - Ahat``).  One implementation for the whole toolkit:

- an input whose largest entry is not within 2**+-256 of 1 is first scaled by a power of two (exact in
  binary floating point) so that its largest entry lies in [0.5, 1): the answer is the mathematically
  scaled one for any matrix whose entries float64 represents; an answer above the float64 range raises
  ``ValueError``, as do NaN and infinite entries;
- dense numpy arrays: ARPACK's Lanczos (``scipy.sparse.linalg.svds``, k = 1, relative tolerance 1e-10, a
  fixed start vector), an exact SVD for tiny matrices;
- scipy.sparse matrices: the bipartite support graph is split into connected components (the matrix is
  block-diagonal after permuting rows and columns, so ||A||_2 is the largest block norm); blocks are visited
  in decreasing Frobenius norm, which bounds each block's spectral norm from above, so the visit stops as
  soon as the best norm found reaches the next block's Frobenius norm.  Small blocks get an exact SVD, a
  block with one row or column its Euclidean norm, large blocks the same Lanczos as dense matrices;
- torch tensors: CUDA tensors get an exact SVD on the device (``torch.linalg.matrix_norm``), CPU tensors the
  numpy path.

BLAS runs single-threaded inside these routines (``threadpoolctl``): the work is memory-bound
matrix-vector products and small LAPACK calls, where a second OpenBLAS thread gains little on an idle
2-core machine and loses badly on a loaded one (measured here under load ~6 on 2 cores: a 120 x 120 SVD
took 1.4 ms with one thread and 800 ms with two; a 2500 x 2500 matrix-vector product 2.9 ms and 16 ms).

``spectral_norm_bounds(A)`` gives certified ``(lower, upper)`` bounds from one pass over the entries:
the largest row or column Euclidean norm below, ``min(||A||_F, sqrt(||A||_1 ||A||_inf))`` above.
"""

from __future__ import annotations

import contextlib
import math
from functools import cache

import numpy as np
import scipy.sparse as sps
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import ArpackError, svds

#: relative tolerance handed to ARPACK (it reaches ~1e-15 in practice on the toolkit's matrices)
SPECTRAL_RTOL = 1e-10
#: a block at most this many entries (or with a side of at most 2) gets an exact LAPACK SVD
EXACT_SVD_ENTRIES = 40_000
#: density (stored entries / entries) above which a sparse matrix (or block) is densified before Lanczos:
#: measured on A - Ahat(d) of a trained 2500 x 2500 layer with one BLAS thread (``python -m experiments.bench
#: sparse-norms`` prints the comparison): sparse was faster at density 0.057 (0.12 s vs 0.86 s) and 0.18
#: (0.57 s vs 0.78 s), dense at 0.54 (0.27 s vs 1.25 s) and 0.91 (0.12 s vs 1.75 s)
DENSE_CROSSOVER = 0.25


@cache
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn, a dependency
        return None
    return ThreadpoolController()


def _single_thread_blas():
    """A context in which BLAS/LAPACK use one thread (a no-op without threadpoolctl)."""
    controller = _blas_controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


def _is_torch(obj) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(obj, torch.Tensor)


def _check_matrix_shape(shape: tuple[int, ...]) -> None:
    if len(shape) != 2:
        raise ValueError(f"a matrix (2-D) is needed for a spectral norm (got shape {tuple(shape)})")


#: inputs whose largest |entry| is within 2**+-256 of 1 are used unscaled: no intermediate of the routines
#: here (squares, sums over < 2**200 entries) can then overflow or underflow, so scaling would change nothing
_SAFE_EXPONENT = 256


def _power_of_two_scale(max_abs: float, name: str = "matrix") -> int:
    """The exponent e by which the routines here scale a matrix of largest |entry| ``max_abs``: 0 when
    max_abs is 0 or within 2**+-256 of 1 (no scaling needed), else the e with max_abs / 2**e in [0.5, 1).
    ValueError for NaN/inf."""
    if not math.isfinite(max_abs):
        raise ValueError(f"{name} entries must be finite (got NaN or infinity)")
    if max_abs == 0:
        return 0
    e = math.frexp(max_abs)[1]
    return e if abs(e) > _SAFE_EXPONENT else 0


def _rescale(value: float, exponent: int, what: str) -> float:
    """value * 2**exponent, or ValueError when it leaves the float64 range."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        raise ValueError(f"the {what} exceeds the float64 range (about 1.8e308)") from None


def _lanczos(op, shape: tuple[int, int]) -> float:
    """Largest singular value by ARPACK with a fixed start vector; exact SVD if ARPACK fails to converge."""
    v0 = np.random.default_rng(0).standard_normal(min(shape))  # deterministic, almost surely not in a null space
    try:
        s = svds(op, k=1, tol=SPECTRAL_RTOL, v0=v0, return_singular_vectors=False, solver="arpack")
    except ArpackError:  # no convergence: fall back to the exact SVD
        dense = op.toarray() if sps.issparse(op) else np.asarray(op)
        return float(np.linalg.norm(dense, 2))
    return float(s[0])


def _dense_norm_unit(m: np.ndarray) -> float:
    """||m||_2 for a float64 array whose largest |entry| is within 2**+-256 of 1."""
    if min(m.shape) <= 2 or m.size <= 400:
        return float(np.linalg.norm(m, 2))
    return _lanczos(m, m.shape)


def _rank_within(labels: np.ndarray, n_labels: int) -> np.ndarray:
    """For each node, its position among the nodes of the same label (in increasing node order)."""
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(n_labels))
    ranks = np.empty(len(labels), dtype=np.int64)
    ranks[order] = np.arange(len(labels)) - starts[labels[order]]
    return ranks


def _block_norm(ri: np.ndarray, ci: np.ndarray, vals: np.ndarray, shape: tuple[int, int], fro: float) -> float:
    """||B||_2 of one connected block with entries (ri, ci, vals) in local coordinates of ``shape``."""
    nr, nc = shape
    if nr == 1 or nc == 1:  # one row or one column: rank one, its Euclidean norm
        return fro
    if nr * nc <= EXACT_SVD_ENTRIES or min(nr, nc) <= 2 or len(vals) > DENSE_CROSSOVER * nr * nc:
        block = np.zeros(shape)
        block[ri, ci] = vals
        return _dense_norm_unit(block)
    return _lanczos(sps.csr_matrix((vals, (ri, ci)), shape=shape), shape)


def _coo_norm_unit(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> float:
    """||A||_2 of the matrix with entries (rows, cols, vals) -- no duplicates, no zeros, largest |entry| within
    2**+-256 of 1 -- block by block over the connected components of its bipartite support graph."""
    n1, n2 = shape
    if len(vals) == 0:
        return 0.0
    if len(vals) > DENSE_CROSSOVER * n1 * n2:
        dense = np.zeros(shape)
        dense[rows, cols] = vals
        return _dense_norm_unit(dense)
    graph = sps.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, n1 + cols)), shape=(n1 + n2, n1 + n2))
    n_labels, labels = connected_components(graph, directed=False)
    row_label, col_label = labels[:n1], labels[n1:]
    edge_label = row_label[rows]
    fro = np.sqrt(np.bincount(edge_label, vals * vals, minlength=n_labels))
    row_rank, col_rank = _rank_within(row_label, n_labels), _rank_within(col_label, n_labels)
    block_rows = np.bincount(row_label, minlength=n_labels)
    block_cols = np.bincount(col_label, minlength=n_labels)
    best = 0.0
    for c in np.argsort(-fro, kind="stable"):
        if fro[c] <= best:  # ||B||_2 <= ||B||_F <= best for this and every later block
            break
        sel = np.flatnonzero(edge_label == c)
        shape_c = (int(block_rows[c]), int(block_cols[c]))
        norm = _block_norm(row_rank[rows[sel]], col_rank[cols[sel]], vals[sel], shape_c, float(fro[c]))
        best = max(best, norm)
    return best


def _coo_bounds_unit(rows, cols, vals, shape, upper: bool = True) -> tuple[float, float]:
    """Certified (lower, upper) bounds on ||A||_2 for entries scaled as in :func:`_coo_norm_unit`."""
    sq, ab = vals * vals, np.abs(vals)
    row_sq = np.bincount(rows, sq, minlength=shape[0])
    col_sq = np.bincount(cols, sq, minlength=shape[1])
    if not upper:
        return math.sqrt(max(float(row_sq.max(initial=0.0)), float(col_sq.max(initial=0.0)))), math.inf
    row_abs = np.bincount(rows, ab, minlength=shape[0])
    col_abs = np.bincount(cols, ab, minlength=shape[1])
    return _bounds_from_sums(row_sq, col_sq, row_abs, col_abs)


def _bounds_from_sums(row_sq, col_sq, row_abs, col_abs) -> tuple[float, float]:
    lower = math.sqrt(max(float(row_sq.max(initial=0.0)), float(col_sq.max(initial=0.0))))
    upper = min(
        math.sqrt(float(row_sq.sum())), math.sqrt(float(row_abs.max(initial=0.0)) * float(col_abs.max(initial=0.0)))
    )
    return lower, upper


def _dense_bounds_unit(m: np.ndarray, upper: bool = True) -> tuple[float, float]:
    """Bounds from row/column sums; with ``upper=False`` only the lower bound (upper returned as +inf)."""
    row_sq, col_sq = np.einsum("ij,ij->i", m, m), np.einsum("ij,ij->j", m, m)
    if not upper:
        return math.sqrt(max(float(row_sq.max(initial=0.0)), float(col_sq.max(initial=0.0)))), math.inf
    ab = np.abs(m)
    return _bounds_from_sums(row_sq, col_sq, ab.sum(1), ab.sum(0))


def _scale_exponent(vals: np.ndarray) -> int:
    return _power_of_two_scale(float(np.max(np.abs(vals)))) if vals.size else 0


def coo_spectral_norm(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> float:
    """||A||_2 of the sparse matrix with entries ``(rows, cols, vals)`` (int index arrays, float values, no
    duplicate positions; zeros allowed), ``shape`` (d1, d2).  Same method and errors as :func:`spectral_norm`."""
    vals = np.asarray(vals, dtype=np.float64)
    keep = vals != 0
    if not keep.all():
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
    if vals.size == 0:
        return 0.0
    e = _scale_exponent(vals)
    with _single_thread_blas():
        value = _coo_norm_unit(
            np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), _unit(vals, e), shape
        )
    return _rescale(value, e, "spectral norm")


def coo_spectral_norm_bounds(rows, cols, vals, shape, upper: bool = True) -> tuple[float, float]:
    """Certified (lower, upper) bounds on ||A||_2 of the sparse matrix ``(rows, cols, vals)`` of ``shape``
    (see :func:`spectral_norm_bounds`; ``upper=False`` skips the upper bound and returns +inf for it)."""
    vals = np.asarray(vals, dtype=np.float64)
    if vals.size == 0:
        return 0.0, 0.0
    e = _scale_exponent(vals)
    lower, up = _coo_bounds_unit(rows, cols, _unit(vals, e), shape, upper)
    return _rescale(lower, e, "spectral-norm bound"), _rescale(up, e, "spectral-norm bound")


def _unit(values: np.ndarray, exponent: int) -> np.ndarray:
    """values / 2**exponent (exact: a power of two); the same array back for exponent 0."""
    return values if exponent == 0 else np.ldexp(values, -exponent)


def _as_coo(a) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coo = sps.coo_matrix(a, dtype=np.float64, copy=True)
    coo.sum_duplicates()
    coo.eliminate_zeros()
    return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data


def spectral_norm(a) -> float:
    """||A||_2 (largest singular value) of a 2-D numpy array, scipy.sparse matrix/array or torch tensor.

    Source: ARPACK Lanczos to relative tolerance 1e-10 (exact SVD for small blocks, see the module doc);
    used for ``lemma-4.2`` and ``paper-compatible-ours``.  Units: those of the entries.  Scale: exact for any
    matrix of representable entries (internal power-of-two scaling).  Raises ValueError for a non-2-D input,
    NaN or infinite entries, or a norm above the float64 range.
    """
    if _is_torch(a):
        return _torch_spectral_norm(a)
    if sps.issparse(a):
        _check_matrix_shape(a.shape)
        return coo_spectral_norm(*_as_coo(a), a.shape)
    m = np.asarray(a, dtype=np.float64)
    _check_matrix_shape(m.shape)
    if m.size == 0:
        return 0.0
    max_abs = float(np.max(np.abs(m)))
    e = _power_of_two_scale(max_abs)
    if max_abs == 0:
        return 0.0
    with _single_thread_blas():
        value = _dense_norm_unit(_unit(m, e))
    return _rescale(value, e, "spectral norm")


def _torch_to_numpy(t) -> np.ndarray:
    import torch

    t = t.detach()
    if t.layout != torch.strided:
        t = t.to_dense()
    return t.cpu().to(torch.float64).numpy()


def _torch_spectral_norm(t) -> float:
    import torch

    _check_matrix_shape(tuple(t.shape))
    if t.device.type == "cpu" or t.layout != torch.strided:
        return spectral_norm(_torch_to_numpy(t))
    if t.numel() == 0:
        return 0.0
    t = t.detach().to(torch.float64)
    max_abs = float(t.abs().max())
    e = _power_of_two_scale(max_abs)
    if max_abs == 0:
        return 0.0
    value = float(torch.linalg.matrix_norm(t if e == 0 else torch.ldexp(t, torch.tensor(-e, device=t.device)), ord=2))
    return _rescale(value, e, "spectral norm")


def spectral_norm_bounds(a, upper: bool = True) -> tuple[float, float]:
    """Certified ``(lower, upper)`` bounds on ||A||_2 from one pass over the entries (any 2-D numpy, scipy.sparse
    or torch matrix).  lower = the largest Euclidean norm of a row or a column (||A e_j|| <= ||A||_2);
    upper = min(||A||_F, sqrt(||A||_1 ||A||_inf)) (Frobenius; Hoelder/Schur).  Exact-arithmetic bounds, computed
    after the same power-of-two scaling as :func:`spectral_norm` (so they hold to rounding, ~1e-15 relative).
    With ``upper=False`` only the lower bound is computed (the upper is returned as +inf).
    Raises ValueError for a non-2-D input, NaN or infinite entries, or bounds above the float64 range.
    """
    if _is_torch(a):
        a = _torch_to_numpy(a)
    if sps.issparse(a):
        _check_matrix_shape(a.shape)
        return coo_spectral_norm_bounds(*_as_coo(a), a.shape, upper=upper)
    m = np.asarray(a, dtype=np.float64)
    _check_matrix_shape(m.shape)
    if m.size == 0:
        return 0.0, 0.0
    e = _scale_exponent(m)
    lower, up = _dense_bounds_unit(_unit(m, e), upper)
    return _rescale(lower, e, "spectral-norm bound"), _rescale(up, e, "spectral-norm bound")
