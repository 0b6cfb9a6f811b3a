"""Algorithm 1 (randomised magnitude-based pruning) on numpy arrays and torch tensors.

Claim ``algorithm-1``.  Each off-diagonal entry ``A_ij`` is zeroed independently with the
probability ``theory.algorithm_1_prune_probability(A_ij, d, Psi)``; the diagonal (of the last
two axes) is kept unless ``prune_diagonal=True``.

The decision is taken through the theory's critical strength (``theory.algorithm_1_critical_strength``,
solved by SymPy from the zeroing probability): entry ``i`` with draw ``U_i`` is zeroed at strength ``d``
iff ``d > d_crit(A_i, U_i, Psi)``, which is ``U_i < exp(-A_i^2/(d Psi))`` solved for ``d``.  Deciding
through one comparison (exact against the float64 ``d``; d_crit in the draws' dtype) makes this function and
``numerics.PruningPath`` (every ``d`` from one draw) the same algorithm bit for bit, also at the
measure-zero entries where float rounding of the two forms could disagree.  Expressions are lambdified
once per backend (no formula is typed in this module); the per-element validation of ``Formula.__call__``
is replaced by one finiteness check of the weights and a validation of ``d`` and ``psi`` against the
theory symbols' assumptions.
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


@cache
def _critical_strength_function(backend: str):
    """The theory's critical strength d_crit(x, U, Psi) lambdified for ``backend`` ('numpy' or 'torch')."""
    formula = theory.algorithm_1_critical_strength
    return sp.lambdify(formula.args, formula.expr, modules=backend)


def draw_uniforms_numpy(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """algorithm-1: the i.i.d. uniforms on [0, 1) of one numpy call, in the weights' float dtype (float32
    weights draw float32, everything else float64), shape of ``values``."""
    uniform_dtype = values.dtype if values.dtype in (np.float32, np.float64) else np.float64
    return rng.random(values.shape, dtype=uniform_dtype)


def critical_strengths_numpy(values: np.ndarray, draws: np.ndarray, psi: float) -> np.ndarray:
    """algorithm-1: d_crit of every entry from the theory's formula, in the draws' dtype (float32 for float32
    weights, else float64; shape of ``values``); a draw of exactly 0 gives d_crit = 0 (zeroed at every d > 0),
    an entry of 0 likewise."""
    fn = _critical_strength_function("numpy")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        out = fn(values.astype(draws.dtype, copy=False), draws, psi)
    return np.asarray(out, dtype=draws.dtype)


def float32_threshold(d: float) -> tuple[float, bool]:
    """(t, strict) with ``c < d  <=>  (c < t if strict else c <= t)`` for every float32 ``c`` and float64 ``d``:
    t is the largest float32 not above d, and the comparison is strict iff d is itself a float32.  This lets
    float32 critical strengths be compared with a float64 strength exactly, in float32."""
    t = np.float32(d)
    if float(t) > d:
        t = np.nextafter(t, np.float32(-np.inf))
    return float(t), float(t) == d


def zeroed_numpy(d_crit: np.ndarray, d: float) -> np.ndarray:
    """algorithm-1: the entries zeroed at strength ``d``: ``d > d_crit``, exact for float64 ``d`` whatever the
    float dtype of ``d_crit`` (NaN never zeroed)."""
    if d_crit.dtype == np.float64:
        return np.less(d_crit, np.float64(d))
    t, strict = float32_threshold(d)
    return np.less(d_crit, np.float32(t)) if strict else np.less_equal(d_crit, np.float32(t))


def numpy_generator(generator) -> np.random.Generator:
    """A numpy Generator from a Generator, an int seed or None (TypeError otherwise)."""
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is None or isinstance(generator, (int, np.integer)):
        return np.random.default_rng(generator)
    raise TypeError(
        f"generator for a numpy array must be a numpy Generator, an int seed or None (got {type(generator).__name__})"
    )


def torch_generator(generator, device):
    """A torch.Generator on ``device`` from a Generator, an int seed or None (TypeError otherwise)."""
    import torch

    if isinstance(generator, torch.Generator):
        return generator
    if generator is None or isinstance(generator, (int, np.integer)):
        gen = torch.Generator(device=device)
        if generator is None:
            gen.seed()
        else:
            gen.manual_seed(int(generator))
        return gen
    raise TypeError(
        f"generator for a torch tensor must be a torch.Generator, an int seed or None (got {type(generator).__name__})"
    )


def draw_uniforms_torch(values, gen):
    """algorithm-1: the i.i.d. uniforms on [0, 1) of one torch call, in the weights' dtype when it is float32
    or float64 (else float32), shape and device of ``values``."""
    import torch

    uniform_dtype = values.dtype if values.dtype in (torch.float32, torch.float64) else torch.float32
    return torch.rand(values.shape, generator=gen, dtype=uniform_dtype, device=values.device)


def critical_strengths_torch(values, draws, psi: float):
    """algorithm-1: d_crit of every entry as a tensor in the draws' dtype on the weights' device (theory's
    formula); zeros as in :func:`critical_strengths_numpy`."""
    import torch

    fn = _critical_strength_function("torch")
    out = fn(values.to(draws.dtype), draws, float(psi))
    return out if isinstance(out, torch.Tensor) else torch.as_tensor(out, dtype=draws.dtype, device=values.device)


def zeroed_torch(d_crit, d: float):
    """algorithm-1: ``d > d_crit`` on the tensor's device, exact for float64 ``d`` (NaN never zeroed)."""
    import torch

    if d_crit.dtype == torch.float64:
        return d_crit < float(d)
    t, strict = float32_threshold(d)
    return d_crit < t if strict else d_crit <= t


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
    rng = numpy_generator(generator)
    draws = draw_uniforms_numpy(values, rng)
    kept = ~zeroed_numpy(critical_strengths_numpy(values, draws, psi), d)
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


def _population_variance_torch(values) -> float:
    import torch

    if values.numel() < 2:
        raise ValueError("weights must have at least 2 entries to estimate psi (or pass psi)")
    var = float(values.to(torch.float64).var(correction=0))
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
        psi = _population_variance_torch(values)
    gen = torch_generator(generator, values.device)
    draws = draw_uniforms_torch(values, gen)
    kept = ~zeroed_torch(critical_strengths_torch(values, draws, psi), d)
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
    probability ``P_i``, decided as ``d > d_crit(A_i, U_i, Psi)`` (the same event, one comparison shared with
    ``numerics.PruningPath``).  Raises ValueError for bad ``d``/``psi``/weights, TypeError for a generator of
    the wrong kind.
    """
    d_value = _scalar(_D, d, "d")
    psi_value = None if psi is None else _scalar(_PSI, psi, "psi")
    if _is_torch(weights):
        return _algorithm_1_torch(weights, d_value, psi_value, bool(prune_diagonal), generator)
    return _algorithm_1_numpy(np.asarray(weights), d_value, psi_value, bool(prune_diagonal), generator)
