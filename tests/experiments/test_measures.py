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
