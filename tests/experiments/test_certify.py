"""python -m experiments.certify: a tiny digits run end to end, one-line errors, the pruning and quantising steps,
and the check of the theorem by simulation (a binomial test of the failure rate with a stated false-failure rate)."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import numerics
import theory
from experiments._compress import (
    PruneSpec,
    Schedule,
    SparseMLP,
    _algorithm_1_layer,
    _drop_dead_units,
    prune_path,
    quantise,
    train,
)
from experiments.certify import main

TINY = ["--quick", "--targets", "300", "--levels", "2", "--methods", "magnitude", "--no-progress"]


def test_tiny_digits_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(TINY + ["--out", str(out)]) == 0
    for name in ("table.md", "certify.csv", "certify.json"):
        assert (out / name).is_file(), name
    res = json.loads((out / "certify.json").read_text())
    assert res["dataset"] == "digits" and res["m"] == 958 and res["grid_size"] == 1
    labels = [ln["label"] for ln in res["lines"]]
    assert labels[0].startswith("best of the grid") and any("data-dependent" in lb for lb in labels)
    for rec in res["records"]:
        assert rec["decoded_identical"]
        assert rec["train_error"] <= rec["certificate_binomial"] <= rec["certificate_kl"] + 1e-12 <= 1.0 + 1e-12
        assert sum(rec[f"bits_{p}"] for p in ("header", "scales", "mask", "levels", "biases", "overhead")) == (
            pytest.approx(rec["bits"])
        )
        # the certificate is the theory's bound on exactly these numbers
        charged = rec.get("charged_bits", rec["bits"])  # the hold-out reference charges no code
        assert charged == (0 if rec["variant"].startswith("reference") else rec["bits"])
        c = theory.occam_complexity(charged, rec["grid_size"], rec["delta"], rec["m"])
        assert rec["certificate_kl"] == pytest.approx(numerics.kl_inverse(rec["train_error"], c), abs=1e-12)
    dd = [r for r in res["records"] if r["variant"].startswith("data-dependent")]
    assert dd and all(r["bits_mask"] == 0 and r["m"] == 958 and r["prior_examples"] == 240 for r in dd)
    di = [r for r in res["records"] if r["variant"] == "data-independent"][0]
    for key in ("ours_paper_compatible", "theorem_5_2", "bartlett_2017_literature"):
        assert di[f"dense_{key}_probability"] == pytest.approx(10 ** di[f"dense_{key}_log10"])
    md = (out / "table.md").read_text()
    assert "certificate (kl)" in md and "Theorem 5.2" in md and "Bartlett 2017" in md
    assert (out / "certify.csv").read_text().count("\n") == len(res["records"]) + 1
    assert not list(out.glob("*.tmp"))  # atomic writes leave no temporary files
    # same seed, same numbers
    out2 = tmp_path / "again"
    assert main(TINY + ["--out", str(out2), "--no-paper-bounds", "--no-data-dependent"]) == 0
    res2 = json.loads((out2 / "certify.json").read_text())
    assert [r["certificate_kl"] for r in res2["records"]] == [r["certificate_kl"] for r in res["records"]][:1]
    assert [r["bits"] for r in res2["records"]] == [r["bits"] for r in res["records"]][:1]
    # the outputs and a README block again from the records, without training
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- certify:start -->\nSTALE-BLOCK\n<!-- certify:end -->\nrest\n")
    out3 = tmp_path / "rebuilt"
    capsys.readouterr()
    assert main(["--from-records", str(out), "--out", str(out3), "--readme", str(readme)]) == 0
    assert (out3 / "table.md").read_text() == md
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("rest\n") and "STALE-BLOCK" not in text
    assert f"**{res['lines'][0]['certificate_kl']:.4f}**" in text and "Code length by part" in text


@pytest.mark.parametrize(
    "argv,word",
    [
        (["--delta", "1.5"], "--delta"),
        (["--targets", "0"], "--targets"),
        (["--levels", "0"], "--levels"),
        (["--methods", "random"], "--methods"),
        (["--units", "4"], "--units"),
        (["--pool", "7"], "--pool"),
        (["--dataset", "cifar10"], "--dataset"),
        (["--threads", "0"], "--threads"),
        (["--seed", "-1"], "--seed"),
        (["--hidden", "20", "--units", "50"], "--units"),
        (["--targets", "100000000"], "--targets"),
    ],
)
def test_bad_input_one_line_exit_2(argv, word, capsys):
    assert main(argv + ["--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert word in err and "\n" not in err


def test_out_is_a_file_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    assert main(TINY + ["--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--out" in err and "\n" not in err


def test_missing_mnist_one_line_exit_2(tmp_path, capsys):
    assert main(["--dataset", "mnist", "--data-dir", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err


def test_from_records_rederives_every_certificate(tmp_path, capsys):
    """--from-records recomputes each certificate from the record's own errors, m, bits, delta and G, and checks G
    against the networks tried: a tampered record is refused in one line."""
    out = tmp_path / "run"
    assert main(TINY + ["--out", str(out), "--no-paper-bounds"]) == 0
    res = json.loads((out / "certify.json").read_text())
    for key, value in (("certificate_kl", 0.01), ("bits", 3), ("grid_size", 1)):
        bad = json.loads(json.dumps(res))
        rec = next(r for r in bad["records"] if r["variant"] == "data-independent")
        rec[key] = value if key != "grid_size" else rec[key] + 5
        (tmp_path / key).mkdir()
        (tmp_path / key / "certify.json").write_text(json.dumps(bad))
        capsys.readouterr()
        assert main(["--from-records", str(tmp_path / key), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip()
        assert "does not follow" in err and "\n" not in err, (key, err)
    bad = json.loads(json.dumps(res))
    bad["records"].append(dict(bad["records"][0]))  # a network tried but not charged in G
    (tmp_path / "grid").mkdir()
    (tmp_path / "grid" / "certify.json").write_text(json.dumps(bad))
    assert main(["--from-records", str(tmp_path / "grid"), "--out", str(tmp_path / "o")]) == 2
    assert "G = 1 was charged" in capsys.readouterr().err
    assert main(["--from-records", str(out), "--delta", "0.01", "--out", str(tmp_path / "o")]) == 2
    assert "--delta cannot apply with --from-records" in capsys.readouterr().err


def test_from_records_bad_folder_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "certify.json").write_text("{not json")
    assert main(["--from-records", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "certify.json" in err and "\n" not in err
    assert main(["--from-records", str(tmp_path / "absent"), "--out", str(tmp_path / "o")]) == 2
    assert main(TINY + ["--readme", str(tmp_path / "no-readme.md"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--readme" in err[-1]


def test_readme_block_is_generated_from_the_committed_records():
    """The README's certificate block is what --from-records writes from docs/results/certify (never typed)."""
    from pathlib import Path

    from experiments._certify import readme_block
    from experiments._readme import read_block

    root = Path(__file__).resolve().parents[2]
    records = root / "docs" / "results" / "certify"
    if not (records / "certify.json").is_file():
        pytest.skip(f"no committed certificate records in {records}")
    result = json.loads((records / "certify.json").read_text())
    block = read_block((root / "README.md").read_text(), "certify")
    assert block == readme_block(result, "docs/results/certify").strip()
    best = result["lines"][0]
    assert best["m"] == 48000 and best["certificate_kl"] <= 0.25 and best["decoded_identical"]


def test_help():
    out = subprocess.run([sys.executable, "-m", "experiments.certify", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "probabilities of error" in out.stdout and "--data-dir" in out.stdout


# ------------------------------------------------------------------------------------------------ pipeline parts
def _toy(seed=0, n=400, d=12):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] - x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 1).astype(np.int64)
    return torch.as_tensor(x), torch.as_tensor(y)


@pytest.mark.parametrize("method", ["magnitude", "algorithm-1"])
def test_prune_path_reaches_its_targets_and_units(method):
    x, y = _toy()
    net = SparseMLP([12, 20, 10, 3], 0)
    sched = Schedule(dense_epochs=5, rounds=4, round_epochs=1, batch_size=100)
    train(net, x, y, sched.dense_epochs, sched.lr, sched.batch_size, 0)
    snaps = prune_path(net, x, y, PruneSpec(method, (6, 4), (120, 60)), sched, 0)
    assert [s["target"] for s in snaps] == [120, 60]
    for s in snaps:
        assert s["state"].nonzeros() <= s["target"]
    # units shrink along the path and reach the asked numbers at the last target
    assert all(u <= cap for u, cap in zip(snaps[-1]["state"].units_alive(), (6, 4)))
    assert all(a >= b for a, b in zip(snaps[0]["state"].units_alive(), snaps[-1]["state"].units_alive()))
    for s in snaps:
        for w, m in zip(s["state"].weight, s["state"].masks):
            assert torch.all(w[m == 0] == 0)  # pruned weights stay exactly zero through fine-tuning
    if method == "algorithm-1":
        assert any("d" in e for e in snaps[-1]["log"])


def test_algorithm_1_layer_uses_common_random_numbers():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(500)
    kept, d = _algorithm_1_layer(v, 100, (0, 0, 0))
    assert kept.sum() <= 100 and d > 0
    # the same draws: the mask is Algorithm 1's at that d, and the kept entries are mostly the large ones
    again = numerics.algorithm_1(v, d, generator=np.random.default_rng([0, 0, 0]))[1]
    assert np.array_equal(kept, again)
    assert np.median(np.abs(v[kept])) > np.median(np.abs(v))


def test_quantise_gives_the_exact_coded_hypothesis():
    x, y = _toy(1)
    net = SparseMLP([12, 16, 3], 0)
    sched = Schedule(dense_epochs=8, rounds=2, round_epochs=1, qat_epochs=2, batch_size=100)
    train(net, x, y, sched.dense_epochs, sched.lr, sched.batch_size, 0)
    snap = prune_path(net, x, y, PruneSpec("magnitude", (8,), (50,)), sched, 0)[0]["state"]
    task = numerics.Task(12, 3, None)
    q = quantise(snap, task, 1, 3, 7, x, y, sched, 0).network
    assert numerics.is_canonical(q) and q.nonzeros <= 50
    assert all(np.abs(lv).max() <= 3 for lv in q.levels)
    code = numerics.encode_network(q)
    assert numerics.decode_network(code.bits, task).same_as(q)
    assert q.errors(x.numpy(), y.numpy()) / len(y) < 0.5  # it learned something


def test_drop_dead_units_keeps_the_function():
    rng = np.random.default_rng(2)
    levels = [rng.integers(-2, 3, (6, 5)), rng.integers(-2, 3, (4, 6)), rng.integers(-2, 3, (3, 4))]
    levels[0][1] = 0  # no input weight, bias 0 below: outputs 0
    levels[1][:, 4] = 0  # unit 4 of layer 0 unused downstream
    biases = [rng.integers(-2, 3, 6), None, rng.integers(-2, 3, 3)]
    biases[0][1] = 0
    task = numerics.Task(5, 3, None)
    before = numerics.CompressedMLP(task, 1, levels, [(0, 0)] * 3, biases, [(-2, 0), None, (-1, 0)])
    lv, bs = _drop_dead_units(levels, biases)
    after = numerics.CompressedMLP(task, 1, lv, [(0, 0)] * 3, bs, [(-2, 0), None, (-1, 0)])
    assert after.dims[1] <= 4
    x = rng.standard_normal((100, 5))
    np.testing.assert_allclose(after.logits(x), before.logits(x), atol=1e-12)


# ------------------------------------------------------------------------------------------------ the theorem
def test_bound_holds_by_simulation():
    """Each run trains, prunes, quantises and codes a student on m = 300 fresh examples of a noisy sparse-teacher
    task and compares its certificate with its population error (1e5 fresh points, Hoeffding band at 1e-6).  Under
    the theorem the failures are dominated by Bin(R, delta + 1e-6); the check allows the largest count whose tail is
    above alpha = 1e-6, so it fails wrongly with probability <= 1e-6.  The controls (training error; the kl bound
    without the code length) must be rejected by the same check, or it would have no teeth."""
    from experiments._simulate import allowed_failures, coverage_study

    runs, delta, alpha = 10, 0.05, 1e-6
    allowed = allowed_failures(runs, delta, alpha)
    assert float(theory.binomial_upper_tail(runs, allowed + 1, delta + 1e-6)) <= alpha
    assert allowed == 0 or float(theory.binomial_upper_tail(runs, allowed, delta + 1e-6)) > alpha
    res = coverage_study(runs, m=300, delta=delta, seed=0, fresh=100_000, alpha=alpha)
    assert res["failures"] <= allowed, res["summary"]
    assert res["control_train_error_failures"] > allowed, res["summary"]
    assert all(0 < r["certificate_kl"] < 1 and math.isfinite(r["population_error"]) for r in res["records"])
