"""Bring your own network (issue 12): a tiny MLP trained outside the toolkit (plain torch), saved as a state_dict,
a whole module and a Lightning-layout .ckpt, gives the same numbers through experiments.evaluate, the
--checkpoint command line and the toolkit's own pipeline; anything that is not a Linear + ReLU chain, a damaged
file and a width mismatch each give one line and exit 2."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import experiments
from experiments._data import load_dataset
from experiments._evaluate import network_bounds
from experiments._run import task_data

KEYS = (
    "neyshabur_2015_code_log10",
    "bartlett_2017_code_log10",
    "neyshabur_2017_code_log10",
    "ours_paper_compatible_log10",
    "theorem_5_2_log10",
    "lemma_d_1_log10",
    "gamma",
    "d_star",
    "train_error",
    "test_error",
    "pruned_test_error",
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 64-32-32-10 ReLU MLP trained on digits with a plain torch loop (the toolkit's split)."""
    torch.manual_seed(0)
    td = task_data(load_dataset("digits"), "toolkit", 0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10))
    init = [m.weight.detach().clone() for m in model if isinstance(m, nn.Linear)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        for s in range(0, td.m, 128):
            opt.zero_grad()
            nn.functional.cross_entropy(model(td.x_train[s : s + 128]), td.y_train[s : s + 128]).backward()
            opt.step()
    folder = tmp_path_factory.mktemp("nets")
    torch.save(model.state_dict(), folder / "state_dict.pt")
    torch.save(model, folder / "module.pt")
    lightning = {
        "epoch": 59,
        "global_step": 600,
        "pytorch-lightning_version": "1.9.0",
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "optimizer_states": [],
        "lr_schedulers": [],
        "callbacks": {},
        "hyper_parameters": {"mlp_hidden_dim": 32, "lr": 0.01},
    }
    torch.save(lightning, folder / "lightning.ckpt")
    return model, init, td, folder


def test_api_cli_and_pipeline_agree(trained, tmp_path):
    model, init, td, folder = trained
    api = experiments.evaluate(model, (td.x_train, td.y_train), test_data=(td.x_test, td.y_test))
    from_sd = experiments.evaluate(
        torch.load(folder / "state_dict.pt", weights_only=True),
        (td.x_train, td.y_train),
        test_data=(td.x_test, td.y_test),
    )
    ws = [m.weight.detach().double().numpy() for m in model if isinstance(m, nn.Linear)]
    bs = [m.bias.detach().double().numpy() for m in model if isinstance(m, nn.Linear)]
    own = network_bounds(ws, bs, None, td.x_train, td.y_train, td.x_test, td.y_test)
    for name in ("state_dict.pt", "module.pt", "lightning.ckpt"):
        out = tmp_path / name
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "experiments.bounds",
                "--checkpoint",
                str(folder / name),
                "--dataset",
                "digits",
                "--threads",
                "1",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        summary = json.loads((out / "summary.json").read_text())
        rec = summary["records"][0]
        for key in KEYS:
            assert rec[key] == pytest.approx(own[key], rel=1e-12, abs=1e-15), (name, key)
        # the network's shape comes from the file; no training settings are made up (it was trained elsewhere)
        settings = summary["settings"]
        assert settings["depth"] == rec["depth"] == 3 and settings["widths"] == rec["widths"] == [32, 32], name
        assert settings["training"].startswith("trained elsewhere") and rec["training_settings"] is None
        assert not {"optimizer", "lr", "epochs", "batch_size", "every", "imp_rounds"} & set(settings), name
        table = (out / "table.md").read_text()
        assert "depth 3, hidden widths 32 32; trained elsewhere" in table and "adam" not in table
        assert "| n/a (trained elsewhere)" in table and "None (None)" not in table
        assert not (out / "bound_vs_epoch.png").exists() and not (out / "epochs.csv").exists()  # no empty figure
        assert "trained elsewhere" in proc.stdout
    for key in KEYS:
        assert api.raw[key] == pytest.approx(own[key], rel=1e-12, abs=1e-15), key
        assert from_sd.raw[key] == pytest.approx(own[key], rel=1e-12, abs=1e-15), key


def test_result_is_typed_and_exports(trained):
    model, init, td, _ = trained
    mask = [(m.weight.abs() > m.weight.abs().median()).float() for m in model if isinstance(m, nn.Linear)]
    res = experiments.evaluate(
        model,
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(td.x_train, td.y_train), batch_size=100),
        init_model=init,
        mask=mask,
    )
    assert isinstance(res, experiments.BoundsResult) and res.m == td.m and res.test_error is None
    frame = res.to_frame()
    assert set(experiments.BOUND_NAMES) == set(frame.index)
    assert res.bounds_log10["theorem_6_2"] is not None and res.bounds_log10["neyshabur_2018_measures"] is not None
    back = json.loads(res.to_json())
    assert back["bounds_log10"]["ours_paper_compatible"] == pytest.approx(res.bounds_log10["ours_paper_compatible"])
    assert len(back["layers"]) == 3 and back["layers"][0]["d1"] == 32


def test_frame_says_why_a_bound_is_missing_or_vacuous(trained):
    model, _, td, _ = trained
    res = experiments.evaluate(model, (td.x_train, td.y_train))  # no init_model, no test_data, no mask
    frame = res.to_frame()
    assert "note" in frame.columns
    for name in ("neyshabur_2015_measures", "neyshabur_2018_measures", "bartlett_2017_measures"):
        assert frame.loc[name, "note"] == "not computed: no initial weights W0 (reference matrices) given", name
    assert frame.loc["theorem_6_2", "note"] == "not computed: no lottery-ticket mask given"
    assert frame.loc["true_error", "note"] == "not computed: no test_data given"
    assert not res.raw["theorem_5_2_margin_condition_met"]  # a small trained MLP: the required margin is huge
    assert frame.loc["theorem_5_2", "note"].startswith("vacuous: needs margin ")
    assert frame.loc["lemma_d_1", "note"].startswith("vacuous: needs margin ")
    assert frame.loc["ours_paper_compatible", "note"] == ""


@pytest.mark.parametrize(
    "bad, match",
    [
        (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2, 10)), "'0' (Conv2d) is not Linear or ReLU"),
        (nn.Sequential(nn.Linear(64, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 10)), "BatchNorm1d"),
        (nn.Sequential(nn.Linear(64, 8), nn.Tanh(), nn.Linear(8, 10)), "'1' (Tanh)"),
        (nn.Sequential(nn.Linear(64, 8, bias=False), nn.ReLU(), nn.Linear(8, 10)), "has no bias while others have one"),
        (
            nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(9, 10)),
            "takes 9 inputs but the layer before it gives 8",
        ),
        ([np.ones((8, 100)), np.ones((10, 8))], "takes 100 inputs but train_data has 64"),
    ],
)
def test_api_refuses_what_is_not_a_relu_mlp(trained, bad, match):
    _, _, td, _ = trained
    with pytest.raises(ValueError, match=re.escape(match)):
        experiments.evaluate(bad, (td.x_train, td.y_train))


def test_a_module_whose_forward_is_not_its_chain_is_refused(trained):
    _, _, td, _ = trained

    class Skip(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.r, self.b = nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)

        def forward(self, x):
            return self.b(self.r(self.a(x)) + x)  # a residual connection: not the chain

    with pytest.raises(ValueError, match="not the chain"):
        experiments.evaluate(Skip(), (td.x_train, td.y_train))


def _cli(args, tmp_path):
    return subprocess.run(
        [sys.executable, "-m", "experiments.bounds", "--dataset", "digits", "--out", str(tmp_path / "o")] + args,
        capture_output=True,
        text=True,
    )


def test_cli_conv_truncated_and_width_mismatch_are_one_line(trained, tmp_path):
    _, _, _, folder = trained
    conv = tmp_path / "conv.pt"
    torch.save(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 10)), conv)
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes((folder / "state_dict.pt").read_bytes()[:200])
    wide = tmp_path / "wide.pt"
    torch.save(nn.Sequential(nn.Linear(100, 8), nn.ReLU(), nn.Linear(8, 10)).state_dict(), wide)
    for path, text in ((conv, "Conv2d"), (trunc, "damaged"), (wide, "takes 100 inputs but digits has 64")):
        proc = _cli(["--checkpoint", str(path)], tmp_path)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr and text in lines[0], proc.stderr


def test_cli_checkpoint_without_a_margin_is_recorded_without_training_advice(tmp_path):
    torch.manual_seed(0)
    untrained = tmp_path / "untrained.pt"
    torch.save(nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10)).state_dict(), untrained)
    proc = _cli(["--checkpoint", str(untrained)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "bounds n/a: the network misclassifies" in proc.stdout and "--epochs" not in proc.stdout + proc.stderr
    rec = json.loads((tmp_path / "o" / "summary.json").read_text())["records"][0]
    assert "more than 10%" in rec["bounds_not_computed"] and rec["ours_paper_compatible_log10"] is None


def test_cli_toolkit_checkpoint_reports_the_training_its_file_records(trained, tmp_path):
    from experiments._run import train_task
    from experiments._settings import RunSettings

    _, _, td, _ = trained
    s = RunSettings(widths=(16,), depth=2, epochs=2, lr=0.01, threads=1)
    train_task(s, td, 16, 0, tmp_path / "run", False, False)
    proc = _cli(["--checkpoint", str(tmp_path / "run/checkpoints/digits-width-16-seed-0/train.pt")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = (tmp_path / "o" / "table.md").read_text()
    assert "trained by this toolkit for 2 epochs (optimizer adam, lr 0.01," in table
    assert "| 2 (as its file records)" in table
    rec = json.loads((tmp_path / "o" / "summary.json").read_text())["records"][0]
    assert rec["training_settings"]["lr"] == 0.01 and rec["epochs_trained"] == 2


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def _bad_files(folder):
    import os
    import pickle

    torch.save({"state": _Evil()}, folder / "evil.pt")
    with open(folder / "evil-plain.pt", "wb") as fh:
        pickle.dump({"state": _Evil()}, fh, protocol=4)
    (folder / "random.pt").write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    (folder / "text.pt").write_text("hello world\n")
    torch.save(nn.Sequential(nn.Linear(64, 8), nn.Sigmoid(), nn.Linear(8, 10)), folder / "sigmoid.pt")
    assert not os.path.exists(folder / "pwned")


@pytest.mark.parametrize(
    "name, message",
    [
        ("evil.pt", "is not a plain tensor checkpoint: it refers to posix.system, a Python object torch refuses"),
        ("evil-plain.pt", "is not a plain tensor checkpoint (it holds Python objects torch refuses to load safely"),
        ("random.pt", "is not a PyTorch checkpoint (unreadable)"),
        ("text.pt", "is not a PyTorch checkpoint (unreadable)"),
        ("sigmoid.pt", "holds a Sigmoid layer (torch.nn.modules.activation.Sigmoid), which is not read"),
    ],
)
def test_cli_refused_files_say_what_was_refused(tmp_path, capsys, name, message):
    from experiments.bounds import main

    _bad_files(tmp_path)
    assert main(["--checkpoint", str(tmp_path / name), "--out", str(tmp_path / "o")]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert "weights_only" not in err and "pwned" not in captured.out  # not torch's paragraph; nothing ran


def test_a_bare_linear_layer_is_a_one_layer_network(trained, tmp_path):
    # nn.Linear(64, 10).state_dict() has keys "weight" and "bias" (no "name." prefix): it was refused with "the
    # state_dict holds no '*.weight' matrix"
    _, _, td, _ = trained
    torch.manual_seed(0)
    lin = nn.Linear(64, 10)
    opt = torch.optim.Adam(lin.parameters(), lr=1e-2)
    for _ in range(200):
        opt.zero_grad()
        nn.functional.cross_entropy(lin(td.x_train), td.y_train).backward()
        opt.step()
    from_module = experiments.evaluate(lin, (td.x_train, td.y_train))
    from_state = experiments.evaluate(lin.state_dict(), (td.x_train, td.y_train))
    assert from_state.bounds_log10 == from_module.bounds_log10 and len(from_state.layers) == 1
    torch.save(lin.state_dict(), tmp_path / "linear.pt")
    proc = _cli(["--checkpoint", str(tmp_path / "linear.pt")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "depth 1, hidden widths none" in proc.stdout
    with pytest.raises(
        ValueError, match=r"holds no weight matrix \(no key 'weight' or ending in '.weight'; its tensors: b"
    ):
        experiments.evaluate({"b": torch.zeros(3)}, (td.x_train, td.y_train))


def test_api_bad_data_and_device_are_one_line(trained):
    model, _, td, _ = trained
    empty = (torch.zeros(0, 64), torch.zeros(0, dtype=torch.long))
    with pytest.raises(experiments.UsageError, match=r"^train_data is empty \(no points\)"):
        experiments.evaluate(model, empty)
    with pytest.raises(experiments.UsageError, match=r"^test_data is empty \(no points\): leave it out$"):
        experiments.evaluate(model, (td.x_train, td.y_train), test_data=empty)
    if not torch.cuda.is_available():
        with pytest.raises(experiments.UsageError, match="no CUDA device is available"):
            experiments.evaluate(model, (td.x_train, td.y_train), device="cuda")
    with pytest.raises(experiments.UsageError, match="device must be 'auto', 'cpu' or 'cuda"):
        experiments.evaluate(model, (td.x_train, td.y_train), device="tpu")


def test_a_float64_module_just_works(trained):
    import copy

    model, _, td, _ = trained
    as32 = experiments.evaluate(model, (td.x_train, td.y_train))
    as64 = experiments.evaluate(copy.deepcopy(model).double(), (td.x_train.double(), td.y_train))
    assert as64.bounds_log10 == as32.bounds_log10  # the same float32 evaluation of the same weights


class _Functional(nn.Module):
    """forward = b(relu(a(x))) with the ReLU a function (README: 'any module whose forward is a chain of Linear +
    ReLU'); the layers registered in reverse order, the input flattened by .view."""

    def __init__(self, act=torch.relu, skip=False, relu_between=True):
        super().__init__()
        self.b, self.a = nn.Linear(32, 10), nn.Linear(64, 32 if not skip else 64)
        if skip:
            self.b = nn.Linear(64, 10)
        self.act, self.skip, self.relu_between = act, skip, relu_between

    def forward(self, x):
        h = self.a(x.view(x.size(0), -1))
        h = self.act(h) if self.relu_between else h
        return self.b(h + x if self.skip else h)


class _Branching(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(64, 32), nn.Linear(32, 10)

    def forward(self, x):
        h = self.a(x)
        return self.b(torch.relu(h) if h.sum() > -1e9 else h)  # control flow on data: torch.fx cannot trace it


@pytest.mark.parametrize("act", [torch.relu, nn.functional.relu, lambda h: h.relu()])
def test_a_functional_relu_chain_is_read_from_its_forward(act):
    torch.manual_seed(0)
    model = _Functional(act)
    ws, bs = experiments.extract_mlp(model)
    assert [w.shape for w in ws] == [(32, 64), (10, 32)]  # applied order, not registration order
    ref_ws, ref_bs = experiments.extract_mlp(nn.Sequential(model.a, nn.ReLU(), model.b))
    assert all(np.array_equal(a, b) for a, b in zip(ws + bs, ref_ws + ref_bs))


def test_evaluate_reads_a_trained_functional_module_as_its_sequential(trained):
    model, _, td, _ = trained
    lays = [m for m in model if isinstance(m, nn.Linear)]

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.out = lays

        def forward(self, x):
            return self.out(nn.functional.relu(self.fc2(torch.relu(self.fc1(x)))))

    data = (td.x_train, td.y_train)
    assert experiments.evaluate(Functional(), data).bounds_log10 == experiments.evaluate(model, data).bounds_log10


@pytest.mark.parametrize(
    "model, match",
    [
        (_Functional(torch.sigmoid), "the module's forward applies torch.sigmoid after module 'a': the bounds hold"),
        (_Functional(relu_between=False), "module 'b' (Linear) follows 'a' in the module's forward without a ReLU"),
        (
            _Functional(skip=True),
            "not the chain of its Linear and ReLU layers: the input is used 2 times (a skip connection?)",
        ),
        (nn.Sequential(nn.Linear(64, 8), nn.Sigmoid(), nn.Linear(8, 10)), "module '1' (Sigmoid) is not Linear or ReLU"),
        (_Branching(), "cannot see a ReLU between 'a' and 'b': the module's forward could not be traced"),
    ],
)
def test_a_forward_that_is_not_a_relu_chain_is_refused_naming_why(model, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        experiments.extract_mlp(model)
