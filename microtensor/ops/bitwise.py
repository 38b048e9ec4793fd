"""Bitwise ops on integer and bool tensors (no gradient): and, or, xor, not and the
shifts, which are also the operators & | ^ ~ << >>. On bools they are the logical ops,
as in PyTorch; floating inputs are a TypeError naming the op."""

from __future__ import annotations

from ..autograd import binary, unary
from ..backend import xp
from .base import _nondiff, method

__all__ = [
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "bitwise_left_shift",
    "bitwise_right_shift",
]


def _integers_only(fn, name: str):
    """fn, refusing floating tensors and numbers with an error naming the op."""

    def run(*args):
        for a in args:
            kind = a.dtype.kind if hasattr(a, "dtype") else "f" if isinstance(a, float) else "i"
            if kind not in "biu":
                raise TypeError(
                    f"{name}: only integer and bool tensors are supported, got "
                    f"{getattr(a, 'dtype', type(a).__name__)}"
                )
        return fn(*args)

    return run


for _cls, _name, _fn in (
    ("BitwiseAnd", "bitwise_and", xp.bitwise_and),
    ("BitwiseOr", "bitwise_or", xp.bitwise_or),
    ("BitwiseXor", "bitwise_xor", xp.bitwise_xor),
    ("BitwiseNot", "bitwise_not", xp.invert),
    ("BitwiseLeftShift", "bitwise_left_shift", xp.left_shift),
    ("BitwiseRightShift", "bitwise_right_shift", xp.right_shift),
):
    globals()[_cls] = _nondiff(_name, _integers_only(_fn, _name))
    globals()[_name] = method(_name)((unary if _fn.nin == 1 else binary)(globals()[_cls]))
del _cls, _name, _fn
