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


def test_evidence_formulas_and_result_keys_are_mathematics():
    # issue 12: the evidence paragraphs printed Psi*d**(3/2)/(d + 2)**(3/2) and E_Delta2 as text
    tex = render(build_ledger(None))
    assert "**" not in tex  # no Python power anywhere: every formula went through sympy.latex
    assert r"E\_Delta" not in tex and r"P\_pruned" not in tex and r"\texttt{E" not in tex
    section = tex[tex.index(r"\section{\texttt{lemma-4.1}") : tex.index(r"\section{\texttt{lemma-4.2}")]
    evidence = section[section.index(r"\paragraph{Evidence.}") :]
    moment = r"$\frac{\Psi d^{\frac{3}{2}}}{\left(d + 2\right)^{\frac{3}{2}}}$"
    assert moment in evidence  # E[Delta^2] as typeset mathematics
    assert r"$E[\Delta_{ij}^2]$" in section and r"$\chi(d)$ $=$" in section  # keys as names, in results too


def test_every_formula_written_into_evidence_is_typeset_from_its_expression():
    import sympy as sp

    from theory.docs import evidence_tex

    for c in build_ledger(None):
        rendered = evidence_tex(c)
        for text, expr in c.formulas.items():
            assert text in c.evidence
            inline, displayed = "$" + sp.latex(expr) + "$", "$\\displaystyle " + sp.latex(expr) + "$"
            assert (
                inline in rendered
                or displayed in rendered
                or any(text in longer and text != longer for longer in c.formulas)
            ), (c.id, text)


def test_result_names_cover_the_ledger_and_are_not_plain_keys():
    from theory.docs import RESULT_NAMES, result_name

    keys = {k for c in build_ledger(None) for k in c.results}
    assert keys <= set(RESULT_NAMES), sorted(keys - set(RESULT_NAMES))
    assert result_name("E_Delta2") == r"E[\Delta_{ij}^2]"
    assert all("\\_" not in result_name(k) and "texttt" not in result_name(k) for k in keys)  # names, not keys
    assert result_name("some_new_key")  # a key not listed still gets a SymPy rendering


def test_subscripted_names_in_sentences_become_symbols():
    from theory.docs import evidence_tex

    c = build_ledger(None)[0]
    out = evidence_tex(c, "only where lambda_l Gamma_l <= ||A_l||/L; see adversarial_failure")
    assert r"$\lambda_{l}$" in out and r"$\Gamma_{l}$" in out and r"$A_{l}$" in out
    assert r"adversarial\_failure" in out  # a function name stays text


def test_argument_errors_are_one_line_without_the_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--bogus"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == "theory.docs: unrecognized arguments: --bogus\n"


@pytest.mark.parametrize(
    "make, out, message",
    [
        ("file", "f", "theory.docs: --out {tmp}/f is an existing file, not a folder: choose another --out"),
        ("file", "f/sub", "theory.docs: cannot write {tmp}/f/sub/derivations.tex: Not a directory"),
        ("tex-dir", "d", "theory.docs: {tmp}/d/derivations.tex is a folder, where the .tex file goes: move it away"),
    ],
)
def test_an_out_that_cannot_hold_the_tex_is_one_line(tmp_path, capsys, make, out, message):
    # --out naming an existing file gave a FileExistsError traceback
    if make == "file":
        (tmp_path / "f").write_text("")
    else:
        (tmp_path / "d" / "derivations.tex").mkdir(parents=True)
    assert main(["--out", str(tmp_path / out), "--no-pdf"]) == 2
    assert capsys.readouterr().err == message.format(tmp=tmp_path) + "\n"
