"""Run integrity (issue 14): a resume by another run, damaged files around a run, divergence, out folders that
cannot hold results, seeds outside the range, thread counts, and broken pipes each give one line and exit 2
(or the right numbers), never a traceback and never silently mixed numbers."""

import json
import os
import subprocess
import sys

import pytest
import torch

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
    "0",
    "--no-progress",
    "--threads",
    "1",
]


def _with(args: list[str], **options: str) -> list[str]:
    """``args`` with the value of each ``--option`` replaced (or appended)."""
    out = list(args)
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if flag in out:
            out[out.index(flag) + 1] = value
        else:
            out += [flag, value]
    return out


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(TINY + ["--out", str(out)]) == 0
    return out


def _ckpt(out):
    return out / "checkpoints" / "digits-width-32-seed-0" / "train.pt"


@pytest.mark.parametrize(
    "change, names", [({"depth": "4"}, "depth 3 (now 4)"), ({"optimizer": "sgd"}, "optimizer adam (now sgd)")]
)
def test_resume_by_another_architecture_or_optimiser_is_one_line(done, capsys, change, names):
    assert main(_with(TINY, **change) + ["--out", str(done), "--resume"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert names in line and "train.pt" in line


def test_resume_with_another_imp_fraction_retrains_the_rounds(tmp_path, capsys):
    out = tmp_path / "imp"
    base = TINY + ["--imp-rounds", "1", "--out", str(out)]
    assert main(base + ["--imp-fraction", "0.5"]) == 0
    assert main(base + ["--imp-fraction", "0.3", "--resume"]) == 2  # the round checkpoints belong to 0.5
    assert "imp_fraction 0.5 (now 0.3)" in _one_line(capsys.readouterr().err)
    fresh = tmp_path / "fresh"
    assert main(TINY + ["--imp-rounds", "1", "--imp-fraction", "0.3", "--out", str(fresh)]) == 0
    rec = json.loads((fresh / "summary.json").read_text())["records"][0]["imp"]
    assert rec["fraction"] == 0.3


@pytest.mark.parametrize("damage", ["truncate", "empty", "random"])
def test_damaged_checkpoint_is_one_line(tmp_path, capsys, damage):
    out = tmp_path / "r"
    assert main(TINY + ["--out", str(out)]) == 0
    ck = _ckpt(out)
    raw = ck.read_bytes()
    ck.write_bytes({"truncate": raw[: len(raw) // 3], "empty": b"", "random": os.urandom(4096)}[damage])
    (out / "summary.json").unlink()  # force a retrain from the checkpoint
    assert main(TINY + ["--out", str(out), "--resume"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "train.pt" in line and ("damaged" in line or "empty" in line)


def test_truncated_summary_is_one_line_and_touches_nothing(done, tmp_path, capsys):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(done, out)
    text = (out / "summary.json").read_text()
    (out / "summary.json").write_text(text[: len(text) // 2])
    before = _ckpt(out).read_bytes()
    assert main(TINY + ["--out", str(out), "--resume"]) == 2
    assert "summary.json is damaged" in _one_line(capsys.readouterr().err)
    assert _ckpt(out).read_bytes() == before


def test_garbage_epoch_rows_are_not_copied(done, tmp_path):
    import shutil

    out = tmp_path / "g"
    shutil.copytree(done, out)
    with open(out / "epochs.csv", "a") as fh:
        fh.write("garbage,row,,,\n")
    assert main(TINY + ["--out", str(out), "--resume"]) == 0
    assert "garbage" not in (out / "epochs.csv").read_text()


def test_out_is_a_file_or_read_only(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(TINY + ["--out", str(f)]) == 2
    assert "is an existing file" in _one_line(capsys.readouterr().err)
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    assert main(TINY + ["--out", str(ro / "x")]) == 2
    assert "not writable" in _one_line(capsys.readouterr().err)


def test_read_only_out_via_a_read_only_mount_point(tmp_path, capsys):
    # /proc is read-only for files everywhere, root included
    assert main(TINY + ["--out", "/proc/mbp-bounds-results"]) == 2
    assert "not writable" in _one_line(capsys.readouterr().err)


def test_divergence_stops_with_one_line_and_keeps_the_last_finite_checkpoint(tmp_path, capsys):
    out = tmp_path / "div"
    args = [
        "--widths",
        "64",
        "--epochs",
        "3",
        "--optimizer",
        "sgd",
        "--lr",
        "5",
        "--every",
        "0",
        "--no-progress",
        "--threads",
        "1",
        "--out",
        str(out),
    ]
    assert main(args) == 2
    line = _one_line(capsys.readouterr().err)
    assert "training diverged at epoch" in line and "lower --lr" in line
    ck = _ckpt_w(out, 64)
    if ck.is_file():  # a checkpoint exists only when an epoch finished before the divergence
        state = torch.load(ck, weights_only=True)
        assert all(bool(torch.isfinite(v).all()) for v in state["model"].values())


def _ckpt_w(out, w):
    return out / "checkpoints" / f"digits-width-{w}-seed-0" / "train.pt"


@pytest.mark.parametrize("seed", ["-1", "1000000000000000"])
def test_seed_is_validated_at_the_edge(tmp_path, seed):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.bounds",
            "--seed",
            seed,
            "--dataset",
            "mnist",
            "--data-dir",
            "/nonexistent",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    line = _one_line(proc.stderr)
    assert "--seed" in line and "train-images" not in line  # named before any data is loaded


def test_same_seed_same_thread_count_same_numbers_and_the_count_is_recorded(tmp_path):
    runs = {}
    for name, threads in (("a", "1"), ("b", "1"), ("c", "2")):
        out = tmp_path / name
        assert main(_with(TINY, threads=threads) + ["--out", str(out)]) == 0
        runs[name] = json.loads((out / "summary.json").read_text())
    ra, rb, rc = (runs[k]["records"][0] for k in "abc")
    for key in ("ours_paper_compatible_log10", "bartlett_2017_code_log10", "gamma", "d_star", "test_error"):
        assert ra[key] == rb[key], key
    assert ra["torch_threads"] == 1 and rc["torch_threads"] == 2
    # different thread counts may differ in the last digits only (summation order), never beyond 1e-4
    for key in ("ours_paper_compatible_log10", "bartlett_2017_code_log10", "gamma"):
        assert rc[key] == pytest.approx(ra[key], rel=1e-4), key


def test_broken_pipe_is_quiet(tmp_path):
    proc = subprocess.run(
        f"{sys.executable} -m experiments.bounds --help | head -1", shell=True, capture_output=True, text=True
    )
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
