"""`python3 -m benchmarks` runs the engine benchmark (same flags as benchmarks.engine)."""
import sys

from benchmarks.engine import main

if __name__ == "__main__":
    sys.exit(main())
