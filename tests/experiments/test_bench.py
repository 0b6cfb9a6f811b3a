"""experiments.bench: the cases measure what they say (no timing assertions: figures are printed, not tested)."""
from experiments import bench


def test_spectral_case_agrees_with_full_svd():
    r = bench.run_case("spectral", 300, 10)
    assert r["rel_diff"] < 1e-8 and r["seconds"] > 0 and r["svd_seconds"] > 0 and r["peak_mib"] > 0


def test_bounds_case_runs_small():
    r = bench.run_case("bounds-svds", 40, 200)
    assert r["seconds"] > 0 and 0 < r["d_star"] <= 10


def test_bad_cases_exit_2(capsys):
    assert bench.main(["nope"]) == 2
    assert bench.main(["--width", "0"]) == 2
    assert "unknown case" in capsys.readouterr().err
