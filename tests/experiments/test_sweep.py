"""python -m experiments.bounds on Dask distributed (experiments._sweep): a two-task sweep on an embedded
LocalCluster with two worker processes gives the serial path's numbers, continues a checkpoint the serial path
wrote, and is reused by --resume; a bad --scheduler address gives one line and exit 2.

The figures are not drawn here (test_cli covers them; drawing them after every task would triple this test's
time); everything else runs as on the command line.
"""

from __future__ import annotations

import json
import socket

import pytest
import torch

import experiments._figures
import experiments.bounds
from experiments import _sweep
from experiments._data import load_dataset
from experiments._run import task_data, task_dir, train_task
from experiments._train import atomic_torch_save, load_checkpoint
from experiments.bounds import Task, build_parser, main, run_task, settings_from

pytest.importorskip("distributed")

# two tasks, each a few seconds: widths 16 and 24 on digits, depth 3, 4 epochs, bounds at the end only
ARGS = [
    "--widths",
    "16",
    "24",
    "--depth",
    "3",
    "--epochs",
    "4",
    "--lr",
    "0.01",
    "--every",
    "0",
    "--threads",
    "1",
    "--no-progress",
]
NUMBERS = (
    "neyshabur_2015_code_log10",
    "neyshabur_2017_code_log10",
    "bartlett_2017_code_log10",
    "ours_paper_compatible_log10",
    "theorem_5_2_log10",
    "lemma_d_1_log10",
    "true_error_log10",
    "test_error",
    "pruned_test_error",
    "train_error",
    "gamma",
    "d_star",
    "survivors",
    "identity",
    "torch_threads",
)
MARK = "pre-seeded by the serial path"


@pytest.fixture
def quick(monkeypatch):
    """No figures (see the module docstring); torch's thread count restored after the test."""
    monkeypatch.setattr(experiments._figures, "write_figures", lambda *a, **k: [])
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _records(out) -> dict[str, dict]:
    return {r["task"]: r for r in json.loads((out / "summary.json").read_text())["records"]}


def test_two_task_sweep_equals_serial_resumes_and_is_reused(tmp_path, monkeypatch, capfd, quick):
    s = settings_from(build_parser().parse_args(ARGS))
    tasks = [Task("digits", 16, 0), Task("digits", 24, 0)]
    serial = {t.key: run_task(t, s, tmp_path / "serial", False, False) for t in tasks}

    # the serial path trains width 16 for 2 of its 4 epochs into the sweep's folder; its history is marked
    # (weights and optimiser untouched), so the sweep's record shows whether the worker continued this checkpoint
    sweep = tmp_path / "sweep"
    td = task_data(load_dataset("digits"), s.protocol.split, 0)
    train_task(s.replace(epochs=2), td, 16, 0, sweep, False, False)
    ckpt = task_dir(sweep, "digits", 16, 0) / "train.pt"
    state = load_checkpoint(ckpt)
    state["history"][0]["note"] = MARK
    atomic_torch_save(state, ckpt)

    # run_task in this process fails: the records below can only come from the worker processes
    def not_here(*args, **kwargs):
        raise AssertionError("run_task ran in the client process")

    monkeypatch.setattr(experiments.bounds, "run_task", not_here)
    capfd.readouterr()
    assert main(ARGS + ["--workers", "2", "--resume", "--out", str(sweep)]) == 0
    out, err = capfd.readouterr()
    assert "dask: 2 task(s) on an embedded Dask LocalCluster (2 worker process(es), 1 thread each)" in out
    assert "Traceback" not in err and "Warning" not in err, err
    done = _records(sweep)
    assert sorted(done) == sorted(serial)
    for key, ref in serial.items():
        rec = done[key]
        for name in NUMBERS:
            assert rec[name] == ref[name], (key, name)
        assert rec["torch_threads"] == 1
        assert len(rec["epochs"]) == len(ref["epochs"]) == 4
        for got, want in zip(rec["epochs"], ref["epochs"]):  # every measure; wall seconds differ between runs
            assert {k: got[k] for k in want if k != "seconds"} == {k: v for k, v in want.items() if k != "seconds"}, key
    assert done["digits/width-16/seed-0"]["epochs"][0].get("note") == MARK  # continued, not retrained
    assert "note" not in done["digits/width-24/seed-0"]["epochs"][0]
    assert load_checkpoint(ckpt)["epoch"] == 4
    csv_text = (sweep / "epochs.csv").read_text()
    assert csv_text.count("\ndigits,") == 8  # both tasks' 4 epochs merged into the same epochs.csv

    # a rerun with --resume reuses both records and starts no cluster
    before = (sweep / "summary.json").read_text()
    assert main(ARGS + ["--workers", "2", "--resume", "--out", str(sweep)]) == 0
    out, _ = capfd.readouterr()
    assert out.count("already done") == 2 and "dask:" not in out
    after = json.loads((sweep / "summary.json").read_text())["records"]
    assert after == json.loads(before)["records"] and {r["task"] for r in after} == set(serial)


def test_bad_scheduler_address_is_one_line_and_exit_2(tmp_path, monkeypatch, capfd, quick):
    monkeypatch.setattr(_sweep, "CONNECT_TIMEOUT_S", 1.0)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "run"
    assert main(ARGS + ["--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(out)]) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"experiments.bounds: --scheduler tcp://127.0.0.1:{port}"), err
    assert "no Dask scheduler answered within 1 s" in err
    assert not (out / "summary.json").exists() and not (out / "checkpoints").exists()
    # a malformed address is refused before any connection attempt
    assert main(ARGS + ["--scheduler", "tcp://localhost", "--out", str(out)]) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "is not a Dask scheduler address" in err, err
    # --scheduler with --workers: one line
    assert main(ARGS + ["--scheduler", f"tcp://127.0.0.1:{port}", "--workers", "2", "--out", str(out)]) == 2
    assert "exclude each other" in capfd.readouterr().err


def test_failed_task_is_one_line_and_exit_2(tmp_path, capfd, quick):
    """Width 16 finds a checkpoint of another run (lr 0.02) and fails in its worker: its own one-line error
    reaches the client, the other task is cancelled, nothing is recorded as finished."""
    s = settings_from(build_parser().parse_args(ARGS))
    out = tmp_path / "run"
    td = task_data(load_dataset("digits"), s.protocol.split, 0)
    train_task(s.replace(epochs=1, lr=0.02), td, 16, 0, out, False, False)
    capfd.readouterr()
    assert main(ARGS + ["--workers", "1", "--resume", "--out", str(out)]) == 2
    captured = capfd.readouterr()
    assert "dask: 2 task(s)" in captured.out and "digits/width-" not in captured.out  # no task finished
    err = captured.err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("experiments.bounds: checkpoint ") and "lr 0.02 (now 0.01)" in err
    assert not (out / "summary.json").exists()
