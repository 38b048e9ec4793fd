"""The op-case rows of the bitwise ops (microtensor/ops/bitwise.py): on integers (the
drawn values times 10, cut to int64: negative ones included, so two's complement shows)
and on bools, where they are the logical ops."""

from __future__ import annotations

import numpy as np

import microtensor as mt
from microtensor import ops

from .columns import *
from .samples import *


def ints(a):
    """An int64 tensor (or array) from drawn float values: -30 to 30."""
    if isinstance(a, mt.Tensor):
        return mt.tensor((a.numpy(force=True) * 10).astype(np.int64))
    return (a * 10).astype(np.int64)


def on_ints(np_fn):
    """A reference: np_fn of the ints."""
    return lambda *arrays: np_fn(*(ints(a) for a in arrays))


ROWS = [
    OpCase(
        "bitwise_and",
        ops.BitwiseAnd,
        lambda a, b: ints(a) & ints(b),
        on_ints(np.bitwise_and),
        ("real", "real"),
        broadcasts=True,
    ),
    OpCase(
        "bitwise_or",
        ops.BitwiseOr,
        lambda a, b: ints(a) | ints(b),
        on_ints(np.bitwise_or),
        ("real", "real"),
        broadcasts=True,
    ),
    OpCase(
        "bitwise_xor",
        ops.BitwiseXor,
        lambda a, b: ints(a) ^ ints(b),
        on_ints(np.bitwise_xor),
        ("real", "real"),
        broadcasts=True,
    ),
    OpCase("bitwise_not", ops.BitwiseNot, lambda x: ~ints(x), on_ints(np.invert)),
    # shift amounts: the positive values times 10 (1 to 30), kept below 64 bits
    OpCase(
        "bitwise_left_shift",
        ops.BitwiseLeftShift,
        lambda a, b: ints(a) << ints(b),
        on_ints(np.left_shift),
        ("real", "positive"),
        broadcasts=True,
    ),
    OpCase(
        "bitwise_right_shift",
        ops.BitwiseRightShift,
        lambda a, b: ints(a) >> ints(b),
        on_ints(np.right_shift),
        ("real", "positive"),
        broadcasts=True,
    ),
    OpCase(
        "bitwise_and-bool",
        ops.BitwiseAnd,
        lambda a, b: a & b,
        np.logical_and,
        ("bool", "bool"),
        broadcasts=True,
    ),
    OpCase(
        "bitwise_or-bool",
        ops.BitwiseOr,
        lambda a, b: a | b,
        np.logical_or,
        ("bool", "bool"),
        broadcasts=True,
    ),
    OpCase(
        "bitwise_xor-bool",
        ops.BitwiseXor,
        lambda a, b: a ^ b,
        np.logical_xor,
        ("bool", "bool"),
        broadcasts=True,
    ),
    OpCase("bitwise_not-bool", ops.BitwiseNot, lambda x: ~x, np.logical_not, ("bool",)),
]
