"""The README's example of bounds for your own network runs as written (between its example markers)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    text = README.read_text()
    block = re.search(r"<!-- example:start -->\s*```python\n(.*?)```\s*<!-- example:end -->", text, re.S)
    assert block, "README has no example block between <!-- example:start --> and <!-- example:end -->"
    code = block.group(1)
    assert len(code.strip().splitlines()) <= 16
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)  # the README is the project's own file
    result = namespace["result"]
    assert result.m > 1000 and result.bounds_log10["ours_paper_compatible"] is not None
    assert "neyshabur_2015_code" in capsys.readouterr().out
