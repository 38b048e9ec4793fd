"""`python -m microtensor` names the command line instead of running it.

microtensor is the engine; the command line (`demo`, `train`, `graph`, `reproduce`,
`sweep`) belongs to the application package `models`, whose networks, data sets and
experiments it runs, and the engine never imports the application, not even lazily from
this entry. So this prints where the command is, the `microtensor` console script or
`python -m models` where the script is not on PATH, and exits with status 2, as a
command line does for a wrong invocation, rather than doing nothing and succeeding.
"""

import sys

if __name__ == "__main__":
    print(
        "python -m microtensor: microtensor is the autograd engine; its command line "
        "lives in the application package: run `microtensor --help`, or `python -m "
        "models --help` where the script is not on PATH",
        file=sys.stderr,
    )
    sys.exit(2)
