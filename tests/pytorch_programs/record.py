"""Record what each program here prints under PyTorch: `python tests/pytorch_programs/record.py`
(needs torch: `pip install -e ".[bench]"`). The .out files are what
tests/test_pytorch_programs.py compares microtensor's output with."""
import pathlib
import subprocess
import sys

import torch

here = pathlib.Path(__file__).parent
for program in sorted(here.glob("*.py")):
    if program.name == "record.py":
        continue
    out = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                         check=True).stdout
    header = f"# recorded from PyTorch {torch.__version__} (CPU) by record.py\n"
    program.with_suffix(".out").write_text(header + out)
    print(program.with_suffix(".out").name, len(out.splitlines()), "lines")
