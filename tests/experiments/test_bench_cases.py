"""experiments.bench: the cases measure what they say, on tiny sizes (no timing assertions: figures are printed)."""

import json
import math

import pytest

from experiments import bench


@pytest.fixture
def no_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("MBP_DATA_DIR", str(tmp_path / "nowhere"))
    return tmp_path


def test_spectral_case_agrees_with_full_svd():
    r = bench.run_case("spectral", 300, 10)
    assert r["rel_diff"] < 1e-8 and r["seconds"] > 0 and r["svd_seconds"] > 0 and r["peak_mib"] > 0
    rows = bench.table_rows("spectral", r, 300, 10)
    assert len(rows) == 1 and rows[0][3] == "full SVD"


def test_bounds_case_times_both_paths_on_the_same_network(no_mnist):
    r = bench.run_case("bounds", 24, 120, cache_dir=str(no_mnist / "cache"))
    assert r["source"].startswith("FALLBACK")
    for path in ("fast", "dense"):
        t = r[path]
        assert set(t) == {"total", "forward", "search", "curve", "rest"}
        assert t["search"] > 0 and t["curve"] > 0 and t["total"] >= t["search"] + t["curve"] - 1e-9
    assert r["forward_unpruned"] > 0 and r["fast"]["forward"] > 0
    assert r["dense"]["forward"] < r["fast"]["forward"]  # the dense path reused the pruned margins
    assert r["same_d_star"] and r["max_rel_diff"] < 1e-9 and 0 < r["d_star"] <= 10
    rows = bench.table_rows("bounds", r, 24, 120)
    assert rows[0][3] == "dense path" and any("forward pass" in row[1] for row in rows)


def test_sparse_norms_case_compares_both_methods(no_mnist):
    r = bench.run_case("sparse-norms", 60, 10, cache_dir=str(no_mnist / "cache"))
    assert r["source"].startswith("Gaussian")
    assert [row["d"] for row in r["rows"]] == list(bench.SPARSE_NORM_D)
    densities = [row["density"] for row in r["rows"]]
    assert densities == sorted(densities) and all(row["rel_diff"] < 1e-9 for row in r["rows"])
    assert {row["path_uses"] for row in r["rows"]} <= {"sparse", "dense"}


def test_epoch_case_runs_train_and_the_bare_loop(no_mnist):
    r = bench.run_case("epoch", 10, 10, epoch_width=16, epoch_samples=300)
    assert r["seconds"] > 0 and r["bare_seconds"] > 0 and "noise" in r["source"]
    assert len(r["ratios"]) == bench.EPOCH_PAIRS and r["median_ratio"] in r["ratios"]
    (row,) = bench.table_rows("epoch", r, 10, 10)
    assert row[3] == "bare loop" and math.isfinite(row[4])


def test_bad_cases_exit_2(capsys):
    assert bench.main(["nope"]) == 2
    assert bench.main(["--width", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "unknown case(s) nope" in err[0] and err[1] == "experiments.bench: --width must be >= 1 (got 0)"
    assert bench.main(["bounds", "--checkpoint", "/nonexistent/x.pt"]) == 2
    assert "--checkpoint" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown case"):
        bench.run_case("nope", 10, 10)


def test_a_failing_case_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_text("{not a checkpoint")
    argv = ["bounds", "--checkpoint", str(bad), "--width", "30", "--samples", "50", "--out", str(tmp_path / "o")]
    assert bench.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("experiments.bench: case bounds failed:") and "\n" not in err


def test_main_prints_one_table_and_writes_it(capsys, tmp_path):
    assert bench.main(["spectral", "--width", "120", "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "| case | what | time (s) | reference |" in out and "| spectral | Lanczos, 120 x 120 |" in out
    assert "whole bench:" in out
    table = (tmp_path / "b" / "bench.md").read_text()
    assert table in out and "spectral" in json.loads((tmp_path / "b" / "bench.json").read_text())["cases"]
    (tmp_path / "file").write_text("")
    assert bench.main(["spectral", "--width", "120", "--out", str(tmp_path / "file")]) == 2


def test_bounds_case_uses_a_checkpoint_and_mnist(tmp_path, monkeypatch, mnist_dir):
    import torch

    from experiments._data import load_dataset, train_val_split
    from experiments._model import make_mlp
    from experiments._train import TrainConfig, train

    data = load_dataset("mnist", mnist_dir)
    idx = train_val_split(len(data.train_y), 0)[0][:300]  # the samples the bench evaluates
    torch.manual_seed(1)
    model = make_mlp(784, 40, 5)
    train(
        model,
        torch.as_tensor(data.train_x[idx]),
        torch.as_tensor(data.train_y[idx]),
        TrainConfig(epochs=30, batch_size=32, lr=1e-3, progress=False),
    )
    torch.save({"model": model.state_dict()}, tmp_path / "width-40.pt")
    monkeypatch.setenv("MBP_DATA_DIR", str(mnist_dir))
    r = bench.run_case("bounds", 40, 300, checkpoint=str(tmp_path / "width-{width}.pt"))
    assert r["source"].startswith("trained weights from") and r["same_d_star"] and r["max_rel_diff"] < 1e-9


def test_readme_benchmark_table_is_the_committed_run():
    """The README's benchmark block is the bench.md of one run, committed in docs/results/bench (never typed)."""
    from pathlib import Path

    from experiments._readme import read_block

    root = Path(__file__).resolve().parents[2]
    table = root / "docs" / "results" / "bench" / "bench.md"
    if not table.is_file():
        pytest.skip("no committed benchmark run in docs/results/bench")
    assert read_block((root / "README.md").read_text(), "bench") == table.read_text().strip()
    cases = json.loads((table.parent / "bench.json").read_text())["cases"]
    assert {"bounds", "sparse-norms", "spectral", "epoch"} <= set(cases)
