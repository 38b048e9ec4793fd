"""Trigonometric and hyperbolic functions and their inverses, atan2 and hypot (sin, cos
and tanh are in elementwise.py). Outside an inverse's domain the value is NaN, silently,
as in PyTorch; so are the gradients at its poles (inf)."""

from __future__ import annotations

from ..autograd import binary, unary
from ..backend import quiet, xp
from .base import Op, method

__all__ = [
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "hypot",
]


class Tan(Op):
    save_output = True
    forward = quiet(xp.tan)

    def vjp(B, g, out, args, needs):
        return (g * (1 + out * out),)


tan = method(unary(Tan))


class Asin(Op):
    saves = (0,)
    forward = quiet(xp.arcsin)

    @quiet
    def vjp(B, g, out, args, needs):
        return (g / B.sqrt(1 - args[0] * args[0]),)


asin = method(unary(Asin))


class Acos(Op):
    saves = (0,)
    forward = quiet(xp.arccos)

    @quiet
    def vjp(B, g, out, args, needs):
        return (-g / B.sqrt(1 - args[0] * args[0]),)


acos = method(unary(Acos))


class Atan(Op):
    saves = (0,)
    forward = quiet(xp.arctan)

    def vjp(B, g, out, args, needs):
        return (g / (1 + args[0] * args[0]),)


atan = method(unary(Atan))


class Atan2(Op):
    """The angle of the point (b, a), atan(a / b) in the right quadrant. The gradient at
    the origin is 0, as PyTorch's (not 0/0)."""

    saves = (0, 1)
    forward = quiet(xp.arctan2)

    def vjp(B, g, out, args, needs):
        a, b = args
        d = a * a + b * b
        scale = g / B.where(d == 0, 1, d)  # 0 at the origin, where a = b = 0
        return (scale * b if needs[0] else None), (-scale * a if needs[1] else None)


atan2 = method(binary(Atan2))


class Sinh(Op):
    b_name = "sinh"
    saves = (0,)
    forward = quiet(xp.sinh)

    def vjp(B, g, out, args, needs):
        return (g * B.cosh(args[0]),)


sinh = method(unary(Sinh))


class Cosh(Op):
    b_name = "cosh"
    saves = (0,)
    forward = quiet(xp.cosh)

    def vjp(B, g, out, args, needs):
        return (g * B.sinh(args[0]),)


cosh = method(unary(Cosh))


class Asinh(Op):
    saves = (0,)
    forward = quiet(xp.arcsinh)

    def vjp(B, g, out, args, needs):
        return (g / B.sqrt(args[0] * args[0] + 1),)


asinh = method(unary(Asinh))


class Acosh(Op):
    saves = (0,)
    forward = quiet(xp.arccosh)

    @quiet
    def vjp(B, g, out, args, needs):
        return (g / B.sqrt(args[0] * args[0] - 1),)


acosh = method(unary(Acosh))


class Atanh(Op):
    saves = (0,)
    forward = quiet(xp.arctanh)

    @quiet
    def vjp(B, g, out, args, needs):
        return (g / (1 - args[0] * args[0]),)


atanh = method(unary(Atanh))


class Hypot(Op):
    """sqrt(a^2 + b^2) without overflow; the gradient at the origin is NaN, as PyTorch's."""

    saves = (0, 1)
    save_output = True
    forward = quiet(xp.hypot)

    @quiet
    def vjp(B, g, out, args, needs):
        a, b = args
        scale = g / out
        return (scale * a if needs[0] else None), (scale * b if needs[1] else None)


hypot = method(binary(Hypot))
