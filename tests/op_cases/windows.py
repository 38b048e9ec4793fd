"""The op-case rows of the windows ops (microtensor/ops/windows.py)."""

from __future__ import annotations

import microtensor as mt
from microtensor import ops

MAX_SIDE = 3
MAX_DIMS = 3
KINK_MARGIN = 0.05


from .columns import *
from .samples import *

ROWS = [
    # sliding windows
    OpCase(
        "unfold",
        ops.Unfold,
        mt.unfold,
        unfold_ref,
        samples=unfold_samples(),
        examples=(
            ex(shapes=((1, 2, 3, 3),), **windows_of(2)),
            ex("strided-padded", shapes=((1, 1, 4, 4),), **windows_of(2, stride=2, padding=1)),
        ),
    ),
    OpCase(
        "fold",
        ops.Fold,
        mt.fold,
        fold_ref,
        samples=fold_samples(),
        examples=(ex(shapes=((1, 8, 4),), output_size=(3, 3), **windows_of(2)),),
    ),
    OpCase(
        "max_pool2d",
        ops.MaxPool2d,
        mt.nn.functional.max_pool2d,
        max_pool_ref,
        distinct=True,
        samples=max_pool_samples(),
        examples=(
            ex(shapes=((2, 2, 4, 4),), **windows_of(2, stride=2)),
            ex("overlapping-padded", shapes=((1, 2, 5, 5),), **windows_of(3, stride=2, padding=1)),
        ),
    ),
]
