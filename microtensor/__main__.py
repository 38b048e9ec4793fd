"""`python -m microtensor`: the project's command line (models.cli; `microtensor --help`)."""
import sys

if __name__ == "__main__":
    # The engine package itself never imports `models` (microtensor <- models <- CLI):
    # only this program entry does, lazily, here under the main guard, so importing
    # microtensor.__main__ (as doctest collection does) loads nothing of models.
    from models.cli import main

    sys.exit(main())
