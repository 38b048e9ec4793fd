"""The op-case rows of the trigonometric and hyperbolic ops
(microtensor/ops/trigonometric.py): values inside each inverse's domain, away from tan's
poles."""

from __future__ import annotations

import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import *
from .samples import *

ROWS = [
    OpCase("tan", ops.Tan, mt.tan, np.tan, ("unit",)),
    OpCase("asin", ops.Asin, mt.asin, np.arcsin, ("unit",)),
    OpCase("acos", ops.Acos, mt.acos, np.arccos, ("unit",)),
    OpCase("atan", ops.Atan, mt.atan, np.arctan),
    # a nonzero: away from the jump from pi to -pi on the negative b axis
    OpCase("atan2", ops.Atan2, mt.atan2, np.arctan2, ("nonzero", "real"), broadcasts=True),
    OpCase("sinh", ops.Sinh, mt.sinh, np.sinh),
    OpCase("cosh", ops.Cosh, mt.cosh, np.cosh),
    OpCase("asinh", ops.Asinh, mt.asinh, np.arcsinh),
    # acosh is defined from 1: the drawn values shifted to [1.2, 4.1]
    OpCase(
        "acosh",
        ops.Acosh,
        lambda x: mt.acosh(x + 1.1),
        lambda a: np.arccosh(a + 1.1),
        ("positive",),
    ),
    OpCase("atanh", ops.Atanh, mt.atanh, np.arctanh, ("unit",)),
    OpCase(
        "hypot",
        ops.Hypot,
        mt.hypot,
        lambda a, b: np.sqrt(a * a + b * b),
        ("nonzero", "nonzero"),
        broadcasts=True,
    ),
]
