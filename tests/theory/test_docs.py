"""Generated LaTeX: one section per ledger entry; compiles to a PDF where TeX is installed."""

import shutil

import pytest

from theory import build_ledger
from theory.docs import main, render, tex_escape


def test_one_section_per_entry():
    claims = build_ledger(None)
    tex = render(claims)
    assert tex.count(r"\section{") == len(claims)
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")


def test_escape():
    assert tex_escape("a_b^c {x} 50% & $") == r"a\_b\textasciicircum{}c \{x\} 50\% \& \$"


@pytest.mark.latex
def test_pdf_compiles(tmp_path):
    if not (shutil.which("latexmk") or shutil.which("pdflatex")):
        pytest.skip("no latexmk/pdflatex installed (bash setup.sh installs them as root)")
    assert main(["--out", str(tmp_path)]) == 0
    pdf = tmp_path / "derivations.pdf"
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"


def test_cli_exits_quietly_when_the_reader_closes_the_pipe(tmp_path):
    from pipes import assert_quiet_exit, run_into_closed_pipe

    proc = run_into_closed_pipe("-m", "theory.docs", "--out", str(tmp_path), "--no-pdf")
    assert_quiet_exit(proc)
    assert (tmp_path / "derivations.tex").is_file()  # the work itself was done
