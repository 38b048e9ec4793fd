"""`python -m models ...`: the `microtensor` command, where the console script is not on
PATH (the same parser, the same exit statuses)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
