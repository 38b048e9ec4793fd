"""The op-case rows of rounding and integer division (microtensor/ops/rounding.py). The
piecewise-constant ops are Masks (zero gradient): their values are drawn away from the
jumps, and their examples do not broadcast (a zero gradient needs no reduction, so a
dropped one would go unseen)."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import *
from .samples import *

INTEGERS = tuple(float(k) for k in range(-3, 4))  # where floor, ceil and trunc jump
HALVES = tuple(k + 0.5 for k in range(-3, 3))  # where round jumps


@st.composite
def quotients(draw, **attrs) -> Sample:
    """a and b (b's shape broadcasting into a's) whose quotients a / b keep KINK_MARGIN
    away from the integers, where fmod, remainder and the rounded divisions jump."""
    shape = draw(any_shape())
    (b,) = draw_tensors(draw, (draw(broadcast_into(shape)),), "nonzero")
    q = draw(values(shape, "real", INTEGERS))
    return Sample((leaf(q * np.broadcast_to(b.numpy(force=True), shape)), b), dict(attrs))


# quotients 1.83, 1.83, 1.47 / -0.73, -0.23, -0.47: both signs, both sides of an integer
DIVIDENDS = [[5.5, -5.5, 2.2], [-2.2, 0.7, -0.7]]
DIVISORS = [3.0, -3.0, 1.5]
SAME_SHAPE = ex(values=(DIVIDENDS, [DIVISORS, DIVISORS]), broadcasts=False)


ROWS = [
    OpCase("floor", ops.Mask, mt.floor, np.floor, kinks=INTEGERS),
    OpCase("ceil", ops.Mask, mt.ceil, np.ceil, kinks=INTEGERS),
    OpCase("trunc", ops.Mask, mt.trunc, np.trunc, kinks=INTEGERS),
    OpCase("round", ops.Mask, mt.round, np.round, kinks=HALVES),
    OpCase("sign", ops.Mask, mt.sign, np.sign, kinks=(0.0,)),
    OpCase("frac", None, mt.frac, lambda a: a - np.trunc(a), kinks=INTEGERS),
    OpCase(
        "fmod",
        ops.Fmod,
        mt.fmod,
        np.fmod,
        broadcasts=True,
        samples=quotients(),
        examples=(ex(values=(DIVIDENDS, DIVISORS)),),
    ),
    OpCase(
        "remainder",
        ops.Remainder,
        lambda a, b: a % b,
        np.remainder,
        broadcasts=True,
        samples=quotients(),
        examples=(ex(values=(DIVIDENDS, DIVISORS)),),
    ),
    OpCase(
        "floor_divide",
        ops.Mask,
        lambda a, b: a // b,
        np.floor_divide,
        broadcasts=True,
        samples=quotients(),
        examples=(SAME_SHAPE,),
    ),
]
