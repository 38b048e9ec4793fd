"""The example notebooks (examples/*.ipynb) run top to bottom in a fresh kernel, so that
they never go stale: each ends in a cell that asserts its result (a gradient against its
hand value, an accuracy), so a silent break fails here too. And they are committed
without outputs, so that diffs show code, not pictures."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds; every notebook runs in a few


def test_the_four_notebooks_are_there():
    expected = {
        "01_first_gradient",
        "02_lab1_explain",
        "03_test_your_own_op",
        "04_convnet_gradient_flow",
    }
    assert expected <= {p.stem for p in NOTEBOOKS}, NOTEBOOKS


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict:
    """Each notebook executed from a fresh copy of its committed JSON, in its own python3
    kernel whose working directory is a temporary one: path -> the error that stopped it
    (nbclient's CellExecutionError names the cell and holds its traceback) or None. All
    four run at once: most of a notebook's time is its kernel starting and importing."""
    try:
        import ipykernel  # noqa: F401  (the kernel nbclient starts)
        import nbclient
        import nbformat
    except ImportError as e:
        pytest.fail(
            f"running the example notebooks needs nbclient, nbformat and ipykernel "
            f"(pip install -e '.[test]'): {e}",
            pytrace=False,
        )
    errors = nbclient.exceptions
    stopped = (errors.CellExecutionError, errors.CellTimeoutError, errors.DeadKernelError)

    async def run(path: Path):
        book = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        client = nbclient.NotebookClient(book, timeout=CELL_TIMEOUT, kernel_name="python3")
        try:
            await client.async_execute(cwd=str(tmp_path_factory.mktemp(path.stem)))
        except stopped as e:
            return e  # reported by the notebook's own test below
        code = [c for c in book.cells if c.cell_type == "code"]
        if not code or any(c.execution_count is None for c in code):
            return AssertionError("not every code cell ran")
        return None

    async def run_all():
        return await asyncio.gather(*(run(p) for p in NOTEBOOKS))

    return dict(zip(NOTEBOOKS, asyncio.run(run_all())))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, executed: dict):
    error = executed[path]
    if error is not None:
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the traceback's colours
        pytest.fail(f"{path.name} failed:\n{text}", pytrace=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(path: Path):
    book = json.loads(path.read_text(encoding="utf-8"))
    assert book["nbformat"] == 4, f"{path.name}: nbformat {book['nbformat']}, expected 4"
    dirty = [
        i
        for i, cell in enumerate(book["cells"])
        if cell["cell_type"] == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: code cells {dirty} keep outputs or an execution count; "
        f"clear them before committing (Jupyter: Edit > Clear Outputs of All "
        f"Cells, or `jupyter nbconvert --clear-output --inplace {path.name}`)"
    )
