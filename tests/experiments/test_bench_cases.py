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
    r = bench.run_case("bounds-svds", 40, 300, checkpoint=str(tmp_path / "width-{width}.pt"))
    assert r["source"].startswith("trained weights from") and "MNIST" in r["source"]
