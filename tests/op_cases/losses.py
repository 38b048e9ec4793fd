"""The op-case rows of the losses ops (microtensor/ops/losses.py)."""

from __future__ import annotations

import hypothesis.strategies as st

import microtensor as mt
from microtensor import ops

MAX_SIDE = 3
MAX_DIMS = 3
KINK_MARGIN = 0.05


from .columns import *
from .samples import *

ROWS = [
    # losses
    OpCase(
        "mse_loss",
        ops.MseLoss,
        mt.nn.functional.mse_loss,
        mse_ref,
        ("real", "real"),
        attrs=keywords(reduction=st.sampled_from(["mean", "sum", "none"])),
        examples=(
            ex(shapes=((3, 2), (3, 2)), reduction="mean"),
            ex("sum", shapes=((4,), (4,)), reduction="sum"),
            ex("none", reduction="none"),
        ),
    ),
]
