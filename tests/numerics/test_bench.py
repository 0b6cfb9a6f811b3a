"""Tests of numerics.bench: the figures are produced and positive (no timing assertions)."""

from numerics import bench


def test_numpy_and_torch_figures_are_positive():
    for row in (bench.numpy_figures(size=64, repeats=1), bench.torch_figures(size=64, repeats=1)):
        assert row["algorithm_1_s"] > 0 and row["floor_s"] > 0 and row["ratio"] > 0
