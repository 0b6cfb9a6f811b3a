"""experiments._bounds: the fast search (numerics.PruningPath, certified bounds) gives the dense reference's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from networks import relu_forward

from experiments import _bounds
from experiments._bounds import bisect_strength, compute_bounds, pruning_error_curve


def _network(seed: int, widths=(12, 60, 60, 60, 5), n: int = 150):
    rng = np.random.default_rng(seed)
    ws = [rng.normal(size=(widths[i + 1], widths[i])) / math.sqrt(widths[i]) for i in range(len(widths) - 1)]
    x = rng.normal(size=(n, widths[0]))
    y = relu_forward(ws, x).argmax(1)  # labels the unpruned network gets right: every margin > 0

    def margins_of(weights):
        lg = relu_forward(weights, x)
        true = lg[np.arange(n), y]
        lg[np.arange(n), y] = -np.inf
        return true - lg.max(1)

    return ws, x, margins_of


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}"))
        return out
    if isinstance(value, (list, tuple)):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _bounds_with(mode: str, monkeypatch, ws, x, margins_of, **kw):
    monkeypatch.setattr(_bounds, "SEARCH_PATH", mode)
    return compute_bounds(
        ws,
        None,
        margins_of(ws),
        margins_of,
        float(np.linalg.norm(x, axis=1).max()),
        float(np.linalg.norm(x)),
        m=len(x),
        delta=0.01,
        seed=kw.pop("seed", 0),
        error_curve=True,
        **kw,
    )


@pytest.mark.parametrize("seed, prune_diagonal", [(0, False), (1, True), (2, False)])
def test_fast_path_gives_every_output_of_the_dense_reference(monkeypatch, seed, prune_diagonal):
    ws, x, margins_of = _network(seed)
    fast = _flatten(_bounds_with("fast", monkeypatch, ws, x, margins_of, seed=seed, prune_diagonal=prune_diagonal))
    dense = _flatten(_bounds_with("dense", monkeypatch, ws, x, margins_of, seed=seed, prune_diagonal=prune_diagonal))
    assert fast.keys() == dense.keys()
    assert fast[".bisection_status"] == "root" and fast[".bisection_iterations"] == dense[".bisection_iterations"]
    for key, value in dense.items():
        if isinstance(value, float) and math.isfinite(value):
            assert fast[key] == pytest.approx(value, rel=1e-9, abs=1e-300), key
        else:
            assert fast[key] == value, key


def test_error_curve_with_and_without_a_shared_path(monkeypatch):
    import numerics

    ws, _, _ = _network(4)
    psi = [float(np.var(w)) for w in ws]
    own = pruning_error_curve(ws, psi, 1e-4, seed=3)
    shared = pruning_error_curve(ws, psi, 1e-4, seed=3, path=numerics.PruningPath(ws, 3))
    monkeypatch.setattr(_bounds, "SEARCH_PATH", "dense")
    ref = pruning_error_curve(ws, psi, 1e-4, seed=3)
    assert own == shared
    assert own["survivors"] == ref["survivors"] and own["d"] == ref["d"]
    np.testing.assert_allclose(own["delta_spectral"], ref["delta_spectral"], rtol=1e-9)


@given(
    root=st.floats(1e-11, 5.0),
    power=st.floats(0.2, 3.0),
    slack=st.floats(0.0, 2.0),
    rtol=st.sampled_from([1e-3, 1e-6]),
)
def test_certified_bounds_never_change_the_bisection(root, power, slack, rtol):
    """Any valid bounds (here: the value times [1/(1+s), 1+s]) give the same d, gamma*, steps and status as
    none, and the exact value is computed at most as often."""
    calls = {"with": 0, "without": 0}

    def gamma(counter):
        def g(d):
            calls[counter] += 1
            return (d / root) ** power

        return g

    def bounds(d):
        g = (d / root) ** power
        return g / (1 + slack), g * (1 + slack)

    plain = bisect_strength(gamma("without"), 1.0, rtol=rtol)
    bounded = bisect_strength(gamma("with"), 1.0, rtol=rtol, bounds=bounds)
    assert plain == bounded
    assert calls["with"] <= calls["without"]


def test_bounds_are_consulted_at_both_ends():
    res = bisect_strength(lambda d: d, 20.0, bounds=lambda d: (d / 2, d * 2))
    assert res.status == "below-target-at-max" and res.gamma_star == 10.0
    res = bisect_strength(lambda d: d + 5, 1.0, bounds=lambda d: (d + 4, d + 6))
    assert res.status == "above-target-at-min" and res.gamma_star == pytest.approx(5.0)


def test_torch_weights_run_the_same_pipeline(monkeypatch):
    """Torch tensors (CPU here; CUDA the same on a GPU) go through the same search: the draws are torch's, so the
    numbers differ from numpy's, but the fast path and the dense reference agree on them."""
    import torch

    ws, x, margins_np = _network(5)
    tws = [torch.as_tensor(w) for w in ws]

    def margins_of(weights):
        return margins_np([w.numpy() if isinstance(w, torch.Tensor) else w for w in weights])

    fast = _flatten(_bounds_with("fast", monkeypatch, tws, x, margins_of))
    dense = _flatten(_bounds_with("dense", monkeypatch, tws, x, margins_of))
    assert fast.keys() == dense.keys() and fast[".bisection_status"] == "root"
    for key, value in dense.items():
        if isinstance(value, float) and math.isfinite(value):
            assert fast[key] == pytest.approx(value, rel=1e-9, abs=1e-300), key
        else:
            assert fast[key] == value, key
