"""`python3 -m benchmarks` runs the benchmark suite (benchmarks.run; see --help)."""

import sys

from benchmarks.run import main

if __name__ == "__main__":
    sys.exit(main())
