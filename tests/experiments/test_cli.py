"""python -m experiments.bounds end to end: a tiny run writes every output; bad input gives one line and exit 2;
a rerun with --resume reuses finished widths; the real-MNIST run gives sensible, finite, ordered bounds."""

import json
import math
import subprocess
import sys

import pytest

from experiments.bounds import main

TINY = [
    "--widths",
    "32",
    "--depth",
    "3",
    "--epochs",
    "8",
    "--lr",
    "0.01",
    "--every",
    "4",
    "--imp-rounds",
    "1",
    "--no-progress",
]
BOUND_KEYS = (
    "neyshabur_2015_code_log10",
    "neyshabur_2017_code_log10",
    "bartlett_2017_code_log10",
    "ours_paper_compatible_log10",
    "theorem_5_2_log10",
    "lemma_d_1_log10",
    "neyshabur_2015_literature_log10",
    "neyshabur_2017_literature_log10",
    "bartlett_2017_literature_log10",
)


def test_tiny_digits_run_writes_all_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(TINY + ["--out", str(out)]) == 0
    for name in (
        "summary.json",
        "epochs.csv",
        "table.md",
        "bounds_vs_width.png",
        "bounds_vs_width.pdf",
        "bound_vs_epoch.png",
        "sparsity_and_pruning_error.pdf",
        "pruning_error_vs_d.png",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    rec = summary["records"][0]
    assert summary["settings"]["seeds"] == [0] and "torch" in summary["versions"]
    assert summary["versions"]["torch_threads"] >= 1
    for key in BOUND_KEYS:
        assert math.isfinite(rec[key]), key
    assert "imp" in rec and rec["imp"]["nonzeros"] < rec["imp"]["dense_weights"]
    assert "Ours (paper-compatible)" in (out / "table.md").read_text()
    # resume: the finished width is reused, not retrained
    assert main(TINY + ["--out", str(out), "--resume"]) == 0
    assert "already done" in capsys.readouterr().out
    # ... but not by a run with other settings: its checkpoint does not fit, and the error says so
    assert main(TINY[:-1] + ["--lr", "0.02", "--no-progress", "--out", str(out), "--resume"]) == 2
    captured = capsys.readouterr()
    assert "written with other settings" in captured.out
    assert "lr 0.01 (now 0.02)" in captured.err and "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_same_seed_same_numbers(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(TINY + ["--out", str(a), "--imp-rounds", "0"]) == 0
    assert main(TINY + ["--out", str(b), "--imp-rounds", "0"]) == 0
    ra = json.loads((a / "summary.json").read_text())["records"][0]
    rb = json.loads((b / "summary.json").read_text())["records"][0]
    for key in BOUND_KEYS + ("d_star", "test_error"):
        assert ra[key] == rb[key], key


@pytest.mark.parametrize(
    "args, message",
    [
        (["--widths", "0"], "--widths"),
        (["--lr", "-1"], "--lr"),
        (["--dataset", "mnist", "--data-dir", "/nonexistent/mnist"], "train-images-idx3-ubyte.gz"),
        (["--epochs", "0"], "--epochs"),
        # 0 is a value, not "not given": refused as -1 is (it was silently replaced by the default 64)
        (["--batch-size", "0"], "--batch-size must be >= 1 (got 0)"),
        (["--batch-size", "-1"], "--batch-size must be >= 1 (got -1)"),
        (["--every", "-1"], "--every must be >= 0 (got -1)"),
        (["--imp-rounds", "-1"], "--imp-rounds must be >= 0 (got -1)"),
        (["--depth", "0"], "--depth must be >= 2 (got 0)"),
        (["--threads", "0"], "--threads must be >= 1 (got 0)"),
        # the message and the check agree: 0 (in this process) is allowed, -1 is not
        (["--workers", "-1"], "--workers must be >= 0 (0: the tasks run in this process) (got -1)"),
        # a network read with --checkpoint was trained elsewhere: training and sweep options cannot apply
        (["--checkpoint", "net.pt", "--widths", "64"], "--widths cannot apply to it"),
        (["--checkpoint", "net.pt", "--epochs", "3"], "--epochs cannot apply to it"),
        (["--checkpoint", "net.pt", "--seeds", "0", "1"], "--seeds with more than one seed cannot apply to it"),
        (["--checkpoint", "net.pt", "--until", "epochs"], "--until cannot apply to it"),
        (["--checkpoint", "net.pt", "--every", "2", "--imp-rounds", "1"], "--every, --imp-rounds cannot apply"),
        (["--checkpoint", "net.pt", "--lr", "0.1"], "--lr cannot apply to it"),
        (["--init-checkpoint", "w0.pt"], "--init-checkpoint gives the initial weights of a --checkpoint network"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.bounds", "--out", str(tmp_path)] + args, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_folder_where_a_result_file_goes_is_one_line(tmp_path, capsys):
    # OUT/summary.json a folder: --resume skipped it, then writing the results ended in an IsADirectoryError traceback
    (tmp_path / "summary.json").mkdir()
    assert main(["--resume", "--widths", "8", "--epochs", "1", "--no-progress", "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"experiments.bounds: {tmp_path}/summary.json is a folder, where the run writes a file: move it away or "
        "choose another --out\n"
    )
    assert captured.out == ""  # refused before any training


def test_corrupted_archive_is_a_clear_error(tmp_path, mnist_dir):
    import shutil

    bad = tmp_path / "mnist"
    shutil.copytree(mnist_dir, bad)
    path = bad / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(raw))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.bounds",
            "--dataset",
            "mnist",
            "--data-dir",
            str(bad),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "t10k-labels" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_help_documents_every_option():
    proc = subprocess.run([sys.executable, "-m", "experiments.bounds", "--help"], capture_output=True, text=True)
    for opt in (
        "--dataset",
        "--data-dir",
        "--widths",
        "--depth",
        "--epochs",
        "--every",
        "--optimizer",
        "--lr",
        "--batch-size",
        "--device",
        "--seed",
        "--out",
        "--resume",
        "--preset",
        "--prune-diagonal",
    ):
        assert opt in proc.stdout
    assert "default" in proc.stdout


def test_a_network_without_a_margin_is_recorded_and_the_sweep_goes_on(tmp_path, capsys):
    """Width 4 misclassifies more than 10% of digits after 6 epochs: its task is kept with n/a bounds and the
    reason, named by its task key; width 32 is bounded as usual; every output is written (exit 0)."""
    out = tmp_path / "run"
    args = ["--widths", "32", "4", "--depth", "2", "--epochs", "6", "--lr", "0.01", "--every", "0"]
    assert main(args + ["--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    recs = {r["task"]: r for r in json.loads((out / "summary.json").read_text())["records"]}
    bad, good = recs["digits/width-4/seed-0"], recs["digits/width-32/seed-0"]
    assert "more than 10%" in bad["bounds_not_computed"] and "train longer (--epochs)" in bad["bounds_not_computed"]
    assert bad["train_error"] > 0.1 and bad["test_error"] is not None
    for key in BOUND_KEYS:
        assert bad[key] is None, key
        assert math.isfinite(good[key]), key
    assert "bounds_not_computed" not in good
    assert "digits/width-4/seed-0: test error" in printed and "bounds n/a: the network misclassifies" in printed
    assert "1 of 2 task(s) without bounds" in printed
    table = (out / "table.md").read_text()
    assert "bounds not computed because" in table and "(bounds not computed)" in table


def _record(**changes):
    """A summary record as run_task writes it (the keys table.md and the progress line read)."""
    rec = {
        "task": "digits/width-32/seed-0",
        "dataset": "digits",
        "width": 32,
        "seed": 0,
        "gamma": 3.75,
        "gamma_rule": "minimum training margin",
        "epochs_trained": 8,
        "stopped_by": "epochs",
        "test_error": 0.05,
        "pruned_test_error": 0.06,
        "ours_paper_compatible_log10": 0.87,
        "bartlett_2017_code_log10": 2.84,
        "theorem_5_2_log10": 1.67,
        "lemma_d_1_log10": 0.73,
        "theorem_5_2_required_margin": 6500.0,
        "theorem_5_2_margin_condition_met": False,
        "lemma_d_1_margin_condition_met": False,
    }
    return {**rec, **changes}


def test_a_vacuous_rigorous_bound_says_so_in_every_human_facing_place(capsys):
    from experiments._settings import RunSettings
    from experiments.bounds import _print_record, table_markdown

    _print_record(_record(), 1.0)
    line = capsys.readouterr().out
    assert "Thm 5.2 1.67 (vacuous: needs margin 6.5e+03, has 3.75)" in line
    table = table_markdown([_record()], RunSettings(widths=(32,)))
    assert "1.67 (vacuous: needs margin 6.5e+03, has 3.75)" in table
    assert "0.73 (vacuous: needs margin 6.5e+03, has 3.75)" in table  # Lemma D.1: the same condition
    assert "| no (needs 6.5e+03, has 3.75)" in table
    # the condition met and the bound below 1: the number alone
    met = _record(
        theorem_5_2_log10=-0.5,
        lemma_d_1_log10=-0.7,
        theorem_5_2_required_margin=1.0,
        theorem_5_2_margin_condition_met=True,
        lemma_d_1_margin_condition_met=True,
    )
    table = table_markdown([met], RunSettings(widths=(32,)))
    assert "vacuous" not in table and "| yes (needs 1, has 3.75)" in table


@pytest.mark.parametrize(
    "module, args, message",
    [
        (
            "experiments.bounds",
            ["--dataset", "mnsit"],
            "experiments.bounds: argument --dataset: invalid choice: 'mnsit'",
        ),
        ("experiments.bounds", ["--widths", "abc"], "experiments.bounds: argument --widths: invalid int value: 'abc'"),
        ("experiments.report", ["--widths", "abc"], "experiments.report: argument --widths: invalid int value"),
        ("experiments.certify", ["--seed", "x"], "experiments.certify: argument --seed: invalid int value"),
        ("experiments.bench", ["--width", "x"], "experiments.bench: argument --width: invalid int value"),
    ],
)
def test_argument_errors_are_one_line_without_the_usage(module, args, message):
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == proc.stderr.strip().splitlines()[0] and proc.stderr.startswith(message), proc.stderr
    assert "usage:" not in proc.stderr


def test_help_states_each_default_once():
    import re

    from experiments.bounds import build_parser

    text = " ".join(build_parser().format_help().split())
    assert "(default: None)" not in text and "(default: False)" not in text
    # one "(default: ...)" per option: two in a row was the preset's text followed by argparse's "None"
    assert not re.search(r"\(default:[^()]*(\([^()]*\)[^()]*)*\) \(default:", text), text
    assert "hidden widths (default: quick 64 128, paper 500 784 1000 1500 2000 2500)" in text
    assert "(default: quick 40, paper 300)" in text and "(default: quick 10, paper 1)" in text
    assert "k + 1 trainings (default: 0, in every preset)" in text


@pytest.mark.realdata
def test_real_mnist_short_training(tmp_path, mnist_dir):
    out = tmp_path / "mnist"
    assert (
        main(
            [
                "--dataset",
                "mnist",
                "--data-dir",
                str(mnist_dir),
                "--widths",
                "128",
                "--epochs",
                "2",
                "--every",
                "0",
                "--imp-rounds",
                "0",
                "--optimizer",
                "adam",
                "--lr",
                "2e-3",
                "--batch-size",
                "128",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rec = json.loads((out / "summary.json").read_text())["records"][0]
    assert rec["m"] == 48000
    assert rec["test_error"] < 0.10  # one epoch of a small MLP: well under 10%
    for key in BOUND_KEYS:
        assert math.isfinite(rec[key]), key
    # a generalisation bound is at least the empirical error it starts from ...
    for key in (
        "ours_paper_compatible_log10",
        "theorem_5_2_log10",
        "lemma_d_1_log10",
        "neyshabur_2015_literature_log10",
        "bartlett_2017_literature_log10",
        "neyshabur_2017_literature_log10",
    ):
        assert 10 ** rec[key] >= rec["train_error"], key
    # ... and the rigorous bounds on the pruned network's risk are at least its test error
    for key in ("theorem_5_2_log10", "lemma_d_1_log10"):
        assert 10 ** rec[key] >= rec["pruned_test_error"], key
