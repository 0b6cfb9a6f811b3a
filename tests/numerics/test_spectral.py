"""numerics.spectral_norm / spectral_norm_bounds: dense, sparse (block by block) and torch agree with a full SVD,
the bounds hold, and every scale float64 represents gives the scaled answer (issue 14)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sps
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import matrix_shapes, seeds

from numerics import spectral_norm, spectral_norm_bounds
from numerics._spectral import coo_spectral_norm


def _sparse(seed: int, shape, density: float) -> sps.csr_matrix:
    rng = np.random.default_rng(seed)
    a = sps.random(*shape, density=density, random_state=rng, format="csr")
    a.data = rng.normal(size=a.nnz) * rng.uniform(0.1, 3)
    return a


@pytest.mark.parametrize("density", [5e-4, 3e-3, 0.02, 0.3, 0.9])
def test_sparse_dense_and_torch_agree_with_full_svd(density):
    a = _sparse(1, (200, 150), density)
    exact = np.linalg.svd(a.toarray(), compute_uv=False)[0] if a.nnz else 0.0
    for form in (a, a.tocoo(), a.tocsc(), a.toarray(), torch.as_tensor(a.toarray())):
        assert spectral_norm(form) == pytest.approx(exact, rel=1e-10, abs=1e-300)


def test_blocks_are_not_cut_short_by_their_frobenius_order():
    """The block with the largest Frobenius norm (a 10 x 10 identity: F = sqrt(10), ||.||_2 = 1) is not the
    largest in spectral norm (a single entry 2): the visit must go on past it."""
    a = np.zeros((30, 30))
    a[:10, :10] = np.eye(10)
    a[20, 25] = 2.0
    a[12, 14], a[12, 15], a[13, 14] = 0.5, 0.5, 0.5
    assert spectral_norm(sps.csr_matrix(a)) == pytest.approx(2.0, rel=1e-15)
    assert spectral_norm(a) == pytest.approx(2.0, rel=1e-12)


def test_one_large_component_uses_lanczos_and_agrees():
    a = _sparse(2, (700, 650), 0.01)  # above the percolation threshold: one block with most rows and columns
    exact = np.linalg.svd(a.toarray(), compute_uv=False)[0]
    assert spectral_norm(a) == pytest.approx(exact, rel=1e-10)


def test_coo_entry_point_ignores_zeros():
    rows, cols, vals = np.array([0, 1, 2]), np.array([0, 1, 1]), np.array([3.0, 0.0, -4.0])
    assert coo_spectral_norm(rows, cols, vals, (3, 2)) == pytest.approx(4.0)
    assert coo_spectral_norm(rows[:0], cols[:0], vals[:0], (3, 2)) == 0.0


@given(shape=matrix_shapes(1, 40), seed=seeds(), density=st.floats(0.01, 1.0))
def test_bounds_hold(shape, seed, density):
    a = _sparse(seed, shape, density)
    exact = float(np.linalg.norm(a.toarray(), 2))
    for form in (a, a.toarray()):
        lower, upper = spectral_norm_bounds(form)
        assert lower <= exact * (1 + 1e-12) and exact <= upper * (1 + 1e-12)
        assert spectral_norm_bounds(form, upper=False) == (pytest.approx(lower, rel=1e-12), math.inf) or (
            lower == upper == 0.0
        )


#: exponents k for which 10**k times entries in [0.1, 3] are normal float64 numbers
SCALES = st.integers(-306, 307)


def _scaled_or_error(fn, base_value: float, k: int, power: int = 1):
    """fn() must equal base_value * 10**(power k) when that is inside float64's range, else raise ValueError."""
    log10 = math.log10(base_value) + power * k if base_value > 0 else -math.inf
    if log10 < 307.5:
        got = fn()
        assert got == pytest.approx(base_value * 10.0 ** (power * k) if base_value else 0.0, rel=1e-12)
    elif log10 > 308.3:
        with pytest.raises(ValueError, match="float64 range"):
            fn()


@given(k=SCALES, seed=seeds(), sparse=st.booleans())
def test_spectral_norm_at_any_scale(k, seed, sparse):
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.1, 3.0, size=(30, 25)) * rng.choice([-1.0, 1.0], size=(30, 25))
    base[rng.random(base.shape) < 0.7] = 0.0
    ref = float(np.linalg.norm(base, 2))
    scaled = base * 10.0**k
    form = sps.csr_matrix(scaled) if sparse else scaled
    _scaled_or_error(lambda: spectral_norm(form), ref, k)
    lower, upper = spectral_norm_bounds(base)
    _scaled_or_error(lambda: spectral_norm_bounds(form)[0], lower, k)
    _scaled_or_error(lambda: spectral_norm_bounds(form)[1], upper, k)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_and_non_matrix_inputs_are_rejected(bad):
    a = np.ones((5, 5))
    a[1, 2] = bad
    for form in (a, sps.csr_matrix(a), torch.as_tensor(a)):
        with pytest.raises(ValueError, match="finite"):
            spectral_norm(form)
        with pytest.raises(ValueError, match="finite"):
            spectral_norm_bounds(form)
    with pytest.raises(ValueError, match="2-D"):
        spectral_norm(np.ones(4))


def test_zero_and_empty_matrices():
    assert spectral_norm(np.zeros((50, 40))) == 0.0
    assert spectral_norm(sps.csr_matrix((50, 40))) == 0.0
    assert spectral_norm_bounds(sps.csr_matrix((5, 4))) == (0.0, 0.0)
    assert spectral_norm(np.zeros((0, 3))) == 0.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensor_norm_on_device():
    a = torch.randn(300, 200, device="cuda", dtype=torch.float64)
    assert spectral_norm(a) == pytest.approx(float(np.linalg.norm(a.cpu().numpy(), 2)), rel=1e-10)
    assert spectral_norm(a * 1e300) == pytest.approx(1e300 * spectral_norm(a), rel=1e-12)
