"""`python -m microtensor.viz`: the old `--model` command, now the application's."""

import sys

if __name__ == "__main__":  # importing this module (as the layering test does) does nothing
    sys.exit(
        "python -m microtensor.viz: drawing a network of models/ is the `microtensor "
        "graph` command now, e.g. `microtensor graph --model MLP --input-shape 1,2 "
        "--out mlp.svg` (see `microtensor graph --help`)"
    )
