"""Real PyTorch programs (tests/pytorch_programs/: the "Learning PyTorch with Examples"
polynomial fits, the autograd tutorials, a makemore-style character MLP) run on
microtensor with only their import lines changed, and print what PyTorch printed.

The expected output (.out beside each program) was recorded from PyTorch by
tests/pytorch_programs/record.py. Outputs are compared token by token: words and
punctuation exactly (with `torch.` read as `microtensor.`, since the program now imports
microtensor under that name, and memory addresses ignored), numbers to a relative 2e-3:
the programs compute in float32, and numpy's summation order differs from PyTorch's."""

from __future__ import annotations

import math
import os
import pathlib
import re
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).parent / "pytorch_programs"
PROGRAMS = sorted(p for p in HERE.glob("*.py") if p.name != "record.py")
# the port: torch's import lines name microtensor instead; nothing else changes
PORTS = [
    (re.compile(r"^import torch$"), "import microtensor as torch"),
    (re.compile(r"^import torch\.([\w.]+) as (\w+)$"), r"import microtensor.\1 as \2"),
    (re.compile(r"^from torch(\.[\w.]+)? import (.+)$"), r"from microtensor\1 import \2"),
]
TOKEN = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?|\w+|\S")


def port(line: str) -> str:
    for pattern, replacement in PORTS:
        if pattern.match(line):
            return pattern.sub(replacement, line)
    assert not re.match(r"\s*(import|from) torch\b", line), f"an import the port misses: {line}"
    return line


def ported(source: str) -> str:
    """The program with its torch imports changed, and nothing else."""
    return "\n".join(port(line) for line in source.splitlines()) + "\n"


def tokens(text: str) -> list:
    text = re.sub(r" object at 0x[0-9a-f]+", " object", text)
    return TOKEN.findall(text.replace("torch.", "microtensor."))


def same(expected: str, got: str) -> bool:
    if expected == got:
        return True
    try:
        a, b = float(expected), float(got)
    except ValueError:
        return False
    return math.isclose(a, b, rel_tol=2e-3, abs_tol=1e-6)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_a_pytorch_program_prints_what_pytorch_printed(program):
    source = ported(program.read_text())
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(HERE.parent.parent), os.environ.get("PYTHONPATH", "")]),
    )
    run = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        cwd=HERE,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    recorded = program.with_suffix(".out").read_text().split("\n", 1)[1]
    expected_lines, got_lines = recorded.splitlines(), run.stdout.splitlines()
    assert len(got_lines) == len(expected_lines), run.stdout
    for line, (want, got) in enumerate(zip(expected_lines, got_lines), 1):
        want_tokens, got_tokens = tokens(want), tokens(got)
        assert len(want_tokens) == len(got_tokens) and all(
            same(a, b) for a, b in zip(want_tokens, got_tokens)
        ), f"{program.name} output line {line}:\n  PyTorch:     {want}\n  microtensor: {got}"


def test_the_port_changes_import_lines_only():
    """The comparison above is of the same program: the port changes torch's import lines
    into microtensor's, and no other line."""
    assert port("import torch") == "import microtensor as torch"
    assert port("import torch.nn.functional as F") == "import microtensor.nn.functional as F"
    assert (
        port("from torch.utils.data import DataLoader")
        == "from microtensor.utils.data import DataLoader"
    )
    for program in PROGRAMS:
        for a, b in zip(
            program.read_text().splitlines(), ported(program.read_text()).splitlines(), strict=True
        ):
            if a != b:
                assert a.startswith(("import torch", "from torch")), b
                assert b.replace(" as torch", "").replace("microtensor", "torch") == a
