"""Algorithm 1 at every pruning strength from one draw per entry: ``PruningPath`` (claim ``algorithm-1``).

With the uniforms held fixed (common random numbers), an entry is zeroed at strength ``d`` iff
``d > d_crit(A_ij, U_ij, Psi)`` (``theory.algorithm_1_critical_strength``, solved by SymPy; lambdified here
through ``numerics._algorithm1``, never re-typed).  So one draw and one array of critical strengths per
layer answer every ``d``: the pruned sets are nested in ``d``, ``A - Ahat(d)`` is the sparse matrix of the
entries with ``d_crit < d``, and each query costs one comparison pass plus work proportional to the pruned
entries, instead of a fresh Algorithm 1 and a dense spectral norm per layer.

The draws are those of ``numerics.algorithm_1`` with the same generator and the decision is the same exact
comparison, so ``PruningPath(ws, generators=g).pruned(d)`` equals ``[algorithm_1(w, d, generator=g_k)[0]]``
bit for bit at every ``d`` (tested over grids of ``d``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sps

from . import _spectral
from ._algorithm1 import (
    _D,
    _PSI,
    _is_torch,
    _population_variance_numpy,
    _population_variance_torch,
    _scalar,
    critical_strengths_numpy,
    critical_strengths_torch,
    draw_uniforms_numpy,
    draw_uniforms_torch,
    numpy_generator,
    torch_generator,
    zeroed_numpy,
    zeroed_torch,
)
from ._spectral import coo_spectral_norm, coo_spectral_norm_bounds, spectral_norm, spectral_norm_bounds

if TYPE_CHECKING:
    import torch

#: how many strengths' pruned index sets a path keeps (the bisection revisits its last few)
_CACHED_STRENGTHS = 4


def layer_generator(weights, seed: int, layer: int):
    """algorithm-1: the generator of layer ``layer`` under master ``seed``: ``np.random.default_rng([seed,
    layer])`` for numpy arrays; for torch tensors a ``torch.Generator`` on the tensor's device seeded with the
    first 64-bit word of ``np.random.SeedSequence([seed, layer])`` (CPU and CUDA streams differ, as torch's do).
    Raises ValueError for a negative seed or layer."""
    if int(seed) < 0 or int(layer) < 0:
        raise ValueError(f"seed and layer must be >= 0 (got {seed}, {layer})")
    if _is_torch(weights):
        word = int(np.random.SeedSequence([int(seed), int(layer)]).generate_state(1, np.uint64)[0])
        return torch_generator(word, weights.device)
    return np.random.default_rng([int(seed), int(layer)])


class _Layer:
    """One weight matrix: its critical strengths (+inf where never pruned) and what the queries reuse."""

    # numpy arrays, or torch tensors on the weights' device when ``self.torch``
    weights: Any
    values: Any
    d_crit: Any
    diag_flat: Any

    def __init__(self, w, generator, prune_diagonal: bool, psi):
        self.torch = _is_torch(w)
        if self.torch:
            self._init_torch(w, generator, prune_diagonal, psi)
        else:
            self._init_numpy(np.asarray(w), generator, prune_diagonal, psi)
        self.n1, self.n2 = self.shape
        self.size = self.n1 * self.n2
        # flat indices by strength d, and ("cpu", d) -> (rows, cols, values) of ``_zeroed_cpu``
        self._zeroed: OrderedDict[float | tuple[str, float], Any] = OrderedDict()
        self._norms: dict[float, float] = {}

    def _init_numpy(self, w: np.ndarray, generator, prune_diagonal: bool, psi) -> None:
        if w.ndim != 2:
            raise ValueError(f"each weight matrix must be 2-D (got shape {w.shape})")
        if w.dtype.kind not in "fiu":
            raise ValueError(f"weights must be a real numeric array (got dtype {w.dtype})")
        values = w if w.dtype.kind == "f" else w.astype(np.float64)
        if not np.isfinite(values).all():
            raise ValueError("weights must be finite (got NaN or infinity)")
        self.psi = _population_variance_numpy(values) if psi is None else _scalar(_PSI, psi, "psi")
        draws = draw_uniforms_numpy(values, numpy_generator(generator))
        dc = critical_strengths_numpy(values, draws, self.psi)
        if not prune_diagonal:
            k = min(w.shape)
            dc[np.arange(k), np.arange(k)] = np.inf
        self.weights = w
        self.values = np.ascontiguousarray(values, dtype=np.float64).ravel()
        self.d_crit = dc.ravel()
        self.shape = w.shape
        nonzero = values != 0
        self.row_nonzeros = nonzero.sum(axis=1)
        self.col_nonzeros = nonzero.sum(axis=0)
        k = min(w.shape)
        self.diag_flat = np.arange(k) * (w.shape[1] + 1)
        self.diag_all_nonzero = bool(nonzero[np.arange(k), np.arange(k)].all())

    def _init_torch(self, w, generator, prune_diagonal: bool, psi) -> None:
        import torch

        if w.dim() != 2:
            raise ValueError(f"each weight matrix must be 2-D (got shape {tuple(w.shape)})")
        if w.is_complex() or w.dtype == torch.bool:
            raise ValueError(f"weights must be a real numeric tensor (got dtype {w.dtype})")
        values = (w if w.is_floating_point() else w.to(torch.float64)).detach()
        if not bool(torch.isfinite(values).all()):
            raise ValueError("weights must be finite (got NaN or infinity)")
        self.psi = _population_variance_torch(values) if psi is None else _scalar(_PSI, psi, "psi")
        draws = draw_uniforms_torch(values, torch_generator(generator, values.device))
        dc = critical_strengths_torch(values, draws, self.psi)
        if not prune_diagonal:
            dc.diagonal().fill_(float("inf"))
        self.weights = w
        self.values = values.to(torch.float64).reshape(-1)
        self.d_crit = dc.reshape(-1)
        self.shape = tuple(w.shape)
        nonzero = values != 0
        self.row_nonzeros = nonzero.sum(dim=1).cpu().numpy()
        self.col_nonzeros = nonzero.sum(dim=0).cpu().numpy()
        k = min(self.shape)
        self.diag_flat = torch.arange(k, device=w.device) * (self.shape[1] + 1)
        self.diag_all_nonzero = bool(torch.diagonal(nonzero).all())

    # -- queries --------------------------------------------------------------------------------------
    def zeroed_flat(self, d: float):
        """Sorted flat indices of the entries zeroed at ``d`` (numpy int64, or a torch tensor on the device)."""
        hit = self._zeroed.get(d)
        if hit is not None:
            self._zeroed.move_to_end(d)
            return hit
        idx: np.ndarray | torch.Tensor
        if self.torch:
            import torch

            idx = torch.nonzero(zeroed_torch(self.d_crit, d)).reshape(-1)
        else:
            idx = np.flatnonzero(zeroed_numpy(self.d_crit, d))
        self._zeroed[d] = idx
        if len(self._zeroed) > _CACHED_STRENGTHS:
            self._zeroed.popitem(last=False)
        return idx

    def _zeroed_cpu(self, d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, values) of the zeroed entries with a nonzero weight, on the CPU as numpy, in row-major
        order; cached with the last few strengths."""
        key = ("cpu", d)
        hit = self._zeroed.get(key)
        if hit is not None:
            return hit
        idx = self.zeroed_flat(d)
        vals = self.values[idx]
        if self.torch:
            idx, vals = idx.cpu().numpy(), vals.cpu().numpy()
        keep = vals != 0
        if not keep.all():
            idx, vals = idx[keep], vals[keep]
        rows, cols = np.divmod(idx, self.n2)
        out = (rows, cols, vals)
        self._zeroed[key] = out
        if len(self._zeroed) > 2 * _CACHED_STRENGTHS:
            self._zeroed.popitem(last=False)
        return out

    def _is_dense(self, d: float) -> bool:
        """Whether A - Ahat(d) is past the measured crossover where dense Lanczos beats sparse."""
        return int(self.zeroed_flat(d).shape[0]) > _spectral.DENSE_CROSSOVER * self.size

    def _dense_difference(self, d: float):
        if self.torch:
            import torch

            return torch.where(self.kept_mask(d), 0.0, self.values.reshape(self.shape))
        return np.where(self.kept_mask(d), 0.0, self.values.reshape(self.shape))

    def kept_mask(self, d: float):
        if self.torch:
            return ~zeroed_torch(self.d_crit, d).reshape(self.shape)
        return ~zeroed_numpy(self.d_crit, d).reshape(self.shape)

    def pruned(self, d: float):
        kept = self.kept_mask(d)
        if self.torch:
            import torch

            w = self.weights
            return torch.where(kept, w, torch.zeros((), dtype=w.dtype, device=w.device))
        return np.where(kept, self.weights, np.zeros((), dtype=self.weights.dtype))

    def difference_csr(self, d: float) -> sps.csr_matrix:
        rows, cols, vals = self._zeroed_cpu(d)
        indptr = np.searchsorted(rows, np.arange(self.n1 + 1, dtype=np.int64))
        return sps.csr_matrix((vals, cols, indptr), shape=self.shape)

    def difference(self, d: float):
        if not self.torch:
            return self.difference_csr(d)
        import torch

        idx = self.zeroed_flat(d)
        vals = self.values[idx]
        keep = vals != 0
        idx, vals = idx[keep], vals[keep]
        coords = torch.stack([idx // self.n2, idx % self.n2])
        return torch.sparse_coo_tensor(  # flat indices are sorted and unique: already coalesced
            coords, vals, self.shape, device=vals.device, is_coalesced=True, check_invariants=False
        )

    def difference_norm(self, d: float) -> float:
        hit = self._norms.get(d)
        if hit is not None:
            return hit
        if self._is_dense(d):
            value = spectral_norm(self._dense_difference(d))
        else:
            value = coo_spectral_norm(*self._zeroed_cpu(d), self.shape)
        self._norms[d] = value
        return value

    def difference_norm_bounds(self, d: float, upper: bool = True) -> tuple[float, float]:
        hit = self._norms.get(d)
        if hit is not None:
            return hit, hit
        if self._is_dense(d):
            return spectral_norm_bounds(self._dense_difference(d), upper=upper)
        return coo_spectral_norm_bounds(*self._zeroed_cpu(d), self.shape, upper=upper)

    def counts(self, d: float) -> dict:
        rows, cols, _ = self._zeroed_cpu(d)
        row = self.row_nonzeros - np.bincount(rows, minlength=self.n1)
        col = self.col_nonzeros - np.bincount(cols, minlength=self.n2)
        diag_crit = self.d_crit[self.diag_flat]
        diag_zeroed = bool((zeroed_torch(diag_crit, d) if self.torch else zeroed_numpy(diag_crit, d)).any())
        return {
            "nonzeros": int(row.sum()),
            "max_row": int(row.max()),
            "max_col": int(col.max()),
            "diagonal_nonzero": self.diag_all_nonzero and not diag_zeroed,
        }


class PruningPath:
    """algorithm-1 at every strength ``d`` for a list of weight matrices, from one draw per entry.

    ``weights``: 2-D numpy arrays or torch tensors (outputs x inputs; torch stays on its device).  The draws
    come from ``generators`` (one per layer: numpy Generator / int seed for arrays, torch.Generator / int seed
    for tensors) or, when only ``seed`` is given, from :func:`layer_generator` (``default_rng([seed, k])`` for
    layer ``k``, the toolkit's convention).  ``psi``: per-layer variances (default: each layer's population
    variance, as :func:`numerics.algorithm_1`); the diagonal is kept unless ``prune_diagonal``.

    Every query equals Algorithm 1 with the same generators bit for bit: ``kept_masks(d)`` / ``pruned(d)`` as
    ``algorithm_1``'s outputs, ``difference(d)`` = A - Ahat(d) (scipy.sparse CSR for numpy layers, a coalesced
    torch sparse COO tensor on the device for torch layers), ``difference_norms(d)`` its spectral norms
    (float64, units of the weights; sparse component/Lanczos method below the measured density crossover,
    dense above it, CUDA dense on the device), ``difference_norm_bounds(d)`` certified cheap (lower, upper)
    bounds on them, and ``counts(d)`` the nonzeros, fullest row and column and diagonal of each pruned matrix
    (the keys of ``experiments._measures.sparsity_counts``).  Raises ValueError for non-2-D, non-finite or
    non-real weights, bad ``d``/``psi``/``seed`` or a ``generators``/``psi`` list of the wrong length, and
    TypeError for a generator of the wrong kind or neither ``seed`` nor ``generators``.
    """

    def __init__(
        self,
        weights: Sequence,
        seed: int | None = None,
        *,
        generators: Sequence | None = None,
        prune_diagonal: bool = False,
        psi: Sequence[float] | None = None,
    ):
        weights = list(weights)
        if generators is None:
            if seed is None:
                raise TypeError("PruningPath needs a seed or one generator per layer")
            generators = [layer_generator(w, seed, k) for k, w in enumerate(weights)]
        generators = list(generators)
        if len(generators) != len(weights):
            raise ValueError(f"got {len(generators)} generators for {len(weights)} weight matrices")
        psis = [None] * len(weights) if psi is None else list(psi)
        if len(psis) != len(weights):
            raise ValueError(f"got {len(psis)} psi values for {len(weights)} weight matrices")
        self.prune_diagonal = bool(prune_diagonal)
        self._layers = [_Layer(w, g, self.prune_diagonal, p) for w, g, p in zip(weights, generators, psis)]

    def __len__(self) -> int:
        return len(self._layers)

    @property
    def psi(self) -> list[float]:
        """The per-layer variances Psi_l used (float)."""
        return [lay.psi for lay in self._layers]

    def critical_strengths(self, layer: int):
        """algorithm-1: d_crit of every entry of ``layer`` (float32 for float32 weights, else float64; the weights'
        shape; +inf on a kept diagonal)."""
        lay = self._layers[layer]
        return lay.d_crit.reshape(lay.shape)

    @staticmethod
    def _d(d) -> float:
        return _scalar(_D, d, "d")

    def kept_masks(self, d) -> list:
        """Boolean kept masks at strength ``d`` (== ``algorithm_1(...)[1]`` per layer)."""
        d = self._d(d)
        return [lay.kept_mask(d) for lay in self._layers]

    def pruned(self, d) -> list:
        """The pruned matrices Ahat_l(d), type/dtype/device of the weights (== ``algorithm_1(...)[0]``)."""
        d = self._d(d)
        return [lay.pruned(d) for lay in self._layers]

    def difference(self, d) -> list:
        """A_l - Ahat_l(d): the weights of the entries with d_crit < d, as sparse matrices (see the class doc)."""
        d = self._d(d)
        return [lay.difference(d) for lay in self._layers]

    def difference_norms(self, d) -> np.ndarray:
        """||A_l - Ahat_l(d)||_2 for every layer (shape (L,), units of the weights), cached per ``d``."""
        d = self._d(d)
        return np.array([lay.difference_norm(d) for lay in self._layers])

    def difference_norm_bounds(self, d, upper: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Certified (lower, upper) bounds on ``difference_norms(d)`` from one pass over the pruned entries
        (see ``numerics.spectral_norm_bounds``); exact where the norm is already known.  Shapes (L,);
        ``upper=False`` computes only the lower bounds (upper returned as +inf where not known)."""
        d = self._d(d)
        pairs = [lay.difference_norm_bounds(d, upper) for lay in self._layers]
        return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])

    def counts(self, d) -> list[dict]:
        """Per layer: ``nonzeros`` (survivors), ``max_row`` (j_r), ``max_col`` (j_c), ``diagonal_nonzero``."""
        d = self._d(d)
        return [lay.counts(d) for lay in self._layers]
