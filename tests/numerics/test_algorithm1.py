"""Tests of numerics._algorithm1 (claim algorithm-1): shapes, dtypes, diagonal, seeds, backends, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import array_shapes_up_to_4d, entry_variances, float_dtypes, pruning_strengths, seeds, with_fixtures

import theory
from numerics import algorithm_1
from numerics._tolerance import bernoulli


@given(shape=array_shapes_up_to_4d(), dtype=float_dtypes(), d=pruning_strengths(), seed=seeds())
def test_numpy_output_keeps_shape_dtype_and_zeroes_exactly_the_unkept(shape, dtype, d, seed):
    w = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    psi = 1.0 if w.size < 2 or np.var(w) == 0 else None
    pruned, kept = algorithm_1(w, d, psi=psi, generator=seed)
    assert pruned.shape == w.shape and kept.shape == w.shape
    assert pruned.dtype == w.dtype and kept.dtype == np.bool_
    np.testing.assert_array_equal(pruned, np.where(kept, w, 0))


@given(shape=array_shapes_up_to_4d(), dtype=float_dtypes(), d=pruning_strengths(), seed=seeds())
def test_torch_output_keeps_shape_dtype_device_and_zeroes_exactly_the_unkept(shape, dtype, d, seed):
    w = torch.as_tensor(np.random.default_rng(seed).normal(size=shape)).to(getattr(torch, dtype))
    pruned, kept = algorithm_1(w, d, psi=1.0, generator=seed)
    assert isinstance(pruned, torch.Tensor) and pruned.dtype == w.dtype and pruned.device == w.device
    assert kept.dtype == torch.bool and tuple(kept.shape) == tuple(w.shape)
    assert torch.equal(pruned, torch.where(kept, w, torch.zeros((), dtype=w.dtype)))


@given(shape=array_shapes_up_to_4d(max_side=5).filter(lambda s: len(s) >= 2), seed=seeds())
def test_diagonal_of_last_two_axes_is_kept_unless_asked(shape, seed):
    w = np.random.default_rng(seed).normal(size=shape) * 1e-3  # tiny entries: zeroing probability ~ 1
    _, kept = algorithm_1(w, 1e6, psi=1.0, generator=seed)
    diag = np.eye(shape[-2], shape[-1], dtype=bool)
    assert np.all(kept[..., diag])
    assert not np.any(kept[..., ~diag])  # probability of keeping any is < 1e-9 per entry
    _, kept_all = algorithm_1(w, 1e6, psi=1.0, prune_diagonal=True, generator=seed)
    assert not np.any(kept_all)
    _, kept_t = algorithm_1(torch.as_tensor(w), 1e6, psi=1.0, generator=seed)
    assert torch.all(kept_t[..., torch.as_tensor(diag)])


def test_one_dimensional_input_has_no_diagonal():
    _, kept = algorithm_1(np.full(10, 1e-6), 1e6, psi=1.0, generator=0)
    assert not kept.any()


@given(d=pruning_strengths(), seed=seeds())
def test_bit_reproducible_per_seed_numpy_and_torch(d, seed):
    w = np.random.default_rng(seed).normal(size=(7, 9))
    a = algorithm_1(w, d, generator=seed)
    b = algorithm_1(w, d, generator=np.random.default_rng(seed))
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[0], b[0])
    t = torch.as_tensor(w)
    c = algorithm_1(t, d, generator=seed)
    g = torch.Generator().manual_seed(seed)
    e = algorithm_1(t, d, generator=g)
    assert torch.equal(c[1], e[1]) and torch.equal(c[0], e[0])


@given(d1=pruning_strengths(max_value=5.0), ratio=st.floats(1.01, 4.0), seed=seeds())
def test_larger_d_prunes_a_superset_with_the_same_draws(d1, ratio, seed):
    """Coupling: the zeroing probability is increasing in d, so with the same uniforms the kept set shrinks
    (hence |Delta| and every moment of it are monotone in d, sample by sample)."""
    w = np.random.default_rng(seed).normal(size=(40, 40))
    _, kept_small = algorithm_1(w, d1, psi=1.0, generator=seed)
    _, kept_large = algorithm_1(w, d1 * ratio, psi=1.0, generator=seed)
    assert np.all(kept_large <= kept_small)


@with_fixtures
@given(d=pruning_strengths(max_value=5.0), psi=entry_variances(), z=st.floats(0.0, 2.5))
def test_numpy_and_torch_zero_at_the_theory_rate(master_seed, d, psi, z):
    """Both backends' zeroing frequency for an entry of fixed value x matches exp(-x^2/(d Psi)) (delta = 1e-6)."""
    n = 20_000
    x = z * np.sqrt(psi)
    p0 = float(theory.algorithm_1_prune_probability(x, d, psi))
    tol = bernoulli(n, p0)
    _, kept_np = algorithm_1(np.full(n, x), d, psi=psi, generator=master_seed)
    _, kept_t = algorithm_1(torch.full((n,), x, dtype=torch.float64), d, psi=psi, generator=master_seed)
    assert tol.accepts(1 - kept_np.mean(), p0)
    assert tol.accepts(1 - kept_t.double().mean().item(), p0)


def test_a_ten_percent_wrong_rate_is_rejected(master_seed):
    n, x, d, psi = 200_000, 0.8, 1.0, 1.0
    p0 = float(theory.algorithm_1_prune_probability(x, d, psi))
    _, kept = algorithm_1(np.full(n, x), d, psi=psi, generator=master_seed)
    freq = 1 - kept.mean()
    assert bernoulli(n, p0).accepts(freq, p0)
    wrong = 1.1 * p0
    assert bernoulli(n, wrong).miss(p0, wrong, bernoulli(n, p0)) < 1e-6  # computed power
    assert not bernoulli(n, wrong).accepts(freq, wrong)


def test_psi_defaults_to_population_variance():
    w = np.random.default_rng(0).normal(size=(50, 50)) * 3.0
    a = algorithm_1(w, 1.0, generator=5)
    b = algorithm_1(w, 1.0, psi=float(np.var(w)), generator=5)
    np.testing.assert_array_equal(a[1], b[1])
    c = algorithm_1(torch.as_tensor(w), 1.0, generator=5)
    e = algorithm_1(torch.as_tensor(w), 1.0, psi=float(np.var(w)), generator=5)
    assert torch.equal(c[1], e[1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"d": 0.0}, "d must be > 0"),
        ({"d": -1.0}, "d must be > 0"),
        ({"d": float("nan")}, "d must be finite"),
        ({"d": 1.0, "psi": 0.0}, "psi must be > 0"),
        ({"d": 1.0, "psi": float("inf")}, "psi must be finite"),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(kwargs, message):
    w = np.random.default_rng(0).normal(size=(4, 4))
    with pytest.raises(ValueError, match=message):
        algorithm_1(w, **kwargs)
    with pytest.raises(ValueError, match=message):
        algorithm_1(torch.as_tensor(w), **kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_rejected(bad):
    w = np.ones((3, 3))
    w[1, 2] = bad
    with pytest.raises(ValueError, match="weights must be finite"):
        algorithm_1(w, 1.0, psi=1.0)
    with pytest.raises(ValueError, match="weights must be finite"):
        algorithm_1(torch.as_tensor(w), 1.0, psi=1.0)


def test_zero_variance_weights_need_psi():
    with pytest.raises(ValueError, match="variance psi must be > 0"):
        algorithm_1(np.full((3, 3), 2.0), 1.0)
    with pytest.raises(ValueError, match="variance psi must be > 0"):
        algorithm_1(torch.full((3, 3), 2.0), 1.0)
    algorithm_1(np.full((3, 3), 2.0), 1.0, psi=1.0, generator=0)  # fine with an explicit psi


def test_wrong_generator_type_and_dtype_are_rejected():
    with pytest.raises(TypeError, match="numpy Generator"):
        algorithm_1(np.ones((2, 2)), 1.0, psi=1.0, generator=torch.Generator())
    with pytest.raises(TypeError, match="torch.Generator"):
        algorithm_1(torch.ones(2, 2), 1.0, psi=1.0, generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match="real numeric"):
        algorithm_1(np.ones((2, 2), dtype=bool), 1.0, psi=1.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensor_stays_on_device():
    w = torch.randn(64, 64, device="cuda")
    pruned, kept = algorithm_1(w, 1.0, generator=0)
    assert pruned.device == w.device and kept.device == w.device
    assert torch.all(torch.diagonal(kept))
