"""Every Python block of the README runs as written, in order (blocks build on each
other, as in a notebook), and prints what its comments say it prints."""

import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def printed_by_block():
    """Run every block once, in order, in one namespace; what each printed (or raised)."""
    namespace = {"__name__": "readme"}
    results = []
    for code in BLOCKS:
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, str(README), "exec"), namespace)
        except Exception as error:  # reported by the block's own test
            results.append(error)
            continue
        results.append(out.getvalue().splitlines())
    return results


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs_and_prints_what_its_comments_say(index, printed_by_block):
    code, printed = BLOCKS[index], printed_by_block[index]
    if isinstance(printed, Exception):
        raise printed
    promised = [
        m.group(1).strip()
        for line in code.splitlines()
        if line.startswith("print(")
        for m in [re.search(r"#\s*(.*)$", line)]
        if m
    ]
    for line, comment in zip(printed, promised):
        if comment.startswith(("tensor(", "0", "1", "-", "digraph")):  # a literal, not prose
            assert line == comment
    lines = code.rstrip().splitlines()
    trailing = []  # a block that ends in comments shows the output it prints
    while lines and lines[-1].startswith("# "):
        trailing.insert(0, lines.pop()[2:])
    if trailing:
        assert printed[-len(trailing) :] == trailing


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 3
