"""Tests of the numerics.check CLI: argument errors (exit 2), record format, atomic evidence file."""

from __future__ import annotations

import json

import pytest

from numerics import check

KEYS = {"id", "verdict", "estimate", "interval", "closed_form", "samples", "seed", "evidence"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["no-such-claim"], "unknown claim id"),
        (["--samples", "0", "lemma-4.1"], "--samples must be a positive"),
        (["--samples", "-3"], "--samples must be a positive"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    assert check.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_json_records_and_evidence_file(tmp_path, capsys):
    target = tmp_path / "evidence" / "monte_carlo.json"
    assert (
        check.main(
            [
                "algorithm-1",
                "definition-e.1",
                "--samples",
                "3000",
                "--seed",
                "7",
                "--format",
                "json",
                "--write-evidence",
                str(target),
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    written = json.loads(target.read_text())
    assert [r["id"] for r in printed] == ["algorithm-1", "definition-e.1"] == [r["id"] for r in written]
    for r in written:
        assert KEYS <= set(r) and r["seed"] == 7
    assert written[0]["samples"] == 3000 and written[0]["verdict"] == "verified"
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_table_format_prints_every_claim(capsys):
    assert check.main(["lemma-e.1", "--samples", "200"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lemma-e.1") and "closed form:" in out


def test_write_evidence_replaces_atomically(tmp_path):
    target = tmp_path / "x.json"
    target.write_text("old")
    check.write_evidence([{"id": "a"}], target)
    assert json.loads(target.read_text()) == [{"id": "a"}]


def test_cli_exits_quietly_when_the_reader_closes_the_pipe():
    # python -m numerics.check ... | head: no BrokenPipeError traceback, exit 0
    from pipes import assert_quiet_exit, run_into_closed_pipe

    assert_quiet_exit(
        run_into_closed_pipe("-m", "numerics.check", "algorithm-1", "--samples", "200", "--format", "json")
    )


def test_argparse_errors_are_one_line_without_the_usage(capsys):
    with pytest.raises(SystemExit) as info:
        check.main(["--seed", "x"])
    assert info.value.code == 2
    assert capsys.readouterr().err == "numerics.check: argument --seed: invalid int value: 'x'\n"
