"""The documentation site (mkdocs.yml, docs/) builds with warnings as errors, its API
reference shows every function and class the documented modules export (and every ops
family), and every Python block of its pages runs as written and prints what its
comments say it prints."""

import contextlib
import importlib.util
import io
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "```python" in p.read_text())
NEEDED = {
    "mkdocs": "mkdocs",
    "material": "mkdocs-material",
    "mkdocstrings": "mkdocstrings",
    "mkdocstrings_handlers.python": "mkdocstrings-python",
}


REFERENCE = {  # page of docs/api -> the modules whose exports it must show
    "microtensor": ["microtensor"],
    "autograd": ["microtensor.autograd"],
    "nn": ["microtensor.nn", "microtensor.nn.init", "microtensor.nn.utils"],
    "nn-functional": ["microtensor.nn.functional"],
    "optim": ["microtensor.optim", "microtensor.optim.lr_scheduler"],
    "testing": ["microtensor.testing", "microtensor.testing.strategies"],
    "viz": ["microtensor.viz"],
    "linalg": ["microtensor.linalg"],
    "ops": [
        f"microtensor.ops.{p.stem}"
        for p in sorted((ROOT / "microtensor" / "ops").glob("*.py"))
        if p.stem not in ("__init__", "base")
    ],
}


def public_callables(name: str) -> list:
    """The functions and classes a module exports (the op functions count on the ops
    page, not again at the top level), which its reference page must show."""
    module = importlib.import_module(name)
    ops = importlib.import_module("microtensor.ops").__all__ if name == "microtensor" else ()
    return [
        n
        for n in getattr(module, "__all__", ())
        if n not in ops and hasattr(getattr(module, n), "__qualname__")
    ]


def test_site_builds_with_warnings_as_errors(tmp_path):
    missing = [
        package
        for module, package in NEEDED.items()
        if importlib.util.find_spec(module.split(".")[0]) is None
        or importlib.util.find_spec(module) is None
    ]
    assert not missing, (
        f'the docs need {", ".join(missing)}: pip install -e ".[docs]" '
        f"(or pip install mkdocs mkdocs-material 'mkdocstrings[python]')"
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner, not ours
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    problems = [line for line in run.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert run.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(
        problems or [run.stdout[-3000:], run.stderr[-3000:]]
    )
    for page in ("index.html", "tutorials/first-gradient/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
    for page, modules in REFERENCE.items():
        html = (tmp_path / "site" / "api" / page / "index.html").read_text()
        documented = set(re.findall(r'<h\d id="([\w.]+)" class="doc', html))
        missing = {
            f"{module}.{name}"
            for module in modules
            for name in public_callables(module)
            if not any(i.startswith(f"{module}.") and i.endswith(f".{name}") for i in documented)
        }  # or under a module of the same name
        assert not missing, f"docs/api/{page}.md does not show {sorted(missing)}"
        # the docstrings' doctests render as code (docs/griffe_microtensor.py), not quotes
        assert "<blockquote>" not in html, f"docs/api/{page}.md: a doctest as a quote"
    reference = (tmp_path / "site" / "api" / "autograd" / "index.html").read_text()
    assert '<span class="gp">&gt;&gt;&gt; </span>' in reference


def test_every_ops_family_is_in_the_reference():
    families = {p.stem for p in (ROOT / "microtensor" / "ops").glob("*.py")} - {"__init__", "base"}
    listed = set(
        re.findall(
            r"^::: microtensor\.ops\.(\w+)$",
            (DOCS / "api" / "ops.md").read_text(),
            flags=re.MULTILINE,
        )
    )
    assert families - listed == set(), "add them to docs/api/ops.md"
    assert listed - families == set()


def blocks(page: pathlib.Path) -> list:
    """(first line number, code) of each ```python block of a page."""
    text = page.read_text()
    return [
        (text.count("\n", 0, m.start(1)), m.group(1))
        for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    ]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_blocks_run_and_print_what_their_comments_say(page):
    """A page's blocks run in order in one namespace (they build on each other), each
    compiled at its own line numbers so tracebacks and explain() point into the page."""
    namespace = {"__name__": "docs"}
    for start, code in blocks(page):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile("\n" * start + code, str(page), "exec"), namespace)  # noqa: S102
        printed = out.getvalue().splitlines()
        promised = [
            m.group(1).strip()
            for line in code.splitlines()
            if line.startswith("print(")
            for m in [re.search(r"#\s*(.*)$", line)]
            if m
        ]
        for line, comment in zip(printed, promised):
            if comment.startswith(("tensor(", "0", "1", "-")):  # a literal, not prose
                assert line == comment, f"{page.name}: printed {line!r}, the page says {comment!r}"
        lines = code.rstrip().splitlines()
        trailing = []  # a block that ends in comments shows the output it prints
        while lines and lines[-1].startswith("# "):
            trailing.insert(0, lines.pop()[2:])
        if trailing:
            assert printed[-len(trailing) :] == trailing, f"{page.name}: printed {printed}"


def test_docs_have_python_blocks():
    assert {p.name for p in PAGES} >= {
        "index.md",
        "first-gradient.md",
        "seeing-backpropagation.md",
        "testing-your-own-op.md",
        "coming-from-pytorch.md",
    }
