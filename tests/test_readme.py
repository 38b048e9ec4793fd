"""Every Python block of the README runs as written (and prints what it says it does)."""
import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs_and_prints_what_its_comments_say(code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    printed = out.getvalue().splitlines()
    promised = [m.group(1).strip() for line in code.splitlines() if line.startswith("print(")
                for m in [re.search(r"#\s*(.*)$", line)] if m]
    for line, comment in zip(printed, promised):
        if comment.startswith(("tensor(", "0", "1", "-")):  # a literal value, not prose
            assert line == comment


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 3
