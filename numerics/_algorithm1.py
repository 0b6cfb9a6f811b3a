"""Algorithm 1 (randomised magnitude-based pruning) on numpy arrays and torch tensors.

Claim ``algorithm-1``.  Each off-diagonal entry ``A_ij`` is zeroed independently with the
probability ``theory.algorithm_1_prune_probability(A_ij, d, Psi)``; the diagonal (of the last
two axes) is kept unless ``prune_diagonal=True``.  The probability is the theory's SymPy
expression, lambdified here once per backend (no formula is typed in this module); the
per-element validation of ``Formula.__call__`` is replaced by one finiteness check of the
weights and a validation of ``d`` and ``psi`` against the theory symbols' assumptions.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import sympy as sp

import theory

_FORMULA = theory.algorithm_1_prune_probability
_X, _D, _PSI = _FORMULA.args  # (x, d, Psi): the order fixed by the theory


@cache
def _probability_function(backend: str):
    """The theory's zeroing probability lambdified for ``backend`` ('numpy' or 'torch')."""
    return sp.lambdify(_FORMULA.args, _FORMULA.expr, modules=backend)


def _is_torch(obj: Any) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(obj, torch.Tensor)


def _scalar(symbol: sp.Symbol, value: Any, label: str) -> float:
    """Validate a scalar parameter from the theory symbol's assumptions (ValueError names it)."""
    if _is_torch(value):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.ndim != 0:
        raise ValueError(f"{label} must be a scalar (got shape {arr.shape})")
    try:
        checked = theory.validate_argument(symbol, arr)
    except ValueError as exc:
        # the theory names the symbol (Psi); name the keyword the caller used
        raise ValueError(str(exc).replace(symbol.name, label, 1)) from None
    return float(checked)


def _diagonal_mask_shape(shape: tuple[int, ...]) -> tuple[int, int] | None:
    return (shape[-2], shape[-1]) if len(shape) >= 2 else None


def _algorithm_1_numpy(weights: np.ndarray, d: float, psi: float | None, prune_diagonal: bool, generator):
    if weights.dtype.kind not in "fiu":
        raise ValueError(f"weights must be a real numeric array (got dtype {weights.dtype})")
    values = weights if weights.dtype.kind == "f" else weights.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("weights must be finite (got NaN or infinity)")
    if psi is None:
        psi = _population_variance_numpy(values)
    if isinstance(generator, np.random.Generator):
        rng = generator
    elif generator is None or isinstance(generator, (int, np.integer)):
        rng = np.random.default_rng(generator)
    else:
        raise TypeError(
            f"generator for a numpy array must be a numpy Generator, an int seed or None "
            f"(got {type(generator).__name__})"
        )
    prob = _probability_function("numpy")(values, d, psi)
    uniform_dtype = values.dtype if values.dtype in (np.float32, np.float64) else np.float64
    draws = rng.random(values.shape, dtype=uniform_dtype)
    kept = np.asarray(draws >= prob)
    diag = _diagonal_mask_shape(values.shape)
    if diag is not None and not prune_diagonal:
        kept |= np.eye(*diag, dtype=bool)
    pruned = np.where(kept, weights, np.zeros((), dtype=weights.dtype))
    return pruned, kept


def _population_variance_numpy(values: np.ndarray) -> float:
    if values.size < 2:
        raise ValueError("weights must have at least 2 entries to estimate psi (or pass psi)")
    var = float(np.var(values, dtype=np.float64))
    if not var > 0:
        raise ValueError("weights must not all be equal: their variance psi must be > 0 (or pass psi)")
    return var


def _algorithm_1_torch(weights, d: float, psi: float | None, prune_diagonal: bool, generator):
    import torch

    if weights.is_complex() or weights.dtype == torch.bool:
        raise ValueError(f"weights must be a real numeric tensor (got dtype {weights.dtype})")
    values = weights if weights.is_floating_point() else weights.to(torch.float64)
    values = values.detach()
    if not bool(torch.isfinite(values).all()):
        raise ValueError("weights must be finite (got NaN or infinity)")
    if psi is None:
        if values.numel() < 2:
            raise ValueError("weights must have at least 2 entries to estimate psi (or pass psi)")
        psi = float(values.to(torch.float64).var(correction=0))
        if not psi > 0:
            raise ValueError("weights must not all be equal: their variance psi must be > 0 (or pass psi)")
    if isinstance(generator, torch.Generator):
        gen = generator
    elif generator is None or isinstance(generator, (int, np.integer)):
        gen = torch.Generator(device=values.device)
        if generator is None:
            gen.seed()
        else:
            gen.manual_seed(int(generator))
    else:
        raise TypeError(
            f"generator for a torch tensor must be a torch.Generator, an int seed or None "
            f"(got {type(generator).__name__})"
        )
    prob = _probability_function("torch")(values, d, psi)
    uniform_dtype = values.dtype if values.dtype in (torch.float32, torch.float64) else torch.float32
    draws = torch.rand(values.shape, generator=gen, dtype=uniform_dtype, device=values.device)
    kept = draws >= prob
    diag = _diagonal_mask_shape(tuple(values.shape))
    if diag is not None and not prune_diagonal:
        kept |= torch.eye(*diag, dtype=torch.bool, device=values.device)
    pruned = torch.where(kept, weights, torch.zeros((), dtype=weights.dtype, device=weights.device))
    return pruned, kept


def algorithm_1(weights, d, *, psi=None, prune_diagonal: bool = False, generator=None):
    """algorithm-1: randomised magnitude pruning of ``weights``; returns ``(pruned, kept_mask)``.

    Assumptions: ``d > 0``; ``psi > 0`` (default: the population variance of ``weights``, as the
    authors' code does); ``weights`` finite, real, any shape.  For arrays of >= 2 dimensions the
    diagonal of the last two axes is kept unless ``prune_diagonal`` (Remark 4.1; the released code
    prunes it too); 1-D and 0-D inputs have no diagonal.  numpy arrays use ``generator`` as a numpy
    ``Generator`` or int seed; torch tensors (CPU or CUDA) use a ``torch.Generator`` on the tensor's
    device or an int seed.  Output keeps the input's type, dtype and device; the mask is boolean.
    Entry ``i`` is zeroed when ``U_i < P_i`` for i.i.d. uniforms ``U_i`` and the theory's zeroing
    probability ``P_i``.
    """
    d_value = _scalar(_D, d, "d")
    psi_value = None if psi is None else _scalar(_PSI, psi, "psi")
    if _is_torch(weights):
        return _algorithm_1_torch(weights, d_value, psi_value, bool(prune_diagonal), generator)
    return _algorithm_1_numpy(np.asarray(weights), d_value, psi_value, bool(prune_diagonal), generator)
