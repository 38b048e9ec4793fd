"""Rounding and integer division: floor, ceil, round, trunc, frac, sign, fmod, remainder
(`%`) and floor_divide (`//`). The piecewise-constant ones are Masks: recorded, with a
zero gradient, as PyTorch's are (x.floor().sum().backward() leaves x.grad zeros, not None);
integer tensors keep their dtype."""

from __future__ import annotations

from ..autograd import apply, binary
from ..backend import quiet, xp
from ..tensor import Tensor
from .base import Op, _t, method
from .elementwise import Mask

__all__ = ["floor", "ceil", "round", "trunc", "frac", "sign", "fmod", "remainder", "floor_divide"]


@method
def floor(x) -> Tensor:
    return apply(Mask, x, fn=xp.floor)


@method
def ceil(x) -> Tensor:
    return apply(Mask, x, fn=xp.ceil)


@method
def trunc(x) -> Tensor:
    return apply(Mask, x, fn=xp.trunc)


@method
def round(x, *, decimals: int = 0) -> Tensor:  # noqa: A001  (torch.round)
    """To the nearest integer, or multiple of 10**-decimals; halves go to the even
    neighbour, as in PyTorch (round(2.5) is 2)."""
    if not isinstance(decimals, int):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    return apply(Mask, x, fn=xp.round) if decimals == 0 else apply(Mask, x, decimals, fn=xp.round)


@method
def frac(x) -> Tensor:
    """x - trunc(x), with the sign of x; its gradient is 1, as PyTorch's."""
    x = _t(x)
    return x - trunc(x)


def _sign(a):
    """-1, 0 or 1; 0 for NaN as in PyTorch (numpy gives NaN); bools stay as they are."""
    if a.dtype == xp.bool_:
        return a.copy()
    out = xp.sign(a)
    return xp.where(out == out, out, 0) if out.dtype.kind == "f" else out


@method
def sign(x) -> Tensor:
    return apply(Mask, x, fn=_sign)


def _divisions(fn, name: str):
    """fn(a, b), where float division by zero is inf or NaN silently and integer
    division by zero an error, both as in PyTorch."""

    @quiet
    def divided(a, b):
        out = fn(a, b)
        if out.dtype.kind in "iu" and not xp.all(b):
            raise ZeroDivisionError(f"{name}: integer division by zero")
        return out

    return divided


def _trunc_quotient(a, b):
    if xp.result_type(a, b).kind == "f":
        return xp.trunc(a / b)
    q = a // b  # floor: one less than trunc where the signs differ and b does not divide a
    return xp.where((q < 0) & (q * b != a), q + 1, q)


_FLOOR_DIVIDE = _divisions(xp.floor_divide, "floor_divide")
_TRUNC_DIVIDE = _divisions(_trunc_quotient, "div")


@method
def floor_divide(input, other) -> Tensor:  # noqa: A002  (torch's names)
    """input / other rounded down, as torch.floor_divide and `//` (Python's rounding).
    Its gradient is zero, as torch.div(..., rounding_mode='floor') gives (PyTorch has
    none for floor_divide itself)."""
    return apply(Mask, input, other, fn=_FLOOR_DIVIDE)


def trunc_divide(input, other) -> Tensor:  # noqa: A002
    """input / other rounded toward zero: torch.div(..., rounding_mode='trunc')."""
    return apply(Mask, input, other, fn=_TRUNC_DIVIDE)


class _Modulo(Op):
    """out = a - q b for an integer quotient q (a / b rounded toward zero for fmod, down
    for remainder). d/da = 1 and d/db = -q, read back from the output as (out - a) / b:
    no rounding in the VJP, and its own derivatives (zero) come out right."""

    saves = (0, 1)
    save_output = True

    @quiet
    def vjp(B, g, out, args, needs):
        a, b = args
        return (g if needs[0] else None), (g * (out - a) / b if needs[1] else None)


class Fmod(_Modulo):
    """The C remainder: the sign of the dividend, as torch.fmod."""

    forward = _divisions(xp.fmod, "fmod")


class Remainder(_Modulo):
    """Python's remainder: the sign of the divisor, as torch.remainder and `%`."""

    forward = _divisions(xp.remainder, "remainder")


fmod = method(binary(Fmod))
remainder = method(binary(Remainder))
