"""The dependency arrow runs one way, microtensor <- models: the engine never imports the
application, neither when its modules are imported (checked in a fresh process, where
nothing imported before can hide an import) nor from inside a function (checked in the
source, where an import that runs only when called would be)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
import microtensor

def fail(name):
    raise ImportError(f"cannot import {name}")

names = [m.name for m in pkgutil.walk_packages(microtensor.__path__, "microtensor.",
                                                onerror=fail)]
for name in names:
    importlib.import_module(name)
print(" ".join(names))
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] == "models")))
"""


def test_importing_every_module_of_microtensor_loads_nothing_of_models():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    imported, models_loaded = (result.stdout.splitlines() + [""])[:2]
    assert {
        "microtensor.__main__",
        "microtensor.viz",
        "microtensor.nn.functional",
        "microtensor.testing.strategies",
    } <= set(imported.split())
    assert models_loaded == ""


def _imported_modules(path: Path) -> set[str]:
    """The absolute module names that a source file imports, anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_no_source_file_of_microtensor_imports_models_even_lazily():
    offenders = {
        str(path.relative_to(ROOT)): sorted(names)
        for path in sorted((ROOT / "microtensor").rglob("*.py"))
        for names in [{n for n in _imported_modules(path) if n.split(".")[0] == "models"}]
        if names
    }
    assert offenders == {}
