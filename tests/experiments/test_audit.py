"""Assumption audit (experiments._audit) on small synthetic networks with known answers."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from networks import relu_forward, relu_layer_inputs

import numerics
import theory
from experiments._audit import (
    audit_markdown,
    audit_network,
    condition_c_1_on_inputs,
    distributed_sparsity,
    gaussianity,
    output_change,
    pruning_error,
    qq_figure,
)


def random_net(rng, dims):
    return [rng.standard_normal((dims[k + 1], dims[k])) / math.sqrt(dims[k]) for k in range(len(dims) - 1)]


# --- Assumption 3.1 ---------------------------------------------------------------------------------
def test_gaussian_weights_pass_and_laplace_uniform_are_rejected():
    rng = np.random.default_rng(0)
    shape = (200, 200)  # 40,000 entries: KS distance ~0.06 for Laplace/uniform gives p < 1e-100
    g = gaussianity(rng.normal(0.0, 0.05, shape))
    lap = gaussianity(rng.laplace(0.0, 0.05, shape))
    uni = gaussianity(rng.uniform(-0.1, 0.1, shape))
    assert g["n"] == 40_000 and not g["rejects"] and g["ks_pvalue"] > 0.05
    assert abs(g["excess_kurtosis"]) < 0.1 and abs(g["skewness"]) < 0.1 and abs(g["mean_over_std"]) < 0.02
    assert g["psi"] == pytest.approx(0.05**2, rel=0.03)
    for r in (lap, uni):
        assert r["rejects"] and r["ks_pvalue"] < 1e-20 and r["ks_statistic"] > 0.04
    assert lap["excess_kurtosis"] == pytest.approx(3.0, abs=0.5)  # Laplace: 3
    assert uni["excess_kurtosis"] == pytest.approx(-1.2, abs=0.05)  # uniform: -6/5


def test_gaussianity_tests_against_zero_mean():
    # N(mu, Psi) with a large mean is not N(0, Psi_l): the KS test is against mean 0
    r = gaussianity(np.random.default_rng(1).normal(1.0, 0.5, (100, 100)))
    assert r["rejects"] and r["mean_over_std"] > 0.8


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.ones((4, 4)), np.array([1.0, np.nan] * 8)])
def test_gaussianity_bad_input(bad):
    with pytest.raises(ValueError):
        gaussianity(bad)


def test_qq_figure_writes_png_and_pdf(tmp_path):
    rng = np.random.default_rng(2)
    paths = qq_figure([rng.standard_normal((20, 30)), rng.laplace(size=(5, 20))], tmp_path / "sub" / "qq")
    assert sorted(p.name for p in paths) == ["qq.pdf", "qq.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert not list((tmp_path / "sub").glob(".*tmp*"))
    with pytest.raises(ValueError):
        qq_figure([], tmp_path / "qq")


# --- Lemma 5.1 ---------------------------------------------------------------------------------------
def _banded(d1, d2, width, dense_col=None):
    """Row i has nonzeros in columns i .. i+width-1 (mod d2); optionally one fully dense column."""
    a = np.zeros((d1, d2))
    for i in range(d1):
        a[i, [(i + k) % d2 for k in range(width)]] = 1.0 + i
    if dense_col is not None:
        a[:, dense_col] = -2.0
    return a


def test_distributed_sparsity_known_counts():
    d, eps = 3.0, 0.05
    band = _banded(40, 60, 5)  # rows: 5 each; columns: at most 5; diagonal inside the band
    dense = _banded(40, 60, 5, dense_col=7)  # rows not covering column 7 get 6; column 7 gets 40
    holed = band.copy()
    holed[3, 3] = 0.0  # one zero on the diagonal
    r_band, r_dense, r_holed = distributed_sparsity([band, dense, holed], d, eps)
    assert (r_band["j_r"], r_band["j_c"], r_band["nonzeros"]) == (5, 5, 200)
    assert (r_dense["j_r"], r_dense["j_c"]) == (6, 40)
    assert (r_holed["j_r"], r_holed["j_c"], r_holed["diagonal_nonzero"]) == (5, 5, False)
    assert r_band["expected_j_r"] == pytest.approx(theory.lemma_5_1_expected_row_nonzeros(40, 60, d))
    assert r_band["expected_j_c"] == pytest.approx(theory.lemma_5_1_expected_col_nonzeros(40, 60, d))
    row_bound, col_bound = theory.lemma_5_1_row_bound(40, 60, d, eps), theory.lemma_5_1_col_bound(40, 60, d, eps)
    assert r_band["j_r_bound"] == pytest.approx(row_bound) and r_band["j_c_bound"] == pytest.approx(col_bound)
    assert 6 < row_bound and col_bound < 40  # so the dense column (and only it) breaks the bound
    assert r_band["distributed_sparse"] and r_band["diagonal_nonzero"]
    assert r_dense["j_r_within_bound"] and not r_dense["j_c_within_bound"] and not r_dense["distributed_sparse"]
    assert not r_holed["distributed_sparse"]


def test_distributed_sparsity_of_algorithm_1_output_is_within_bounds():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((120, 80))
    pruned = [numerics.algorithm_1(w, 1.0, generator=np.random.default_rng(k))[0] for k in range(3)]
    for r in distributed_sparsity(pruned, 1.0):
        assert r["distributed_sparse"]
        assert r["j_r"] >= r["expected_j_r"] - 15 and r["j_c"] >= r["expected_j_c"] - 15


@pytest.mark.parametrize("args", [([], 1.0), ([np.ones((3, 3))], 0.0), ([np.ones(3)], 1.0)])
def test_distributed_sparsity_bad_input(args):
    with pytest.raises(ValueError):
        distributed_sparsity(*args)


# --- Lemma 4.2 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(30, 20), (20, 30), (25, 25)])
def test_pruning_error_ratio_matches_hand_computation(shape):
    d = 1.0
    rng = np.random.default_rng(4)
    w = rng.standard_normal(shape) * 0.3
    p, _ = numerics.algorithm_1(w, d, generator=np.random.default_rng(5))
    (r,) = pruning_error([w], [p], d)
    d1, d2 = shape
    psi = w.var()
    # Latala's bracket by hand: off-diagonal counts of the fullest row / column, and of the whole matrix
    off = ~np.eye(d1, d2, dtype=bool)
    m2 = theory.lemma_4_1_second_moment(d, psi)
    m4 = theory.lemma_4_1_fourth_moment(d, psi)
    gamma = math.sqrt(off.sum(1).max() * m2) + math.sqrt(off.sum(0).max() * m2) + (off.sum() * m4) ** 0.25
    err = np.linalg.svd(w - p, compute_uv=False)[0]
    assert r["delta_spectral"] == pytest.approx(err, rel=1e-9)
    assert r["gamma_latala_C1"] == pytest.approx(gamma, rel=1e-12)
    assert r["ratio"] == pytest.approx(err / gamma, rel=1e-9)
    assert r["psi"] == pytest.approx(psi) and r["spectral"] == pytest.approx(np.linalg.norm(w, 2), rel=1e-9)


def test_pruning_error_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        pruning_error([np.ones((3, 4)) + np.eye(3, 4)], [np.ones((4, 3))], 1.0)
    with pytest.raises(ValueError, match="layers"):
        pruning_error([np.eye(3), np.eye(3)], [np.eye(3)], 1.0)


# --- Lemma B.2 / 4.3 ----------------------------------------------------------------------------------
@given(hs.integers(0, 2**31 - 1))
def test_output_change_never_exceeds_b2_bound_where_condition_holds(seed):
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(2, 5))
    dims = [int(v) for v in rng.integers(3, 25, depth + 1)]
    ws = random_net(rng, dims)
    perturbed = []
    for w in ws:  # ||U_l|| = c_l ||A_l|| / L with c_l <= 1: B.2's condition holds
        u = rng.standard_normal(w.shape)
        u *= rng.uniform(0.05, 1.0) * np.linalg.norm(w, 2) / depth / np.linalg.norm(u, 2)
        perturbed.append(w + u)
    x = rng.standard_normal((64, dims[0])) * rng.uniform(0.1, 10)
    r = output_change(relu_forward, ws, perturbed, x)
    assert r["condition_holds"]
    assert 0 < r["max_ratio"] <= 1.0 and r["median_ratio"] <= r["max_ratio"] and r["fraction_within_bound"] == 1.0
    # the right side by hand for the sample with the largest change
    S = np.array([np.linalg.norm(w, 2) for w in ws])
    U = np.array([np.linalg.norm(p - w, 2) for w, p in zip(ws, perturbed)])
    change = np.linalg.norm(relu_forward(perturbed, x) - relu_forward(ws, x), axis=1)
    rhs = math.e * np.linalg.norm(x, axis=1) * S.prod() * (U / S).sum()
    assert r["max_change"] == pytest.approx(change.max(), rel=1e-9)
    assert r["max_ratio"] == pytest.approx((change / rhs).max(), rel=1e-8)


def test_output_change_reports_a_failed_condition_and_pruning():
    rng = np.random.default_rng(6)
    ws = random_net(rng, [10, 12, 12, 4])
    big = [w + 3 * np.linalg.norm(w, 2) * np.eye(*w.shape) for w in ws]
    r = output_change(relu_forward, ws, big, rng.standard_normal((20, 10)))
    assert not r["condition_holds"] and r["condition_per_layer"] == [False, False, False]
    pruned = [numerics.algorithm_1(w, 0.05, generator=np.random.default_rng(k))[0] for k, w in enumerate(ws)]
    r = output_change(relu_forward, ws, pruned, np.vstack([np.zeros(10), rng.standard_normal((20, 10))]))
    assert r["zero_input_samples"] == 1 and r["n_samples"] == 21
    with pytest.raises(ValueError, match="features"):
        output_change(relu_forward, ws, pruned, rng.standard_normal((5, 9)))
    with pytest.raises(ValueError):
        output_change(lambda m, x: np.zeros(len(x)), ws, pruned, rng.standard_normal((5, 10)))


# --- Condition C.1 -------------------------------------------------------------------------------------
def test_condition_c_1_sphere_inputs_follow_the_exact_tail_not_the_assumed_one():
    rng = np.random.default_rng(7)
    d_in, n = 50, 20_000
    g = rng.standard_normal((n, d_in))
    x = g / np.linalg.norm(g, axis=1, keepdims=True) * rng.uniform(0.5, 3.0, (n, 1))  # norm must not matter
    w = rng.standard_normal((30, d_in))
    (r,) = condition_c_1_on_inputs([w], [x], m=n, n_random=2)
    assert r["t_code"] == pytest.approx(theory.condition_c_1_t_code(n, d_in))
    assert r["rank"] == 30 and r["kappa"] == pytest.approx(theory.condition_c_1_kappa(r["t_code"], 30))
    assert r["max_gain"] <= 1 + 1e-12 and r["kappa_holds"]
    assert [v["vector"] for v in r["vectors"]] == ["top-singular", "random-1", "random-2"]
    top = np.linalg.svd(w)[2][0]
    assert r["vectors"][0]["max_projection"] == pytest.approx(np.abs(g @ top / np.linalg.norm(g, axis=1)).max())
    for vec in r["vectors"]:
        for row in vec["grid"]:
            if not 1.5 <= row["t_sqrt_d_in"] <= 3.0:
                continue
            p = row["sphere_tail"]
            sd = math.sqrt(p * (1 - p) / n)
            assert row["violation_fraction"] == pytest.approx(p, abs=5 * sd + 1e-12)
            assert row["sphere_tail"] == pytest.approx(theory.condition_c_1_sphere_tail(row["t"], d_in))
            assert row["assumed_tail"] == pytest.approx(theory.condition_c_1_tail(row["t"], d_in, 1, 1))
            if row["t_sqrt_d_in"] >= 2.0:  # the code's tail is too light there
                assert row["violation_fraction"] > 1.5 * row["assumed_tail"]


def test_condition_c_1_rank_one_layer_kappa_matches_the_code_event():
    rng = np.random.default_rng(8)
    d_in = 20
    x = np.vstack([np.zeros(d_in), rng.standard_normal((500, d_in))])
    v = rng.standard_normal(d_in)
    w = np.outer(rng.standard_normal(6), v)  # rank 1: ||A x|| / (||A|| ||x||) = |<v, x/||x||>|
    (r,) = condition_c_1_on_inputs([w], [x], m=1000, n_random=0)
    assert r["zero_inputs"] == 1 and r["rank"] == 1
    assert r["kappa"] == pytest.approx(min(1.0, r["t_code"]))
    assert r["max_gain"] == pytest.approx(r["vectors"][0]["max_projection"], rel=1e-9)
    assert r["kappa_holds"] == (r["vectors"][0]["at_t_code"]["violations"] == 0) == r["code_event_holds"]


def test_condition_c_1_bad_input():
    w = np.random.default_rng(9).standard_normal((4, 5))
    with pytest.raises(ValueError):
        condition_c_1_on_inputs([w], [], m=10)
    with pytest.raises(ValueError, match="columns"):
        condition_c_1_on_inputs([w], [np.ones((3, 4))], m=10)
    with pytest.raises(ValueError):
        condition_c_1_on_inputs([w], [np.ones((3, 5))], m=0)
    with pytest.raises(ValueError, match="zero"):
        condition_c_1_on_inputs([w], [np.zeros((3, 5))], m=10)


# --- the whole audit ----------------------------------------------------------------------------------
def test_audit_network_and_markdown(tmp_path):
    rng = np.random.default_rng(10)
    ws = random_net(rng, [16, 24, 24, 5])
    d = 0.3
    pruned = [numerics.algorithm_1(w, d, generator=np.random.default_rng(k))[0] for k, w in enumerate(ws)]
    x = rng.standard_normal((300, 16))
    res = audit_network(ws, pruned, d, relu_forward, x, relu_layer_inputs(ws, x), 300, tmp_path)
    json.loads(json.dumps(res))
    for key in ("qq", "pruning_error"):
        assert sorted(p.rsplit(".", 1)[1] for p in res["figures"][key]) == ["pdf", "png"]
        assert all((tmp_path / p.rsplit("/", 1)[1]).exists() for p in res["figures"][key])
    assert len(res["gaussianity"]) == len(res["condition_c_1"]) == 3
    md = audit_markdown(res)
    for heading in ("## Assumption 3.1", "## Lemma 5.1", "## Lemma 4.2", "## Lemma 4.3", "## Condition C.1"):
        assert heading in md
    n_rej = sum(r["rejects"] for r in res["gaussianity"])
    assert f"rejects normality in {n_rej}/3 layers" in md
    assert "![qq](qq_weights.png)" in md
    # every table row has as many cells as its header (no stray "|" from norm bars)
    for block in md.split("\n\n"):
        rows = [ln for ln in block.splitlines() if ln.startswith("|")]
        if rows:
            widths = {len(ln.replace("\\|", "").split("|")) for ln in rows}
            assert len(widths) == 1, block
    partial = audit_markdown({"gaussianity": res["gaussianity"]})
    assert "## Condition C.1" in partial and "Not audited" in partial
    with pytest.raises(ValueError):
        audit_markdown([])
