"""numerics.PruningPath (claim algorithm-1): one draw per entry answers every d exactly as Algorithm 1 does."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sps
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import matrix_shapes, seeds

from numerics import PruningPath, algorithm_1, layer_generator

GRID = tuple(np.geomspace(1e-9, 50.0, 40))


def _counts(p: np.ndarray) -> dict:
    """Reference counts of a pruned matrix, straight from its nonzeros."""
    nz = np.asarray(p) != 0
    k = min(nz.shape)
    return {
        "nonzeros": int(nz.sum()),
        "max_row": int(nz.sum(1).max()),
        "max_col": int(nz.sum(0).max()),
        "diagonal_nonzero": bool(nz[np.arange(k), np.arange(k)].all()),
    }


def _network(seed: int, shapes, dtype="float64"):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(dtype) * rng.uniform(0.01, 3) for s in shapes]


@given(
    shapes=st.lists(matrix_shapes(1, 25).filter(lambda s: s[0] * s[1] >= 2), min_size=1, max_size=3),
    seed=seeds(),
    dtype=st.sampled_from(["float64", "float32"]),
    prune_diagonal=st.booleans(),
)
def test_bit_identical_to_algorithm_1_over_a_grid_of_d(shapes, seed, dtype, prune_diagonal):
    ws = _network(seed, shapes, dtype)
    ws = [w if w.size >= 2 and np.var(w) > 0 else w + np.arange(w.size).reshape(w.shape) for w in ws]
    path = PruningPath(ws, seed % 1000, prune_diagonal=prune_diagonal)
    for d in GRID:
        ref = [
            algorithm_1(w, d, prune_diagonal=prune_diagonal, generator=np.random.default_rng([seed % 1000, k]))
            for k, w in enumerate(ws)
        ]
        masks, pruned_all, diffs, counts = path.kept_masks(d), path.pruned(d), path.difference(d), path.counts(d)
        for k, (pruned, kept) in enumerate(ref):
            np.testing.assert_array_equal(masks[k], kept)
            assert pruned_all[k].dtype == pruned.dtype
            np.testing.assert_array_equal(pruned_all[k], pruned)
            assert sps.issparse(diffs[k])
            np.testing.assert_array_equal(diffs[k].toarray(), ws[k].astype(np.float64) - pruned.astype(np.float64))
            assert counts[k] == _counts(pruned)


def test_agrees_with_algorithm_1_at_d_equal_to_an_entry_s_critical_strength():
    """At d = d_crit of an entry (where U < P and d > d_crit can disagree after rounding) both take the same
    decision: Algorithm 1 decides through the same comparison."""
    ws = _network(4, [(40, 30)])
    path = PruningPath(ws, 7)
    crit = path.critical_strengths(0)
    finite = crit[np.isfinite(crit) & (crit > 0)]
    for d in finite[:: max(1, finite.size // 60)]:
        _, kept = algorithm_1(ws[0], d, generator=layer_generator(ws[0], 7, 0))
        np.testing.assert_array_equal(path.kept_masks(d)[0], kept)
        # the entry itself is kept at its own critical strength (zeroed iff d > d_crit)
        assert path.kept_masks(d)[0][crit == d].all()


@given(seed=seeds(), d1=st.floats(1e-9, 5.0), ratio=st.floats(1.0, 1e4))
def test_pruned_sets_are_nested_in_d(seed, d1, ratio):
    ws = _network(seed, [(30, 20), (20, 30)])
    path = PruningPath(ws, 1)
    for small, large in zip(path.kept_masks(d1), path.kept_masks(d1 * ratio)):
        assert np.all(large <= small)
    n_small = [c["nonzeros"] for c in path.counts(d1)]
    n_large = [c["nonzeros"] for c in path.counts(d1 * ratio)]
    assert all(a >= b for a, b in zip(n_small, n_large))


@given(seed=seeds(), d=st.floats(1e-8, 20.0))
def test_difference_norms_and_bounds(seed, d):
    ws = _network(seed, [(60, 45), (45, 60), (3, 45)])
    path = PruningPath(ws, 2)
    norms = path.difference_norms(d)
    lower, upper = path.difference_norm_bounds(d)
    for w, p, n, lo, hi in zip(ws, path.pruned(d), norms, lower, upper):
        exact = np.linalg.norm(w - p, 2)
        assert n == pytest.approx(exact, rel=1e-10, abs=1e-300)
        assert lo <= n * (1 + 1e-12) and n <= hi * (1 + 1e-12)


def test_bounds_of_a_fresh_strength_are_certified_and_cheap_lower_alone():
    ws = _network(3, [(80, 80)])
    path = PruningPath(ws, 0)
    lo_only, inf = path.difference_norm_bounds(0.5, upper=False)
    lower, upper = path.difference_norm_bounds(0.5)
    assert np.isinf(inf).all() and lo_only[0] == pytest.approx(lower[0], rel=1e-12)
    exact = np.linalg.norm(ws[0] - path.pruned(0.5)[0], 2)
    assert lower[0] <= exact <= upper[0]
    path.difference_norms(0.5)  # once the norm is known, the bounds are that norm
    known = path.difference_norm_bounds(0.5)
    assert known[0][0] == known[1][0] == path.difference_norms(0.5)[0]


def test_seed_means_one_default_rng_per_layer():
    ws = _network(0, [(10, 12), (12, 10)])
    a = PruningPath(ws, 5)
    b = PruningPath(ws, generators=[np.random.default_rng([5, 0]), np.random.default_rng([5, 1])])
    for d in GRID:
        for x, y in zip(a.kept_masks(d), b.kept_masks(d)):
            np.testing.assert_array_equal(x, y)


def test_torch_cpu_matches_algorithm_1_with_the_same_generators():
    ws = [torch.as_tensor(w) for w in _network(1, [(25, 18), (18, 25)])]
    ws[1] = ws[1].float()
    path = PruningPath(ws, generators=[3, 4])
    for d in GRID:
        for k, w in enumerate(ws):
            pruned, kept = algorithm_1(w, d, generator=3 + k)
            assert torch.equal(path.kept_masks(d)[k], kept) and torch.equal(path.pruned(d)[k], pruned)
            diff = path.difference(d)[k]
            assert diff.is_sparse and torch.equal(diff.to_dense(), (w - pruned).double())
            assert path.counts(d)[k] == _counts(pruned.numpy())
            assert path.difference_norms(d)[k] == pytest.approx(
                float(np.linalg.norm((w - pruned).double().numpy(), 2)), rel=1e-10, abs=1e-300
            )


def test_layer_generator_for_torch_is_seeded_from_seed_sequence():
    w = torch.zeros(3, 3)
    g1, g2 = layer_generator(w, 1, 0), layer_generator(w, 1, 0)
    assert torch.equal(torch.rand(5, generator=g1), torch.rand(5, generator=g2))
    assert not torch.equal(torch.rand(5, generator=layer_generator(w, 1, 1)), torch.rand(5, generator=g1))
    with pytest.raises(ValueError, match="seed and layer"):
        layer_generator(w, -1, 0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_path_stays_on_device_and_matches_algorithm_1():
    ws = [torch.randn(64, 48, device="cuda"), torch.randn(48, 64, device="cuda", dtype=torch.float64)]
    path = PruningPath(ws, 0)
    for d in (1e-4, 0.1, 2.0):
        for k, w in enumerate(ws):
            pruned, kept = algorithm_1(w, d, generator=layer_generator(w, 0, k))
            assert torch.equal(path.kept_masks(d)[k], kept) and torch.equal(path.pruned(d)[k], pruned)
            assert path.pruned(d)[k].device == w.device and path.difference(d)[k].device == w.device
            exact = float(torch.linalg.matrix_norm((w - pruned).double(), 2))
            assert path.difference_norms(d)[k] == pytest.approx(exact, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: PruningPath([np.ones(4)], 0), "2-D"),
        (lambda: PruningPath([np.array([[1.0, np.nan], [0.0, 1.0]])], 0), "finite"),
        (lambda: PruningPath([np.eye(3)], generators=[0, 1]), "generators"),
        (lambda: PruningPath([np.eye(3)], 0, psi=[1.0, 2.0]), "psi values"),
        (lambda: PruningPath([np.eye(3)], 0, psi=[0.0]), "psi must be > 0"),
        (lambda: PruningPath([np.eye(3)], 0).pruned(0.0), "d must be > 0"),
        (lambda: PruningPath([np.ones((3, 3))], 0), "variance psi"),
    ],
)
def test_errors_name_the_problem(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_needs_a_seed_or_generators():
    with pytest.raises(TypeError, match="seed or one generator"):
        PruningPath([np.eye(3)])
    with pytest.raises(TypeError, match="numpy Generator"):
        PruningPath([np.eye(3) + 1], generators=[torch.Generator()])


@given(
    c=st.floats(0, float(np.finfo(np.float32).max), width=32) | st.sampled_from([0.0, float("inf")]),
    d=st.floats(1e-320, 1e300) | st.floats(0.125, 16.0, width=32).map(float),
)
@example(c=0.5, d=0.5)  # equal: not zeroed
@example(c=float(np.float32(0.1)), d=0.1)  # float32(0.1) > 0.1
@example(c=float(np.nextafter(np.float32(0.1), np.float32(0))), d=0.1)  # the float32 just below 0.1
@example(c=0.0, d=1e-320)  # below float32's range: only a zero critical strength is zeroed
@example(c=float(np.finfo(np.float32).max), d=1e300)
def test_float32_critical_strengths_compare_exactly_with_a_float64_d(c, d):
    """float32 d_crit against a float64 d: the float32 comparison decides exactly what c < d decides."""
    from numerics._algorithm1 import zeroed_numpy, zeroed_torch

    arr = np.array([c], dtype=np.float32)
    expect = float(arr[0]) < d
    assert bool(zeroed_numpy(arr, d)[0]) == expect
    assert bool(zeroed_torch(torch.as_tensor(arr), d)[0]) == expect
    assert bool(zeroed_numpy(arr.astype(np.float64), d)[0]) == expect
