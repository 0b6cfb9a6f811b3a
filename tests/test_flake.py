"""The flake script's reading of pytest's output (the script itself runs the suite N times: not run here)."""

from flake import main, parse_summary


def test_counts_and_failing_ids_are_read():
    out = (
        "....F..E\n=========================== short test summary info ============================\n"
        "FAILED tests/theory/test_domain.py::test_x[chi] - AssertionError: boom\n"
        "ERROR tests/numerics/test_scale.py::test_y\n"
        "1 failed, 230 passed, 2 skipped, 1 error in 71.32s (0:01:11)\n"
    )
    got = parse_summary(out)
    assert (got["passed"], got["failed"], got["skipped"], got["errors"]) == (230, 1, 2, 1)
    assert got["failing"] == ["tests/numerics/test_scale.py::test_y", "tests/theory/test_domain.py::test_x[chi]"]
    assert parse_summary("241 passed, 2 skipped in 9.10s\n")["failing"] == []


def test_bad_run_count_is_refused(capsys):
    assert main(["--runs", "0"]) == 2
    assert "--runs must be >= 1" in capsys.readouterr().err
