"""Measures: spectral norm against full SVD, margins against a plain reference, lpq, counts."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as hs

from experiments._measures import lpq, margin_loss, margins, norm_21_transpose, sparsity_counts, spectral_norm


@pytest.mark.parametrize("shape", [(2500, 2500), (784, 300), (10, 2500), (3, 4)])
def test_spectral_norm_matches_full_svd(shape):
    a = np.random.default_rng(1).normal(size=shape)
    exact = np.linalg.svd(a, compute_uv=False)[0]
    assert spectral_norm(a) == pytest.approx(exact, rel=1e-9)


def test_spectral_norm_of_low_rank_and_torch_input():
    rng = np.random.default_rng(2)
    u, v = rng.normal(size=(500, 1)), rng.normal(size=(1, 400))
    a = u @ v + 1e-3 * rng.normal(size=(500, 400))
    assert spectral_norm(torch.tensor(a)) == pytest.approx(np.linalg.norm(a, 2), rel=1e-9)


def _margins_reference(logits, labels):
    out = []
    for row, y in zip(logits.tolist(), labels.tolist()):
        others = [v for k, v in enumerate(row) if k != y]
        out.append(row[y] - max(others))
    return np.array(out)


@given(hs.integers(0, 2**31 - 1))
def test_margins_match_reference(seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(50, 10, generator=g)
    labels = torch.randint(0, 10, (50,), generator=g)
    np.testing.assert_allclose(margins(logits, labels), _margins_reference(logits, labels), rtol=1e-12)
    m = margins(logits, labels)
    assert margin_loss(m, 0.0) == pytest.approx(float((logits.argmax(1) != labels).float().mean()))


def test_lpq_and_norm21():
    a = np.random.default_rng(3).normal(size=(7, 5))
    assert lpq(a, 1, 2) == pytest.approx(np.linalg.norm(a))
    assert norm_21_transpose(a) == pytest.approx(sum(np.linalg.norm(r) for r in a))
    assert norm_21_transpose(a, a) == 0


def test_sparsity_counts():
    a = np.eye(4)
    a[0, 3] = 1.0
    c = sparsity_counts(a)
    assert c == {"nonzeros": 5, "max_row": 2, "max_col": 2, "diagonal_nonzero": True}


def test_spectral_norm_of_zero_and_sparse_matrices():
    assert spectral_norm(np.zeros((50, 40))) == 0.0
    a = np.zeros((60, 60))
    a[3, 7] = -2.5
    assert spectral_norm(a) == pytest.approx(2.5, rel=1e-12)


# --- issue 14: every routine gives the mathematically scaled answer at any float64 scale -------------------
import math  # noqa: E402

import scipy.sparse as sps  # noqa: E402

from experiments._measures import frobenius_norm, layer_measures  # noqa: E402

#: 10**k times entries in [0.1, 3] are normal float64 numbers for these k
SCALES = hs.integers(-306, 307)


def _base(seed: int, shape=(12, 9)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _check_scaled(fn, base_value: float, k: int, power: int = 1):
    """fn() == base_value * 10**(power k) (rel 1e-12) inside float64's range; ValueError well outside it."""
    log10 = math.log10(abs(base_value)) + power * k
    if log10 < 307.5:
        assert fn() == pytest.approx(base_value * 10.0 ** (power * k), rel=1e-12)
    elif log10 > 308.3:
        with pytest.raises(ValueError, match="float64 range"):
            fn()


@given(k=SCALES, seed=hs.integers(0, 2**31 - 1))
def test_norms_scale_exactly(k, seed):
    a = _base(seed)
    ref = _base(seed + 1)
    c = 10.0**k
    _check_scaled(lambda: spectral_norm(a * c), float(np.linalg.norm(a, 2)), k)
    _check_scaled(lambda: spectral_norm(sps.csr_matrix(a * c)), float(np.linalg.norm(a, 2)), k)
    _check_scaled(lambda: spectral_norm(torch.as_tensor(a * c)), float(np.linalg.norm(a, 2)), k)
    _check_scaled(lambda: frobenius_norm(a * c), float(np.linalg.norm(a)), k)
    _check_scaled(lambda: norm_21_transpose(a * c), float(np.linalg.norm(a, axis=1).sum()), k)
    _check_scaled(lambda: norm_21_transpose(a * c, ref * c), float(np.linalg.norm(a - ref, axis=1).sum()), k)
    _check_scaled(lambda: lpq(a * c, 1, 2), float(np.linalg.norm(a)), k)
    _check_scaled(lambda: lpq(a * c, 2, 1), float(np.sum(np.linalg.norm(a**2, axis=0) ** 0.5)), k)


@given(k=SCALES, seed=hs.integers(0, 2**31 - 1))
def test_layer_measures_scale_exactly(k, seed):
    """Every measure scales by 10**k (psi by 10**(2k)); when one of them leaves float64's range the call raises."""
    a = _base(seed)
    base = layer_measures(a)
    powers = {"spectral": 1, "frobenius": 1, "norm21T": 1, "lpq_1_2": 1, "max_abs": 1, "psi": 2}
    tops = [math.log10(base[key]) + p * k for key, p in powers.items()]
    if max(tops) < 307.5:
        got = layer_measures(a * 10.0**k)
        for key, p in powers.items():
            assert got[key] == pytest.approx(base[key] * 10.0 ** (p * k), rel=1e-12), key
        assert (got["d1"], got["d2"]) == (base["d1"], base["d2"])
    elif max(tops) > 308.3:
        with pytest.raises(ValueError, match="float64 range"):
            layer_measures(a * 10.0**k)


@given(k=SCALES, seed=hs.integers(0, 2**31 - 1))
def test_margins_scale_exactly(k, seed):
    rng = np.random.default_rng(seed)
    logits = rng.uniform(0.1, 3.0, size=(40, 10)) * rng.choice([-1.0, 1.0], size=(40, 10))
    labels = torch.as_tensor(rng.integers(0, 10, size=40))
    base = margins(torch.as_tensor(logits), labels)
    got_fn = lambda: margins(torch.as_tensor(logits * 10.0**k), labels)  # noqa: E731
    top = math.log10(np.abs(base).max()) + k
    if top < 307.5:
        np.testing.assert_allclose(got_fn(), base * 10.0**k, rtol=1e-12, atol=np.abs(base * 10.0**k).max() * 1e-15)
    elif top > 308.3:
        with pytest.raises(ValueError, match="float64 range"):
            got_fn()


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_measures_reject_non_finite_input(bad):
    a = np.ones((4, 4))
    a[0, 1] = bad
    for fn in (spectral_norm, frobenius_norm, norm_21_transpose, lambda m: lpq(m, 1, 2), layer_measures):
        with pytest.raises(ValueError, match="finite"):
            fn(a)
    logits = torch.zeros(3, 10)
    logits[1, 2] = bad
    with pytest.raises(ValueError, match="finite"):
        margins(logits, torch.tensor([0, 1, 2]))


def test_spectral_norm_accepts_scipy_sparse():
    a = sps.random(300, 200, density=0.01, random_state=0, format="csr")
    assert spectral_norm(a) == pytest.approx(np.linalg.norm(a.toarray(), 2), rel=1e-10)
    assert frobenius_norm(a) == pytest.approx(np.linalg.norm(a.toarray()), rel=1e-12)
