"""`python -m microtensor`: the project's command line (models.cli; `microtensor --help`).

The engine package itself never imports `models` (the dependency arrow is microtensor <-
models <- CLI): only this program entry does, lazily, inside the main guard, so that
importing microtensor.__main__ (as doctest collection does) loads nothing of models.
"""
import sys

if __name__ == "__main__":
    from models.cli import main

    sys.exit(main())
