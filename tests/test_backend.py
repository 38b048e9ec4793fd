"""The backend seam (microtensor/backend.py): settings of the process it runs in."""

import os
import platform
import subprocess
import sys

import pytest

# --------------------------------------------------------------- allocator settings
RETAIN_PROBE = """
import ctypes, resource, sys
import numpy as np
from microtensor.backend import retain_freed_memory
# Pin glibc to its starting thresholds (128 KiB, no adapting), whatever this process did
# before: every 1 MiB array is then mapped afresh and its 256 pages faulted in.
mallopt = ctypes.CDLL(None).mallopt
assert mallopt(-3, 128 * 1024) and mallopt(-1, 128 * 1024)
if sys.argv[1] == "retain":
    assert retain_freed_memory() is True
def step():  # a training step's temporaries: 32 arrays of 1 MiB alive at once, then freed
    arrays = [np.ones(1 << 17) for _ in range(32)]
    del arrays
for _ in range(3):  # settle: the heap grows to the working set once
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's"
)
def test_retain_freed_memory_stops_large_arrays_from_faulting_in_afresh():
    def faults(mode):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        out = subprocess.run(
            [sys.executable, "-c", RETAIN_PROBE, mode],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return int(out)

    # pinned: 10 steps x 32 arrays x 256 pages faulted in; none once freed memory is kept
    assert faults("default") > 10 * 32 * 256 // 2
    assert faults("retain") < 100
