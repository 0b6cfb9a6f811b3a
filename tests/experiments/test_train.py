"""Training loop: a resumed run gives the same numbers as an uninterrupted one; bad config is rejected."""

import pytest
import torch

from experiments._model import make_mlp, weight_matrices
from experiments._train import TrainConfig, train


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 12, generator=g)
    y = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()
    return x, y


def test_resume_equals_uninterrupted(tmp_path):
    x, y = _data()
    cfg = TrainConfig(epochs=4, batch_size=32, lr=1e-2, optimizer="sgd", seed=3, progress=False)
    torch.manual_seed(3)
    full = make_mlp(12, 16, depth=3)
    h_full = train(full, x, y, cfg, checkpoint=tmp_path / "a.pt")

    torch.manual_seed(3)
    part = make_mlp(12, 16, depth=3)
    train(part, x, y, TrainConfig(**{**cfg.__dict__, "epochs": 2}), checkpoint=tmp_path / "b.pt")
    torch.manual_seed(99)  # a different process state: the checkpoint must carry everything
    resumed = make_mlp(12, 16, depth=3)
    h_res = train(resumed, x, y, cfg, checkpoint=tmp_path / "b.pt", resume=True)
    assert [round(h["train_loss"], 10) for h in h_res] == [round(h["train_loss"], 10) for h in h_full]
    for a, b in zip(weight_matrices(full), weight_matrices(resumed)):
        assert torch.equal(a, b)


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path):
    x, y = _data()
    cfg = TrainConfig(epochs=2, batch_size=32, lr=1e-2, optimizer="sgd", seed=3, progress=False)
    train(make_mlp(12, 16, depth=3), x, y, cfg, checkpoint=tmp_path / "c.pt")
    with pytest.raises(ValueError, match=r"lr 0.01 \(now 0.001\)"):
        train(
            make_mlp(12, 16, depth=3),
            x,
            y,
            TrainConfig(**{**cfg.__dict__, "lr": 1e-3}),
            checkpoint=tmp_path / "c.pt",
            resume=True,
        )
    with pytest.raises(ValueError, match="2 epochs done, more than --epochs 1"):
        train(
            make_mlp(12, 16, depth=3),
            x,
            y,
            TrainConfig(**{**cfg.__dict__, "epochs": 1}),
            checkpoint=tmp_path / "c.pt",
            resume=True,
        )


def test_training_reduces_loss():
    x, y = _data()
    model = make_mlp(12, 32, depth=3)
    hist = train(model, x, y, TrainConfig(epochs=15, batch_size=32, lr=1e-2, seed=0, progress=False))
    assert hist[-1]["train_loss"] < 0.5 * hist[0]["train_loss"]


@pytest.mark.parametrize(
    "kw, match",
    [({"lr": -1.0}, "--lr"), ({"batch_size": 0}, "--batch-size"), ({"optimizer": "rmsprop"}, "--optimizer")],
)
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kw).validate()


def test_model_shape():
    m = make_mlp(64, 20, depth=5)
    shapes = [tuple(w.shape) for w in weight_matrices(m)]
    assert shapes == [(20, 64), (20, 20), (20, 20), (20, 20), (10, 20)]
