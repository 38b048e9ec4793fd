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
    namespace = {"__name__": "readme"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for earlier in BLOCKS[:BLOCKS.index(code)]:  # blocks build on each other, in order
            exec(compile(earlier, str(README), "exec"), namespace)
        out.seek(0)
        out.truncate()
        exec(compile(code, str(README), "exec"), namespace)
    printed = out.getvalue().splitlines()
    promised = [m.group(1).strip() for line in code.splitlines() if line.startswith("print(")
                for m in [re.search(r"#\s*(.*)$", line)] if m]
    for line, comment in zip(printed, promised):
        if comment.startswith(("tensor(", "0", "1", "-")):  # a literal value, not prose
            assert line == comment
    lines = code.rstrip().splitlines()
    trailing = []  # a block that ends in comments shows the output it prints
    while lines and lines[-1].startswith("# "):
        trailing.insert(0, lines.pop()[2:])
    if trailing:
        assert printed[-len(trailing):] == trailing


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 3
